"""Races and faults against real parts, each returning plain figures for a test to assert on and the
bench to print: two ingestions of the same devices at once, fifty API writers over HTTP, the database
stopping mid-request, a process killed mid-batch, a full disk under an export.

Each scenario takes the URL of a fresh, empty database (or a private cluster) and migrates it itself."""
import contextlib
import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from app import create_app
from core.db import make_engine, make_session_factory, migrate
from inventory.devices import record_device
from inventory.examples import load_example_organisation
from inventory.ingest import INGEST_LOCK_KEY, IngestBatch, ingest
from inventory.models import Device, Interface
from inventory.observations import ObservedDevice, ObservedInterface
from tests.robustness.databases import PrivateCluster, Unavailable, admin_token, build_organisation, wait_until
from tests.serving import serving

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 11, 2, 8, 0)
# Only loopback is contacted, never through a proxy a developer's environment may name.
LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))
UNAVAILABLE = "the database is unavailable; nothing was changed, try again"


def race_mac(round_: int, n: int) -> str:
    return f"02:52:{round_:02x}:00:{n >> 8 & 255:02x}:{n & 255:02x}"  # locally administered: never a real NIC


# 1. Two ingestion batches describing the same devices, at the same time.

@dataclass
class IngestRace:
    rounds: int
    devices_expected: int
    devices: int
    duplicate_serials: int
    duplicate_macs: int  # a MAC on more than one device: one physical device stored twice
    split_records: int   # a device whose serial and MAC ended on different records
    errors: list[str] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return self.duplicate_serials + self.duplicate_macs + self.split_records + abs(self.devices -
                                                                                       self.devices_expected)


def race_two_ingestions(url: str, *, devices: int = 200, rounds: int = 2) -> IngestRace:
    """Per round, nmap (host name + MAC) and SNMP (serial + MAC) describe the same new devices in two
    threads, each batch in its own transaction, started together; the merge must make one record each."""
    engine = make_engine(url)
    try:
        migrate(engine)
        sessions = make_session_factory(engine)
        build_organisation(sessions)
        errors: list[str] = []
        for round_ in range(rounds):
            nmap = IngestBatch([nmap_sees(round_, n) for n in range(devices)])
            snmp = IngestBatch([snmp_sees(round_, n) for n in range(devices)])
            # The start order alternates between rounds: neither source is always first to the lock.
            errors += _at_once(engine, [nmap, snmp] if round_ % 2 == 0 else [snmp, nmap])
        return _count_duplicates(engine, rounds, rounds * devices, errors)
    finally:
        engine.dispose()


def nmap_sees(round_: int, n: int) -> ObservedDevice:
    """A host name and a MAC in nmap's upper case, as a sweep reports them."""
    return ObservedDevice("nmap", T0, "W1", f"race nmap {round_}", fields={"hostname": f"pc-{round_}-{n:03d}"},
                          interfaces=(ObservedInterface(mac=race_mac(round_, n).upper(),
                                                        ips=(f"10.{round_}.{n >> 8}.{n & 255}",)),))


def snmp_sees(round_: int, n: int) -> ObservedDevice:
    """The serial and the same MAC in dashes on a named port, as the device's agent reports them."""
    return ObservedDevice("snmp", T0 + dt.timedelta(seconds=1), "W1", f"race snmp {round_}",
                          fields={"serial": f"RACE{round_}-{n:04d}", "vendor": "Cisco"},
                          interfaces=(ObservedInterface(name="Vlan1", mac=race_mac(round_, n).replace(":", "-")),))


def _at_once(engine: Engine, batches: list[IngestBatch]) -> list[str]:
    gate = threading.Barrier(len(batches))
    errors: list[str] = []

    def run(batch: IngestBatch) -> None:
        try:
            with Session(engine) as session:
                session.execute(text("SELECT 1"))  # a connection of its own, checked out before the gate
                session.commit()
                gate.wait(timeout=30)
                with session.begin():
                    ingest(session, batch)
        except Exception as error:  # reported as a figure: the test asserts there were none
            errors.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=run, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def _count_duplicates(engine: Engine, rounds: int, expected: int, errors: list[str]) -> IngestRace:
    with Session(engine) as session:
        devices = session.scalar(select(func.count(Device.id)))
        serials = session.scalar(select(func.count()).select_from(
            select(Device.serial).where(Device.serial.is_not(None)).group_by(Device.serial)
            .having(func.count() > 1).subquery()))
        macs = session.scalar(select(func.count()).select_from(
            select(Interface.mac).where(Interface.mac.is_not(None)).group_by(Interface.mac)
            .having(func.count(func.distinct(Interface.device_id)) > 1).subquery()))
        split = session.scalar(select(func.count(Device.id)).where(
            Device.serial.is_(None) | ~Device.id.in_(select(Interface.device_id).where(Interface.mac.is_not(None)))))
    return IngestRace(rounds, expected, devices, serials, macs, split, errors)


# 2. Fifty API writers over HTTP at once.

@dataclass
class WriterRace:
    writers: int
    requests: int
    server_errors: int
    failures: list[str]     # every answer that was not 200 (PATCH) or 201 (POST), 5xx included
    lost_updates: int       # spec keys whose PATCH was answered 200 but are absent afterwards
    shared_serial_devices: int  # devices carrying the serial that every writer posted: 1 expected

    @property
    def duplicates(self) -> int:
        return max(0, self.shared_serial_devices - 1)


def call(base: str, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}{path}", data=data, method=method,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with LOOPBACK.open(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            return error.code, json.loads(payload)
        except ValueError:
            return error.code, payload.decode(errors="replace")[:300]


# Specs that hold any count from 1 to 50. A device has one of each, so writers share devices ten by ten.
RACED_SPECS = ("cpu_cores", "ram_gb", "storage_gb", "port_count", "uplink_ports", "port_speed_mbps", "printer_ppm",
               "page_count", "scanner_ppm", "screen_inch")


def race_api_writers(url: str, *, writers: int = 50, server_threads: int = 12) -> WriterRace:
    """Each writer, in its own thread, PATCHes its own spec of a device it shares with nine others (writer n:
    device n // 10, spec n % 10, value n + 1) and POSTs the same new serial, all released at once against the
    real app under waitress."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "robustness"})
    try:
        migrate(app.extensions["engine"])
        sessions = app.extensions["sessions"]
        build_organisation(sessions)
        _, token = admin_token(sessions)
        with sessions() as session, session.begin():
            device_ids = [record_device(session, "W1", {"serial": f"WRITERS-BASE-{d}", "vendor": "HP"}, by="setup").id
                          for d in range(-(-writers // len(RACED_SPECS)))]
        gate = threading.Barrier(writers)
        results: list[tuple[int, str, int, Any]] = []  # writer, method, status, body
        lock = threading.Lock()
        with serving(app, threads=server_threads) as base:
            def write(n: int) -> None:
                gate.wait(timeout=60)
                device, spec = divmod(n, len(RACED_SPECS))
                answers = [(n, "PATCH", *call(base, "PATCH", f"/api/devices/{device_ids[device]}", token,
                                              {"specs": {RACED_SPECS[spec]: n + 1}})),
                           (n, "POST", *call(base, "POST", "/api/devices", token,
                                             {"unit_code": "W2", "serial": "SHARED-0001", "model": f"writer {n}"}))]
                with lock:
                    results.extend(answers)

            threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=180)
        expected = {"PATCH": 200, "POST": 201}
        failures = [f"writer {n} {method} -> {status}: {str(body)[:300]}" for n, method, status, body in results
                    if status != expected[method]]
        patched = {n for n, method, status, _body in results if method == "PATCH" and status == 200}
        with sessions() as session:
            specs = [session.get(Device, device_id).specs for device_id in device_ids]
            shared = session.scalar(select(func.count(Device.id)).where(Device.serial == "SHARED-0001"))
        lost = [n for n in patched
                if specs[n // len(RACED_SPECS)].get(RACED_SPECS[n % len(RACED_SPECS)]) != n + 1]
        return WriterRace(writers, len(results), sum(1 for _n, _m, status, _b in results if status >= 500),
                          failures, len(lost), shared)
    finally:
        app.extensions["engine"].dispose()


# 3. The database stops in the middle of a request.

@dataclass
class StoppedDatabase:
    rows: int
    status: int | None
    body: Any
    stopped_mid_write: bool  # the stop came after the import wrote rows, in its open transaction
    down_status: int | None  # a request while the database is down: GET /api/devices
    down_body: Any
    devices_after_restart: int
    recovered_status: int | None  # the same app, once PostgreSQL is back: GET /api/devices
    recovered_total: int | None


def device_sheet(rows: int, *, prefix: str = "STOP") -> bytes:
    lines = ["unit_code,serial,hostname,macs,vendor"]
    lines += [f"{('W1', 'W2', 'A1-D1')[n % 3]},{prefix}{n:06d},pc-{n:06d},02:53:00:{n >> 16 & 255:02x}:"
              f"{n >> 8 & 255:02x}:{n & 255:02x},Dell" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def stop_database_mid_import(cluster: PrivateCluster, *, rows: int = 20_000) -> StoppedDatabase:
    """POST a large device import; once its transaction has written rows, `pg_ctl stop -m immediate`
    the cluster; then start it again and look at what the import left and whether the app recovers."""
    app = create_app({"DATABASE_URL": cluster.url, "SECRET_KEY": "robustness"})
    try:
        migrate(app.extensions["engine"])
        sessions = app.extensions["sessions"]
        build_organisation(sessions)
        _, token = admin_token(sessions)
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        answer: dict[str, Any] = {}

        def post() -> None:
            response = client.post("/api/imports/devices", content_type="multipart/form-data",
                                   data={"file": (io.BytesIO(device_sheet(rows)), "large.csv")})
            answer.update(status=response.status_code, body=response.get_json(silent=True) or response.data[:500])

        request = threading.Thread(target=post)
        request.start()
        writing = wait_until(lambda: _import_is_writing(cluster) or not request.is_alive(), timeout_s=120)
        stopped_mid_write = writing and request.is_alive()
        cluster.stop("immediate")
        request.join(timeout=120)
        down = client.get("/api/devices?page_size=1")
        cluster.start()
        with psycopg.connect(cluster.dsn) as connection:
            devices = connection.execute("SELECT count(*) FROM device").fetchone()[0]
        recovered = client.get("/api/devices?page_size=1")
        return StoppedDatabase(rows, answer.get("status"), answer.get("body"), stopped_mid_write,
                               down.status_code, down.get_json(silent=True), devices, recovered.status_code,
                               (recovered.get_json(silent=True) or {}).get("total"))
    finally:
        app.extensions["engine"].dispose()


def _import_is_writing(cluster: PrivateCluster) -> bool:
    """Another backend holds the ingestion lock and has a transaction id: PostgreSQL assigns one at a
    transaction's first write, so the import's rows are being written, not yet committed."""
    try:
        with psycopg.connect(cluster.dsn) as connection:
            # pg_advisory_xact_lock(bigint): the key's low 32 bits are objid, its high ones classid.
            return connection.execute(
                "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid) WHERE locktype = 'advisory' "
                "AND granted AND classid = %s AND objid = %s AND backend_xid IS NOT NULL",
                (INGEST_LOCK_KEY >> 32, INGEST_LOCK_KEY & 0xFFFFFFFF)).fetchone()[0] > 0
    except psycopg.OperationalError:
        return False


# 4. A process killed in the middle of an ingestion batch.

@dataclass
class KilledBatch:
    observations: int
    killed_before_commit: bool  # the victim said it had started writing and had not said it committed
    devices: int
    app_health: int
    app_devices_total: int | None
    integrity: str  # SQLite's integrity_check, "ok"; "n/a" on PostgreSQL

    @property
    def partial(self) -> bool:
        return self.devices not in (0, self.observations)


def kill_mid_ingest(url: str, *, observations: int = 20_000) -> KilledBatch:
    """Run tests/robustness/victim.py on `url`; SIGKILL it as soon as it says its batch is being
    written; then count what is stored and start the app on the database."""
    engine = make_engine(url)
    try:
        migrate(engine)
        build_organisation(make_session_factory(engine))
    finally:
        engine.dispose()
    victim = subprocess.Popen([sys.executable, "-m", "tests.robustness.victim", url, str(observations)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        said = victim.stdout.readline().strip()
        if said == "writing":
            victim.send_signal(signal.SIGKILL)
        rest, errors = victim.communicate(timeout=300)
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
    if said != "writing":
        raise RuntimeError(f"the victim never started its batch: {said!r} {errors[-2000:]}")
    killed_before_commit = victim.returncode == -signal.SIGKILL and "committed" not in rest
    return _after_the_kill(url, observations, killed_before_commit)


def _after_the_kill(url: str, observations: int, killed_before_commit: bool) -> KilledBatch:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                # The server ends the killed client's backend (and its transaction) when it notices.
                wait_until(lambda: not connection.execute(text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :key"),
                    {"key": INGEST_LOCK_KEY & 0xFFFFFFFF}).scalar(), timeout_s=30, interval_s=0.1)
                integrity = "n/a"
            else:
                integrity = connection.execute(text("PRAGMA integrity_check")).scalar()
            devices = connection.execute(select(func.count(Device.id))).scalar()
    finally:
        engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "robustness"})
    try:
        _, token = admin_token(app.extensions["sessions"])
        client = app.test_client()
        health = client.get("/health").status_code
        listed = client.get("/api/devices?page_size=1", headers={"Authorization": f"Bearer {token}"})
        total = (listed.get_json(silent=True) or {}).get("total")
    finally:
        app.extensions["engine"].dispose()
    return KilledBatch(observations, killed_before_commit, devices, health, total, integrity)


# 5. The disk fills up under an export.

@dataclass
class FullDiskExport:
    returncode: int
    stderr: str
    left_behind: list[str]  # files in the export directory besides the filler


@contextlib.contextmanager
def small_tmpfs(directory: Path, size: str = "16k") -> Iterator[Path]:
    """A tmpfs of `size` mounted on `directory` (root only), always unmounted after."""
    directory.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(directory)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        raise Unavailable(f"cannot mount a tmpfs on {directory}: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield directory
    finally:
        if subprocess.run(["umount", str(directory)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(directory)], capture_output=True)


def fill(directory: Path) -> int:
    """Write zeros into `directory` until the file system says it is full; bytes written."""
    written = 0
    with open(directory / "filler", "wb", buffering=0) as out:
        block = b"\0" * 1024
        while True:
            try:
                written += out.write(block) or 0
            except OSError as error:
                if error.errno == 28:  # ENOSPC: full, as wanted
                    return written
                raise


def export_to_full_disk(workdir: Path) -> FullDiskExport:
    """`flask --app app export units` into a full tmpfs, on a migrated and seeded SQLite file."""
    database = workdir / "seeded.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    try:
        migrate(engine)
        with Session(engine) as session, session.begin():
            load_example_organisation(session)
    finally:
        engine.dispose()
    with small_tmpfs(workdir / "full") as full:
        fill(full)
        environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")} | {
            "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "robustness"}
        finished = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "export", "units",
                                   str(full / "u.csv")], cwd=ROOT, env=environment, capture_output=True, text=True,
                                  timeout=120)
        left = sorted(p.name for p in full.iterdir() if p.name != "filler")
    return FullDiskExport(finished.returncode, finished.stderr, left)
