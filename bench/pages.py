"""Benchmark: server time of the pages people open most, in a city of 300 units and 30,000 devices.

    .venv/bin/python bench/pages.py [--units 300] [--devices 30000] [--db sqlite|postgresql|both] [--repeat 30]

--units    units in the tree (default 300): the city, its agencies (one per 12 units) with three departments
           each, and wards and communes (two to one) for the rest. At least 4.
--devices  devices (default 30,000), spread over the units by headcount. Use e.g. --units 30 --devices 2000
           for a quick run.
--db       sqlite, postgresql or both (default both, in that order). SQLite is a fresh file in a temporary
           directory. PostgreSQL is the server at 127.0.0.1:5432 (trust auth, user `postgres`), in a database
           `readiness_bench_pages` dropped and created afresh; when the server does not answer, the run says
           so, goes on with the next database, and the target counts as not met.
--repeat   measured requests per page (default 30), after 3 warm-ups each.

For each database:
1. Alembic migrations, the units through `create_unit`, then the devices through the one ingestion path
   (`inventory.ingest.ingest`), one batch per unit per round, so that each device has a history: the asset
   register creates it (serial, MAC, class, status, location, price), an SNMP poll adds its firmware and
   its port's name and speed, and for one device in ten a later register changes its status and room
   (96,000 history entries at full size). Checked: one record per device, at least two history entries
   each. About 15 s on 2 cores, either database.
2. An administrator (`create_user`) signs in through the sign-in form (GET /sign-in, its CSRF token,
   POST), then the real app (`create_app`) answers Flask's test client, in this process: the time of each
   `client.get` (no network) is the server time of the page, request to last byte of the body.
   The pages, taken in turn so that none runs on a cache warmed by the one before only:
     tree      GET /units
     unit      GET /units/<code>                 a different unit each time, the city among them
     devices   GET /devices                      the first page of every device
     filtered  GET /devices?unit=<ward or commune>&class=workstation&status=in_use
     search    GET /devices?q=<part of a serial or of a host name>, alternately
     device    GET /devices/<id>                 a different device each time
   Every answer must be 200 (and a unit's or device's page must name it, a search by serial must show
   that device): anything else stops the run with the reason, as an error rather than a figure.

Progress goes to stderr. Stdout has a table per database: p50, p95 and max of the wall time per page (the
figures), and the p50 of this process's CPU time (on a loaded machine, what the page itself costs; with
PostgreSQL the server's own work is not in it), with the load average; the last line has the
figures as key=value pairs: `<db>_<page>_p95_ms` for each page, `<db>_build_s`, then `pages_p95_ms` (the
worst p95 of all), `target_p95_ms` and `pages_p95_met=1|0`. Only loopback is contacted (PostgreSQL). The
data come from a fixed seed: every run sees the same city."""
import argparse
import datetime as dt
import html
import itertools
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# Run as `python bench/pages.py`: the project is not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from accounts.models import Role  # noqa: E402
from accounts.services import create_user  # noqa: E402
from app import create_app  # noqa: E402
from core.db import make_engine, make_session_factory, migrate  # noqa: E402
from core.encryption import new_key  # noqa: E402
from inventory.ingest import IngestBatch, ingest  # noqa: E402
from inventory.models import Device, DeviceEvent, DeviceStatus, UnitKind  # noqa: E402
from inventory.observations import ObservedDevice, ObservedInterface  # noqa: E402
from inventory.units import NewUnit, create_unit  # noqa: E402
from tests.fleet import (DeviceSpec, drop_database, fail, percentile, pick_models, prepare_database,  # noqa: E402
                         progress, say)

SEED = 20251205
START = dt.datetime(2025, 6, 2, 1, 0)  # naive UTC, as stored
TARGET_P95_MS = 200
WARM_UPS = 3
CHANGED_SHARE = 0.1  # devices whose status and room a later register changes
PASSWORD = "bench pages password"  # a throw-away account in a throw-away database

DATABASE = "readiness_bench_pages"  # its own: bench/ingest.py may run beside it
# Batches ingested at a time: SQLite has one writer; PostgreSQL writes different units' batches side by side.
WORKERS = {"sqlite": 1, "postgresql": 3}
PAGES = ("tree", "unit", "devices", "filtered", "search", "device")
PAGE_PATHS = {"tree": "/units", "unit": "/units/<code>", "devices": "/devices",
              "filtered": "/devices?unit=<ward>&class=workstation&status=in_use",
              "search": "/devices?q=<part>", "device": "/devices/<id>"}
AGENCIES = ("Nội vụ", "Tài chính", "Kế hoạch và Đầu tư", "Tư pháp", "Xây dựng", "Giao thông vận tải",
            "Giáo dục và Đào tạo", "Y tế", "Văn hóa và Thể thao", "Tài nguyên và Môi trường",
            "Khoa học và Công nghệ", "Thông tin và Truyền thông", "Công Thương", "Lao động - Thương binh và Xã hội")
DEPARTMENTS = ("Văn phòng", "Phòng Tổ chức cán bộ", "Thanh tra", "Phòng Kế hoạch - Tài chính")
# The models of the estate (tests/fleet.py) and their shares of it, in the order they are drawn in.
ESTATE = {"OptiPlex 7010": 30, "ProDesk 400 G9": 15, "ThinkPad E14 Gen 5": 10, "LaserJet Pro M404dn": 9,
          "C9200L-24P-4G": 6, "ISR4331": 2, "U6-Lite": 5, "Smart-UPS SMT1500IC": 5, "DS-2CD1043G2-I": 8,
          "SIP-T46U": 7, "PowerEdge R750": 3}


@dataclass(frozen=True)
class City:
    units: list[tuple[NewUnit, str | None]]  # each with its parent's code, parents first
    devices: list[DeviceSpec]

    @property
    def local_units(self) -> list[str]:
        """Wards and communes: the units the filtered list is asked about."""
        return [u.code for u, _parent in self.units if u.kind in (UnitKind.WARD, UnitKind.COMMUNE)]


@dataclass(frozen=True)
class Timing:
    wall_ms: float  # the figure: what a user waits for, on this machine as loaded as it is
    cpu_ms: float   # this process's CPU (SQLite: nearly all of it; PostgreSQL's own work is not in it)


@dataclass(frozen=True)
class Request:
    page: str
    url: str
    expect: str | None  # text the page must hold (already HTML-escaped), or None


def main() -> None:
    args = parse_args()
    say(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at start")
    city = plan_city(args.units, args.devices, random.Random(SEED))
    figures: dict[str, float] = {}
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="readiness-bench-pages-") as scratch:
        for name in args.databases:
            url, reason = prepare_database(name, Path(scratch), DATABASE)
            if reason:
                say(f"{name}: skipped: {reason}")
                print(f"{name}: SKIPPED ({reason})", flush=True)
                skipped.append(name)
                continue
            figures |= run_database(name, url, city, args.repeat)
    print_summary(figures, skipped)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--devices", type=int, default=30_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    if args.units < 4:
        parser.error("--units must be at least 4 (a city, an agency, a department and a ward)")
    if args.devices < args.units:
        parser.error("--devices must be at least --units")
    if args.repeat < 2:
        parser.error("--repeat must be at least 2")
    args.databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    return args


def plan_city(unit_count: int, device_count: int, rng: random.Random) -> City:
    """The city, its agencies with their departments, and wards and communes; devices by headcount."""
    agency_count = max(1, unit_count // 12)
    department_count = min(3 * agency_count, unit_count - 2 - agency_count)
    local_count = unit_count - 1 - agency_count - department_count
    units: list[tuple[NewUnit, str | None]] = [(NewUnit("HN", "Thành phố (benchmark)", UnitKind.CITY, 150), None)]
    for k in range(agency_count):
        name = f"Sở {AGENCIES[k % len(AGENCIES)]}" + (f" {k // len(AGENCIES) + 1}" if k >= len(AGENCIES) else "")
        units.append((NewUnit(f"HN-S{k + 1:02d}", name, UnitKind.AGENCY, rng.randint(40, 120)), "HN"))
    for k in range(department_count):
        agency = units[1 + k % agency_count][0]
        name = f"{DEPARTMENTS[k // agency_count % len(DEPARTMENTS)]}, {agency.name}"
        units.append((NewUnit(f"{agency.code}-D{k // agency_count + 1}", name, UnitKind.DEPARTMENT,
                              rng.randint(8, 30)), agency.code))
    for k in range(local_count):
        # Two wards for each commune, as in an urban district.
        ward = k % 3 != 2
        code, name = (f"HN-P{k + 1:03d}", f"Phường {k + 1}") if ward else (f"HN-X{k + 1:03d}", f"Xã {k + 1}")
        units.append((NewUnit(code, name, UnitKind.WARD if ward else UnitKind.COMMUNE, rng.randint(15, 60)), "HN"))
    codes = rng.choices([u.code for u, _ in units], weights=[u.staff_count for u, _ in units], k=device_count)
    models = pick_models(rng, ESTATE, device_count)
    devices = [DeviceSpec(n=k, unit_code=codes[k], model=models[k],
                          status=DeviceStatus.SPARE if rng.random() < 0.08 else DeviceStatus.IN_USE,
                          room=100 + rng.randrange(40),
                          purchase_date=dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(3650)),
                          price_vnd=round(models[k].price_vnd * rng.uniform(0.9, 1.1), -3))
               for k in range(device_count)]
    return City(units, devices)


def run_database(name: str, url: str, city: City, repeat: int) -> dict[str, float]:
    say(f"{name}: {url}")
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    started = time.perf_counter()
    build_city(name, sessions, city)
    build_s = time.perf_counter() - started
    device_ids = verify_city(name, sessions, city)
    with sessions() as session, session.begin():
        create_user(session, "bench-admin", "Benchmark", PASSWORD, Role.ADMIN)
    if name == "postgresql":  # planner statistics, as autovacuum gathers them after a load this size;
        # SQLite keeps none unless told (the app never runs ANALYZE there): its pages are timed without
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    engine.dispose()  # the app opens its own
    say(f"{name}: built in {build_s:.1f} s; load average now {os.getloadavg()[0]:.1f}")

    requests = plan_requests(city, device_ids, repeat, random.Random(SEED + 1))
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "SECRETS_KEYS": new_key()})
    try:
        client = signed_in_client(app)
        timings = measure(name, client, requests)
    finally:
        app.extensions["engine"].dispose()
    drop_database(name, DATABASE)
    return report(name, city, build_s, timings)


def build_city(name: str, sessions: sessionmaker[Session], city: City) -> None:
    with sessions() as session, session.begin():
        for unit, parent_code in city.units:
            create_unit(session, unit, parent_code=parent_code)
    clock = itertools.count()  # one second per observation: time only moves forward
    rounds = plan_rounds(city, clock)
    observations = sum(len(b.observations) for batches in rounds for b in batches)
    say(f"{name}: {len(city.units):,} units; ingesting {observations:,} observations of {len(city.devices):,} "
        f"devices in {sum(map(len, rounds)):,} batches, {WORKERS[name]} at a time")

    def ingest_one(batch: IngestBatch) -> None:
        with sessions() as session, session.begin():
            ingest(session, batch)

    total, done, started = sum(map(len, rounds)), 0, time.perf_counter()
    with ThreadPoolExecutor(WORKERS[name], thread_name_prefix="ingest") as pool:
        for batches in rounds:  # a round ends before the next begins: the register precedes the poll
            for _ in (pool.map if WORKERS[name] > 1 else map)(ingest_one, batches):
                done += 1
                progress(f"{name} build", done, total, started)


def plan_rounds(city: City, clock: Iterator[int]) -> list[list[IngestBatch]]:
    """The register creates every device, SNMP polls change them, a later register changes a tenth:
    one batch per unit per round, as each unit's imports and scans arrive."""
    by_unit: dict[str, list[DeviceSpec]] = {}
    for spec in city.devices:
        by_unit.setdefault(spec.unit_code, []).append(spec)
    changed = {spec.n for spec in random.Random(SEED + 2).sample(city.devices,
                                                                   round(len(city.devices) * CHANGED_SHARE))}
    rounds = []
    for observe, wanted in ((register_observation, None), (snmp_observation, None),
                            (later_register_observation, changed)):
        batches = []
        for code, specs in by_unit.items():
            chosen = [s for s in specs if wanted is None or s.n in wanted]
            if chosen:
                at = [START + dt.timedelta(seconds=next(clock)) for _ in chosen]
                batches.append(IngestBatch([observe(s, t) for s, t in zip(chosen, at)]))
        rounds.append(batches)
    return rounds


def register_observation(spec: DeviceSpec, at: dt.datetime) -> ObservedDevice:
    # The asset register: every column, the MAC included.
    model = spec.model
    return ObservedDevice(method="import", observed_at=at, unit_code=spec.unit_code,
                          source=f"register-{spec.unit_code}.xlsx row {spec.n % 1000 + 2}",
                          fields={"serial": spec.serial, "vendor": model.vendor, "model": model.name,
                                  "hostname": spec.hostname, "device_class": model.device_class.value,
                                  "location": f"{spec.unit_code}, phòng {spec.room}",
                                  "purchase_price_vnd": spec.price_vnd,
                                  "purchase_date": spec.purchase_date.isoformat(), "status": spec.status.value},
                          interfaces=(ObservedInterface(mac=spec.mac, ips=(spec.ip(),)),))


def snmp_observation(spec: DeviceSpec, at: dt.datetime) -> ObservedDevice:
    # What the device says of itself: the firmware, and its port's name and speed.
    model = spec.model
    return ObservedDevice(method="snmp", observed_at=at, unit_code=spec.unit_code, source=f"snmp {spec.ip()}",
                          fields={"serial": spec.serial.lower(), "vendor": model.vendor, "model": model.name,
                                  "firmware": model.firmware, "hostname": spec.hostname.upper()},
                          interfaces=(ObservedInterface(name=model.port, mac=spec.mac.replace(":", "-"),
                                                        ips=(spec.ip(),), speed_mbps=1000),),
                          raw={"sysDescr": f"{model.vendor} {model.name}, {model.firmware}"})


def later_register_observation(spec: DeviceSpec, at: dt.datetime) -> ObservedDevice:
    # The next year's register: the device broke or went back into use, in another room.
    status = DeviceStatus.BROKEN if spec.status is DeviceStatus.IN_USE else DeviceStatus.IN_USE
    return ObservedDevice(method="import", observed_at=at, unit_code=spec.unit_code,
                          source=f"register-{spec.unit_code}-2026.xlsx row {spec.n % 1000 + 2}",
                          fields={"serial": spec.serial, "status": status.value,
                                  "location": f"{spec.unit_code}, phòng {spec.room + 100}"})


def verify_city(name: str, sessions: sessionmaker[Session], city: City) -> dict[str, int]:
    """One record per device, each with a history of at least two entries; the ids by serial."""
    with sessions() as session:
        ids = dict(session.execute(select(Device.serial, Device.id)).all())
        events = session.scalar(select(func.count()).select_from(DeviceEvent))
        short = session.scalar(select(func.count()).select_from(
            select(Device.id).outerjoin(DeviceEvent, DeviceEvent.device_id == Device.id)
            .group_by(Device.id).having(func.count(DeviceEvent.id) < 2).subquery()))
    problems = []
    if len(ids) != len(city.devices):
        problems.append(f"{len(ids):,} devices stored, {len(city.devices):,} described")
    unknown = sum(spec.serial not in ids for spec in city.devices)
    if unknown:
        problems.append(f"{unknown:,} described serials are on no device")
    if short:
        problems.append(f"{short:,} devices have fewer than two history entries")
    if problems:
        fail(f"{name}: the city is wrong", problems)
    say(f"{name}: verified: {len(ids):,} devices, {events:,} history entries")
    return ids


def plan_requests(city: City, device_ids: dict[str, int], repeat: int, rng: random.Random) -> list[Request]:
    """Warm-ups then measured requests, page after page in turn; units and devices differ each time."""
    count = WARM_UPS + repeat
    units = [u for u, _parent in city.units]
    # Others at random, and the city's page (the largest subtree) as the first one measured.
    unit_picks = sample_cycled(rng, units[1:], count - 1)
    unit_picks.insert(WARM_UPS, units[0])
    locals_ = sample_cycled(rng, city.local_units, count)
    devices = sample_cycled(rng, city.devices, 2 * count)
    searched, shown = devices[:count], devices[count:]
    requests = []
    for k in range(count):
        spec = searched[k]
        if k % 2 == 0:  # "0012345": what is legible on a worn label; the device itself must be listed
            search = Request("search", f"/devices?q={spec.serial[-7:]}", spec.serial)
        else:  # "hn-p012-00": a unit's devices whose number starts so, as someone half-remembering a name
            search = Request("search", f"/devices?q={spec.hostname.split('-', 1)[1][:-3]}", None)
        requests += [
            Request("tree", "/units", None),
            Request("unit", f"/units/{unit_picks[k].code}", html.escape(unit_picks[k].name)),
            Request("devices", "/devices", None),
            Request("filtered", f"/devices?unit={locals_[k]}&class=workstation&status=in_use", None),
            search,
            Request("device", f"/devices/{device_ids[shown[k].serial]}", shown[k].serial),
        ]
    return requests


def sample_cycled(rng: random.Random, population: Sequence, count: int) -> list:
    """`count` picks without repeats until the population runs out, then again."""
    picks: list = []
    while len(picks) < count:
        picks += rng.sample(list(population), min(len(population), count - len(picks)))
    return picks


def signed_in_client(app: Flask) -> FlaskClient:
    """A test client holding an administrator's session cookie, signed in through the form."""
    client = app.test_client()
    form = client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.get_data(as_text=True))
    if form.status_code != 200 or token is None:
        fail("GET /sign-in", [f"HTTP {form.status_code}, CSRF token {'found' if token else 'missing'}"])
    answer = client.post("/sign-in", data={"csrf_token": token.group(1), "username": "bench-admin",
                                           "password": PASSWORD})
    if answer.status_code != 302:
        fail("POST /sign-in", [f"HTTP {answer.status_code}: {answer.get_data(as_text=True)[:300]!r}"])
    return client


def measure(name: str, client: FlaskClient, requests: Sequence[Request]) -> dict[str, list[Timing]]:
    """Wall and CPU time of each measured request, by page; an answer other than 200 stops the run."""
    timings: dict[str, list[Timing]] = {page: [] for page in PAGES}
    warm_ups = WARM_UPS * len(PAGES)
    started = time.perf_counter()
    for done, request in enumerate(requests, 1):
        begun, cpu_begun = time.perf_counter(), time.process_time()
        answer = client.get(request.url)
        body = answer.get_data(as_text=True)  # read to the last byte, as a browser would
        timing = Timing((time.perf_counter() - begun) * 1000, (time.process_time() - cpu_begun) * 1000)
        if answer.status_code != 200:
            fail(f"{name}: GET {request.url}", [f"HTTP {answer.status_code}: {page_text(body)[:300]!r}"])
        if request.expect is not None and request.expect not in body:
            fail(f"{name}: GET {request.url}", [f"the page does not show {request.expect!r}"])
        if done > warm_ups:
            timings[request.page].append(timing)
        progress(f"{name} pages", done, len(requests), started)
    return timings


def page_text(body: str) -> str:
    """A refusal's words without the markup around them."""
    return " ".join(re.sub(r"<[^>]+>", " ", body.split("<main", 1)[-1]).split())


def report(name: str, city: City, build_s: float, timings: dict[str, list[Timing]]) -> dict[str, float]:
    """The database's table on stdout; its figures for the last line."""
    print(f"{name}: {len(city.units):,} units, {len(city.devices):,} devices, built in {build_s:.1f} s; "
          f"{len(timings['tree'])} requests per page; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs", flush=True)
    print(f"{name}: {'page':<9} {'request':<56} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'CPU p50':>8}",
          flush=True)
    figures: dict[str, float] = {}
    for page in PAGES:
        wall = [t.wall_ms for t in timings[page]]
        p50, p95 = percentile(wall, 50), percentile(wall, 95)
        cpu_p50 = percentile([t.cpu_ms for t in timings[page]], 50)
        print(f"{name}: {page:<9} GET {PAGE_PATHS[page]:<52} {p50:7.1f} {p95:7.1f} {max(wall):7.1f} "
              f"{cpu_p50:8.1f}", flush=True)
        figures[f"{name}_{page}_p95_ms"] = round(p95, 1)
    figures[f"{name}_build_s"] = round(build_s, 1)
    return figures


def print_summary(figures: dict[str, float], skipped: Sequence[str]) -> None:
    """The figures, the worst p95, the target and whether it was met on every database asked for."""
    p95s = [value for key, value in figures.items() if key.endswith("_p95_ms")]
    worst = max(p95s) if p95s else float("nan")
    met = bool(p95s) and not skipped and worst < TARGET_P95_MS
    line = figures | {f"{name}_skipped": 1 for name in skipped} | {
        "pages_p95_ms": round(worst, 1), "target_p95_ms": TARGET_P95_MS, "pages_p95_met": int(met)}
    print(" ".join(f"{key}={value}" for key, value in line.items()), flush=True)


if __name__ == "__main__":
    main()
