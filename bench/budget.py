"""Benchmark: the gaps and the targeted plan of a city (300 units, 30,000 devices) and of a nation (3,500 units,
500,000 devices), and what the targeted plan saves against the blanket one (issue 15).

    .venv/bin/python bench/budget.py [--db sqlite|postgresql|both] [--scale city|nation|both]
                                     [--nation-devices 500000] [--profile FILE]

--db              sqlite, postgresql or both (default both, in that order). SQLite is a fresh file in a temporary
                  directory. PostgreSQL is the server at 127.0.0.1:5432 (trust auth, user `postgres`), in a database
                  `readiness_bench_budget` dropped and created afresh for each scale; when the server does not
                  answer, the run says why, goes on, and its targets count as not met.
--scale           city, nation or both (default city). The city runs on every database asked for; the nation on
                  PostgreSQL only (its target is PostgreSQL's).
--city-devices    devices of the city (default 30,000), --city-units its units (default 300).
--nation-devices  devices of the nation (default 500,000), --nation-units its units (default 3,500). Ingesting
                  half a million devices takes long (its progress is shown): a smaller nation is a quicker run,
                  and its target then counts as not met.
--profile         write a cProfile (pstats) of the first database's targeted plan of each scale to FILE, the scale
                  added to its name (plan.prof -> plan-city.prof): one more run, before the timed ones.

For each database and scale (the setup is printed as progress, never timed in the figures):
1. Alembic migrations; the units through `create_unit` with their staff counts, then their facts (leaders,
   specialists, meeting rooms, sites, pages to digitise and by when) through `update_unit`. The city: its root
   (HN, kind city), 10% departments (30-120 staff) and wards and communes (15-40 staff) below it. The nation: its
   root (VN), 34 provinces (kind city) below it, and below each province its departments and wards and communes,
   in the same shares and sizes.
2. The devices through the one ingestion path (`inventory.ingest.ingest`), one asset-register batch per unit,
   drawn from a fixed seed from the city's equipment (tests/fleet.py) with the specs a register holds. Desktops
   are as many, over the whole estate, as the staff (what the norms require: one per leader, specialist and
   other staff member); each unit's devices are its staff times a factor drawn between 0.4 and 1.6, or for a
   fifth of the units between 2.5 and 4, so some units hold more usable devices than their norms require (they
   give in transfers) and most fewer. Purchase dates from 2019 to 2026 (the older ones past their five years).
3. The example catalog (catalog/data/) loaded and published as `flask seed` does (`load_example_catalog`), which
   judges every device once; on PostgreSQL, ANALYZE after.

Timed, each in a fresh session, on `on = catalog.compliance.today()` (the stored judgements are read), three times,
the median is the figure:
- plan: `budget.scenarios.compute(session, root, None, "targeted", {"first_year": 2027, "caps_vnd": caps}, on)` for
  the whole organisation: gaps, reviews, transfers, upgrades, costed lines checked against the norms, and the
  phasing under three yearly caps (40%, 30% and 20% of the uncapped plan, computed once before: the last tenth is
  left unfunded). Target: the city under 1 s on SQLite, the nation under 10 s on PostgreSQL.
- gaps: `budget.services.unit_gaps(session, root, None, on=on)`.
Once each: the same plan on another day (tomorrow: every device judged on the spot, nothing stored), and the
blanket plan (`"blanket_age"`, `{"first_year": 2027, "older_than_years": 5}`).
Checked: nothing is lost (per unit and category, the items of the targeted plan's lines, funded or not, are the
shortfall left after the transfers; no review excludes a gap here), the capped plan holds the same items as the
uncapped one, the targeted plan costs no more than the blanket one, and a scale run on both databases gives the
same plans on each.

Progress goes to stderr. The last stdout line has the figures as key=value pairs: `<scale>_units`, `<scale>_devices`,
`<db>_<scale>_gaps_s`, `<db>_<scale>_plan_s` (and `_plan_other_day_s`, `_blanket_s`), `<scale>_targeted_vnd`,
`<scale>_blanket_vnd`, `<scale>_saving_vnd`, `<scale>_saving_percent`, `<scale>_transfers`, and the targets met:
`city_plan_met`, `nation_plan_met` (1 or 0). Only loopback is contacted (PostgreSQL)."""
import argparse
import cProfile
import datetime as dt
import gc
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# Run as `python bench/budget.py`: the project is not an installed package, and its root must come before bench/
# (this file's own folder) so that `budget` is the package, not this file.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from budget import plans, scenarios, services  # noqa: E402
from budget.reallocation import transfers  # noqa: E402
from catalog import compliance  # noqa: E402
from catalog.examples import load_example_catalog  # noqa: E402
from catalog.models import Compliance  # noqa: E402
from core.db import make_engine, make_session_factory, migrate  # noqa: E402
from inventory.ingest import IngestBatch, ingest  # noqa: E402
from inventory.models import Device, DeviceClass, DeviceStatus, UnitKind  # noqa: E402
from inventory.observations import ObservedDevice, ObservedInterface  # noqa: E402
from inventory.units import NewUnit, create_unit, update_unit  # noqa: E402
from tests.fleet import DeviceSpec, drop_database, fail, pick_models, prepare_database, progress, say  # noqa: E402

SEED = 20261206
START = dt.datetime(2026, 6, 1, 1, 0)  # naive UTC, as stored
RUNS = 3
TARGET_S = {"city": 1, "nation": 10}  # plan, on the target's database
TARGET_DB = {"city": "sqlite", "nation": "postgresql"}
DATABASE = "readiness_bench_budget"  # its own: the other benchmarks may run beside it
WORKERS = {"sqlite": 1, "postgresql": 3}  # batches ingested at a time, as bench/compliance.py
PROVINCES = 34  # the nation's provinces and cities (from July 2025)
DEPARTMENT_SHARE = 0.1
CAP_SHARES = (0.4, 0.3, 0.2)  # of the uncapped plan, per year: the last tenth is left unfunded
PLAN = {"first_year": 2027}
BLANKET = {"first_year": 2027, "older_than_years": 5}
# The equipment besides desktops, in its shares (bench/compliance.py's estate without its desktops: OptiPlex and
# ProDesk are drawn to match the staff): approved models, models the catalog does not approve, and a category
# without a norm (servers). No cameras: their category has neither a norm nor a priced model, and the blanket plan
# raises PricingError on the first camera older than its age (budget/plans.py, blanket_plan).
OTHERS = {"ThinkPad E14 Gen 5": 10, "LaserJet Pro M404dn": 6, "imageRUNNER 2630i": 3, "C9200L-24P-4G": 6,
          "2930F-24G": 3, "ISR4331": 2, "FortiGate-60F": 1, "U6-Lite": 5, "Smart-UPS SMT1500IC": 5,
          "SIP-T46U": 8, "PowerEdge R750": 3}
DESKTOPS = {"OptiPlex 7010": 7, "ProDesk 400 G9": 3}
COMPUTERS = {DeviceClass.WORKSTATION, DeviceClass.LAPTOP}
RAM = ("4 GB", "8 GB", "8 GB", "8 GB", "16 GB", "16 GB", "16 GB", "32 GB")
DISKS = ("128 GB SSD", "256 GB SSD", "256 GB SSD", "256 GB SSD", "512 GB SSD", "512 GB SSD", "1 TB SSD", "500 GB HDD")
CPUS = ("Intel Core i5-8500", "Intel Core i5-10400", "Intel Core i7-12700")
UNKNOWN_SHARE = 0.05  # devices whose register row has no specs
WELL_EQUIPPED = 0.2  # units holding 2.5 to 4 times their staff's share of the devices; the others 0.4 to 1.6


@dataclass(frozen=True)
class Scale:
    name: str  # city or nation
    units: list[tuple[NewUnit, str | None, dict]]  # each unit, its parent's code and its facts, parents first
    devices: list[tuple[DeviceSpec, dict[str, str]]]

    @property
    def root(self) -> str:
        return self.units[0][0].code


def main() -> None:
    args = parse_args()
    say(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at start")
    figures: dict[str, float | int] = {}
    problems: dict[str, str] = {}  # target -> why it counts as not met
    with tempfile.TemporaryDirectory(prefix="readiness-bench-budget-") as scratch:
        for scale_name in args.scales:
            size = {"city": (args.city_units, args.city_devices), "nation": (args.nation_units, args.nation_devices)}
            figures |= {f"{scale_name}_units": size[scale_name][0], f"{scale_name}_devices": size[scale_name][1]}
            databases = args.databases if scale_name == "city" else [d for d in args.databases if d == "postgresql"]
            if not databases:
                problems[scale_name] = "its database (postgresql) was not asked for"
            profiled = False
            for name in databases:
                url, reason = prepare_database(name, Path(scratch), f"{DATABASE}_{scale_name}"
                                               if name == "sqlite" else DATABASE)
                if reason:
                    say(f"{name}: skipped: {reason}")
                    print(f"{name} {scale_name}: SKIPPED ({reason})", flush=True)
                    if name == TARGET_DB[scale_name]:
                        problems[scale_name] = f"{name} did not answer: {reason}"
                    continue
                profile = None if profiled or not args.profile else with_scale(args.profile, scale_name)
                profiled = True
                # Drawn again for each database (the same, from the seed): the build releases it.
                scale = plan_scale(scale_name, *size[scale_name], random.Random(SEED))
                figures |= run_database(name, url, scale, profile, figures)
    print_summary(args.scales, figures, problems, args)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--scale", choices=("city", "nation", "both"), default="city")
    parser.add_argument("--city-units", type=int, default=300)
    parser.add_argument("--city-devices", type=int, default=30_000)
    parser.add_argument("--nation-units", type=int, default=3_500)
    parser.add_argument("--nation-devices", type=int, default=500_000)
    parser.add_argument("--profile", type=Path, help="write a cProfile of a plan of each scale")
    args = parser.parse_args()
    if args.city_units < 10 or args.nation_units < 10 * PROVINCES:
        parser.error(f"--city-units must be at least 10 and --nation-units at least {10 * PROVINCES}")
    if min(args.city_devices, args.nation_devices) < 1000:
        parser.error("--city-devices and --nation-devices must be at least 1000")
    args.databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    args.scales = ["city", "nation"] if args.scale == "both" else [args.scale]
    return args


def with_scale(path: Path, scale: str) -> Path:
    return path.with_name(f"{path.stem}-{scale}{path.suffix}")


# ---- the organisation and its devices -------------------------------------------------------------------------

def plan_scale(name: str, unit_count: int, device_count: int, rng: random.Random) -> Scale:
    if name == "city":
        units = [(NewUnit("HN", "Thành phố (benchmark)", UnitKind.CITY, 150), None, facts(UnitKind.CITY, 150, rng))]
        units += local_units("HN", unit_count - 1, rng)
    else:
        units = [(NewUnit("VN", "Quốc gia (benchmark)", UnitKind.OTHER, 200), None, facts(UnitKind.OTHER, 200, rng))]
        below = [(unit_count - 1 - PROVINCES) // PROVINCES + (k < (unit_count - 1 - PROVINCES) % PROVINCES)
                 for k in range(PROVINCES)]
        for k, count in enumerate(below, 1):
            code, staff = f"T{k:02d}", rng.randint(80, 200)
            units.append((NewUnit(code, f"Tỉnh {k} (benchmark)", UnitKind.CITY, staff), "VN",
                          facts(UnitKind.CITY, staff, rng)))
            units += local_units(code, count, rng)
    return Scale(name, units, plan_devices(device_count, units, rng))


def local_units(parent: str, count: int, rng: random.Random) -> list[tuple[NewUnit, str, dict]]:
    """A city's departments (the first tenth) and its wards and communes, with their staff and facts."""
    departments = max(1, round(count * DEPARTMENT_SHARE))
    found = []
    for k in range(1, count + 1):
        if k <= departments:
            kind, code, label, staff = UnitKind.DEPARTMENT, f"{parent}-S{k:02d}", "Sở", rng.randint(30, 120)
        else:
            kind = UnitKind.WARD if k % 3 else UnitKind.COMMUNE
            code, label, staff = f"{parent}-P{k:03d}", "Phường" if kind is UnitKind.WARD else "Xã", rng.randint(15, 40)
        found.append((NewUnit(code, f"{label} {k} ({parent})", kind, staff), parent, facts(kind, staff, rng)))
    return found


def facts(kind: UnitKind, staff: int, rng: random.Random) -> dict:
    """The facts the norms count from (the keys of tests/budget/test_load.py's P01_FACTS), drawn for the unit."""
    leaders = max(1, round(staff * rng.uniform(0.06, 0.12)))
    archive = rng.random() < 0.25
    return {"staff_count": staff, "leader_count": leaders,
            "specialist_count": min(staff - leaders, round(staff * rng.uniform(0.5, 0.7))),
            "meeting_rooms": 1 if kind in (UnitKind.WARD, UnitKind.COMMUNE) else rng.randint(1, 4),
            "sites": 2 if rng.random() < 0.15 else 1,
            "archive_pages": rng.randrange(20_000, 400_000, 1000) if archive else 0,
            "archive_deadline": rng.choice((dt.date(2027, 12, 31), dt.date(2028, 6, 30))) if archive else None}


def plan_devices(count: int, units: Sequence[tuple[NewUnit, str | None, dict]], rng: random.Random
                 ) -> list[tuple[DeviceSpec, dict[str, str]]]:
    """`count` devices over the units by staff times a factor (some units over their norms, most under), as many
    desktops over the estate as staff, the rest in OTHERS' shares; each with its register's specs."""
    staff = sum(u.staff_count for u, _, _ in units)
    desktops = min(staff, count)
    weights = [u.staff_count * (rng.uniform(2.5, 4) if rng.random() < WELL_EQUIPPED else rng.uniform(0.4, 1.6))
               for u, _, _ in units]
    codes = rng.choices([u.code for u, _, _ in units], weights=weights, k=count)
    models = pick_models(rng, DESKTOPS, desktops) + pick_models(rng, OTHERS, count - desktops)
    rng.shuffle(models)
    devices = []
    for k in range(count):
        spec = DeviceSpec(n=k, unit_code=codes[k], model=models[k],
                          status=DeviceStatus.SPARE if rng.random() < 0.05 else
                          DeviceStatus.BROKEN if rng.random() < 0.03 else DeviceStatus.IN_USE,
                          purchase_date=dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(2880)),
                          price_vnd=round(models[k].price_vnd * rng.uniform(0.9, 1.1), -3))
        devices.append((spec, specs_of(spec.model.device_class, rng)))
    return devices


def specs_of(device_class: DeviceClass, rng: random.Random) -> dict[str, str]:
    """What an asset register says of a device's hardware; now and then nothing."""
    if rng.random() < UNKNOWN_SHARE:
        return {}
    if device_class in COMPUTERS:
        return {"ram_gb": rng.choice(RAM), "storage_gb": rng.choice(DISKS), "cpu_model": rng.choice(CPUS),
                "os_version": rng.choice(("22H2", "23H2"))}
    if device_class is DeviceClass.SWITCH:
        return {"port_count": rng.choice(("24", "24", "28", "48")), "poe": rng.choice(("có", "không"))}
    if device_class is DeviceClass.PRINTER:
        return {"duplex": rng.choice(("có", "có", "không")), "printer_ppm": f"{rng.choice((20, 30, 40))} ppm"}
    if device_class is DeviceClass.UPS:
        return {"battery_status": rng.choice(("bình thường", "bình thường", "yếu"))}
    return {}


def register_observation(spec: DeviceSpec, specs: dict[str, str], second: int) -> ObservedDevice:
    model = spec.model
    return ObservedDevice(
        method="import", observed_at=START + dt.timedelta(seconds=second), unit_code=spec.unit_code,
        source=f"register-{spec.unit_code}.xlsx row {spec.n % 1000 + 2}",
        fields={"serial": spec.serial, "vendor": model.vendor, "model": model.name, "hostname": spec.hostname,
                "device_class": model.device_class.value, "firmware": model.firmware, "status": spec.status.value,
                "purchase_date": spec.purchase_date.isoformat(), "purchase_price_vnd": spec.price_vnd},
        specs=specs, interfaces=(ObservedInterface(mac=spec.mac, ips=(spec.ip(),)),))


def build(name: str, engine, sessions: sessionmaker[Session], scale: Scale) -> None:
    """Units, facts, devices, the catalog (which judges them); on PostgreSQL, the planner's statistics."""
    with sessions() as session, session.begin():
        for unit, parent, unit_facts in scale.units:
            create_unit(session, unit, parent_code=parent)
        for unit, _parent, unit_facts in scale.units:
            update_unit(session, unit.code, unit_facts)
    by_unit: dict[str, list[tuple[DeviceSpec, dict]]] = {}
    for device in scale.devices:
        by_unit.setdefault(device[0].unit_code, []).append(device)
    clock = itertools.count()  # one second per observation: time only moves forward
    chosen_batches = [[(spec, specs, next(clock)) for spec, specs in chosen] for chosen in by_unit.values()]
    say(f"{name} {scale.name}: {len(scale.units):,} units; ingesting {len(scale.devices):,} devices in "
        f"{len(chosen_batches):,} batches, {WORKERS[name]} at a time")

    def ingest_one(chosen: list) -> None:
        batch = IngestBatch([register_observation(spec, specs, second) for spec, specs, second in chosen])
        with sessions() as session, session.begin():
            ingest(session, batch)

    done, started = 0, time.perf_counter()
    with ThreadPoolExecutor(WORKERS[name], thread_name_prefix="ingest") as pool:
        for _ in (pool.map if WORKERS[name] > 1 else map)(ingest_one, chosen_batches):
            done += 1
            progress(f"{name} {scale.name} build", done, len(chosen_batches), started)
    with sessions() as session:
        stored = session.scalar(select(func.count()).select_from(Device))
    if stored != len(scale.devices):
        fail(f"{name} {scale.name}: the build", [f"{stored:,} devices stored, {len(scale.devices):,} described"])
    started = time.perf_counter()
    with sessions() as session, session.begin():
        load_example_catalog(session)  # published in force today: every device judged once
    with sessions() as session:
        judged = session.scalar(select(func.count()).select_from(Compliance))
    say(f"{name} {scale.name}: example catalog published and {judged:,} devices judged in "
        f"{time.perf_counter() - started:.1f} s")
    if name == "postgresql":  # planner statistics, as autovacuum gathers them after a load this size
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))


# ---- the measures ---------------------------------------------------------------------------------------------

def run_database(name: str, url: str, scale: Scale, profile_path: Path | None, earlier: dict) -> dict:
    say(f"{name} {scale.name}: {url}")
    started = time.perf_counter()
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    build(name, engine, sessions, scale)
    # The generated devices are released before the measures: the collector would otherwise walk the benchmark's
    # own half million objects at each full collection, which a server does not hold (it doubled the nation's gaps).
    scale.devices.clear()
    gc.collect()
    setup_s = time.perf_counter() - started
    say(f"{name} {scale.name}: setup (migrations, units, ingestion, catalog) took {setup_s:.0f} s")
    on, root, key = compliance.today(), scale.root, f"{name}_{scale.name}"

    uncapped = timed_once(sessions, lambda s: scenarios.compute(s, root, None, "targeted", PLAN, on))[1]
    total = plans.total_vnd(uncapped.lines)
    caps = [int(round(total * share, -6)) for share in CAP_SHARES]
    parameters = PLAN | {"caps_vnd": caps}
    plan_s, planned = timed_median(
        f"{key} plan", sessions, lambda s: scenarios.compute(s, root, None, "targeted", parameters, on), profile_path)
    gaps_s, found = timed_median(f"{key} gaps", sessions, lambda s: services.unit_gaps(s, root, None, on=on))
    blanket_s, blanket = timed_once(sessions, lambda s: scenarios.compute(s, root, None, "blanket_age", BLANKET, on))
    say(f"{key}: blanket plan in {blanket_s:.2f} s")
    other_day_s, other = timed_once(
        sessions, lambda s: scenarios.compute(s, root, None, "targeted", parameters, on + dt.timedelta(days=1)))
    say(f"{key}: the plan of another day (judged on the spot) in {other_day_s:.2f} s")
    engine.dispose()
    drop_database(name, DATABASE)

    stats = check(f"{key}", planned, uncapped, blanket, found)
    targeted_vnd, blanket_vnd = plans.total_vnd(planned.lines), plans.total_vnd(blanket.lines)
    same = {f"{scale.name}_targeted_vnd": targeted_vnd, f"{scale.name}_blanket_vnd": blanket_vnd,
            f"{scale.name}_transfers": len(planned.transfers)}
    for figure, value in same.items():  # a scale run on both databases plans the same on each
        if figure in earlier and earlier[figure] != value:
            fail(f"{key}: the plans of both databases", [f"{figure}: {earlier[figure]:,} before, {value:,} here"])
    funded = plans.total_vnd(line for line in planned.lines if line.year is not None)
    print(f"{key}: setup {setup_s:.0f} s; {stats}; plan {plan_s:.2f} s (target < {TARGET_S[scale.name]} s on "
          f"{TARGET_DB[scale.name]}), gaps {gaps_s:.2f} s, blanket {blanket_s:.2f} s, another day {other_day_s:.2f} s; "
          f"targeted {targeted_vnd:,} VND ({funded:,} funded under caps {', '.join(f'{c:,.0f}' for c in caps)}), "
          f"blanket {blanket_vnd:,} VND; other day {plans.total_vnd(other.lines):,} VND", flush=True)
    return {f"{key}_gaps_s": round(gaps_s, 3), f"{key}_plan_s": round(plan_s, 3),
            f"{key}_plan_other_day_s": round(other_day_s, 3), f"{key}_blanket_s": round(blanket_s, 3)} | same | {
        f"{scale.name}_saving_vnd": blanket_vnd - targeted_vnd,
        f"{scale.name}_saving_percent": round(100 * (blanket_vnd - targeted_vnd) / blanket_vnd, 1)
        if blanket_vnd else 0.0}


def timed_once(sessions: sessionmaker[Session], call: Callable[[Session], object],
               profile_path: Path | None = None) -> tuple[float, object]:
    """Seconds of one call in a fresh session (read only: rolled back), and its result."""
    profiler = cProfile.Profile() if profile_path else None
    with sessions() as session:
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        result = call(session)
        elapsed = time.perf_counter() - started
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile_path)
            say(f"profile written to {profile_path} (its time includes the profiler)")
    return elapsed, result


def timed_median(label: str, sessions: sessionmaker[Session], call: Callable[[Session], object],
                 profile_path: Path | None = None) -> tuple[float, object]:
    """The median seconds of RUNS calls, and the last one's result; profiled, one more call before them."""
    if profile_path:
        profiled_s = timed_once(sessions, call, profile_path)[0]
        say(f"{label}: {profiled_s:.3f} s under the profiler (not counted)")
    times, result = [], None
    for _run in range(RUNS):
        elapsed, result = timed_once(sessions, call)
        times.append(elapsed)
    say(f"{label}: {', '.join(f'{s:.3f}' for s in times)} s")
    return statistics.median(times), result


def check(key: str, planned: scenarios.Computed, uncapped: scenarios.Computed, blanket: scenarios.Computed,
          found: services.UnitGaps) -> str:
    """Nothing lost: per unit and category, the plan's items are the shortfall left after the transfers; capped or
    not, the same items; the targeted plan costs no more than the blanket one. The gaps' numbers, as a text."""
    problems = []
    if planned.excluded:
        problems.append(f"{len(planned.excluded)} gaps excluded by a review; none was made")
    left = transfers(planned.subtree.gaps, planned.subtree.inputs.devices, planned.subtree.inputs.tree)
    if [(t.device_id, t.to_unit) for t in left.transfers] != [(t.device_id, t.to_unit) for t in planned.transfers]:
        problems.append("the plan's transfers are not those of the gaps it was computed from")
    shortfall = Counter({(g.unit_code, g.category): g.shortfall for g in left.remaining})
    for name, computed in (("capped", planned), ("uncapped", uncapped)):
        items = Counter()
        for line in computed.lines:
            items[line.unit_code, line.category] += line.quantity
        if items != shortfall:
            wrong = sorted(k for k in items.keys() | shortfall.keys() if items[k] != shortfall[k])
            problems.append(f"{name} plan: {sum(items.values()):,} items for a shortfall of "
                            f"{sum(shortfall.values()):,}; e.g. {[(k, items[k], shortfall[k]) for k in wrong[:3]]}")
    targeted_vnd, blanket_vnd = plans.total_vnd(planned.lines), plans.total_vnd(blanket.lines)
    if targeted_vnd != plans.total_vnd(uncapped.lines):
        problems.append(f"capped plan {targeted_vnd:,} VND, uncapped {plans.total_vnd(uncapped.lines):,} VND")
    if targeted_vnd > blanket_vnd:
        problems.append(f"the targeted plan ({targeted_vnd:,} VND) costs more than the blanket one "
                        f"({blanket_vnd:,} VND)")
    if [g.unit_code for g in found.gaps] != [g.unit_code for g in planned.subtree.gaps]:
        problems.append("unit_gaps and the plan read different gaps")
    if problems:
        fail(f"{key}: the plans", problems)
    desktops = [g for g in found.gaps if g.category == "desktop"]
    reasons = Counter()
    for line in planned.lines:
        reasons[line.reason] += line.quantity
    before = sum(g.shortfall for g in found.gaps)
    return (f"{len(found.units):,} units, {len(found.gaps):,} gaps, shortfall {before:,}"
            f" items before transfers and {sum(shortfall.values()):,} after {len(planned.transfers):,} transfers; "
            f"desktops required {sum(g.required for g in desktops):,}, usable {sum(g.usable for g in desktops):,}, "
            f"units over {sum(1 for g in desktops if g.surplus):,} and under "
            f"{sum(1 for g in desktops if g.shortfall):,}; items by reason "
            + ", ".join(f"{r} {n:,}" for r, n in reasons.most_common()))


def print_summary(scales: Sequence[str], figures: dict, problems: dict[str, str], args: argparse.Namespace) -> None:
    """The figures, the targets and whether each scale's target was met on its database, at its full size."""
    met = {}
    full_size = {"city": (300, 30_000), "nation": (3_500, 500_000)}
    for scale in scales:
        figure = figures.get(f"{TARGET_DB[scale]}_{scale}_plan_s")
        if figure is None and scale not in problems:
            problems[scale] = f"not run on {TARGET_DB[scale]}"
        elif figure is not None and (figures[f"{scale}_units"] < full_size[scale][0]
                                     or figures[f"{scale}_devices"] < full_size[scale][1]):
            problems[scale] = (f"run at {figures[f'{scale}_units']:,} units and {figures[f'{scale}_devices']:,} "
                               f"devices, not the {full_size[scale][0]:,} and {full_size[scale][1]:,} of the target")
        met[f"{scale}_plan_met"] = int(scale not in problems and figure < TARGET_S[scale])
        if scale in problems:
            say(f"{scale}: target counted as not met: {problems[scale]}")
    targets = {f"{scale}_target_s": TARGET_S[scale] for scale in scales}
    print(" ".join(f"{key}={value}" for key, value in (figures | targets | met).items()), flush=True)


if __name__ == "__main__":
    main()
