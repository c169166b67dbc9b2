"""Benchmark: the compliance of 50,000 devices under the example catalog, from scratch and one changed device at a time.

    .venv/bin/python bench/compliance.py [--devices 50000] [--db sqlite|postgresql|both] [--repeat 20] [--profile FILE]

--devices  devices (default 50,000), over a city and its wards (one per 100 devices). Use e.g. 2000 for a quick run.
--db       sqlite, postgresql or both (default both, in that order). SQLite is a fresh file in a temporary
           directory. PostgreSQL is the server at 127.0.0.1:5432 (trust auth, user `postgres`), in a database
           `readiness_bench_compliance` dropped and created afresh; when the server does not answer, the run says
           why, goes on with the next database, and its targets count as not met.
--repeat   changed devices judged one at a time (default 20); the figure is their median.
--profile  write a cProfile (pstats) of the first database's first full judgement to FILE (its figure then
           includes the profiler's overhead).

For each database:
1. Alembic migrations, the units through `create_unit`, then the devices through the one ingestion path
   (`inventory.ingest.ingest`): one asset-register batch per unit, each device with its class, vendor, model,
   serial, MAC, status, purchase date and price and the specs a register holds (RAM, disk, CPU, OS version of
   computers; ports and PoE of switches; duplex of printers; a UPS's battery), drawn from the city's equipment
   (tests/fleet.py) from a fixed seed, some of them missing. No catalog yet: the subscriber judges nothing.
2. The example catalog (catalog/data/) loaded and published as `flask seed` does (`load_example_catalog`), which
   judges every device once.
3. Full: the stored judgements removed, then `recompute_all` in one transaction, committed, timed; three times,
   the median is the figure (target < 3 s). Checked: one judgement per device, under the version in force.
4. One device: devices below specification for their RAM alone are polled again after an upgrade (an SNMP
   observation of 16 GB), one at a time, each ingested in its own transaction and committed; the inventory's
   change event runs the compliance subscriber after the commit, which judges that device in a transaction of
   its own. Timed: the subscriber, from the inventory's commit to the judgement committed (median of --repeat;
   target < 20 ms). Checked: each device compliant after, and no other judgement written again.

Progress goes to stderr. The last stdout line has the figures as key=value pairs: `devices`, `<db>_full_s`,
`<db>_one_ms` (and `<db>_publish_s`, `<db>_one_p95_ms`), the targets, and `<db>_full_met`, `<db>_one_met` (1 or
0). Only loopback is contacted (PostgreSQL)."""
import argparse
import cProfile
import datetime as dt
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# Run as `python bench/compliance.py`: the project is not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, func, select, text, update  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from catalog import compliance  # noqa: E402
from catalog.compliance import follow_inventory, recompute_all  # noqa: E402
from catalog.examples import load_example_catalog  # noqa: E402
from catalog.models import Compliance, ComplianceStatus  # noqa: E402
from catalog.services import version_in_force  # noqa: E402
from core.db import make_engine, make_session_factory, migrate  # noqa: E402
from inventory.changes import devices_changed  # noqa: E402
from inventory.ingest import IngestBatch, ingest  # noqa: E402
from inventory.models import Device, DeviceClass, DeviceStatus, Unit, UnitKind  # noqa: E402
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

SEED = 20261205
START = dt.datetime(2026, 6, 1, 1, 0)  # naive UTC, as stored
DEVICES_PER_UNIT = 100
FULL_RUNS = 3
TARGET_FULL_S = 3
TARGET_ONE_MS = 20
DATABASE = "readiness_bench_compliance"  # its own: the other benchmarks may run beside it
# Batches ingested at a time: SQLite has one writer; PostgreSQL writes different units' batches side by side.
WORKERS = {"sqlite": 1, "postgresql": 3}
# The models of the estate (tests/fleet.py) and their shares of it: approved models of the example catalog
# (OptiPlex, ProDesk, ThinkPad, LaserJet, C9200L, Smart-UPS, SIP-T, PowerEdge), models it does not approve
# (Aruba 2930F, FortiGate-60F, U6-Lite, imageRUNNER) and categories that approve none (routers, cameras).
ESTATE = {"OptiPlex 7010": 28, "ProDesk 400 G9": 12, "ThinkPad E14 Gen 5": 10, "LaserJet Pro M404dn": 6,
          "imageRUNNER 2630i": 3, "C9200L-24P-4G": 6, "2930F-24G": 3, "ISR4331": 2, "FortiGate-60F": 1,
          "U6-Lite": 5, "Smart-UPS SMT1500IC": 5, "DS-2CD1043G2-I": 8, "SIP-T46U": 8, "PowerEdge R750": 3}
COMPUTERS = {DeviceClass.WORKSTATION, DeviceClass.LAPTOP}
RAM = ("4 GB", "8 GB", "8 GB", "16 GB", "16 GB", "32 GB")
DISKS = ("128 GB SSD", "256 GB SSD", "512 GB SSD", "500 GB HDD", "1 TB HDD")
CPUS = ("Intel Core i5-4590", "Intel Core i5-8500", "Intel Core i5-10400", "Intel Core i7-12700")
OS_VERSIONS = ("21H2", "22H2", "23H2")
UNKNOWN_SHARE = 0.1  # devices whose register row has no specs: judged "not enough data"


def main() -> None:
    args = parse_args()
    say(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at start")
    rng = random.Random(SEED)
    units = plan_units(max(2, args.devices // DEVICES_PER_UNIT), rng)
    devices = plan_devices(args.devices, units, rng)
    figures: dict[str, float] = {}
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="readiness-bench-compliance-") as scratch:
        for name in args.databases:
            url, reason = prepare_database(name, Path(scratch), DATABASE)
            if reason:
                say(f"{name}: skipped: {reason}")
                print(f"{name}: SKIPPED ({reason})", flush=True)
                skipped.append(name)
                continue
            profile = args.profile if not figures else None
            figures |= run_database(name, url, units, devices, args.repeat, profile)
    print_summary(len(devices), figures, skipped)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the first full judgement")
    args = parser.parse_args()
    if args.devices < 100:
        parser.error("--devices must be at least 100")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    args.databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    return args


def plan_units(count: int, rng: random.Random) -> list[NewUnit]:
    city = NewUnit("HN", "Thành phố (benchmark)", UnitKind.CITY, 150)
    return [city, *(NewUnit(f"HN-P{k:03d}", f"Phường {k}", UnitKind.WARD, rng.randint(15, 60)) for k in range(1, count))]


def plan_devices(count: int, units: Sequence[NewUnit], rng: random.Random) -> list[tuple[DeviceSpec, dict[str, str]]]:
    """Devices spread over units by headcount, of models in the estate's proportions, each with its register's
    specs."""
    codes = rng.choices([u.code for u in units], weights=[u.staff_count for u in units], k=count)
    models = pick_models(rng, ESTATE, count)
    devices = []
    for k in range(count):
        spec = DeviceSpec(n=k, unit_code=codes[k], model=models[k],
                          status=DeviceStatus.SPARE if rng.random() < 0.08 else DeviceStatus.IN_USE,
                          purchase_date=dt.date(2016, 1, 1) + dt.timedelta(days=rng.randrange(3650)),
                          price_vnd=round(models[k].price_vnd * rng.uniform(0.9, 1.1), -3))
        devices.append((spec, specs_of(spec.model.device_class, rng)))
    return devices


def specs_of(device_class: DeviceClass, rng: random.Random) -> dict[str, str]:
    """What an asset register says of a device's hardware, as people write it; now and then nothing."""
    if rng.random() < UNKNOWN_SHARE:
        return {}
    if device_class in COMPUTERS:
        return {"ram_gb": rng.choice(RAM), "storage_gb": rng.choice(DISKS), "cpu_model": rng.choice(CPUS),
                "os_version": rng.choice(OS_VERSIONS)}
    if device_class is DeviceClass.SWITCH:
        return {"port_count": rng.choice(("24", "28", "48")), "poe": rng.choice(("có", "không"))}
    if device_class is DeviceClass.PRINTER:
        return {"duplex": rng.choice(("có", "có", "không")), "printer_ppm": f"{rng.choice((20, 30, 40))} ppm"}
    if device_class is DeviceClass.UPS:
        return {"battery_status": rng.choice(("bình thường", "bình thường", "yếu"))}
    return {}


def run_database(name: str, url: str, units: Sequence[NewUnit], devices: Sequence[tuple[DeviceSpec, dict]],
                 repeat: int, profile_path: Path | None) -> dict[str, float]:
    say(f"{name}: {url}")
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    build(name, sessions, units, devices)
    if name == "postgresql":  # planner statistics, as autovacuum gathers them after a load this size
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))

    started = time.perf_counter()
    with sessions() as session, session.begin():
        load_example_catalog(session)  # published in force today: every device judged once
    publish_s = time.perf_counter() - started
    say(f"{name}: example catalog published and {len(devices):,} devices judged in {publish_s:.2f} s")
    check_judgements(name, sessions, len(devices))

    full = [timed_full(name, sessions, len(devices), profile_path if run == 0 else None) for run in range(FULL_RUNS)]
    full_s = statistics.median(full)
    one_ms = timed_one_device(name, sessions, repeat)
    engine.dispose()
    drop_database(name, DATABASE)
    print(f"{name}: {len(devices):,} devices judged from scratch in {', '.join(f'{s:.2f}' for s in full)} s "
          f"(median {full_s:.2f} s; target < {TARGET_FULL_S} s: {verdict(full_s < TARGET_FULL_S)})", flush=True)
    print(f"{name}: one changed device judged after its commit in {statistics.median(one_ms):.1f} ms median, "
          f"{percentile(one_ms, 95):.1f} ms p95, {max(one_ms):.1f} ms max ({len(one_ms)} devices; target median < "
          f"{TARGET_ONE_MS} ms: {verdict(statistics.median(one_ms) < TARGET_ONE_MS)})", flush=True)
    return {f"{name}_full_s": round(full_s, 2), f"{name}_one_ms": round(statistics.median(one_ms), 1),
            f"{name}_one_p95_ms": round(percentile(one_ms, 95), 1), f"{name}_publish_s": round(publish_s, 2)}


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def build(name: str, sessions: sessionmaker[Session], units: Sequence[NewUnit],
          devices: Sequence[tuple[DeviceSpec, dict]]) -> None:
    with sessions() as session, session.begin():
        create_unit(session, units[0])
        for unit in units[1:]:
            create_unit(session, unit, parent_code=units[0].code)
    by_unit: dict[str, list[tuple[DeviceSpec, dict]]] = {}
    for device in devices:
        by_unit.setdefault(device[0].unit_code, []).append(device)
    clock = itertools.count()  # one second per observation: time only moves forward
    batches = [IngestBatch([register_observation(spec, specs, next(clock)) for spec, specs in chosen])
               for chosen in by_unit.values()]
    say(f"{name}: {len(units):,} units; ingesting {len(devices):,} devices in {len(batches):,} batches, "
        f"{WORKERS[name]} at a time")

    def ingest_one(batch: IngestBatch) -> None:
        with sessions() as session, session.begin():
            ingest(session, batch)

    done, started = 0, time.perf_counter()
    with ThreadPoolExecutor(WORKERS[name], thread_name_prefix="ingest") as pool:
        for _ in (pool.map if WORKERS[name] > 1 else map)(ingest_one, batches):
            done += 1
            progress(f"{name} build", done, len(batches), started)
    with sessions() as session:
        stored = session.scalar(select(func.count()).select_from(Device))
    if stored != len(devices):
        fail(f"{name}: the build", [f"{stored:,} devices stored, {len(devices):,} described"])


def register_observation(spec: DeviceSpec, specs: dict[str, str], second: int) -> ObservedDevice:
    model = spec.model
    return ObservedDevice(
        method="import", observed_at=START + dt.timedelta(seconds=second), unit_code=spec.unit_code,
        source=f"register-{spec.unit_code}.xlsx row {spec.n % 1000 + 2}",
        fields={"serial": spec.serial, "vendor": model.vendor, "model": model.name, "hostname": spec.hostname,
                "device_class": model.device_class.value, "firmware": model.firmware, "status": spec.status.value,
                "purchase_date": spec.purchase_date.isoformat(), "purchase_price_vnd": spec.price_vnd},
        specs=specs, interfaces=(ObservedInterface(mac=spec.mac, ips=(spec.ip(),)),))


def check_judgements(name: str, sessions: sessionmaker[Session], expected: int) -> Counter:
    """One judgement per device, all under the version in force and of today; the statuses, on stderr."""
    with sessions() as session:
        version = version_in_force(session, compliance.today())
        rows = session.execute(select(Compliance.version_id, Compliance.judged_on, Compliance.status)).all()
    problems = []
    if len(rows) != expected:
        problems.append(f"{len(rows):,} judgements stored, {expected:,} devices")
    others = {(v, d) for v, d, _ in rows} - {(version.id, compliance.today())}
    if others:
        problems.append(f"judgements of another version or day: {sorted(others)[:5]}")
    if problems:
        fail(f"{name}: the judgements", problems)
    statuses = Counter(status.value for _, _, status in rows)
    say(f"{name}: statuses " + ", ".join(f"{s} {n:,}" for s, n in statuses.most_common()))
    return statuses


def timed_full(name: str, sessions: sessionmaker[Session], expected: int, profile_path: Path | None) -> float:
    """Seconds to judge every device, with no judgement stored before, committed."""
    with sessions() as session, session.begin():
        session.execute(delete(Compliance))
    profiler = cProfile.Profile() if profile_path else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    with sessions() as session, session.begin():
        judged = recompute_all(session)
    elapsed = time.perf_counter() - started
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile_path)
        say(f"{name}: profile of the full judgement written to {profile_path} (its time includes the profiler)")
    if judged != expected:
        fail(f"{name}: recompute_all", [f"{judged:,} devices judged, {expected:,} stored"])
    check_judgements(name, sessions, expected)
    say(f"{name}: {judged:,} devices judged from scratch in {elapsed:.2f} s")
    return elapsed


def timed_one_device(name: str, sessions: sessionmaker[Session], repeat: int) -> list[float]:
    """Milliseconds from the inventory's commit to the judgement of the changed device committed, per device."""
    chosen = below_for_ram_alone(sessions, repeat)
    old_day = dt.date(2000, 1, 1)
    with sessions() as session, session.begin():  # a judgement written again would lose this day
        session.execute(update(Compliance).values(judged_on=old_day))
    times_ms: list[float] = []

    def timed_subscriber(session: Session, changes: Any, **extra: Any) -> None:
        started = time.perf_counter()
        follow_inventory(session, changes=changes, **extra)
        times_ms.append((time.perf_counter() - started) * 1000)

    devices_changed.disconnect(follow_inventory)
    devices_changed.connect(timed_subscriber, weak=False)
    started = time.perf_counter()
    try:
        for done, (device_id, serial, unit_code) in enumerate(chosen, 1):
            upgrade = ObservedDevice(method="snmp", observed_at=START + dt.timedelta(days=200, seconds=done),
                                     unit_code=unit_code, source="snmp 10.0.0.1", fields={"serial": serial},
                                     specs={"ram_gb": "16384 MB"})
            with sessions() as session, session.begin():
                if ingest(session, IngestBatch([upgrade])).device_ids != [device_id]:
                    fail(f"{name}: one device", [f"the upgrade of {serial} matched another device"])
            progress(f"{name} one device", done, len(chosen), started)
    finally:
        devices_changed.disconnect(timed_subscriber)
        devices_changed.connect(follow_inventory)
    with sessions() as session:
        rows = session.execute(select(Compliance.device_id, Compliance.status, Compliance.judged_on)
                               .where(Compliance.judged_on != old_day)).all()
    wanted = {device_id for device_id, _serial, _unit in chosen}
    problems = [f"device {i}: {status.value} judged on {day}" for i, status, day in rows
                if i not in wanted or status.value != "compliant" or day != compliance.today()]
    if {i for i, _, _ in rows} != wanted or len(times_ms) != len(chosen):
        problems.append(f"{len(rows)} judgements written again and {len(times_ms)} subscriber runs, for "
                        f"{len(chosen)} changed devices")
    if problems:
        fail(f"{name}: one device at a time", problems)
    say(f"{name}: {len(chosen)} changed devices judged: " + ", ".join(f"{ms:.1f}" for ms in times_ms) + " ms")
    return times_ms


def below_for_ram_alone(sessions: sessionmaker[Session], count: int) -> list[tuple[int, str, str]]:
    """Devices whose only required finding is too little RAM (an upgrade makes them compliant), drawn from a seed."""
    with sessions() as session:
        rows = session.execute(select(Compliance.device_id, Compliance.findings, Device.serial, Device.unit_id)
                               .join(Device, Device.id == Compliance.device_id)
                               .where(Compliance.status == ComplianceStatus.BELOW_SPEC).order_by(Compliance.device_id)).all()
        codes = dict(session.execute(select(Unit.id, Unit.code)).all())
    candidates = [(device_id, serial, codes[unit_id]) for device_id, findings, serial, unit_id in rows
                  if [f.get("spec") for f in findings if f.get("severity", "required") == "required"] == ["ram_gb"]]
    if len(candidates) < count:
        fail("choosing the devices to change", [(f"{len(candidates)} devices below specification for RAM alone, "
                                                f"{count} wanted")])
    return random.Random(SEED + 1).sample(candidates, count)


def print_summary(device_count: int, figures: dict[str, float], skipped: Sequence[str]) -> None:
    """The figures, the targets and, for every database asked for, whether each target was met."""
    met = {}
    for name in [key.removesuffix("_full_s") for key in figures if key.endswith("_full_s")]:
        met[f"{name}_full_met"] = int(figures[f"{name}_full_s"] < TARGET_FULL_S)
        met[f"{name}_one_met"] = int(figures[f"{name}_one_ms"] < TARGET_ONE_MS)
    for name in skipped:
        met |= {f"{name}_skipped": 1, f"{name}_full_met": 0, f"{name}_one_met": 0}
    line = {"devices": device_count} | figures | {"full_target_s": TARGET_FULL_S, "one_target_ms": TARGET_ONE_MS} \
        | met
    print(" ".join(f"{key}={value}" for key, value in line.items()), flush=True)


if __name__ == "__main__":
    main()
