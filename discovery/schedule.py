"""Scopes' schedules: a cron expression (minute hour day month weekday, in the city's time) or an interval
("every 30m"), run by APScheduler 3 with its SQLAlchemy job store in the application's database.

The scopes are the truth: the worker's scheduler keeps one job per scheduled scope (`sync_jobs`), so a
schedule changed, paused or resumed in the API or on a page is followed within seconds, and the job store
keeps each job's next run time across restarts (a run missed while no worker ran is made up once, within
the misfire grace time). A job only queues a run (`fire`); several scheduler processes may fire the same
occurrence, and the database's one-active-run-per-scope index lets one of them through."""
import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.i18n import Reason
from discovery.models import ScanScope, scheduler_jobs

log = logging.getLogger(__name__)

TIMEZONE = "Asia/Ho_Chi_Minh"  # cron schedules are the city's hours, whatever the server's clock
INTERVAL = re.compile(r"every\s+(?P<count>\d+)\s*(?P<unit>[smhd])", re.I)
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL_S = 2  # a shorter interval would only queue runs the last one still blocks
JOB_PREFIX = "scope-"
DAILY_PREFIX = "daily-"  # the jobs of core.daily's tasks


def trigger_of(schedule: str) -> BaseTrigger:
    """The trigger of a schedule as people write it; refused with the reason when it is neither form."""
    interval = INTERVAL.fullmatch(schedule.strip())
    if interval:
        seconds = int(interval["count"]) * UNIT_SECONDS[interval["unit"].lower()]
        if seconds < MIN_INTERVAL_S:
            raise InvalidInput(Reason("%(schedule)r is too often: an interval is at least %(min)s seconds",
                                      schedule=schedule, min=MIN_INTERVAL_S), field="schedule")
        return IntervalTrigger(seconds=seconds, timezone=TIMEZONE)
    try:
        return CronTrigger.from_crontab(schedule, timezone=TIMEZONE)
    except ValueError as error:
        raise InvalidInput(Reason("%(schedule)r is neither a cron schedule (minute hour day month weekday, "
                                  "e.g. '0 2 * * *') nor an interval ('every 30m', 'every 6h'): %(error)s",
                                  schedule=schedule, error=str(error)), field="schedule") from None


def job_id(scope_id: int) -> str:
    return f"{JOB_PREFIX}{scope_id}"


@dataclass(frozen=True)
class Planned:
    """A scope's schedule as the scheduler should hold it."""
    scope_id: int
    schedule: str
    paused: bool


def planned_jobs(session: Session) -> list[Planned]:
    """Every scope with a schedule that the server's workers scan (a collector's scopes run at its site)."""
    rows = session.execute(select(ScanScope.id, ScanScope.schedule, ScanScope.paused).where(
        ScanScope.schedule.is_not(None), ScanScope.schedule != "", ScanScope.collector_id.is_(None)))
    return [Planned(row.id, row.schedule, row.paused) for row in rows]


def sync_jobs(scheduler: BaseScheduler, planned: Iterable[Planned], fire: Callable[[int], None],
              misfire_grace_s: int) -> None:
    """Make the scheduler's jobs the scopes' schedules: new ones added, changed ones replaced (a job's name
    is its schedule), paused ones paused, the others removed. Jobs left as they are keep their next run."""
    wanted, held = {job_id(p.scope_id): p for p in planned}, {}
    for job in scheduler.get_jobs():  # one read of the job store
        if job.id.startswith(JOB_PREFIX) and (job.id not in wanted or job.name != wanted[job.id].schedule):
            job.remove()
        else:
            held[job.id] = job
    for key, plan in wanted.items():
        job = held.get(key)
        if job is None:
            job = scheduler.add_job(fire, trigger_of(plan.schedule), args=(plan.scope_id,), id=key,
                                    name=plan.schedule, coalesce=True, max_instances=1,
                                    misfire_grace_time=misfire_grace_s, replace_existing=True)
            log.info("scope %s scheduled (%s): next run %s", plan.scope_id, plan.schedule, job.next_run_time)
        if plan.paused and job.next_run_time is not None:
            job.pause()
        elif not plan.paused and job.next_run_time is None:
            job.resume()


def sync_daily(scheduler: BaseScheduler, wanted: Mapping[str, str], run: Callable[[str], None],
                misfire_grace_s: int) -> None:
    """One job per daily task (name -> its schedule), replaced when its schedule changed; the others removed."""
    jobs = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(DAILY_PREFIX)}
    for job_key, job in jobs.items():
        if job_key.removeprefix(DAILY_PREFIX) not in wanted:
            job.remove()
    for name, when in wanted.items():
        job = jobs.get(DAILY_PREFIX + name)
        if job is None or job.name != when:
            scheduler.add_job(run, trigger_of(when), args=(name,), id=DAILY_PREFIX + name, name=when, coalesce=True,
                              max_instances=1, misfire_grace_time=misfire_grace_s, replace_existing=True)
            log.info("daily task %s scheduled (%s)", name, when)


def next_run_times(session: Session, scope_ids: Iterable[int]) -> dict[int, dt.datetime | None]:
    """When each scope's job runs next, as the job store holds it (UTC, naive like every stored time);
    a scope without a job (no schedule, or not yet picked up by a worker) is absent, a paused one None."""
    keys = {job_id(scope_id): scope_id for scope_id in scope_ids}
    if not keys:
        return {}
    rows = session.execute(select(scheduler_jobs.c.id, scheduler_jobs.c.next_run_time).where(
        scheduler_jobs.c.id.in_(keys)))
    return {keys[row.id]: None if row.next_run_time is None else
            dt.datetime.fromtimestamp(row.next_run_time, dt.UTC).replace(tzinfo=None) for row in rows}
