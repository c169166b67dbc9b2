"""The worker: the process that carries scans through and runs the scopes' schedules; the web server only
queues runs. `flask --app app worker` starts one (`python app.py` starts one beside the web server).

Every round (about a second) the worker:
- follows the scopes' schedules (discovery.schedule: APScheduler 3, its jobs in the application database;
  compared with the scopes every few seconds);
- fails the runs whose worker fell silent past RUN_STALE_AFTER_S (a SIGKILL leaves no other trace) and
  queues each again, up to SCAN_RETRIES times (looked for as often as a live run beats);
- with the local executor, takes the oldest queued run when one of its slots is free. With
  SCAN_EXECUTOR=celery, Celery workers take the runs (celery_app.py) and this process only schedules.

Taking a run is one conditional UPDATE (queued -> running), so several workers, on one machine or
several, never carry one run twice."""
import datetime as dt
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select, update
from sqlalchemy.orm import aliased, sessionmaker

from core.daily import DailyTask, daily_tasks
from core.encryption import SecretBox
from core.errors import DomainError
from core.time import utcnow
from discovery import executors, scans, schedule
from discovery.models import RunStatus, RunTrigger, ScanRun, ScanScope, scheduler_jobs

log = logging.getLogger(__name__)

ROUND_S = 1.0  # how often a worker looks for queued runs and silent ones
SYNC_EVERY_S = 5.0  # how often the schedules are compared with the scopes
RETRY_WITHIN = dt.timedelta(hours=1)  # a run failed longer ago than this is not retried any more


def worker_name(kind: str = "worker") -> str:
    return f"{kind} {socket.gethostname()}:{os.getpid()}"


@dataclass
class Worker:
    """What a worker process needs: the application's database and secrets, the scan settings, and the
    configuration of executors, schedules and retries."""
    sessions: sessionmaker
    box: SecretBox
    settings: scans.ScanSettings
    config: Mapping
    name: str = field(default_factory=worker_name)
    daily: Mapping[str, DailyTask] = field(default_factory=dict)  # other packages' daily work (core.daily)

    @property
    def executes_locally(self) -> bool:
        return executors.require_known(self.config) == "local"


_current: Worker | None = None  # the scheduler's jobs are stored by reference and find their worker here


def fire(scope_id: int) -> None:
    """A scheduled occurrence of a scope: queue a run of its first method (the next ones follow it)."""
    if _current is None:
        log.error("scope %s: a scheduled run fired outside a worker; ignored", scope_id)
        return
    queue(_current, scope_id, None, RunTrigger.SCHEDULE)


def run_daily(name: str) -> None:
    """A daily task's occurrence (core.daily): run in a transaction of its own; a failure is logged and the next
    occurrence tries again."""
    task = _current.daily.get(name) if _current is not None else None
    if task is None:
        log.error("daily task %s fired outside a worker that knows it; ignored", name)
        return
    try:
        with _current.sessions() as session, session.begin():
            task.run(session, _current.name)
        log.info("%s: daily task %s done", _current.name, name)
    except Exception:
        log.exception("%s: daily task %s failed; the next occurrence tries again", _current.name, name)


def queue(worker: Worker, scope_id: int, kind: str | None, trigger: RunTrigger,
          retry_of: int | None = None) -> int | None:
    """Queue a run of the scope and hand it to the executor; None when the scope is busy, paused or gone
    (said in the log: a schedule's occurrence is then skipped, not queued behind)."""
    try:
        with worker.sessions() as session, session.begin():
            scope = session.get(ScanScope, scope_id)
            if scope is None or (trigger is RunTrigger.SCHEDULE and scope.paused):
                return None
            previous = session.get(ScanRun, retry_of) if retry_of else None
            run = scans.queue_run(session, scope, kind or scope.methods.split(",")[0], worker.settings, trigger,
                                  previous)
            run_id = run.id
    except DomainError as error:
        log.info("scope %s: no %s run queued: %s", scope_id, trigger.value, error.reason)
        return None
    log.info("scope %s: %s run %s queued", scope_id, trigger.value, run_id)
    try:
        executors.dispatch(worker.config, run_id)
    except DomainError as error:
        log.error("scope %s: run %s failed: %s", scope_id, run_id, error.reason)
        with worker.sessions() as session:
            scans.fail_undispatched(session, session.get(ScanRun, run_id), error.reason)
        return None
    return run_id


def take_and_execute(sessions: sessionmaker, box: SecretBox, settings: scans.ScanSettings, run_id: int | None = None,
                     worker_name: str = "") -> ScanRun | None:
    """Take the queued run `run_id` (or the oldest queued one) and carry it through; None when there was
    none to take (another worker took it first)."""
    taken = _take(sessions, run_id, worker_name)
    if taken is None:
        return None
    log.info("%s: run %s taken", worker_name, taken)
    return scans.execute_run(sessions, taken, box, settings)


def _take(sessions: sessionmaker, run_id: int | None, worker_name: str) -> int | None:
    with sessions() as session, session.begin():
        candidates = [run_id] if run_id is not None else list(session.scalars(
            select(ScanRun.id).where(ScanRun.status == RunStatus.QUEUED).order_by(ScanRun.id).limit(5)))
        for candidate in candidates:
            now = utcnow()
            taken = session.execute(update(ScanRun).where(ScanRun.id == candidate, ScanRun.status == RunStatus.QUEUED)
                                    .values(status=RunStatus.RUNNING, worker=worker_name[:100], started_at=now,
                                            heartbeat_at=now))
            if taken.rowcount == 1:
                return candidate
    return None


def after_run(worker: Worker, run: ScanRun) -> None:
    """A scheduled run that finished hands over to the scope's next method (nmap finds hosts, then SNMP
    describes them)."""
    if run.trigger is not RunTrigger.SCHEDULE or run.status is not RunStatus.FINISHED:
        return
    with worker.sessions() as session:
        scope = session.get(ScanScope, run.scope_id)
        methods = scope.methods.split(",") if scope else []
    later = methods[methods.index(run.kind) + 1:] if run.kind in methods else []
    if later:
        queue(worker, run.scope_id, later[0], RunTrigger.SCHEDULE)


def retry_abandoned(worker: Worker) -> list[int]:
    """Fail the runs whose worker fell silent, and queue each run so failed again once its scope is free:
    the ids of the retries queued."""
    with worker.sessions() as session, session.begin():
        scans.fail_abandoned_runs(session, stale_after_s=worker.settings.run_stale_after_s)
    retries = []
    for run in _abandoned_without_retry(worker):
        retry_id = queue(worker, run.scope_id, run.kind, RunTrigger.RETRY, retry_of=run.id)
        if retry_id is not None:
            retries.append(retry_id)
    return retries


def _abandoned_without_retry(worker: Worker) -> list[ScanRun]:
    retry = aliased(ScanRun)
    with worker.sessions() as session:
        runs = session.scalars(select(ScanRun).where(
            ScanRun.status == RunStatus.FAILED, ScanRun.finished_at >= utcnow() - RETRY_WITHIN,
            ScanRun.attempt <= worker.config.get("SCAN_RETRIES", 1), ScanRun.trigger != RunTrigger.COLLECTOR,
            ~select(retry.id).where(retry.retry_of == ScanRun.id).exists()).order_by(ScanRun.id))
        return [run for run in runs if run.errors == [{"address": None, "reason": scans.ABANDONED}]]


def scheduler_for(worker: Worker) -> BackgroundScheduler:
    """APScheduler with its jobs in the application's database; times in UTC (cron triggers carry the city's)."""
    store = SQLAlchemyJobStore(engine=worker.sessions.kw["bind"], tablename=scheduler_jobs.name)
    return BackgroundScheduler(jobstores={"default": store}, timezone=dt.UTC,
                               job_defaults={"coalesce": True, "max_instances": 1})


def serve(worker: Worker, stop: threading.Event, slots: int = 2, schedules: bool = True,
          round_s: float = ROUND_S, sync_s: float = SYNC_EVERY_S) -> None:
    """Work until `stop` is set: schedules (unless `schedules` is False), silent runs, and up to `slots`
    runs at once with the local executor. Runs in progress are left to end (or to be failed when silent)."""
    global _current
    _current = worker
    scheduler = scheduler_for(worker) if schedules else None
    if scheduler:
        scheduler.start()
    running: list[threading.Thread] = []
    synced_at = -sync_s  # the first round follows the schedules at once
    # Silent runs are looked for as often as a live run beats: a write every round would only compete with scans.
    silence_every_s, silence_checked_at = worker.settings.run_stale_after_s / scans.HEARTBEATS_PER_BOUND, -math.inf
    try:
        while not stop.is_set():
            if scheduler and time.monotonic() - synced_at >= sync_s:
                _sync(worker, scheduler)
                synced_at = time.monotonic()
            if time.monotonic() - silence_checked_at >= silence_every_s:
                _guarded(retry_abandoned, worker)
                silence_checked_at = time.monotonic()
            _guarded(_take_free_slots, worker, running, slots)
            stop.wait(round_s)
    finally:
        if scheduler:
            scheduler.shutdown(wait=False)
        for thread in running:
            thread.join(timeout=5)


def _sync(worker: Worker, scheduler: BackgroundScheduler) -> None:
    try:
        with worker.sessions() as session:
            planned = schedule.planned_jobs(session)
        schedule.sync_jobs(scheduler, planned, fire, worker.config.get("SCHEDULE_MISFIRE_GRACE_S", 600))
        schedule.sync_daily(scheduler, {name: worker.config[task.when_key] for name, task in worker.daily.items()},
                            run_daily, worker.config.get("SCHEDULE_MISFIRE_GRACE_S", 600))
        scheduler.wakeup()
    except Exception:  # the database away a moment, a schedule written before its check: the next round again
        log.exception("the schedules could not be followed this round")


def _guarded(step, *args) -> None:
    """A step of a round; whatever fails (the database away a moment) is logged and tried at the next round."""
    try:
        step(*args)
    except Exception:
        log.exception("worker round: %s failed; trying again at the next round", step.__name__)


def _take_free_slots(worker: Worker, running: list[threading.Thread], slots: int) -> None:
    running[:] = [thread for thread in running if thread.is_alive()]
    while worker.executes_locally and len(running) < slots:
        run_id = _take(worker.sessions, None, worker.name)
        if run_id is None:
            break
        thread = threading.Thread(target=_carry, args=(worker, run_id), name=f"scan-run-{run_id}", daemon=True)
        thread.start()
        running.append(thread)


def _carry(worker: Worker, run_id: int) -> None:
    log.info("%s: run %s taken", worker.name, run_id)
    run = scans.execute_run(worker.sessions, run_id, worker.box, worker.settings)
    log.info("%s: run %s %s", worker.name, run_id, run.status.value)
    after_run(worker, run)


def from_app(app) -> Worker:
    return Worker(app.extensions["sessions"], app.extensions["secret_box"], scans.settings_from_config(app.config),
                  app.config, daily=daily_tasks(app))


def register(app) -> None:
    """`flask --app app worker`: the worker process, until SIGTERM or Ctrl-C."""
    import signal

    import click

    @app.cli.command("worker")
    @click.option("--slots", type=click.IntRange(1, 64), default=None,
                  help="Runs carried through at once (default WORKER_SLOTS).")
    @click.option("--no-schedules", is_flag=True, help="Take queued runs only; another worker runs the schedules.")
    @click.option("--parent", type=int, default=None, help="Stop when this process ends (python app.py's own pid).")
    def worker_command(slots: int | None, no_schedules: bool, parent: int | None):
        """Carry queued scans through and run the scopes' schedules."""
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        worker = from_app(app)
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        if parent is not None:
            _stop_with(parent, stop)
        slots = slots or app.config["WORKER_SLOTS"]
        click.echo(f"{worker.name}: {slots} slot(s), executor {app.config['SCAN_EXECUTOR']}, "
                   f"schedules {'off' if no_schedules else 'on'}; stop with Ctrl-C", err=True)
        serve(worker, stop, slots=slots, schedules=not no_schedules)
        click.echo(f"{worker.name}: stopped", err=True)


def _stop_with(parent: int, stop: threading.Event) -> None:
    """Set `stop` once `parent` is no longer this process's parent: a web server killed outright (SIGKILL)
    leaves no worker behind."""
    def watch() -> None:
        while not stop.wait(1.0):
            if os.getppid() != parent:
                log.warning("the service (pid %s) ended: this worker stops", parent)
                stop.set()
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
