"""Readiness and the city's headline figures from the database: computed for a subtree on a day, and recorded
once a day for every unit so that dashboards show them over time (`flask budget readiness`; the scheduler of
issue 18 runs it nightly). Recording a day again replaces that day's rows.

Runs in the caller's transaction and never commits."""
import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from budget.gaps import gaps
from budget.load import needs_and_devices
from budget.models import GapRecord, HeadlineFigure, ReadinessScore
from budget.readiness import (
    Figure,
    FigureParts,
    Readiness,
    UnitSummary,
    figure_parts,
    figures_of,
    headline_figures,
    subtree_readiness,
    unit_readiness,
)
from budget.services import Subtree, subtree
from catalog import compliance
from core.audit import record
from core.db import one_at_a_time
from core.time import utcnow
from inventory.models import Device, Unit


@dataclass(frozen=True)
class SubtreeReadiness:
    unit_code: str
    on: dt.date
    total: Readiness  # the subtree's
    units: tuple[Readiness, ...]  # each active unit's, by code
    figures: tuple[Figure, ...]
    recorded: list[tuple[dt.date, int, int]]  # the subtree's recorded (day, required, covered), oldest first

    @property
    def history(self) -> tuple[tuple[dt.date, float | None], ...]:
        """The subtree's recorded scores, oldest first."""
        return tuple((day, Readiness("", required, covered).score) for day, required, covered in self.recorded)


def readiness(session: Session, unit_code: str, scope: frozenset[int] | None, on: dt.date | None = None
              ) -> SubtreeReadiness:
    return readiness_of(session, subtree(session, unit_code, scope, on))


def readiness_of(session: Session, found: Subtree) -> SubtreeReadiness:
    scores = unit_readiness(found.gaps, found.kinds)
    figures = headline_figures(_summaries(found.units), found.gaps, found.inputs.devices,
                               _networks(session, [d.id for d in found.inputs.devices]))
    total = subtree_readiness(found.unit.code, scores, scores)
    return SubtreeReadiness(found.unit.code, found.on, total, tuple(scores.values()), figures,
                            _history(session, [u.id for u in found.units]))


def recorded(session: Session, unit_ids: list[int]) -> tuple[dt.date, Readiness] | None:
    """The latest recorded readiness of these units together, without computing anything: for a unit's page."""
    history = _history(session, unit_ids, last_only=True)
    if not history:
        return None
    day, required, covered = history[-1]
    return day, Readiness("", required, covered)


def record_day(session: Session, on: dt.date | None = None, *, by: str) -> tuple[int, tuple[Figure, ...]]:
    """Every active unit's readiness, its part of the city's figures and (for the latest day recorded) its gaps,
    and the city's figures, on `on` (today by default), replacing that day's. Returns the number of units
    scored and the figures."""
    one_at_a_time(session, "budget.readiness")
    on = on or compliance.today()
    units = list(session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.code)))
    inputs = needs_and_devices(session, [u.id for u in units], on)
    unit_gaps = gaps(inputs.needs, inputs.devices)
    scores = unit_readiness(unit_gaps, {u.code: u.kind.value for u in units})
    parts = figure_parts(_summaries(units), unit_gaps, inputs.devices,
                         _networks(session, [d.id for d in inputs.devices]))
    figures = figures_of(parts.values())
    session.execute(delete(ReadinessScore).where(ReadinessScore.day == on))
    session.execute(delete(HeadlineFigure).where(HeadlineFigure.day == on))
    session.add_all(_score_row(u, on, scores[u.code], parts[u.code]) for u in units)
    session.add_all(HeadlineFigure(day=on, key=f.key, count=f.count, out_of=f.out_of) for f in figures)
    latest = session.scalar(select(func.max(GapRecord.day)))
    if latest is None or on >= latest:  # an earlier day recorded again keeps today's gaps
        _record_gaps(session, on, {u.code: u.id for u in units}, unit_gaps)
    session.flush()
    record(session, by, "budget.readiness", "readiness", on.isoformat(), after={
        "units": len(units), **{f.key: [f.count, f.out_of] for f in figures}})
    return len(units), figures


def _score_row(unit: Unit, on: dt.date, score: Readiness, parts: FigureParts) -> ReadinessScore:
    return ReadinessScore(unit_id=unit.id, day=on, required=score.required, covered=score.covered, score=score.score,
                          staff=parts.staff, secure_staff=parts.secure_staff, ward=parts.ward, ward_vc=parts.ward_vc,
                          needs_scanners=parts.needs_scanners, scanners_ok=parts.scanners_ok)


def _record_gaps(session: Session, on: dt.date, unit_ids: dict[str, int], unit_gaps) -> None:
    session.execute(delete(GapRecord))
    now = utcnow()
    rows = [{"day": on, "unit_id": unit_ids[g.unit_code], "category_code": g.category, "required": g.required,
             "usable": g.usable, "shortfall": g.shortfall, "surplus": g.surplus, "replacements": g.replacements,
             "upgrades": g.upgrade_candidates, "recorded_at": now} for g in unit_gaps if g.unit_code in unit_ids]
    if rows:
        session.execute(insert(GapRecord), rows)


# ---- what the dashboards read: recorded, never computed on a page ---------------------------------------------

@dataclass(frozen=True)
class RecordedGap:
    unit_code: str
    category: str
    required: int
    usable: int
    shortfall: int
    surplus: int
    replacements: int
    upgrades: int


@dataclass(frozen=True)
class RecordedGaps:
    day: dt.date | None  # None: never recorded
    recorded_at: dt.datetime | None
    gaps: tuple[RecordedGap, ...]  # by unit code, then category


def recorded_gaps(session: Session, unit_ids: Collection[int] | None) -> RecordedGaps:
    """The units' gaps as last recorded (`flask budget readiness`, the dashboards' button, the nightly run);
    `unit_ids` None: every unit's."""
    query = (select(GapRecord.day, GapRecord.recorded_at, Unit.code, GapRecord.category_code, GapRecord.required,
                    GapRecord.usable, GapRecord.shortfall, GapRecord.surplus, GapRecord.replacements,
                    GapRecord.upgrades)
             .join(Unit, Unit.id == GapRecord.unit_id).order_by(Unit.code, GapRecord.category_code))
    rows = session.execute(_of_units(query, GapRecord.unit_id, unit_ids)).all()
    if not rows:
        return RecordedGaps(*(last_recorded(session) or (None, None)), ())
    return RecordedGaps(rows[0][0], rows[0][1], tuple(RecordedGap(*row[2:]) for row in rows))


def last_recorded(session: Session) -> tuple[dt.date, dt.datetime] | None:
    """The day of the gaps last recorded and when they were."""
    found = session.execute(select(GapRecord.day, GapRecord.recorded_at).limit(1)).first()
    return (found[0], found[1]) if found else None


@dataclass(frozen=True)
class RecordedDay:
    """A set of units' readiness and headline figures on a recorded day: sums over the units."""
    day: dt.date
    readiness: Readiness
    figures: tuple[Figure, Figure, Figure]


def recorded_days(session: Session, unit_ids: Collection[int] | None, since: dt.date | None = None,
                  until: dt.date | None = None) -> list[RecordedDay]:
    """Each recorded day of the units (None: every unit) between `since` and `until` (inclusive), oldest first."""
    columns = [ReadinessScore.required, ReadinessScore.covered, ReadinessScore.staff, ReadinessScore.secure_staff,
               ReadinessScore.ward, ReadinessScore.ward_vc, ReadinessScore.needs_scanners, ReadinessScore.scanners_ok]
    query = select(ReadinessScore.day, *(func.sum(c) for c in columns)).group_by(ReadinessScore.day) \
        .order_by(ReadinessScore.day)
    if since:
        query = query.where(ReadinessScore.day >= since)
    if until:
        query = query.where(ReadinessScore.day <= until)
    rows = session.execute(_of_units(query, ReadinessScore.unit_id, unit_ids)).all()
    city = _city_figures(session, [row[0] for row in rows]) if unit_ids is None else {}
    found = []
    for day, required, covered, *parts in rows:
        figures = city.get(day) or figures_of([FigureParts("", *(int(p or 0) for p in parts))])
        found.append(RecordedDay(day, Readiness("", int(required), int(covered)), figures))
    return found


def _city_figures(session: Session, days: list[dt.date]) -> dict[dt.date, tuple[Figure, Figure, Figure]]:
    """The figures recorded for every unit together on those days (days recorded before the units' parts were
    kept have only these)."""
    if not days:
        return {}
    found: dict[dt.date, dict[str, Figure]] = {}
    for day, key, count, out_of in session.execute(
            select(HeadlineFigure.day, HeadlineFigure.key, HeadlineFigure.count, HeadlineFigure.out_of)
            .where(HeadlineFigure.day.between(min(days), max(days)))):
        found.setdefault(day, {})[key] = Figure(key, count, out_of)
    keys = [f.key for f in figures_of([])]
    return {day: tuple(figures[k] for k in keys) for day, figures in found.items() if set(keys) <= set(figures)}


def recorded_scores(session: Session, unit_ids: Collection[int] | None, on: dt.date) -> dict[str, Readiness]:
    """Each unit's recorded readiness on a day, by unit code (`unit_ids` None: every unit's)."""
    query = (select(Unit.code, ReadinessScore.required, ReadinessScore.covered)
             .join(Unit, Unit.id == ReadinessScore.unit_id).where(ReadinessScore.day == on))
    rows = session.execute(_of_units(query, ReadinessScore.unit_id, unit_ids))
    return {code: Readiness(code, required, covered) for code, required, covered in rows}


def _of_units(query, column, unit_ids: Collection[int] | None):
    """The query within the units; every unit's without a list of them (a nation's 3,500 ids cost a query more
    to send and plan than to run)."""
    return query if unit_ids is None else query.where(column.in_(list(unit_ids)))


def _summaries(units) -> list[UnitSummary]:
    return [UnitSummary(u.code, u.kind.value, u.staff_count) for u in units]


def _networks(session: Session, device_ids: list[int]) -> dict[int, str | None]:
    found: dict[int, str | None] = {}
    for start in range(0, len(device_ids), 5000):  # bounded IN lists
        chunk = device_ids[start:start + 5000]
        found.update(session.execute(select(Device.id, Device.network).where(Device.id.in_(chunk))).all())
    return found


def _history(session: Session, unit_ids: list[int], *, last_only: bool = False) -> list[tuple[dt.date, int, int]]:
    """(day, Σ required, Σ covered) of the units' recorded scores, oldest first (or the last day only)."""
    query = (select(ReadinessScore.day, func.sum(ReadinessScore.required), func.sum(ReadinessScore.covered))
             .where(ReadinessScore.unit_id.in_(unit_ids)).group_by(ReadinessScore.day))
    if last_only:
        query = query.order_by(ReadinessScore.day.desc()).limit(1)
    return sorted((day, int(required), int(covered)) for day, required, covered in session.execute(query))
