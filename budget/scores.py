"""Readiness and the city's headline figures from the database: computed for a subtree on a day, and recorded
once a day for every unit so that dashboards show them over time (`flask budget readiness`; the scheduler of
issue 18 runs it nightly). Recording a day again replaces that day's rows.

Runs in the caller's transaction and never commits."""
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from budget.gaps import gaps
from budget.load import needs_and_devices
from budget.models import HeadlineFigure, ReadinessScore
from budget.readiness import Figure, Readiness, UnitSummary, headline_figures, subtree_readiness, unit_readiness
from budget.services import Subtree, subtree
from catalog import compliance
from core.audit import record
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
    """Every active unit's readiness and the city's figures on `on` (today by default), replacing that day's.
    Returns the number of units scored and the figures."""
    on = on or compliance.today()
    units = list(session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.code)))
    inputs = needs_and_devices(session, [u.id for u in units], on)
    unit_gaps = gaps(inputs.needs, inputs.devices)
    scores = unit_readiness(unit_gaps, {u.code: u.kind.value for u in units})
    figures = headline_figures(_summaries(units), unit_gaps, inputs.devices,
                               _networks(session, [d.id for d in inputs.devices]))
    session.execute(delete(ReadinessScore).where(ReadinessScore.day == on))
    session.execute(delete(HeadlineFigure).where(HeadlineFigure.day == on))
    session.add_all(ReadinessScore(unit_id=u.id, day=on, required=scores[u.code].required,
                                   covered=scores[u.code].covered, score=scores[u.code].score) for u in units)
    session.add_all(HeadlineFigure(day=on, key=f.key, count=f.count, out_of=f.out_of) for f in figures)
    session.flush()
    record(session, by, "budget.readiness", "readiness", on.isoformat(), after={
        "units": len(units), **{f.key: [f.count, f.out_of] for f in figures}})
    return len(units), figures


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
