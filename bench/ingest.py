"""Benchmark: ingestion of 100,000 observations, then GET /api/devices over HTTP, per database.

    .venv/bin/python bench/ingest.py [--databases sqlite,postgresql] [--devices 20000] [--profile FILE]

--databases  which databases to run, in this order (default `sqlite,postgresql`). SQLite is a fresh
             file in a temporary directory. PostgreSQL is the server at 127.0.0.1:5432 (trust auth,
             user `postgres`), in a database `readiness_bench` dropped and created afresh; when the
             server does not answer, the run says so and goes on with the next database.
--devices    devices described by the observations (default 20,000). Everything scales with it:
             units (one per 100 devices, at least 2: a city and its wards), observations (5 per device),
             the fill before the list benchmark (to 2.5 times as many devices). Use e.g. 1000 for a quick run.
--profile    write a cProfile (pstats) of the first database's ingestion phase to FILE; that phase then
             runs one batch at a time and its timed figure includes the profiler's overhead.

For each database:
1. Alembic migrations, then the units (a city and its wards) through `create_unit`.
2. Five rounds of observations per device, as real sources describe one device: nmap (host name, MAC,
   address), SNMP (serial, vendor, model, firmware, class, the MAC on a named port), a switch's
   forwarding table (the MAC only), the asset spreadsheet (serial, location, price, purchase date,
   status) and a later nmap scan. One batch per unit per round, each in its own transaction, timed;
   the rounds one after the other, the batches of a round one at a time on SQLite (one writer at a
   time) and three at a time on PostgreSQL (as the scans of different units arrive).
   Then the merge is verified: one device per real device, every observation stored, serial and MAC
   on the same record. Any difference exits non-zero.
3. More devices (spreadsheet imports) up to 2.5 times as many, then the real app under waitress on
   127.0.0.1 (an ephemeral port) and a mix of GET /api/devices requests, after a warm-up, sent with
   a read-only API token (an auditor's) as a script would; totals are checked against the generated
   data. Latency p50 and p95 in ms.

Progress goes to stderr; the last stdout line has the figures as key=value pairs. Only loopback
addresses are contacted. The data are generated from a fixed seed: every run sees the same devices."""
import argparse
import cProfile
import datetime as dt
import itertools
import json
import os
import random
import secrets
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Run as `python bench/ingest.py` (as `make bench` does): the project is not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

import app as application  # noqa: E402
from accounts.models import Role  # noqa: E402
from accounts.services import create_token, create_user  # noqa: E402
from core.db import make_engine, make_session_factory, migrate
from core.permissions import Permission
from inventory.ingest import IngestBatch, ingest  # noqa: E402
from inventory.models import Device, DeviceClass, DeviceStatus, Interface, Observation, UnitKind  # noqa: E402
from inventory.observations import ObservedDevice, ObservedInterface  # noqa: E402
from inventory.units import NewUnit, create_unit  # noqa: E402
from tests.fleet import DeviceSpec, fail, percentile, pick_models, prepare_database, progress, say  # noqa: E402
from tests.serving import serving  # noqa: E402

SEED = 20250303
DEVICES_PER_UNIT = 100    # 20,000 devices over 200 units at full size
FILL_FACTOR = 2.5         # 20,000 merged devices, then 50,000 in all for the list benchmark
START = dt.datetime(2025, 3, 3, 1, 0)  # naive UTC, as stored
TARGET_INGEST_S = 20
TARGET_LIST_P95_MS = 100
LIST_REQUESTS, WARM_UP_REQUESTS, PAGE_SIZE = 300, 20, 50

DATABASE = "readiness_bench"

# The order real sources reach a new device: a scan finds it, SNMP and the switches describe it, the
# spreadsheet (which knows only serials) is reconciled after SNMP has read them, a later scan sees it
# again. Scans cover a whole scope, so they are complete scans.
ROUNDS = ("nmap", "snmp", "fdb", "import", "nmap")
COMPLETE_SCAN_METHODS = {"nmap"}
# Batches ingested at a time. SQLite has one writer at a time. PostgreSQL writes the batches of different
# units side by side (inventory.ingest locks only the devices a batch names), as the scans of different
# units arrive; three keep its two cores busy while this process prepares the next batch.
WORKERS = {"sqlite": 1, "postgresql": 3}


# The models of the estate (tests/fleet.py) and their shares of it, in the order they are drawn in.
ESTATE = {"C9200L-24P-4G": 6, "2930F-24G": 3, "ISR4331": 2, "FortiGate-60F": 1, "U6-Lite": 5,
          "LaserJet Pro M404dn": 6, "imageRUNNER 2630i": 3, "OptiPlex 7010": 28, "ProDesk 400 G9": 12,
          "ThinkPad E14 Gen 5": 10, "Smart-UPS SMT1500IC": 5, "DS-2CD1043G2-I": 8, "SIP-T46U": 8,
          "PowerEdge R750": 3}


@dataclass(frozen=True)
class ListRequest:
    label: str
    params: dict[str, Any]
    expected_total: int | None  # None: a free-text search, whose only sure answer is "at least one"


def main() -> None:
    args = parse_args()
    figures: dict[str, float] = {}
    # Other processes on the machine inflate wall times; the load says how far to trust them.
    say(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at start")
    with tempfile.TemporaryDirectory(prefix="readiness-bench-") as scratch:  # the SQLite file, removed after
        for name in args.databases:
            url, skipped = prepare_database(name, Path(scratch), DATABASE)
            if skipped:
                say(f"{name}: skipped: {skipped}")
                print(f"{name}: SKIPPED ({skipped})", flush=True)
                continue
            profile_path = None if figures else args.profile  # the first database that runs
            figures |= run_database(name, url, args.devices, profile_path)
    print_summary(figures)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql",
                        type=lambda text: [name.strip() for name in text.split(",") if name.strip()])
    parser.add_argument("--devices", type=int, default=20_000)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the first database's ingestion")
    args = parser.parse_args()
    unknown = set(args.databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database: {', '.join(sorted(unknown))} (sqlite or postgresql)")
    if args.devices < 2:
        parser.error("--devices must be at least 2")
    return args


def run_database(name: str, url: str, device_count: int, profile_path: Path | None) -> dict[str, float]:
    say(f"{name}: {url}")
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    rng = random.Random(SEED)
    clock = itertools.count()  # one second per observation: time only moves forward
    units = create_units(sessions, max(2, device_count // DEVICES_PER_UNIT), rng)

    specs = plan_devices(0, device_count, units, rng)
    rounds = plan_batches(specs, [u.code for u in units], ROUNDS, clock)
    observation_count = sum(len(b.observations) for batches in rounds for b in batches)
    workers = 1 if profile_path else WORKERS[name]
    say(f"{name}: ingesting {observation_count:,} observations of {len(specs):,} devices "
        f"in {sum(map(len, rounds)):,} batches, {workers} at a time")
    cpu_started = time.process_time()
    ingest_s = timed_ingest(f"{name} ingest", sessions, rounds, workers, profile_path)
    say(f"{name}: ingest took {ingest_s:.1f} s wall, {time.process_time() - cpu_started:.1f} s CPU in this process; "
        f"load average now {os.getloadavg()[0]:.1f}")
    verify_merge(name, sessions, specs, observation_count)

    fill = plan_devices(len(specs), int(device_count * FILL_FACTOR) - len(specs), units, rng)
    fill_batches = plan_batches(fill, [u.code for u in units], ("full_import",), clock)
    fill_s = timed_ingest(f"{name} fill", sessions, fill_batches, WORKERS[name], None)
    everything = specs + fill
    verify_device_count(name, sessions, len(everything))
    say(f"{name}: {len(fill):,} more devices in {fill_s:.1f} s, {len(everything):,} in all")
    token = issue_read_token(sessions)
    # Planner statistics, as PostgreSQL's autovacuum (off on some servers) or a nightly job would gather.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()  # the app opens its own

    latencies_ms = measure_list(name, url, token, build_requests(everything, units, rng))
    p50, p95 = percentile(latencies_ms, 50), percentile(latencies_ms, 95)
    report(name, observation_count, ingest_s, p50, p95)
    return {f"{name}_ingest_s": round(ingest_s, 1), f"{name}_obs_per_s": round(observation_count / ingest_s),
            f"{name}_list_p50_ms": round(p50, 1), f"{name}_list_p95_ms": round(p95, 1)}


def create_units(sessions: sessionmaker[Session], count: int, rng: random.Random) -> list[NewUnit]:
    city = NewUnit("HN", "Thành phố (benchmark)", UnitKind.CITY, 150)
    wards = [NewUnit(f"HN-P{k:03d}", f"Phường {k}", UnitKind.WARD, rng.randint(15, 60)) for k in range(1, count)]
    with sessions() as session, session.begin():
        create_unit(session, city)
        for ward in wards:
            create_unit(session, ward, parent_code=city.code)
    return [city, *wards]


def plan_devices(first: int, count: int, units: Sequence[NewUnit], rng: random.Random) -> list[DeviceSpec]:
    """Devices spread over units by headcount, of models in the estate's proportions."""
    unit_codes = rng.choices([u.code for u in units], weights=[u.staff_count for u in units], k=count)
    models = pick_models(rng, ESTATE, count)
    return [DeviceSpec(n=first + k, unit_code=unit_codes[k], model=models[k],
                       status=DeviceStatus.SPARE if rng.random() < 0.08 else DeviceStatus.IN_USE,
                       purchase_date=dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(3650)),
                       price_vnd=round(models[k].price_vnd * rng.uniform(0.9, 1.1), -3))
            for k in range(count)]


def plan_batches(specs: Sequence[DeviceSpec], unit_codes: Sequence[str], rounds: Sequence[str],
                 clock: Iterator[int]) -> list[list[IngestBatch]]:
    """Per round, one batch per unit, in the order a week of per-unit scans would send them."""
    by_unit: dict[str, list[DeviceSpec]] = {code: [] for code in unit_codes}
    for spec in specs:
        by_unit[spec.unit_code].append(spec)
    planned = []
    for number, round_name in enumerate(rounds):
        rescan = round_name in rounds[:number]
        batches = []
        for code, unit_specs in by_unit.items():
            if not unit_specs:
                continue
            observations = [OBSERVERS[round_name](s, START + dt.timedelta(seconds=next(clock)), rescan)
                            for s in unit_specs]
            batches.append(IngestBatch(observations, scope_key=f"scope-{code}",
                                       complete_scan=observations[0].method in COMPLETE_SCAN_METHODS))
        planned.append(batches)
    return planned


def nmap_observation(spec: DeviceSpec, at: dt.datetime, rescan: bool) -> ObservedDevice:
    # nmap reports MACs in upper case and resolves names through DNS; it knows no serial.
    return ObservedDevice(method="nmap", observed_at=at, unit_code=spec.unit_code,
                          source=f"nmap scope-{spec.unit_code}", fields={"hostname": spec.hostname},
                          interfaces=(ObservedInterface(mac=spec.mac.upper(), ips=(spec.ip(rescan),)),),
                          raw={"state": "up", "reason": "arp-response"})


def snmp_observation(spec: DeviceSpec, at: dt.datetime, _rescan: bool) -> ObservedDevice:
    # sysName comes back in the case the administrator typed; ifPhysAddress as dashes.
    model = spec.model
    return ObservedDevice(method="snmp", observed_at=at, unit_code=spec.unit_code, source=f"snmp {spec.ip()}",
                          fields={"serial": spec.serial.lower(), "vendor": model.vendor, "model": model.name,
                                  "firmware": model.firmware, "device_class": model.device_class.value,
                                  "hostname": spec.hostname.upper()},
                          interfaces=(ObservedInterface(name=model.port, mac=spec.mac.replace(":", "-"),
                                                        speed_mbps=1000),),
                          raw={"sysDescr": f"{model.vendor} {model.name}, {model.firmware}"})


def fdb_observation(spec: DeviceSpec, at: dt.datetime, _rescan: bool) -> ObservedDevice:
    # A Cisco forwarding table: a MAC in dotted form behind a port, nothing else about the device.
    digits = spec.mac.replace(":", "")
    dotted = ".".join(digits[k:k + 4] for k in range(0, 12, 4))
    return ObservedDevice(method="fdb", observed_at=at, unit_code=spec.unit_code,
                          source=f"fdb swi-{spec.unit_code.lower()}-core", interfaces=(ObservedInterface(mac=dotted),),
                          raw={"vlan": 10, "port": f"Gi1/0/{spec.n % 48 + 1}"})


def import_observation(spec: DeviceSpec, at: dt.datetime, _rescan: bool) -> ObservedDevice:
    # The asset spreadsheet knows serials, not MACs: it can only join a device SNMP has read.
    return ObservedDevice(method="import", observed_at=at, unit_code=spec.unit_code,
                          source=f"assets-{spec.unit_code}.xlsx row {spec.n % 1000 + 2}", fields=_asset_fields(spec))


def full_import_observation(spec: DeviceSpec, at: dt.datetime, _rescan: bool) -> ObservedDevice:
    # A complete asset register (e.g. another agency's): every column, the MAC included.
    model = spec.model
    fields = _asset_fields(spec) | {"vendor": model.vendor, "model": model.name, "hostname": spec.hostname,
                                    "device_class": model.device_class.value}
    return ObservedDevice(method="import", observed_at=at, unit_code=spec.unit_code,
                          source=f"register-{spec.unit_code}.xlsx row {spec.n % 1000 + 2}", fields=fields,
                          interfaces=(ObservedInterface(mac=spec.mac, ips=(spec.ip(),)),))


def _asset_fields(spec: DeviceSpec) -> dict[str, Any]:
    return {"serial": spec.serial, "location": f"{spec.unit_code}, phòng {100 + spec.n % 40}",
            "purchase_price_vnd": spec.price_vnd, "purchase_date": spec.purchase_date.isoformat(),
            "status": spec.status.value}


# Keyed by round: the same method may describe a device in more than one way.
OBSERVERS: dict[str, Callable[[DeviceSpec, dt.datetime, bool], ObservedDevice]] = {
    "nmap": nmap_observation, "snmp": snmp_observation, "fdb": fdb_observation, "import": import_observation,
    "full_import": full_import_observation,
}


def timed_ingest(label: str, sessions: sessionmaker[Session], rounds: Sequence[Sequence[IngestBatch]],
                 workers: int, profile_path: Path | None) -> float:
    """Seconds to ingest the rounds one after the other, the batches of a round `workers` at a time, each
    batch in its own transaction (as the scans of different units send them)."""
    def ingest_one(batch: IngestBatch) -> None:
        with sessions() as session, session.begin():
            ingest(session, batch)

    profiler = cProfile.Profile() if profile_path else None
    total, done = sum(map(len, rounds)), 0
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    with ThreadPoolExecutor(workers, thread_name_prefix="ingest") as pool:
        for batches in rounds:
            # One at a time in this thread, where the profiler sees it.
            for _ in (pool.map if workers > 1 else map)(ingest_one, batches):
                done += 1
                progress(label, done, total, started)
    elapsed = time.perf_counter() - started
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile_path)
        say(f"{label}: profile written to {profile_path} (the time above includes the profiler)")
    return elapsed


def verify_merge(name: str, sessions: sessionmaker[Session], specs: Sequence[DeviceSpec],
                 observation_count: int) -> None:
    """One record per real device, every observation kept, and each record as the sources agree."""
    with sessions() as session:
        devices = session.scalar(select(func.count()).select_from(Device))
        stored = session.scalar(select(func.count()).select_from(Observation))
        unserialed = session.scalar(select(func.count()).select_from(Device).where(Device.serial.is_(None)))
        records = {serial: rest for serial, *rest in session.execute(
            select(Device.serial, Device.id, Device.hostname, Device.device_class, Device.status))}
        interfaces = session.execute(select(Interface.mac, Interface.device_id)).all()
    problems = []
    if devices != len(specs):
        problems.append(f"{devices:,} devices stored, {len(specs):,} described")
    if stored != observation_count:
        problems.append(f"{stored:,} observations stored, {observation_count:,} sent")
    if unserialed:
        problems.append(f"{unserialed:,} devices have no serial (a duplicate created from a MAC or name)")
    if len(interfaces) != len(specs):
        problems.append(f"{len(interfaces):,} interfaces stored, one per device expected ({len(specs):,})")
    owners: dict[str, list[int]] = {}
    for mac, device_id in interfaces:
        owners.setdefault(mac, []).append(device_id)
    for spec in specs:
        problems.extend(_record_problems(spec, records.get(spec.serial), owners.get(spec.mac, [])))
    if problems:
        fail(f"{name}: the merge is wrong", problems)
    say(f"{name}: verified: {devices:,} devices, {stored:,} observations, serial and MAC on one record each")


def _record_problems(spec: DeviceSpec, record: list[Any] | None, mac_owners: list[int]) -> list[str]:
    if record is None:
        return [f"serial {spec.serial} is on no device"]
    device_id, hostname, device_class, status = record
    problems = []
    if mac_owners != [device_id]:
        problems.append(f"MAC {spec.mac} is on device(s) {mac_owners}, serial {spec.serial} on {device_id}")
    if (hostname, device_class, status) != (spec.hostname, spec.model.device_class, spec.status):
        problems.append(f"device {device_id}: {hostname}/{device_class}/{status}, expected "
                        f"{spec.hostname}/{spec.model.device_class}/{spec.status}")
    return problems


def verify_device_count(name: str, sessions: sessionmaker[Session], expected: int) -> None:
    with sessions() as session:
        devices = session.scalar(select(func.count()).select_from(Device))
    if devices != expected:
        fail(f"{name}: after the fill", [f"{devices:,} devices stored, {expected:,} described"])


def issue_read_token(sessions: sessionmaker[Session]) -> str:
    """An API token that may only read, for an auditor: every unit is visible, so totals are the data's."""
    with sessions() as session, session.begin():
        user = create_user(session, "bench", "Benchmark", secrets.token_urlsafe(16), Role.AUDITOR)
        _token, value = create_token(session, user, "bench", {Permission.INVENTORY_READ})
    return value


LIST_KINDS = ("first page", "page 50", "unit", "class=switch", "status=in_use", "vendor=Cisco",
              "q serial", "q hostname", "sort=-last_seen")


def build_requests(specs: Sequence[DeviceSpec], units: Sequence[NewUnit], rng: random.Random) -> list[ListRequest]:
    """Warm-up and measured requests, in a shuffled but fixed mix, with the totals the data imply."""
    total = len(specs)
    per_unit = Counter(s.unit_code for s in specs)
    wards = [u.code for u in units[1:]]

    def request(kind: str) -> ListRequest:
        spec = rng.choice(specs)
        ward = rng.choice(wards)
        return {
            "first page": ListRequest(kind, {}, total),
            "page 50": ListRequest(kind, {"page": 50}, total),
            "unit": ListRequest(kind, {"unit": ward}, per_unit[ward]),  # a ward: its subtree is itself
            "class=switch": ListRequest(kind, {"class": "switch"},
                                        sum(s.model.device_class is DeviceClass.SWITCH for s in specs)),
            "status=in_use": ListRequest(kind, {"status": "in_use"},
                                         sum(s.status is DeviceStatus.IN_USE for s in specs)),
            "vendor=Cisco": ListRequest(kind, {"vendor": "Cisco"}, sum(s.model.vendor == "Cisco" for s in specs)),
            "q serial": ListRequest(kind, {"q": spec.serial[-7:]}, None),
            # "hn-p012-01": a ward's devices whose number starts so, as someone half-remembering a name.
            "q hostname": ListRequest(kind, {"q": spec.hostname.split("-", 1)[1][:-3]}, None),
            "sort=-last_seen": ListRequest(kind, {"sort": "-last_seen"}, total),
        }[kind]

    kinds = [LIST_KINDS[k % len(LIST_KINDS)] for k in range(WARM_UP_REQUESTS + LIST_REQUESTS)]
    rng.shuffle(kinds)
    return [request(kind) for kind in kinds]


# No proxy, whatever the environment says: requests go straight to the loopback server.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def measure_list(name: str, url: str, token: str, requests: Sequence[ListRequest]) -> list[float]:
    """Latency in ms of each measured request against the real app served by waitress."""
    app = application.create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    try:
        with serving(app, threads=4) as base_url:
            base = f"{base_url}/api/devices"
            say(f"{name}: serving on {base}; {WARM_UP_REQUESTS} warm-up requests, then {LIST_REQUESTS}")
            for request in requests[:WARM_UP_REQUESTS]:
                fetch(base, token, request)
            measured = requests[WARM_UP_REQUESTS:]
            started = time.perf_counter()
            latencies_ms = []
            for done, request in enumerate(measured, 1):
                latencies_ms.append(fetch(base, token, request))
                progress(f"{name} list", done, len(measured), started)
    finally:
        app.extensions["engine"].dispose()
    for kind in LIST_KINDS:
        mine = [ms for ms, r in zip(latencies_ms, measured) if r.label == kind]
        say(f"{name}: {kind:>16}: p50 {percentile(mine, 50):6.1f} ms, max {max(mine):6.1f} ms "
            f"({len(mine)} requests)")
    return latencies_ms


def fetch(base: str, token: str, request: ListRequest) -> float:
    """One GET, checked; its latency in ms (request to last byte of the body)."""
    url = f"{base}?{urllib.parse.urlencode(request.params | {'page_size': PAGE_SIZE})}"
    started = time.perf_counter()
    try:
        with OPENER.open(urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"}),
                         timeout=60) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        fail(f"GET {url}", [f"HTTP {error.code}: {error.read()[:500]!r}"])
    elapsed_ms = (time.perf_counter() - started) * 1000
    page = json.loads(body)
    expected_items = max(0, min(PAGE_SIZE, page["total"] - (request.params.get("page", 1) - 1) * PAGE_SIZE))
    problems = []
    if request.expected_total is not None and page["total"] != request.expected_total:
        problems.append(f"total {page['total']:,}, expected {request.expected_total:,}")
    if request.expected_total is None and page["total"] < 1:
        problems.append("no device found, yet the text is part of one")
    if len(page["items"]) != expected_items:
        problems.append(f"{len(page['items'])} items on the page, expected {expected_items}")
    if problems:
        fail(f"GET {url} ({request.label})", problems)
    return elapsed_ms


def report(name: str, observation_count: int, ingest_s: float, p50_ms: float, p95_ms: float) -> None:
    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"
    rate = observation_count / ingest_s
    print(f"{name}: ingest {observation_count:,} observations in {ingest_s:.1f} s ({rate:,.0f}/s); "
          f"target < {TARGET_INGEST_S} s: {verdict(ingest_s < TARGET_INGEST_S)}", flush=True)
    print(f"{name}: GET /api/devices p50 {p50_ms:.1f} ms, p95 {p95_ms:.1f} ms; "
          f"target p95 < {TARGET_LIST_P95_MS} ms: {verdict(p95_ms < TARGET_LIST_P95_MS)}", flush=True)


def print_summary(figures: dict[str, float]) -> None:
    """The figures, the targets, and per database whether each target was met (`<database>_ingest_met=1|0`)."""
    targets = {"target_ingest_s": TARGET_INGEST_S, "target_list_p95_ms": TARGET_LIST_P95_MS}
    databases = [key.removesuffix("_ingest_s") for key in figures if key.endswith("_ingest_s")]
    met = {}
    for name in databases:
        met[f"{name}_ingest_met"] = int(figures[f"{name}_ingest_s"] < TARGET_INGEST_S)
        met[f"{name}_list_p95_met"] = int(figures[f"{name}_list_p95_ms"] < TARGET_LIST_P95_MS)
    print(" ".join(f"{key}={value}" for key, value in (figures | targets | met).items()), flush=True)


if __name__ == "__main__":
    main()
