"""Benchmark: server time of the pages people open most, and of the dashboards, in a city of 300 units and
30,000 devices; and of the overview dashboard in a nation of 3,500 units and 500,000 devices.

    .venv/bin/python bench/pages.py [--units 300] [--devices 30000] [--db sqlite|postgresql|both] [--repeat 30]
                                    [--scale city|nation|both] [--nation-units 3500] [--nation-devices 500000]
                                    [--profile PREFIX]

--units    units in the tree (default 300): the city, its agencies (one per 12 units) with three departments
           each, and wards and communes (two to one) for the rest. At least 4.
--devices  devices (default 30,000), spread over the units by headcount. Use e.g. --units 30 --devices 2000
           for a quick run.
--db       sqlite, postgresql or both (default both, in that order). SQLite is a fresh file in a temporary
           directory. PostgreSQL is the server at 127.0.0.1:5432 (trust auth, user `postgres`), in a database
           `readiness_bench_pages` dropped and created afresh; when the server does not answer, the run says
           so, goes on with the next database, and the target counts as not met.
--repeat   measured requests per page (default 30), after 3 warm-ups each.
--scale    city (default), nation or both. The nation runs on PostgreSQL only, whatever --db says.
--nation-units, --nation-devices
           the nation's size (default 3,500 and 500,000): its root (VN), 34 provinces below it, and below each
           province a tree like the city's (agencies, departments, wards and communes). Ingesting half a
           million devices takes long (its progress is shown): a smaller nation is a quicker run, and its target
           then counts as not met.
--profile  after the timed requests, profile the dashboards (5 more requests each, not counted) and write one
           cProfile (pstats) file per database and view: PREFIX-<db>-dashboard_<view>.prof.

For each database:
1. Alembic migrations, the units through `create_unit`, then the devices through the one ingestion path
   (`inventory.ingest.ingest`), one batch per unit per round, so that each device has a history: the asset
   register creates it (serial, MAC, class, status, location, price), an SNMP poll adds its firmware and
   its port's name and speed, and for one device in ten a later register changes its status and room
   (96,000 history entries at full size). Checked: one record per device, at least two history entries
   each. About 15 s on 2 cores, either database.
2. What the dashboards read (tests/dashboard_fleet.py): the units' facts (`update_unit`, drawn as
   bench/budget.py draws them), the example catalog loaded and published (`load_example_catalog`: every
   device judged), readiness and gaps recorded for today (`budget.scores.record_day`), then the 364 days
   before today WRITTEN DIRECTLY into `readiness_score` (and `headline_figure`) as a fixture: each unit's
   numbers of today with a drift, so that readiness climbs over the year; and the root's targeted plan
   (under three yearly caps) and blanket plan (older than 5 years) saved through `budget.scenarios.save`.
   About 8 s (SQLite) to 12 s (PostgreSQL) for the city. On PostgreSQL, ANALYZE after. The pages of step 3
   are timed on this database too (a unit's page shows its recorded readiness).
3. An administrator (`create_user`) signs in through the sign-in form (GET /sign-in, its CSRF token,
   POST), then the real app (`create_app`) answers Flask's test client, in this process: the time of each
   `client.get` (no network) is the server time of the page, request to last byte of the body.
   The pages, taken in turn so that none runs on a cache warmed by the one before only:
     tree      GET /units
     unit      GET /units/<code>                 a different unit each time, the city among them
     devices   GET /devices                      the first page of every device
     filtered  GET /devices?unit=<ward or commune>&class=workstation&status=in_use
     search    GET /devices?q=<part of a serial or of a host name>, alternately
     device    GET /devices/<id>                 a different device each time
   Then the dashboards, in turn likewise:
     overview  GET /dashboards
     unit      GET /dashboards/units/<code>      a different unit each time (wards, agencies, the city)
     finance   GET /dashboards/finance
     csv       GET /dashboards/figures/gap-heatmap.csv   the table behind one figure
   Every answer must be 200 (and a unit's or device's page must name it, a search by serial must show
   that device; a dashboard must name its unit, the CSV's file name its root's code): anything else stops
   the run with the reason, as an error rather than a figure.
The nation (PostgreSQL only): the same steps, with only the register and SNMP rounds of step 1 (no later
register: half a million devices), and only the overview timed. About 6 min to build and 3 min for the
dashboards' data on 2 cores (1,274,000 daily scores), then some 5 s per overview: 11 min with --repeat 10.

Progress goes to stderr. Stdout has a table per database: p50, p95 and max of the wall time per page (the
figures), and the p50 of this process's CPU time (on a loaded machine, what the page itself costs; with
PostgreSQL the server's own work is not in it), with the load average; the last line has the
figures as key=value pairs: `<db>_<page>_p95_ms` for each page, `<db>_build_s`, then `pages_p95_ms` (the
worst p95 of all), `target_p95_ms` and `pages_p95_met=1|0`; then `<db>_dashboard_<view>_p95_ms` for each
dashboard, `<db>_dashboard_data_s` (step 2), `dashboard_p95_ms` (the worst), `target_dashboard_p95_ms`
(300) and `dashboard_p95_met=1|0` (met only at the full city's size, on every database asked for). The
nation adds `nation_units`, `nation_devices`, `nation_build_s`, `nation_dashboard_data_s`,
`nation_dashboard_overview_p95_ms`, `target_nation_overview_ms` (2000) and `nation_overview_met=1|0` (met
only at the full nation's size). Only loopback is contacted (PostgreSQL). The
data come from a fixed seed: every run sees the same city."""
import argparse
import cProfile
import datetime as dt
import gc
import html
import itertools
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
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
from app import create_app, settle_for_serving  # noqa: E402
from tests import dashboard_fleet as dashboard_data  # noqa: E402
from core.db import make_engine, make_session_factory, migrate  # noqa: E402
from core.encryption import new_key  # noqa: E402
from inventory.ingest import IngestBatch, ingest  # noqa: E402
from inventory.models import Device, DeviceEvent, DeviceStatus, UnitKind  # noqa: E402
from inventory.observations import ObservedDevice, ObservedInterface  # noqa: E402
from inventory.units import NewUnit, create_unit  # noqa: E402
from tests.fleet import (  # noqa: E402
    DeviceSpec,
    drop_database,
    fail,
    percentile,
    pick_models,
    prepare_database,
    progress,
    say,
)

SEED = 20251205
START = dt.datetime(2025, 6, 2, 1, 0)  # naive UTC, as stored
TARGET_P95_MS = 200
TARGET_DASHBOARD_P95_MS = 300
TARGET_NATION_OVERVIEW_MS = 2000
FULL_CITY = (300, 30_000)  # units, devices: the size the dashboards' target is for
FULL_NATION = (3_500, 500_000)
PROVINCES = 34  # the nation's provinces and cities (from July 2025), as bench/budget.py
PROFILED = 5  # profiled requests per dashboard, after the timed ones
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
DASHBOARDS = ("overview", "unit", "finance", "csv")
DASHBOARD_PATHS = {"overview": "/dashboards", "unit": "/dashboards/units/<code>", "finance": "/dashboards/finance",
                   "csv": "/dashboards/figures/gap-heatmap.csv"}
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
    name: str = "city"  # or nation

    @property
    def root(self) -> NewUnit:
        return self.units[0][0]

    @property
    def local_units(self) -> list[str]:
        """Wards and communes: the units the filtered list is asked about."""
        return [u.code for u, _parent in self.units if u.kind in (UnitKind.WARD, UnitKind.COMMUNE)]


# One unit's batch of a round, observed when it is ingested: how to observe a device, and which devices when.
PlannedBatch = tuple[Callable[[DeviceSpec, dt.datetime], ObservedDevice], list[tuple[DeviceSpec, dt.datetime]]]


@dataclass(frozen=True)
class Timing:
    wall_ms: float  # the figure: what a user waits for, on this machine as loaded as it is
    cpu_ms: float   # this process's CPU (SQLite: nearly all of it; PostgreSQL's own work is not in it)


@dataclass(frozen=True)
class Request:
    page: str
    url: str
    expect: str | None  # text the page must hold (already HTML-escaped), or None
    attachment: str | None = None  # the file name a download must be offered as, or None


def main() -> None:
    args = parse_args()
    say(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at start")
    figures: dict[str, float] = {}
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="readiness-bench-pages-") as scratch:
        if "city" in args.scales:
            city = plan_city(args.units, args.devices, random.Random(SEED))
            for name in args.databases:
                url, reason = prepare_database(name, Path(scratch), DATABASE)
                if reason:
                    say(f"{name}: skipped: {reason}")
                    print(f"{name}: SKIPPED ({reason})", flush=True)
                    skipped.append(name)
                    continue
                figures |= run_database(name, url, city, args.repeat, args.profile)
        if "nation" in args.scales:
            nation = plan_nation(args.nation_units, args.nation_devices, random.Random(SEED))
            url, reason = prepare_database("postgresql", Path(scratch), DATABASE)
            if reason:
                say(f"nation: skipped: {reason}")
                print(f"postgresql nation: SKIPPED ({reason})", flush=True)
                skipped.append("nation")
            else:
                figures |= run_nation(url, nation, args.repeat, args.profile)
    print_summary(args, figures, skipped)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--devices", type=int, default=30_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--scale", choices=("city", "nation", "both"), default="city")
    parser.add_argument("--nation-units", type=int, default=FULL_NATION[0])
    parser.add_argument("--nation-devices", type=int, default=FULL_NATION[1])
    parser.add_argument("--profile", help="profile the dashboards after the timed requests: files PREFIX-*.prof")
    args = parser.parse_args()
    if args.units < 4:
        parser.error("--units must be at least 4 (a city, an agency, a department and a ward)")
    if args.devices < args.units:
        parser.error("--devices must be at least --units")
    if args.nation_units < 1 + 4 * PROVINCES:
        parser.error(f"--nation-units must be at least {1 + 4 * PROVINCES} (a root and 4 units per province)")
    if args.nation_devices < args.nation_units:
        parser.error("--nation-devices must be at least --nation-units")
    if args.repeat < 2:
        parser.error("--repeat must be at least 2")
    args.databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    args.scales = ["city", "nation"] if args.scale == "both" else [args.scale]
    return args


def plan_city(unit_count: int, device_count: int, rng: random.Random) -> City:
    """The city, its agencies with their departments, and wards and communes; devices by headcount."""
    units = plan_units(NewUnit("HN", "Thành phố (benchmark)", UnitKind.CITY, 150), None, unit_count, rng)
    return City(units, plan_devices(units, device_count, rng))


def plan_nation(unit_count: int, device_count: int, rng: random.Random) -> City:
    """The nation's root, its provinces, and below each a tree like the city's; devices by headcount."""
    units: list[tuple[NewUnit, str | None]] = [(NewUnit("VN", "Quốc gia (benchmark)", UnitKind.OTHER, 200), None)]
    for k in range(PROVINCES):  # each province and its tree: the units left, shared out
        count = (unit_count - 1) // PROVINCES + (k < (unit_count - 1) % PROVINCES)
        province = NewUnit(f"T{k + 1:02d}", f"Tỉnh {k + 1} (benchmark)", UnitKind.CITY, rng.randint(80, 200))
        units += plan_units(province, "VN", count, rng, suffix=f" (T{k + 1:02d})")
    return City(units, plan_devices(units, device_count, rng), "nation")


def plan_units(root: NewUnit, parent: str | None, unit_count: int, rng: random.Random, suffix: str = ""
               ) -> list[tuple[NewUnit, str | None]]:
    """`root` and below it its agencies with their departments, and wards and communes: `unit_count` units in
    all, each with its parent's code; `suffix` after each name below the root (the nation's province)."""
    agency_count = max(1, unit_count // 12)
    department_count = min(3 * agency_count, unit_count - 2 - agency_count)
    local_count = unit_count - 1 - agency_count - department_count
    top = root.code
    units: list[tuple[NewUnit, str | None]] = [(root, parent)]
    for k in range(agency_count):
        name = f"Sở {AGENCIES[k % len(AGENCIES)]}" + (f" {k // len(AGENCIES) + 1}" if k >= len(AGENCIES) else "")
        units.append((NewUnit(f"{top}-S{k + 1:02d}", name + suffix, UnitKind.AGENCY, rng.randint(40, 120)), top))
    for k in range(department_count):
        agency = units[1 + k % agency_count][0]
        name = f"{DEPARTMENTS[k // agency_count % len(DEPARTMENTS)]}, {agency.name}"
        units.append((NewUnit(f"{agency.code}-D{k // agency_count + 1}", name, UnitKind.DEPARTMENT,
                              rng.randint(8, 30)), agency.code))
    for k in range(local_count):
        # Two wards for each commune, as in an urban district.
        ward = k % 3 != 2
        code, name = (f"{top}-P{k + 1:03d}", f"Phường {k + 1}") if ward else (f"{top}-X{k + 1:03d}", f"Xã {k + 1}")
        units.append((NewUnit(code, name + suffix, UnitKind.WARD if ward else UnitKind.COMMUNE,
                              rng.randint(15, 60)), top))
    return units


def plan_devices(units: Sequence[tuple[NewUnit, str | None]], device_count: int, rng: random.Random
                 ) -> list[DeviceSpec]:
    """`device_count` devices over the units by headcount, in the estate's shares."""
    codes = rng.choices([u.code for u, _ in units], weights=[u.staff_count for u, _ in units], k=device_count)
    models = pick_models(rng, ESTATE, device_count)
    devices = [DeviceSpec(n=k, unit_code=codes[k], model=models[k],
                          status=DeviceStatus.SPARE if rng.random() < 0.08 else DeviceStatus.IN_USE,
                          room=100 + rng.randrange(40),
                          purchase_date=dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(3650)),
                          price_vnd=round(models[k].price_vnd * rng.uniform(0.9, 1.1), -3))
               for k in range(device_count)]
    return devices


def run_database(name: str, url: str, city: City, repeat: int, profile: str | None) -> dict[str, float]:
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
    started = time.perf_counter()
    made = dashboard_data.prepare(name, sessions, [u for u, _parent in city.units], random.Random(SEED + 3))
    data_s = time.perf_counter() - started
    analyze(name, engine)
    engine.dispose()  # the app opens its own
    say(f"{name}: built in {build_s:.1f} s, the dashboards' data in {data_s:.1f} s; "
        f"load average now {os.getloadavg()[0]:.1f}")

    requests = plan_requests(city, device_ids, repeat, random.Random(SEED + 1))
    dashboards = plan_dashboard_requests(city, repeat, random.Random(SEED + 4))
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "SECRETS_KEYS": new_key()})
    settle_for_serving()  # as python app.py does before it serves
    try:
        client = signed_in_client(app)
        timings = measure(f"{name} pages", client, requests, PAGES)
        dashboard_timings = measure(f"{name} dashboards", client, dashboards, DASHBOARDS)
        if profile:
            profile_requests(f"{profile}-{name}", client, dashboards, DASHBOARDS)
    finally:
        app.extensions["engine"].dispose()
    drop_database(name, DATABASE)
    figures = report(name, city, build_s, timings)
    print(f"{name}: dashboards' data in {data_s:.1f} s: {made}", flush=True)
    figures |= table(name, DASHBOARDS, DASHBOARD_PATHS, dashboard_timings, "dashboard_")
    return figures | {f"{name}_dashboard_data_s": round(data_s, 1)}


def run_nation(url: str, nation: City, repeat: int, profile: str | None) -> dict[str, float]:
    """The nation on PostgreSQL: built as the city is (without the later register), its overview timed."""
    name, label = "postgresql", "postgresql nation"
    say(f"{label}: {url}")
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    started = time.perf_counter()
    build_city(name, sessions, nation)
    build_s = time.perf_counter() - started
    verify_city(label, sessions, nation)
    device_count = len(nation.devices)
    nation.devices.clear()  # released before the measures, as bench/budget.py does: a server holds none of them
    gc.collect()
    with sessions() as session, session.begin():
        create_user(session, "bench-admin", "Benchmark", PASSWORD, Role.ADMIN)
    started = time.perf_counter()
    made = dashboard_data.prepare(label, sessions, [u for u, _parent in nation.units], random.Random(SEED + 3))
    data_s = time.perf_counter() - started
    analyze(name, engine)
    engine.dispose()
    say(f"{label}: built in {build_s:.1f} s, the dashboards' data in {data_s:.1f} s; "
        f"load average now {os.getloadavg()[0]:.1f}")

    overview = Request("overview", DASHBOARD_PATHS["overview"], html.escape(nation.root.name))
    requests = [overview] * (WARM_UPS + repeat)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "SECRETS_KEYS": new_key()})
    settle_for_serving()  # as python app.py does before it serves
    try:
        client = signed_in_client(app)
        timings = measure(f"{label} dashboards", client, requests, ("overview",))
        if profile:
            profile_requests(f"{profile}-nation", client, requests, ("overview",))
    finally:
        app.extensions["engine"].dispose()
    drop_database(name, DATABASE)
    print(f"{label}: {len(nation.units):,} units, {device_count:,} devices, built in {build_s:.1f} s, "
          f"the dashboards' data in {data_s:.1f} s: {made}", flush=True)
    figures = table(label, ("overview",), DASHBOARD_PATHS, timings, "dashboard_")
    return {"nation_units": len(nation.units), "nation_devices": device_count, "nation_build_s": round(build_s, 1),
            "nation_dashboard_data_s": round(data_s, 1),
            "nation_dashboard_overview_p95_ms": figures["postgresql_nation_dashboard_overview_p95_ms"]}


def analyze(name: str, engine) -> None:
    if name == "postgresql":  # planner statistics, as autovacuum gathers them after a load this size;
        # SQLite keeps none unless told (the app never runs ANALYZE there): its pages are timed without
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))


def build_city(name: str, sessions: sessionmaker[Session], city: City) -> None:
    label = name if city.name == "city" else f"{name} {city.name}"
    with sessions() as session, session.begin():
        for unit, parent_code in city.units:
            create_unit(session, unit, parent_code=parent_code)
    clock = itertools.count()  # one second per observation: time only moves forward
    rounds = plan_rounds(city, clock)
    observations = sum(len(chosen) for batches in rounds for _observe, chosen in batches)
    say(f"{label}: {len(city.units):,} units; ingesting {observations:,} observations of {len(city.devices):,} "
        f"devices in {sum(map(len, rounds)):,} batches, {WORKERS[name]} at a time")

    def ingest_one(planned: PlannedBatch) -> None:
        observe, chosen = planned  # observed only now: half a million at once would not fit as well
        batch = IngestBatch([observe(spec, at) for spec, at in chosen])
        with sessions() as session, session.begin():
            ingest(session, batch)

    total, done, started = sum(map(len, rounds)), 0, time.perf_counter()
    with ThreadPoolExecutor(WORKERS[name], thread_name_prefix="ingest") as pool:
        for batches in rounds:  # a round ends before the next begins: the register precedes the poll
            for _ in (pool.map if WORKERS[name] > 1 else map)(ingest_one, batches):
                done += 1
                progress(f"{label} build", done, total, started)


def plan_rounds(city: City, clock: Iterator[int]) -> list[list[PlannedBatch]]:
    """The register creates every device, SNMP polls change them, a later register changes a tenth (not in the
    nation): one batch per unit per round, as each unit's imports and scans arrive."""
    by_unit: dict[str, list[DeviceSpec]] = {}
    for spec in city.devices:
        by_unit.setdefault(spec.unit_code, []).append(spec)
    changed = {spec.n for spec in random.Random(SEED + 2).sample(city.devices,
                                                                   round(len(city.devices) * CHANGED_SHARE))}
    kinds = [(register_observation, None), (snmp_observation, None), (later_register_observation, changed)]
    rounds = []
    for observe, wanted in kinds if city.name == "city" else kinds[:2]:
        batches = []
        for code, specs in by_unit.items():
            chosen = [s for s in specs if wanted is None or s.n in wanted]
            if chosen:
                batches.append((observe, [(s, START + dt.timedelta(seconds=next(clock))) for s in chosen]))
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


def plan_dashboard_requests(city: City, repeat: int, rng: random.Random) -> list[Request]:
    """Warm-ups then measured requests, dashboard after dashboard in turn; a different unit's each time, the
    city's (the largest subtree) as the first one measured."""
    count = WARM_UPS + repeat
    units = [u for u, _parent in city.units]
    unit_picks = sample_cycled(rng, units[1:], count - 1)
    unit_picks.insert(WARM_UPS, units[0])
    root = html.escape(city.root.name)
    requests = []
    for k in range(count):
        requests += [
            Request("overview", DASHBOARD_PATHS["overview"], root),
            Request("unit", f"/dashboards/units/{unit_picks[k].code}", html.escape(unit_picks[k].name)),
            Request("finance", DASHBOARD_PATHS["finance"], root),
            Request("csv", DASHBOARD_PATHS["csv"], None, attachment=f"gap-heatmap-{city.root.code}.csv"),
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


def measure(label: str, client: FlaskClient, requests: Sequence[Request], pages: Sequence[str]
            ) -> dict[str, list[Timing]]:
    """Wall and CPU time of each measured request, by page (`requests` takes `pages` in turn, warm-ups first);
    an answer other than 200 stops the run."""
    timings: dict[str, list[Timing]] = {page: [] for page in pages}
    warm_ups = WARM_UPS * len(pages)
    started = time.perf_counter()
    for done, request in enumerate(requests, 1):
        begun, cpu_begun = time.perf_counter(), time.process_time()
        answer = client.get(request.url)
        body = answer.get_data(as_text=True)  # read to the last byte, as a browser would
        timing = Timing((time.perf_counter() - begun) * 1000, (time.process_time() - cpu_begun) * 1000)
        check_answer(label, request, answer.status_code, body, answer.headers.get("Content-Disposition", ""))
        if done > warm_ups:
            timings[request.page].append(timing)
        progress(label, done, len(requests), started)
    return timings


def check_answer(label: str, request: Request, status: int, body: str, disposition: str) -> None:
    if status != 200:
        fail(f"{label}: GET {request.url}", [f"HTTP {status}: {page_text(body)[:300]!r}"])
    if request.expect is not None and request.expect not in body:
        fail(f"{label}: GET {request.url}", [f"the page does not show {request.expect!r}"])
    if request.attachment is not None and request.attachment not in disposition:
        fail(f"{label}: GET {request.url}", [f"offered as {disposition!r}, not as {request.attachment!r}"])


def profile_requests(prefix: str, client: FlaskClient, requests: Sequence[Request], pages: Sequence[str]) -> None:
    """PROFILED more requests of each page (after the warm-ups), each page's profile in PREFIX-dashboard_<page>.prof
    (cProfile's wall clock: a PostgreSQL query's wait shows in its caller)."""
    profiles = {page: cProfile.Profile() for page in pages}
    for request in requests[WARM_UPS * len(pages):][:PROFILED * len(pages)]:
        profiles[request.page].enable()
        answer = client.get(request.url)
        body = answer.get_data(as_text=True)
        profiles[request.page].disable()
        check_answer(f"{prefix} profiled", request, answer.status_code, body,
                     answer.headers.get("Content-Disposition", ""))
    for page, profile in profiles.items():
        path = f"{prefix}-dashboard_{page}.prof"
        profile.dump_stats(path)
        say(f"profile of {PROFILED} requests of {DASHBOARD_PATHS[page]} written to {path}")


def page_text(body: str) -> str:
    """A refusal's words without the markup around them."""
    return " ".join(re.sub(r"<[^>]+>", " ", body.split("<main", 1)[-1]).split())


def report(name: str, city: City, build_s: float, timings: dict[str, list[Timing]]) -> dict[str, float]:
    """The database's table of pages on stdout; its figures for the last line."""
    print(f"{name}: {len(city.units):,} units, {len(city.devices):,} devices, built in {build_s:.1f} s; "
          f"{len(timings['tree'])} requests per page; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs", flush=True)
    figures = table(name, PAGES, PAGE_PATHS, timings)
    figures[f"{name}_build_s"] = round(build_s, 1)
    return figures


def table(label: str, pages: Sequence[str], paths: dict[str, str], timings: dict[str, list[Timing]],
          prefix: str = "") -> dict[str, float]:
    """A table of `pages` on stdout; their p95s as `<label>_<prefix><page>_p95_ms` (spaces as _)."""
    if prefix:
        print(f"{label}: {len(timings[pages[0]])} requests per dashboard; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    width = max(9, *(len(prefix + page) for page in pages))
    print(f"{label}: {'page':<{width}} {'request':<56} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'CPU p50':>8}",
          flush=True)
    figures: dict[str, float] = {}
    for page in pages:
        wall = [t.wall_ms for t in timings[page]]
        p50, p95 = percentile(wall, 50), percentile(wall, 95)
        cpu_p50 = percentile([t.cpu_ms for t in timings[page]], 50)
        print(f"{label}: {prefix + page:<{width}} GET {paths[page]:<52} {p50:7.1f} {p95:7.1f} {max(wall):7.1f} "
              f"{cpu_p50:8.1f}", flush=True)
        figures[f"{label.replace(' ', '_')}_{prefix}{page}_p95_ms"] = round(p95, 1)
    return figures


def print_summary(args: argparse.Namespace, figures: dict[str, float], skipped: Sequence[str]) -> None:
    """The figures, the worst p95s, the targets and whether each was met on every database asked for (the
    dashboards' and the nation's only at full size)."""
    pages = {k: v for k, v in figures.items() if "dashboard" not in k and not k.startswith("nation")}
    dashboards = {k: v for k, v in figures.items() if "dashboard" in k and not k.startswith("nation")}
    nation = {k: v for k, v in figures.items() if k.startswith("nation")}
    line: dict[str, float | int] = {}
    if "city" in args.scales:
        city_skipped = [name for name in skipped if name != "nation"]
        line |= pages | {f"{name}_skipped": 1 for name in city_skipped}
        p95s = [value for key, value in pages.items() if key.endswith("_p95_ms")]
        worst = max(p95s) if p95s else float("nan")
        line |= {"pages_p95_ms": round(worst, 1), "target_p95_ms": TARGET_P95_MS,
                 "pages_p95_met": int(bool(p95s) and not city_skipped and worst < TARGET_P95_MS)}
        p95s = [value for key, value in dashboards.items() if key.endswith("_p95_ms")]
        worst = max(p95s) if p95s else float("nan")
        full = args.units >= FULL_CITY[0] and args.devices >= FULL_CITY[1]
        if not full:
            say(f"dashboards: target counted as not met: run at {args.units:,} units and {args.devices:,} devices, "
                f"not the {FULL_CITY[0]:,} and {FULL_CITY[1]:,} of the target")
        line |= dashboards | {"dashboard_p95_ms": round(worst, 1), "target_dashboard_p95_ms": TARGET_DASHBOARD_P95_MS,
                              "dashboard_p95_met": int(bool(p95s) and not city_skipped and full
                                                       and worst < TARGET_DASHBOARD_P95_MS)}
    if "nation" in args.scales:
        figure = nation.get("nation_dashboard_overview_p95_ms")
        full = args.nation_units >= FULL_NATION[0] and args.nation_devices >= FULL_NATION[1]
        if figure is not None and not full:
            say(f"nation: target counted as not met: run at {args.nation_units:,} units and "
                f"{args.nation_devices:,} devices, not the {FULL_NATION[0]:,} and {FULL_NATION[1]:,} of the target")
        line |= nation | ({"nation_skipped": 1} if "nation" in skipped else {}) | {
            "target_nation_overview_ms": TARGET_NATION_OVERVIEW_MS,
            "nation_overview_met": int(figure is not None and full and figure < TARGET_NATION_OVERVIEW_MS)}
    print(" ".join(f"{key}={value}" for key, value in line.items()), flush=True)


if __name__ == "__main__":
    main()
