"""Readiness and the city's headline figures from the database: computed for a subtree on a day, and recorded
once a day for every unit so that dashboards show them over time (`flask budget readiness`; the scheduler of
issue 18 runs it nightly). Recording a day again replaces that day's rows.

Runs in the caller's transaction and never commits."""
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from budget.gaps import gaps
from budget.load import needs_and_devices
from budget.models import HeadlineFigure, ReadinessScore
from budget.readiness import Figure, Readiness, UnitSummary, headline_figures, subtree_readiness, unit_readiness
from budget.services import subtree
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
    history: tuple[tuple[dt.date, float | None], ...]  # the subtree's recorded scores, oldest first


def readiness(session: Session, unit_code: str, scope: frozenset[int] | None, on: dt.date | None = None
              ) -> SubtreeReadiness:
    found = subtree(session, unit_code, scope, on)
    scores = unit_readiness(found.gaps, found.kinds)
    figures = headline_figures(_summaries(found.units), found.gaps, found.inputs.devices,
                               _networks(session, [d.id for d in found.inputs.devices]))
    total = subtree_readiness(found.unit.code, scores, scores)
    return SubtreeReadiness(found.unit.code, found.on, total, tuple(scores.values()), figures,
                            _history(session, [u.id for u in found.units]))


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


def _history(session: Session, unit_ids: list[int]) -> tuple[tuple[dt.date, float | None], ...]:
    sums: dict[dt.date, list[int]] = {}
    rows = session.execute(select(ReadinessScore.day, ReadinessScore.required, ReadinessScore.covered)
                           .where(ReadinessScore.unit_id.in_(unit_ids)).order_by(ReadinessScore.day))
    for day, required, covered in rows:
        pair = sums.setdefault(day, [0, 0])
        pair[0] += required
        pair[1] += covered
    return tuple((day, Readiness("", required, covered).score) for day, (required, covered) in sums.items())
