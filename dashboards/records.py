"""The dashboards' own record of the inventory, kept beside the budget's gaps and readiness: each unit's devices
by lifecycle (catalog.reports.lifecycle_counts) and when each unit was last seen by each method
(inventory.devices.last_observed), for the latest recorded day. Written every night by the workers (a core.daily
task) and by the dashboards' button; read by dashboards/board.py, summed over a subtree by the database.

Runs in the caller's transaction and never commits."""
import datetime as dt
from collections.abc import Collection

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from catalog.compliance import today
from catalog.reports import LifecycleCount, lifecycle_counts
from core.audit import record
from core.db import one_at_a_time
from dashboards.models import CoverageRecord, LifecycleRecord
from inventory.devices import last_observed
from inventory.units import list_units


def record_day(session: Session, actor: str, on: dt.date | None = None) -> int:
    """Replace the record with the devices' lifecycle and the units' coverage on `on` (today by default), one
    process at a time, in the audit log; the rows written."""
    one_at_a_time(session, "dashboards.record")
    on = on or today()
    session.execute(delete(LifecycleRecord))
    session.execute(delete(CoverageRecord))
    lifecycle = [{"day": on, "unit_id": c.unit_id, "category_code": c.category, "bought": c.bought,
                  "end_of_support": c.end_of_support, "count": c.count}
                 for c in lifecycle_counts(session, None, on, by_unit=True)]
    ids = {u.code: u.id for u in list_units(session)}
    coverage = [{"day": on, "unit_id": ids[code], "method": method, "last_seen": at}
                for (code, method), at in last_observed(session, None).items()]
    for table, rows in ((LifecycleRecord, lifecycle), (CoverageRecord, coverage)):
        if rows:
            session.execute(insert(table), rows)
    record(session, actor, "dashboards.record", "dashboards", on.isoformat(),
           after={"lifecycle_counts": len(lifecycle), "coverage_counts": len(coverage)})
    return len(lifecycle) + len(coverage)


def recorded_lifecycle(session: Session, unit_ids: Collection[int] | None) -> tuple[dt.date | None,
                                                                                    list[LifecycleCount]]:
    """The recorded day and the units' (None: every unit's) lifecycle counts on it, summed over the units."""
    count = func.sum(LifecycleRecord.count)
    query = (select(LifecycleRecord.day, LifecycleRecord.category_code, LifecycleRecord.bought,
                    LifecycleRecord.end_of_support, count)
             .group_by(LifecycleRecord.day, LifecycleRecord.category_code, LifecycleRecord.bought,
                       LifecycleRecord.end_of_support))
    if unit_ids is not None:
        query = query.where(LifecycleRecord.unit_id.in_(list(unit_ids)))
    rows = session.execute(query).all()
    day = rows[0][0] if rows else session.scalar(select(LifecycleRecord.day).limit(1))
    found = [LifecycleCount(category, bought, end_of_support, int(total))
             for _day, category, bought, end_of_support, total in rows]
    return day, sorted(found, key=lambda c: (c.category, c.bought or dt.date.max, c.end_of_support or dt.date.max))


def recorded_coverage(session: Session, unit_ids: Collection[int] | None
                      ) -> tuple[dt.date | None, dict[tuple[str, str], dt.datetime]]:
    """The recorded day and (unit code, method) -> when the unit was last seen by the method, for the units
    (None: every unit)."""
    query = select(CoverageRecord.day, CoverageRecord.unit_id, CoverageRecord.method, CoverageRecord.last_seen)
    if unit_ids is not None:
        query = query.where(CoverageRecord.unit_id.in_(list(unit_ids)))
    rows = session.execute(query).all()
    codes = {u.id: u.code for u in list_units(session)}
    day = rows[0][0] if rows else session.scalar(select(CoverageRecord.day).limit(1))
    return day, {(codes[unit_id], method): at for _day, unit_id, method, at in rows}
