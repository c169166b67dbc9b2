"""The workers record every unit's readiness and gaps, and the dashboards' lifecycle and coverage, on
READINESS_RECORD_AT (core.daily's tasks of the budget and the dashboards), as the dashboards read them: a real
worker loop with its APScheduler job store in the test's database."""
import time

import pytest
from sqlalchemy import func, select

from budget.models import GapRecord, ReadinessScore
from budget.services import unit_gaps
from catalog.compliance import today
from catalog.reports import lifecycle_counts
from core.audit import AuditEntry
from dashboards.models import LifecycleRecord
from dashboards.records import recorded_lifecycle
from discovery.models import scheduler_jobs
from discovery.schedule import DAILY_PREFIX
from inventory.units import list_units
from tests.budget.test_load import city  # noqa: F401  (the fixture)
from tests.serving import worker_thread


def wait_for(check, timeout_s: float = 30):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    pytest.fail(f"nothing after {timeout_s} s")


def lifecycle_recorded(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(LifecycleRecord))


def test_a_worker_records_readiness_and_gaps_on_schedule(app, sessions, city):  # noqa: F811
    app.config["READINESS_RECORD_AT"] = "every 2s"
    with worker_thread(app):
        def recorded():
            with sessions() as session:
                return session.scalar(select(func.count()).select_from(ReadinessScore)
                                      .where(ReadinessScore.day == today()))
        units = wait_for(recorded)
        wait_for(lambda: lifecycle_recorded(sessions))  # the dashboards' task, beside the budget's
        with sessions() as session:
            jobs = session.execute(select(scheduler_jobs.c.id)).scalars().all()
            gaps = session.scalar(select(func.count()).select_from(GapRecord).where(GapRecord.day == today()))
            actors = set(session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "budget.readiness")))
            active = len(list_units(session, include_inactive=False))
            computed = len(unit_gaps(session, "VD", None).gaps)
    assert units == active == 15  # every active unit of the example organisation
    assert gaps == computed  # every unit's gap in every category, as the budget computes them today
    assert sorted(jobs) == [f"{DAILY_PREFIX}dashboards", f"{DAILY_PREFIX}readiness"]
    with sessions() as session:  # the devices' lifecycle as recorded: as counted live on the day
        assert recorded_lifecycle(session, None) == (today(), lifecycle_counts(session, None, today()))
    assert len(actors) == 1 and next(iter(actors)).startswith("worker ")


def test_a_daily_task_s_changed_schedule_replaces_its_job():
    from apscheduler.schedulers.background import BackgroundScheduler

    from discovery.schedule import sync_daily
    scheduler = BackgroundScheduler()
    scheduler.start(paused=True)
    try:
        sync_daily(scheduler, {"readiness": "30 1 * * *"}, print, 600)
        first = scheduler.get_job(f"{DAILY_PREFIX}readiness")
        sync_daily(scheduler, {"readiness": "30 1 * * *"}, print, 600)
        assert scheduler.get_job(f"{DAILY_PREFIX}readiness").next_run_time == first.next_run_time
        sync_daily(scheduler, {"readiness": "every 1h"}, print, 600)
        assert scheduler.get_job(f"{DAILY_PREFIX}readiness").name == "every 1h"
        sync_daily(scheduler, {}, print, 600)
        assert scheduler.get_jobs() == []
    finally:
        scheduler.shutdown(wait=False)
