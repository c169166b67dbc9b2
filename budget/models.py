"""What the budget stores: officers' reviews of their units' gaps, saved scenarios (plans) with their costed
lines, finance's approval that freezes a plan, and each unit's readiness per day."""
import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from core.time import utcnow
from inventory.models import Unit


class ReviewState(enum.StrEnum):
    CONFIRMED = "confirmed"  # the officer agrees the gap is real
    DISPUTED = "disputed"  # the officer says it is not: out of every plan until an admin resolves it
    UPHELD = "upheld"  # an admin resolved a dispute: the gap stands and returns to the plans
    WITHDRAWN = "withdrawn"  # an admin resolved a dispute: the gap is not real and stays out of the plans


# The states that keep a gap's shortfall out of the plans.
EXCLUDED_STATES = frozenset({ReviewState.DISPUTED, ReviewState.WITHDRAWN})


class GapReview(Base):
    """The latest review of one unit's gap in one category (earlier ones are in the audit log). The shortfall
    reviewed is kept so that a page can show when the gap has changed since."""
    __tablename__ = "gap_review"
    __table_args__ = (UniqueConstraint("unit_id", "category_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    category_code: Mapped[str] = mapped_column(String(32))
    state: Mapped[ReviewState]
    shortfall: Mapped[int]  # when reviewed
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_by: Mapped[str] = mapped_column(String(100))
    reviewed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    resolution: Mapped[str] = mapped_column(Text, default="")  # the admin's comment when resolving
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    unit: Mapped[Unit] = relationship()


class ScenarioKind(enum.StrEnum):
    TARGETED = "targeted"  # transfers first, then upgrades and purchases for the real gaps only
    BLANKET_AGE = "blanket_age"  # replace everything older than N years (and fill the norms)
    STANDARD_KIT = "standard_kit"  # the same kit for every unit


class Scenario(Base):
    """A plan for a unit's subtree computed on a day and saved with its lines. Finance's approval freezes it:
    an approved scenario is never changed or deleted, and later inventory is compared with it."""
    __tablename__ = "budget_scenario"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    kind: Mapped[ScenarioKind]
    judged_on: Mapped[dt.date] = mapped_column(Date)  # the day the inventory was judged
    version_id: Mapped[int] = mapped_column(ForeignKey("catalog_version.id"))
    # {"caps_vnd": [..], "first_year": 2027, "max_share_percent": 50, "older_than_years": 5, "kit": {..}}
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    transfers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    excluded: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # gaps left out after review
    total_vnd: Mapped[int] = mapped_column(BigInteger)
    funded_vnd: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    approval_comment: Mapped[str] = mapped_column(Text, default="")

    unit: Mapped[Unit] = relationship()
    lines: Mapped[list["ScenarioLine"]] = relationship(cascade="all, delete-orphan", order_by="ScenarioLine.id")


class ScenarioLine(Base):
    """One costed line of a saved scenario (budget.plans.PlanLine, stored)."""
    __tablename__ = "budget_scenario_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("budget_scenario.id", ondelete="CASCADE"), index=True)
    unit_code: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(Text)  # an approved model's vendor and pattern, or an upgrade kit
    quantity: Mapped[int]
    # Whole dong; BigInteger because totals pass 2**31.
    unit_price_vnd: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int]
    norm: Mapped[str | None] = mapped_column(Text)  # the codes of the norms behind the line, joined
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    year: Mapped[int | None]  # None: no year's cap funds it
    device_ids: Mapped[list[int]] = mapped_column(JSON, default=list)


class ReadinessScore(Base):
    """A unit's readiness on a day (budget/readiness.py): the weighted numbers, so that subtrees sum them."""
    __tablename__ = "readiness_score"
    __table_args__ = (UniqueConstraint("unit_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    required: Mapped[int]
    covered: Mapped[int]
    score: Mapped[float | None]
    # The unit's part of the city's headline figures (budget.readiness.FigureParts), so that any subtree's
    # figures on any recorded day are sums: staff, and those with a usable computer on the secure network;
    # a ward or commune (1) and whether it holds a usable video-conference endpoint; whether its norms
    # require scanners and whether it has no scanner shortfall.
    staff: Mapped[int] = mapped_column(default=0)
    secure_staff: Mapped[int] = mapped_column(default=0)
    ward: Mapped[int] = mapped_column(default=0)
    ward_vc: Mapped[int] = mapped_column(default=0)
    needs_scanners: Mapped[int] = mapped_column(default=0)
    scanners_ok: Mapped[int] = mapped_column(default=0)


class HeadlineFigure(Base):
    """One of the city's reported figures on a day (budget.readiness.headline_figures), for its trend."""
    __tablename__ = "headline_figure"
    __table_args__ = (UniqueConstraint("day", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    key: Mapped[str] = mapped_column(String(32))
    count: Mapped[int]
    out_of: Mapped[int]


class GapRecord(Base):
    """A unit's gap in a category as last recorded (with the readiness of that day): what the dashboards draw
    from without computing a city's gaps on every page. Only the latest recorded day is kept; readiness_score
    keeps the history."""
    __tablename__ = "gap_record"
    __table_args__ = (UniqueConstraint("unit_id", "category_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    category_code: Mapped[str] = mapped_column(String(32))
    required: Mapped[int]
    usable: Mapped[int]
    shortfall: Mapped[int]
    surplus: Mapped[int]
    replacements: Mapped[int]
    upgrades: Mapped[int]
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
