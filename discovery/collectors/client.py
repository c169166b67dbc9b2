"""The collector at a site: it fetches from the server the scopes assigned to it, scans them on their schedules
with the server's own code (nmap sweeps, SNMP polls), keeps each scan as a batch in its on-disk backlog and
sends the backlog to the server, oldest first.

Exactly once: a batch is on the disk before it is sent and leaves it only once the server has kept it (201
accepted, 200 a duplicate of one it has, 422 rejected and kept there for an operator); the server ignores a
batch id it has seen. So a server that is away, a reply lost or the collector restarted costs a resend, never
a batch lost or stored twice.

The server cannot make a collector scan outside the collector's own allowlist (`--allowlist`), checked before
every scan and again by the scanner itself. The SNMP credentials arrive encrypted with a key derived from the
token; they are decrypted in memory for each poll and stay encrypted in the cached configuration on disk, which
lets a collector restarted while its server is away go on scanning.

Threads: the scheduler's (one scan per scope at a time), the sender, the heartbeat, and the main thread, which
refreshes the configuration. A token the server refuses (401/403: revoked?) stops everything; the backlog
stays on disk."""
import asyncio
import contextlib
import fcntl
import json
import logging
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from core.errors import DomainError
from core.time import utcnow
from discovery import scans
from discovery import sweep as sweeps
from discovery.allowlist import require_allowed
from discovery.collectors import wire
from discovery.collectors.backlog import Backlog, BacklogFull, write_atomically
from discovery.collectors.sender import (
    BACKOFF_FIRST_S,
    BACKOFF_MAX_S,
    VERSION,
    Refused,
    Sender,
    Server,
    State,
    Unreachable,
)
from discovery.models import AuthProtocol, PrivProtocol, SnmpVersion
from discovery.schedule import trigger_of
from discovery.scopes import scope_targets
from discovery.snmp import poll as polls
from discovery.snmp.client import Access

log = logging.getLogger("collector")

DEFAULT_ALLOWLIST = "127.0.0.0/8,::1/128"
DEFAULT_DATA_DIR = "collector-data"
CONFIG_FILE = "config.json"
LOCK_FILE = "lock"
BACKLOG_DIR = "backlog"
MAX_ADDRESSES = 65_536  # as the server's SCAN_MAX_ADDRESSES: a scope past it is a mistake, not a scan
ONCE_PATIENCE_S = 60.0  # --once: how long a server that does not answer is waited for before giving up
EXIT_FAILED, EXIT_REFUSED = 1, 3


@dataclass(frozen=True)
class Options:
    server: str
    token: str
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    backlog_max: int = 1000
    allowlist: str = DEFAULT_ALLOWLIST
    config_every_s: float = 60.0
    heartbeat_every_s: float = 30.0
    once: bool = False
    poll: polls.PollSettings = field(default_factory=polls.PollSettings)
    sweep: sweeps.SweepSettings = field(default_factory=sweeps.SweepSettings)


class CollectorError(Exception):
    """The collector cannot go on (no configuration, another collector on the data directory); the reason."""




# ---- scans ----------------------------------------------------------------------------------------------------

def scope_addresses(scope: dict, allowlist: str) -> list[str]:
    """The scope's addresses, refused (OutsideAllowlist) when any lies outside this collector's own allowlist."""
    targets = scope_targets(scope["networks"], scope.get("exclusions") or "")
    require_allowed(targets, allowlist)
    if targets.size > MAX_ADDRESSES:
        raise CollectorError(f"scope {scope['name']} has {targets.size} addresses, more than the {MAX_ADDRESSES} "
                             f"a scan may cover")
    return [str(address) for address in targets]


def accesses_of(scope: dict, key: str) -> list[tuple[int, Access]]:
    """(credential id, plain credential) in the scope's order, decrypted for this poll only."""
    found = []
    for credential in scope.get("credentials") or []:
        secrets = wire.decrypt_secrets(key, credential["secrets"])
        found.append((credential["id"], Access(
            credential["name"], SnmpVersion(credential["version"]), secrets["community"], credential.get("username"),
            AuthProtocol(credential.get("auth_protocol") or "none"), secrets["auth_key"],
            PrivProtocol(credential.get("priv_protocol") or "none"), secrets["priv_key"])))
    return found


def scan(scope: dict, kind: str, options: Options, key: str, remembered: dict[str, int]) -> tuple[dict, int]:
    """Scan `scope` with `kind` as the server would, here; the batch (its sequence not yet given) and how many
    hosts answered. `remembered` (address -> the credential that worked) is read and brought up to date."""
    addresses = scope_addresses(scope, options.allowlist)
    started = utcnow()
    if kind == "nmap":
        hosts = sweeps.sweep(addresses, options.allowlist, options.sweep)
        observed, outcomes = scans.sweep_observations(hosts, scope["unit_code"], utcnow()), []
        mode, answered = sweeps.describe_mode(options.sweep), len(hosts)
    else:
        accesses = accesses_of(scope, key)
        if not accesses:
            raise CollectorError(f"scope {scope['name']} has no SNMP credential to poll with")
        found = asyncio.run(polls.poll_addresses(addresses, scope["snmp_port"], accesses, remembered, options.poll))
        remembered.update({p.address: p.credential_id for p in found if p.credential_id is not None})
        observed = polls.observations_by_address(found, scope["unit_code"], utcnow())
        outcomes = [polls.outcome_of(p) for p in found]
        mode = f"SNMP, {len(accesses)} credential(s), port {scope['snmp_port']}"
        answered = sum(o.answered for o in outcomes)
    batch = wire.batch_json(uuid.uuid4().hex, 0, scope["id"], kind, mode, len(addresses), started, utcnow(),
                            observed, outcomes)
    return batch, answered


# ---- the collector --------------------------------------------------------------------------------------------

class Collector:
    """One collector: its configuration, backlog, scans, sender and heartbeat."""

    def __init__(self, options: Options):
        self.options = options
        self.server = Server(options.server, options.token)
        self.key = wire.credentials_key(options.token)
        self.backlog = Backlog(options.data_dir / BACKLOG_DIR, options.backlog_max)
        self.state = State()
        self.sender = Sender(self.server, self.backlog, self.state)
        self.config: dict = {}
        self.remembered: dict[int, dict[str, int]] = {}  # per scope: the credential that worked, by address
        self.away = False  # the server did not answer the last fetch of the configuration
        self._running: dict[int, threading.Lock] = {}
        self._started_once: set[int] = set()
        self._unschedulable: set[tuple[int, str]] = set()

    # -- configuration --

    def load_config(self) -> None:
        """The server's configuration, cached on disk as received. When the server is away: the one in memory, or
        at start the cached one. Refused when the token is; CollectorError with neither."""
        try:
            config = self.server.config()
        except Unreachable as away:
            if self.config:
                if not self.away:
                    log.warning("%s: going on with the configuration of %s (server time)", away,
                                self.config.get("server_time"))
                self.away = True
                return
            config = self._cached_config(away)
        else:
            write_atomically(self.options.data_dir / CONFIG_FILE, json.dumps(config, indent=1).encode())
            if self.away:
                log.info("the server answers again")
                self.sender.retry_now()  # rather than at the end of its backoff
            self.away = False
        if _plain(config.get("scopes")) != _plain(self.config.get("scopes")):
            log.info("configuration: collector %s of %s, %d scope(s): %s", config["collector"]["name"],
                     config["collector"]["unit_code"], len(config["scopes"]), _describe_scopes(config["scopes"]))
        self.config = config

    def _cached_config(self, away: Unreachable) -> dict:
        cached = self.options.data_dir / CONFIG_FILE
        try:
            config = json.loads(cached.read_text())
        except FileNotFoundError:
            raise CollectorError(f"{away}, and no configuration is cached in {cached}") from None
        except ValueError:
            raise CollectorError(f"{away}, and the configuration cached in {cached} cannot be read") from None
        log.warning("%s: scanning with the configuration cached at %s (server time)", away, config.get("server_time"))
        self.away = True
        return config

    def scope(self, scope_id: int) -> dict | None:
        return next((s for s in self.config.get("scopes", []) if s["id"] == scope_id), None)

    # -- runs --

    def run_scope(self, scope_id: int) -> int:
        """Scan the scope with each of its methods and keep a batch of each; the batches kept."""
        scope = self.scope(scope_id)
        if scope is None or self.state.stop.is_set():
            return 0  # unassigned since it was scheduled, or the collector is stopping
        lock = self._running.setdefault(scope_id, threading.Lock())
        if not lock.acquire(blocking=False):
            log.warning("scope %s %s: the previous run is still under way; this one skipped", scope_id, scope["name"])
            return 0
        try:
            return sum(self._run_method(scope, kind) for kind in scope["methods"] if kind in wire.KINDS)
        finally:
            lock.release()

    def _run_method(self, scope: dict, kind: str) -> int:
        label = f"scope {scope['id']} {scope['name']} {kind}"
        if self.backlog.is_full():
            message = str(BacklogFull(self.backlog.count()))
            self.state.error(message)
            log.warning("%s: skipped: %s", label, message)
            return 0
        clock = time.monotonic()
        try:
            batch, answered = scan(scope, kind, self.options, self.key, self.remembered.setdefault(scope["id"], {}))
        except (DomainError, CollectorError) as error:  # outside the allowlist, nmap missing, no credential
            reason = getattr(error, "reason", None) or str(error)
            self.state.error(f"{label}: {reason}")
            log.error("%s: not scanned: %s", label, reason)
            return 0
        except Exception as error:  # anything else ends this run, never the collector
            self.state.error(f"{label}: internal error: {type(error).__name__}")
            log.exception("%s: failed", label)
            return 0
        try:
            self.backlog.put(batch)
        except BacklogFull as full:
            self.state.error(str(full))
            log.warning("%s: scanned, not kept: %s", label, full)
            return 0
        self.sender.wake.set()
        log.info("%s: %d address(es), %d answered, %d observation(s) in %.1f s; batch %s written to the backlog "
                 "(sequence %d, %d waiting)", label, batch["hosts_total"], answered, len(batch["observations"]),
                 time.monotonic() - clock, batch["batch_id"], batch["sequence"], self.backlog.count())
        return 1

    # -- heartbeat --

    def heartbeat(self) -> None:
        try:
            self.server.heartbeat({"version": VERSION, "backlog": self.backlog.count(),
                                   "backlog_full": self.backlog.is_full(), "last_error": self.state.last_error,
                                   "sent_at": wire.iso(utcnow())})
        except Refused as refused:
            self.state.refuse(str(refused), self.backlog)
        except Unreachable as away:
            log.warning("heartbeat not sent: %s", away)
        else:
            self.sender.retry_now()

    # -- the two ways to run --

    def run_once(self) -> int:
        """Every assigned scope (not paused) once, then the backlog sent; 0 when it is empty at the end."""
        try:
            self.load_config()
        except Refused as refused:
            self.state.refuse(str(refused), self.backlog)
            return EXIT_REFUSED
        for scope in self.config["scopes"]:
            if scope.get("paused"):
                log.info("scope %s %s: paused; not scanned", scope["id"], scope["name"])
                continue
            self.run_scope(scope["id"])
        self.sender.run(patience_s=ONCE_PATIENCE_S)
        if self.state.refused:
            return EXIT_REFUSED
        self.heartbeat()
        waiting = self.backlog.count()
        if waiting:
            log.error("%d batch(es) wait in the backlog (%s): the server did not take them; the next run sends them",
                      waiting, self.backlog.directory)
            return EXIT_FAILED
        return 0

    def run_forever(self) -> int:
        """Scan on the scopes' schedules, send, beat and follow the configuration until stopped."""
        self._first_config()
        if self.state.stop.is_set():
            return EXIT_REFUSED if self.state.refused else 0
        scheduler = BackgroundScheduler(timezone="UTC")
        scheduler.start()
        threads = [threading.Thread(target=self.sender.run, name="collector-sender", daemon=True),
                   threading.Thread(target=self._beat, name="collector-heartbeat", daemon=True)]
        for thread in threads:
            thread.start()
        try:
            self.schedule(scheduler)
            while not self.state.stop.wait(self.options.config_every_s):
                self._refresh()
                self.schedule(scheduler)
        finally:
            scheduler.shutdown(wait=False)
            self.state.stop.set()
            self.sender.wake.set()
            for thread in threads:
                thread.join(10)
        return EXIT_REFUSED if self.state.refused else 0

    def _first_config(self) -> None:
        """The configuration to start with: a collector started while its server is away and with nothing cached
        waits for it (with backoff) rather than ending."""
        delay = 0.0
        while not self.state.stop.is_set():
            try:
                self.load_config()
                return
            except Refused as refused:
                self.state.refuse(str(refused), self.backlog)
            except CollectorError as error:
                delay = min(BACKOFF_MAX_S, delay * 2 or BACKOFF_FIRST_S)
                log.warning("%s; trying again in %.0f s", error, delay)
                self.state.stop.wait(delay)

    def _refresh(self) -> None:
        try:
            self.load_config()
        except Refused as refused:
            self.state.refuse(str(refused), self.backlog)
        except CollectorError as error:
            log.warning("configuration not refreshed: %s", error)

    def _beat(self) -> None:
        while not self.state.stop.is_set():
            self.heartbeat()
            self.state.stop.wait(self.options.heartbeat_every_s)

    def schedule(self, scheduler: BackgroundScheduler) -> None:
        """One job per scope not paused, on its schedule; a scope without one runs once, when first seen."""
        scopes = {s["id"]: s for s in self.config.get("scopes", []) if not s.get("paused")}
        for job in scheduler.get_jobs():
            scope = scopes.get(job.args[0])
            if scope is None or job.name != (scope.get("schedule") or "once"):
                job.remove()
        held = {job.args[0] for job in scheduler.get_jobs()}
        for scope_id, scope in scopes.items():
            if scope_id in held:
                continue
            schedule = scope.get("schedule")
            if not schedule:
                if scope_id in self._started_once:
                    continue
                self._started_once.add(scope_id)
                trigger = DateTrigger(utcnow())
            else:
                try:
                    trigger = trigger_of(schedule)
                except DomainError as error:
                    if (scope_id, schedule) not in self._unschedulable:  # said once, not at every refresh
                        self._unschedulable.add((scope_id, schedule))
                        log.error("scope %s %s: not scheduled: %s", scope_id, scope["name"], error.reason)
                    continue
            # Two instances: the second finds the first under way and says so (run_scope), then ends.
            scheduler.add_job(self.run_scope, trigger, args=(scope_id,), name=schedule or "once", coalesce=True,
                              max_instances=2, misfire_grace_time=None)


def _plain(scopes: list[dict] | None) -> list[dict] | None:
    """The scopes without their credentials' ciphertexts, which differ at every fetch (a fresh IV each time)."""
    if scopes is None:
        return None
    return [s | {"credentials": [{k: v for k, v in c.items() if k != "secrets"} for c in s.get("credentials") or []]}
            for s in scopes]


def _describe_scopes(scopes: list[dict]) -> str:
    return "; ".join(f"{s['id']} {s['name']} ({','.join(s['methods'])}, {s.get('schedule') or 'no schedule'}"
                     f"{', paused' if s.get('paused') else ''})" for s in scopes) or "none"


@contextlib.contextmanager
def data_directory(path: Path) -> Iterator[Path]:
    """The data directory, locked for this process: two collectors on one backlog would send it twice."""
    path.mkdir(parents=True, exist_ok=True)
    with open(path / LOCK_FILE, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CollectorError(f"another collector is using {path}") from None
        yield path


def run(options: Options) -> int:
    """The collector as a command runs it: its exit status. SIGTERM and SIGINT stop it (the backlog stays)."""
    try:
        with data_directory(options.data_dir):
            collector = Collector(options)
            if options.once:
                return collector.run_once()

            def stop(signum, _frame) -> None:
                log.info("stopping (signal %s); %d batch(es) wait in the backlog", signum, collector.backlog.count())
                collector.state.stop.set()
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
            return collector.run_forever()
    except CollectorError as error:
        log.error("%s", error)
        return EXIT_FAILED


def configure_logging() -> None:
    """One line per event on stderr, with the time (UTC)."""
    handler = logging.StreamHandler()
    formatter = logging.Formatter("%(asctime)sZ %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)  # the scanning code's own warnings
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # a run skipped is said by run_scope, more briefly
    for name in ("collector", "discovery.collectors.backlog"):
        logging.getLogger(name).setLevel(logging.INFO)
