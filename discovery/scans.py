"""Scan runs of a scope, nmap sweeps and SNMP polls alike: started, followed, finished or failed.

A run is committed as `running` first, so that its progress can be followed; the network part then
runs with no transaction open; what it found is stored through ingestion in one transaction at the
end, with the run's counts. A run that fails (nmap missing or killed, the allowlist refusing)
says why and stores nothing.

A run asked for in the API or on a page, or by a schedule, is queued (`queue_run`) and carried through by a
worker process (discovery.worker), never by the web server; `flask scan run` carries its own run in the
foreground (`start_run`, `execute_run`). At most one run of a scope is queued or running: the database's
partial unique index holds that for every process at once.

While a run works its worker writes a heartbeat; a run whose heartbeat is older than RUN_STALE_AFTER_S
lost its process (a crash, a kill, a restart) and is failed, at the service's start, at the start of a run
of its scope, whenever its scope's runs are looked at (the API) and by every worker's rounds, which queue
it again."""
import asyncio
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.audit import record as audit_record
from core.db import head_revision
from core.encryption import SecretBox
from core.errors import Conflict, DomainError, InvalidInput, NotFound
from core.i18n import Reason
from core.time import utcnow
from discovery import sweep as sweeps
from discovery.allowlist import require_allowed
from discovery.bindings import address_bindings, bind
from discovery.errors import RunAbandoned
from discovery.hints import confident_class
from discovery.models import ACTIVE_RUN, RunStatus, RunTrigger, ScanHost, ScanRun, ScanScope
from discovery.scopes import scope_targets
from discovery.snmp import poll as polls
from inventory.ingest import IngestBatch, IngestResult, ingest
from inventory.observations import ObservedDevice, ObservedInterface

log = logging.getLogger(__name__)

KINDS = ("nmap", "snmp")
NMAP_INTERFACE = "scanned address"  # the interface of a host seen without its MAC (behind a router)
PROGRESS_EVERY_S = 1.0  # progress is written at most this often: a commit per host would cost more than the scan
ABANDONED = "its worker stopped during the run (no sign of life within RUN_STALE_AFTER_S)"
HEARTBEATS_PER_BOUND = 5  # a live run writes its heartbeat this many times within RUN_STALE_AFTER_S


@dataclass(frozen=True)
class ScanSettings:
    allowlist: str
    max_addresses: int = 65_536
    missing_after_scans: int = 3
    poll: polls.PollSettings = field(default_factory=polls.PollSettings)
    sweep: sweeps.SweepSettings = field(default_factory=sweeps.SweepSettings)
    run_stale_after_s: float = 300.0  # a running run without a heartbeat this long lost its process


def settings_from_config(config) -> ScanSettings:
    dns = tuple(server.strip() for server in config["SCAN_DNS_SERVERS"].split(",") if server.strip())
    return ScanSettings(
        allowlist=config["SCAN_ALLOWLIST"], max_addresses=config["SCAN_MAX_ADDRESSES"],
        missing_after_scans=config["MISSING_AFTER_SCANS"],
        poll=polls.PollSettings(timeout=config["SNMP_TIMEOUT"], retries=config["SNMP_RETRIES"]),
        sweep=sweeps.SweepSettings(privileged=False if config["SCAN_UNPRIVILEGED"] else None, dns_servers=dns),
        run_stale_after_s=config["RUN_STALE_AFTER_S"])


def scope_addresses(scope: ScanScope, settings: ScanSettings) -> list[str]:
    """The scope's addresses, after its exclusions, checked against the allowlist and the size limit."""
    targets = scope_targets(scope.networks, scope.exclusions)
    require_allowed(targets, settings.allowlist)
    if targets.size > settings.max_addresses:
        raise InvalidInput(Reason("scope %(scope)s has %(count)s addresses, more than the %(limit)s a scan may cover "
                                  "(SCAN_MAX_ADDRESSES)", scope=scope.name, count=targets.size,
                                  limit=settings.max_addresses), field="networks")
    return [str(address) for address in targets]


def start_run(session: Session, scope: ScanScope, kind: str, settings: ScanSettings) -> ScanRun:
    """A new run of `kind` that the caller carries through itself (`execute_run`), refused as `queue_run`
    refuses. The caller commits."""
    return _new_run(session, scope, kind, settings, status=RunStatus.RUNNING, trigger=RunTrigger.MANUAL)


def queue_run(session: Session, scope: ScanScope, kind: str, settings: ScanSettings,
              trigger: RunTrigger = RunTrigger.MANUAL, retry_of: ScanRun | None = None) -> ScanRun:
    """A new run of `kind` for a worker to take, refused if the scope does not allow it, is outside the
    allowlist, is scanned by a collector at its site, or already has a run queued or in progress; a run of
    the scope silent past the bound is failed first, as abandoned. The caller commits."""
    if scope.collector_id is not None and trigger is not RunTrigger.COLLECTOR:
        raise Conflict(Reason("scope %(scope)s is scanned by a collector at its site, on the collector's schedule",
                              scope=scope.name), field="scope")
    return _new_run(session, scope, kind, settings, status=RunStatus.QUEUED, trigger=trigger, retry_of=retry_of)


def _new_run(session: Session, scope: ScanScope, kind: str, settings: ScanSettings, *, status: RunStatus,
             trigger: RunTrigger, retry_of: ScanRun | None = None) -> ScanRun:
    if kind not in KINDS:
        raise InvalidInput(Reason("unknown scan kind %(kind)r; one of %(kinds)s", kind=kind, kinds=", ".join(KINDS)),
                           field="kind")
    if kind not in scope.methods.split(","):
        raise InvalidInput(Reason("scope %(scope)s does not allow %(kind)s (its methods: %(methods)s)",
                                  scope=scope.name, kind=kind, methods=scope.methods), field="kind")
    if kind == "snmp" and not scope.credentials:
        raise InvalidInput(Reason("scope %(scope)s has no SNMP credential to poll with", scope=scope.name),
                           field="credential_ids")
    addresses = scope_addresses(scope, settings)
    fail_abandoned_runs(session, stale_after_s=settings.run_stale_after_s, scope_id=scope.id)
    busy = session.scalars(select(ScanRun.id).where(ScanRun.scope_id == scope.id,
                                                    ScanRun.status.in_(ACTIVE_RUN))).first()
    if busy is not None:
        raise _busy(scope, busy)
    mode = sweeps.describe_mode(settings.sweep) if kind == "nmap" else \
        f"SNMP, {len(scope.credentials)} credential(s), port {scope.snmp_port}"
    run = ScanRun(scope_id=scope.id, kind=kind, status=status, mode=mode, hosts_total=len(addresses), errors=[],
                  trigger=trigger, attempt=retry_of.attempt + 1 if retry_of else 1,
                  retry_of=retry_of.id if retry_of else None)
    session.add(run)
    try:
        session.flush()
    except IntegrityError:  # another process queued one since the check: the index is the lock
        raise _busy(scope, None) from None
    return run


def _busy(scope: ScanScope, run_id: int | None) -> Conflict:
    if run_id is None:
        return Conflict(Reason("scope %(scope)s is being scanned already", scope=scope.name), field="scope")
    return Conflict(Reason("scope %(scope)s is being scanned already (run %(run)s)", scope=scope.name, run=run_id),
                    field="scope")


def execute_run(sessions: sessionmaker, run_id: int, box: SecretBox, settings: ScanSettings,
                progress: Callable[[int, int], None] = lambda done, total: None) -> ScanRun:
    """Carry a started run through; returns it finished or failed (never raises a DomainError)."""
    report = _ProgressWriter(sessions, run_id, progress)
    stop_heartbeat = _start_heartbeat(sessions, run_id, settings.run_stale_after_s / HEARTBEATS_PER_BOUND)
    try:
        with sessions() as session:
            run = _run(session, run_id)
            scope = session.get(ScanScope, run.scope_id)
            addresses = scope_addresses(scope, settings)
            if run.kind == "nmap":
                found = sweeps.sweep(addresses, settings.allowlist, settings.sweep, report)
            else:
                found = asyncio.run(polls.poll_addresses(
                    addresses, scope.snmp_port, polls.accesses_of(scope, box),
                    polls.remembered_credentials(session, scope), settings.poll, report))
        with sessions() as session, session.begin():
            run = _run(session, run_id)
            scope = session.get(ScanScope, run.scope_id)
            if run.kind == "nmap":
                stored = store_sweep(session, scope, run, found, settings.missing_after_scans)
            else:
                stored = polls.store_polls(session, scope, run, found, settings.missing_after_scans)
            _audit_relocations(session, run, scope, stored.relocations_raised)
            _finish(session, run)
    except DomainError as error:
        log.warning("scan run %s failed: %s", run_id, error.reason)
        _fail(sessions, run_id, error.reason)
    except Exception as error:  # anything else: the run must not stay "running" for ever
        log.exception("scan run %s failed", run_id)
        _fail(sessions, run_id, f"internal error: {type(error).__name__}")
    finally:  # whatever ends the worker ends its heartbeat, or the run would look alive for ever
        stop_heartbeat()
    with sessions() as session:
        run = _run(session, run_id)
        session.expunge(run)
        return run


def launch_run(session: Session, settings: ScanSettings, scope: ScanScope, kind: str, actor: str,
               dispatch: Callable[[int], None]) -> ScanRun:
    """Queue a run of `kind`, audited as `actor`, and hand it to the executor (`dispatch`): the one path of
    the API and the pages. Commits `session` (a worker must see the run)."""
    run = queue_run(session, scope, kind, settings)
    audit_record(session, actor, f"scan.{kind}", "scan_run", run.id, detail=f"scope {scope.name}")
    session.commit()
    try:
        dispatch(run.id)
    except DomainError as error:  # the executor did not take it: a run queued for nobody would block its scope
        fail_undispatched(session, run, error.reason)
        raise
    return run


def fail_undispatched(session: Session, run: ScanRun, reason: str) -> None:
    """A queued run its executor refused (the Celery broker down): failed with the reason, and committed."""
    session.execute(update(ScanRun).where(ScanRun.id == run.id, ScanRun.status == RunStatus.QUEUED)
                    .values(status=RunStatus.FAILED, finished_at=utcnow(),
                            errors=[{"address": None, "reason": reason}]))
    session.commit()


def execute_in_background(sessions: sessionmaker, run_id: int, box: SecretBox,
                          settings: ScanSettings) -> threading.Thread:
    thread = threading.Thread(target=execute_run, args=(sessions, run_id, box, settings), name=f"scan-run-{run_id}",
                              daemon=True)
    thread.start()
    return thread


def _run(session: Session, run_id: int) -> ScanRun:
    run = session.get(ScanRun, run_id)
    if run is None:
        raise NotFound(Reason("scan run %(id)s does not exist", id=run_id), field="run_id")
    return run


def _fail(sessions: sessionmaker, run_id: int, reason: str) -> None:
    """Fail the run with `reason`, if it is still running: one failed meanwhile as abandoned keeps that reason."""
    with sessions() as session, session.begin():
        session.execute(update(ScanRun).where(ScanRun.id == run_id, ScanRun.status == RunStatus.RUNNING)
                        .values(status=RunStatus.FAILED, finished_at=utcnow(),
                                errors=[{"address": None, "reason": reason}]))


def _finish(session: Session, run: ScanRun) -> None:
    """Mark the run finished in the transaction that stores what it found, only if it is still running:
    a process that found it silent past the bound may have failed it meanwhile, and then nothing is stored."""
    finished = session.execute(update(ScanRun).where(ScanRun.id == run.id, ScanRun.status == RunStatus.RUNNING)
                               .values(status=RunStatus.FINISHED, finished_at=utcnow(), heartbeat_at=utcnow()))
    if finished.rowcount != 1:
        raise RunAbandoned(f"run {run.id} was failed while it worked: no heartbeat of it landed within "
                           f"RUN_STALE_AFTER_S; what it found is not stored")


def fail_abandoned_runs(session: Session, *, stale_after_s: float, scope_id: int | None = None) -> list[int]:
    """Fail the runs still `running` (of `scope_id`, or of every scope) whose worker has written no
    heartbeat for `stale_after_s` seconds: its process ended (a crash, a restart) and the run would block
    its scope for ever. The ids of the runs failed; the caller commits."""
    cutoff = utcnow() - dt.timedelta(seconds=stale_after_s)
    # One statement: a heartbeat that lands while it runs keeps its run, since the conditions are the update's own.
    stale = update(ScanRun).where(ScanRun.status == RunStatus.RUNNING, ScanRun.heartbeat_at < cutoff)
    if scope_id is not None:
        stale = stale.where(ScanRun.scope_id == scope_id)
    failed = sorted(session.scalars(stale.values(status=RunStatus.FAILED, finished_at=utcnow(),
                                                 errors=[{"address": None, "reason": ABANDONED}])
                                    .returning(ScanRun.id)))
    for run_id in failed:
        log.error("scan run %s failed: %s (no heartbeat for %s s)", run_id, ABANDONED, stale_after_s)
    return failed


def fail_abandoned_runs_at_start(sessions: sessionmaker, stale_after_s: float) -> list[int]:
    """At the service's start, the runs a stopped process left `running`, of every scope.

    Only those silent past the bound, as at the start of a run: the processes of one service share its
    database, and another of them may be running the rest. So after a crash the crashed process's runs block
    their scopes for RUN_STALE_AFTER_S at most, not until the next start. Nothing is done on a database whose
    schema is not current (`db upgrade` is about to run) or that cannot be reached (each start of a run looks
    again)."""
    try:
        with sessions() as session, session.begin():
            if MigrationContext.configure(session.connection()).get_current_revision() != head_revision():
                return []
            return fail_abandoned_runs(session, stale_after_s=stale_after_s)
    except OperationalError as error:
        log.warning("abandoned scan runs not looked for at start-up: the database cannot be reached (%s)", error.orig)
        return []


def _beat(sessions: sessionmaker, run_id: int, **progress) -> None:
    """The run's heartbeat, with its `progress` (hosts_done) if given; nothing once the run has ended."""
    with sessions() as session, session.begin():
        session.execute(update(ScanRun).where(ScanRun.id == run_id, ScanRun.status == RunStatus.RUNNING)
                        .values(heartbeat_at=utcnow(), **progress))


def _start_heartbeat(sessions: sessionmaker, run_id: int, every_s: float) -> Callable[[], None]:
    """Beat every `every_s` seconds from a thread of its own until the function returned is called: a long
    step (an nmap command over a chunk, agents at their time-outs) writes no progress, yet its worker lives."""
    stopped = threading.Event()

    def beat_until_stopped() -> None:
        while not stopped.wait(every_s):
            try:
                _beat(sessions, run_id)
            except SQLAlchemyError as error:  # the database away a moment, SQLite busy with the store: next beat
                log.warning("scan run %s: heartbeat not written: %s", run_id, error)

    thread = threading.Thread(target=beat_until_stopped, name=f"scan-run-{run_id}-heartbeat", daemon=True)
    thread.start()

    def stop() -> None:
        stopped.set()
        thread.join()
    return stop


class _ProgressWriter:
    """Hosts done, written to the run for those following it (throttled) and told to `also`."""

    def __init__(self, sessions: sessionmaker, run_id: int, also: Callable[[int, int], None]):
        self.sessions, self.run_id, self.also = sessions, run_id, also
        self.written_at = 0.0

    def __call__(self, done: int, total: int) -> None:
        self.also(done, total)
        now = time.monotonic()
        if now - self.written_at >= PROGRESS_EVERY_S or done == total:
            self.written_at = now
            _beat(self.sessions, self.run_id, hosts_done=done)


def _audit_relocations(session: Session, run: ScanRun, scope: ScanScope, relocation_ids: list[int]) -> None:
    """A scan that saw devices of other units raised relocations: the audit log says which run did."""
    run.relocations = len(relocation_ids)
    for relocation_id in relocation_ids:
        audit_record(session, f"{run.kind} scan run {run.id}", "relocation.raise", "relocation", relocation_id,
                     detail=f"scope {scope.name} of {scope.unit.code} saw a device of another unit")


def store_sweep(session: Session, scope: ScanScope, run: ScanRun, hosts: list[sweeps.FoundHost],
                missing_after_scans: int) -> IngestResult:
    """A sweep that ran here, stored as `store_swept` stores one sent by a collector."""
    return store_swept(session, scope, run, sweep_observations(hosts, scope.unit.code, utcnow()), missing_after_scans)


def sweep_observations(hosts: Sequence[sweeps.FoundHost], unit_code: str,
                       at: dt.datetime) -> list[tuple[str, ObservedDevice]]:
    """Each host found, with its address."""
    return [(host.address, _observation(host, unit_code, at)) for host in hosts]


def store_swept(session: Session, scope: ScanScope, run: ScanRun, observed: Sequence[tuple[str, ObservedDevice]],
                missing_after_scans: int) -> IngestResult:
    """Ingest the hosts found as one complete scan of the scope; remember which device each address is."""
    at = utcnow()
    bindings = address_bindings(session, scope)
    observations = [bind(observation, address, bindings.get(address)) for address, observation in observed]
    batch = IngestBatch(observations, scope_key=f"nmap:{scope.id}", complete_scan=True, network=scope.network.value)
    result = ingest(session, batch, missing_after_scans=missing_after_scans)
    _remember_hosts(session, scope, [address for address, _ in observed], result.device_ids, at)
    run.hosts_done, run.hosts_answered = run.hosts_total, len(observed)
    run.created, run.changed, run.unchanged, run.missing = result.created, result.changed, result.unchanged, \
        result.missing
    session.flush()
    return result


def _remember_hosts(session: Session, scope: ScanScope, addresses: Sequence[str], device_ids: Sequence[int],
                    at: dt.datetime) -> None:
    """Which device each address found is, in two statements (a site's sweep finds hundreds of hosts)."""
    known = dict(session.execute(select(ScanHost.address, ScanHost.id).where(ScanHost.scope_id == scope.id)).all())
    rows = [{"address": address, "device_id": device_id, "last_seen": at}
            for address, device_id in zip(addresses, device_ids, strict=True)]
    seen_again = [row | {"id": known[row["address"]]} for row in rows if row["address"] in known]
    new = [row | {"scope_id": scope.id} for row in rows if row["address"] not in known]
    if seen_again:
        session.execute(update(ScanHost), seen_again)
    if new:
        session.execute(insert(ScanHost), new)


def _observation(host: sweeps.FoundHost, unit_code: str, at: dt.datetime) -> ObservedDevice:
    fields = {"hostname": polls.valid_hostname(host.hostname), "vendor": host.mac_vendor, "os": host.os_guess,
              "device_class": confident_class(list(host.hints))}
    fields = {name: value for name, value in fields.items() if value}
    return ObservedDevice(
        method="nmap", observed_at=at, unit_code=unit_code, source=f"nmap {host.address}", fields=fields,
        interfaces=(ObservedInterface(name=None if host.mac else NMAP_INTERFACE, mac=host.mac, ips=(host.address,)),),
        raw={"address": host.address, "open_ports": [f"{proto}/{port} {service}".strip()
                                                     for proto, port, service in host.open_ports],
             "hints": [{"class": h.device_class, "confidence": h.confidence, "evidence": list(h.evidence)}
                       for h in host.hints]})

