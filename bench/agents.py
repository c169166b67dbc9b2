"""Benchmark: 5,000 inventory agents reporting to a real server of the product from 10 concurrent clients (issue 17).

    .venv/bin/python bench/agents.py [--postgresql] [--count 5000] [--clients 10] [--server-threads 8]
                                     [--profile FILE [--profile-clock cpu|wall] [--profile-db sqlite|postgresql]]

--postgresql      run on PostgreSQL too, after SQLite (both in one run). SQLite is a fresh file in a temporary
                  directory. PostgreSQL is the server at 127.0.0.1:5432 (trust auth, user `postgres`), in a
                  database `readiness_bench_agents` dropped and created afresh and dropped after; when it does not
                  answer, the run says why and goes on.
--count           PCs, each sending one PROLOG and one INVENTORY (default 5,000). A smaller count is a quick run;
                  the rate target then counts as not met.
--clients         concurrent clients (default 10; the rate target counts only with 10).
--server-threads  the server's worker threads (default 8, as `python app.py` serves).
--profile         write a cProfile (pstats) of the server side of one database's run to FILE: every request
                  is profiled in the thread serving it and the profiles are added up (their time includes the
                  profiler's overhead). Use with a small --count.
--profile-clock   cpu (default): each serving thread's CPU time, what the work costs; wall: the wall clock, which
                  adds the time a request waits (for SQLite's write lock, a PostgreSQL row lock, the GIL).
--profile-db      the database whose run is profiled (default sqlite; postgresql needs --postgresql).

How:
1. The inventory: `fusioninventory-inventory` (Debian's fusioninventory-agent) is run once on this machine. Its
   SOFTWARES, PROCESSES and ENVS are dropped (what is left is a few KB, the size of an inventory without its
   software list), and each PC is made from it by varying its DEVICEID, HARDWARE/NAME, BIOS/SSN (added where the
   machine has none), the MACs of its physical interfaces (those the server keeps: not virtual, not loopback)
   and their IPv4 address (HARDWARE/IPADDR too): no two PCs share an identity. The bodies are zlib-compressed,
   as the agent sends them, before the clock starts.
2. Per database: Alembic migrations, one unit (`create_unit`) and one enrolment of it issued through
   `agents.services.issue`. The real app (`create_app` over that database) is served by waitress
   (tests/serving.py) on 127.0.0.1, an ephemeral port, in a process of its own, as it is deployed: the clients'
   threads do not compete for the server's interpreter lock.
3. Timed: `--clients` threads, each with its own keep-alive HTTP connection (requests, no proxy), one warm-up
   PROLOG each before the clock starts. Client k sends the PCs k, k + clients, ...: for each, a PROLOG (the reply
   must say SEND) and then its INVENTORY, to POST /agents/<secret> with the agent's content type and user agent,
   as `fusioninventory-agent --server URL` does. Any answer other than 200 is counted in `errors` and the run goes
   on. Inventories per second = PCs / wall time from the first request to the last answer (PROLOGs included);
   latency p50/p95 of the INVENTORY requests alone, at the client.
4. Checked in the database after the server has stopped: lost = PCs minus the least of: devices holding one of
   the PCs' serials, agent_report rows of the enrolment, the enrolment's `inventories` counter, observations of
   method `agent` (each should be PCs); duplicates = serials on more than one device plus MACs on interfaces of
   more than one device, over the whole database.

Progress goes to stderr. The last stdout line has the figures as key=value pairs: `pcs`, `clients`,
`inventory_bytes` and `inventory_zlib_bytes` (one body), then per database `<db>_inventories_per_s`,
`<db>_p50_ms`, `<db>_p95_ms`, `<db>_prolog_p95_ms`, `<db>_server_cpu_ms_per_inventory` (the server process's CPU
time over the run, per PC), `<db>_errors`, `<db>_lost`, `<db>_duplicates`; then the targets met, 1 or 0:
`sqlite_rate_met` (at least 100 inventories per second on SQLite, at 5,000 PCs and 10 clients) and `lost_met`
(lost, duplicates and errors 0 on every database run). Only loopback is contacted."""
import argparse
import cProfile
import logging
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ElementTree
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

# Run as `python bench/agents.py`: the project is not an installed package, and its root must come before bench/
# (this file's own folder) so that `agents` is the package, not this file.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from agents import services  # noqa: E402
from agents.models import AgentReport, Enrolment  # noqa: E402
from core.db import make_engine, make_session_factory, migrate  # noqa: E402
from inventory.models import Device, Interface, Observation, UnitKind  # noqa: E402
from inventory.units import NewUnit, create_unit  # noqa: E402
from tests.fleet import (  # noqa: E402
    drop_database,
    dump_profiles,
    fail,
    percentile,
    prepare_database,
    profiled,
    progress,
    say,
)

FULL_COUNT, FULL_CLIENTS = 5_000, 10
TARGET_PER_S = 100  # inventories per second on SQLite
DATABASE = "readiness_bench_agents"  # its own: the other benchmarks may run beside it
UNIT = NewUnit("HN-P001", "Phường 1 (benchmark)", UnitKind.WARD, 40)
DROPPED = ("SOFTWARES", "PROCESSES", "ENVS")  # what makes a real inventory hundreds of KB
VIRTUAL_TYPES = {"loopback", "tunnel", "bridge"}  # as agents/inventory.py: interfaces the server does not keep
# The agent's own request headers (FusionInventory::Agent::HTTP::Client::OCS).
HEADERS = {"Content-Type": "application/x-compress-zlib", "User-Agent": "FusionInventory-Agent_v2.6"}
PROLOG = ('<?xml version="1.0" encoding="UTF-8" ?>\n<REQUEST>\n  <DEVICEID>{device_id}</DEVICEID>\n'
          "  <QUERY>PROLOG</QUERY>\n  <TOKEN>12345678</TOKEN>\n</REQUEST>\n")
# Placeholders put in the inventory once, replaced per PC.
MARK_DEVICE_ID, MARK_NAME, MARK_SERIAL, MARK_IP = "@@DEVICEID@@", "@@NAME@@", "@@SSN@@", "@@IPV4@@"


@dataclass(frozen=True)
class Pc:
    n: int
    device_id: str  # the agent's DEVICEID
    serial: str
    macs: tuple[str, ...]
    prolog: bytes  # zlib-compressed, as sent
    inventory: bytes


@dataclass
class Timings:
    inventory_ms: list[float] = field(default_factory=list)
    prolog_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def main() -> None:
    args = parse_args()
    say(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at start")
    template, physical_macs, sizes = real_inventory()
    pcs = make_pcs(template, physical_macs, args.count)
    say(f"{len(pcs):,} PCs made from this machine's inventory ({sizes[0]:,} bytes of XML, {sizes[1]:,} compressed; "
        f"{len(physical_macs)} physical interface(s) varied)")
    figures: dict[str, float | int] = {"pcs": args.count, "clients": args.clients, "inventory_bytes": sizes[0],
                                       "inventory_zlib_bytes": sizes[1]}
    ran: list[str] = []
    with tempfile.TemporaryDirectory(prefix="readiness-bench-agents-") as scratch:
        for name in ["sqlite", "postgresql"] if args.postgresql else ["sqlite"]:
            url, reason = prepare_database(name, Path(scratch), DATABASE)
            if reason:
                say(f"{name}: skipped: {reason}")
                print(f"{name}: SKIPPED ({reason})", flush=True)
                continue
            profile = args.profile if name == args.profile_db else None
            try:
                figures |= run_database(name, url, pcs, args, profile)
            finally:
                drop_database(name, DATABASE)
            ran.append(name)
    print_summary(figures, ran, args)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgresql", action="store_true", help="run on PostgreSQL too, after SQLite")
    parser.add_argument("--count", type=int, default=FULL_COUNT)
    parser.add_argument("--clients", type=int, default=FULL_CLIENTS)
    parser.add_argument("--server-threads", type=int, default=8)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the server side of the first run")
    parser.add_argument("--profile-clock", choices=("cpu", "wall"), default="cpu")
    parser.add_argument("--profile-db", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    if args.count < 1 or args.clients < 1 or args.server_threads < 1:
        parser.error("--count, --clients and --server-threads must be at least 1")
    if args.count > 0xFFFFFF:
        parser.error(f"--count must be at most {0xFFFFFF:,} (a PC's number makes three bytes of its MACs)")
    return args


# ---- the inventories ----------------------------------------------------------------------------------------

def real_inventory() -> tuple[str, list[str], tuple[int, int]]:
    """This machine's inventory by the real agent, trimmed, with placeholders for what makes each PC its own; the
    MACs of its physical interfaces; the trimmed XML's size, plain and compressed."""
    try:
        done = subprocess.run(["fusioninventory-inventory"], capture_output=True, timeout=300, check=True)
    except (OSError, subprocess.SubprocessError) as error:
        fail("fusioninventory-inventory (Debian package fusioninventory-agent)", [str(error)])
    root = ElementTree.fromstring(done.stdout)
    content = root.find("CONTENT")
    for tag in DROPPED:
        for element in content.findall(tag):
            content.remove(element)
    root.find("DEVICEID").text = MARK_DEVICE_ID
    hardware = content.find("HARDWARE")
    _child(hardware, "NAME").text = MARK_NAME
    _child(content.find("BIOS") if content.find("BIOS") is not None else _child(content, "BIOS"), "SSN").text = \
        MARK_SERIAL
    macs: list[str] = []
    for network in content.findall("NETWORKS"):
        mac = (network.findtext("MACADDR") or "").strip().lower()
        if not mac or mac == "00:00:00:00:00:00" or network.findtext("VIRTUALDEV") == "1" or \
                (network.findtext("TYPE") or "").lower() in VIRTUAL_TYPES:
            continue
        if mac not in macs:
            macs.append(mac)
        network.find("MACADDR").text = f"@@MAC{macs.index(mac)}@@"
        if network.find("IPADDRESS") is not None:
            network.find("IPADDRESS").text = MARK_IP
    if hardware.find("IPADDR") is not None:
        hardware.find("IPADDR").text = MARK_IP
    if not macs:
        fail("this machine's inventory", ["it has no physical network interface with a MAC to vary"])
    template = '<?xml version="1.0" encoding="UTF-8" ?>\n' + ElementTree.tostring(root, encoding="unicode")
    sample = personalise(template, len(macs), 0)[0].encode()
    return template, macs, (len(sample), len(zlib.compress(sample)))


def _child(parent: ElementTree.Element, tag: str) -> ElementTree.Element:
    found = parent.find(tag)
    return found if found is not None else ElementTree.SubElement(parent, tag)


def personalise(template: str, mac_count: int, n: int) -> tuple[str, str, str, tuple[str, ...]]:
    """PC number n's inventory, DEVICEID, serial and MACs (locally administered: 02:b5:<interface>:<n>)."""
    name = f"pc-{n:06d}"
    device_id = f"{name}-2026-12-06-08-00-00"  # as the agent makes it: host name and the time it was installed
    serial = f"BX{n:07d}"
    macs = tuple(f"02:b5:{k:02x}:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}" for k in range(mac_count))
    ip = f"10.{n // 64_000 % 256}.{n // 250 % 256}.{n % 250 + 1}"  # 10.0.0.2 ...: no network or broadcast address
    xml = (template.replace(MARK_DEVICE_ID, device_id).replace(MARK_NAME, name).replace(MARK_SERIAL, serial)
           .replace(MARK_IP, ip))
    for k, mac in enumerate(macs):
        xml = xml.replace(f"@@MAC{k}@@", mac.upper())  # as the agent writes them on Windows; the server folds case
    return xml, device_id, serial, macs


def make_pcs(template: str, physical_macs: list[str], count: int) -> list[Pc]:
    pcs = []
    for n in range(1, count + 1):
        xml, device_id, serial, macs = personalise(template, len(physical_macs), n)
        pcs.append(Pc(n, device_id, serial, macs, zlib.compress(PROLOG.format(device_id=device_id).encode()),
                      zlib.compress(xml.encode())))
    return pcs


# ---- one database -------------------------------------------------------------------------------------------

def run_database(name: str, url: str, pcs: list[Pc], args: argparse.Namespace, profile: Path | None) -> dict:
    say(f"{name}: {url}")
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        create_unit(session, UNIT)
        enrolment, secret = services.issue(session, UNIT.code, "benchmark PCs", by="bench", scope=None)
        enrolment_id = enrolment.id
    engine.dispose()  # the server opens its own

    context = multiprocessing.get_context("spawn")
    started_queue, stop = context.Queue(), context.Event()
    server = context.Process(target=serve, args=(url, args.server_threads, profile, args.profile_clock,
                                                 started_queue, stop),
                             name="bench-agents-server")
    server.start()
    try:
        base = started_queue.get(timeout=120)
        say(f"{name}: server at {base} ({args.server_threads} threads, process {server.pid})")
        elapsed, timings = send_all(f"{name} agents", f"{base}/agents/{secret}", pcs, args.clients)
    finally:
        stop.set()
    server.join(timeout=600)  # a profile takes a while to add up and write
    if server.exitcode != 0:
        fail(f"{name}: the server process", [f"exit code {server.exitcode}" if server.exitcode is not None
                                             else "still running after 600 s"])
    server_cpu_s = started_queue.get(timeout=10)
    if profile:
        say(f"{name}: server profile written to {profile} (its time includes the profiler)")

    engine = make_engine(url)
    lost, duplicates, found = check(engine, enrolment_id, pcs)
    engine.dispose()
    rate = len(pcs) / elapsed
    p50, p95 = percentile(timings.inventory_ms, 50), percentile(timings.inventory_ms, 95)
    prolog_p95 = percentile(timings.prolog_ms, 95)
    for error in timings.errors[:10]:
        say(f"{name}: error: {error}")
    print(f"{name}: {len(pcs):,} PCs from {args.clients} clients in {elapsed:.1f} s: {rate:.1f} inventories/s "
          f"(target >= {TARGET_PER_S} on SQLite); INVENTORY p50 {p50:.0f} ms, p95 {p95:.0f} ms, PROLOG p95 "
          f"{prolog_p95:.0f} ms; server CPU {server_cpu_s:.1f} s ({1000 * server_cpu_s / len(pcs):.1f} ms per PC); "
          f"errors {len(timings.errors)}; {found}; lost {lost}, duplicates {duplicates}", flush=True)
    return {f"{name}_inventories_per_s": round(rate, 1), f"{name}_p50_ms": round(p50, 1),
            f"{name}_p95_ms": round(p95, 1), f"{name}_prolog_p95_ms": round(prolog_p95, 1),
            f"{name}_server_cpu_ms_per_inventory": round(1000 * server_cpu_s / len(pcs), 1),
            f"{name}_errors": len(timings.errors), f"{name}_lost": lost, f"{name}_duplicates": duplicates}


def serve(url: str, threads: int, profile: Path | None, clock: str, queue, stop) -> None:
    """The server process: the real app over `url` under waitress until `stop`; puts its base URL, then the CPU
    seconds it spent, on `queue`. With `profile`, every request is profiled in its thread and the sum dumped."""
    from app import create_app
    from core.encryption import new_key
    from tests.serving import serving

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-agents", "SECRETS_KEYS": new_key()})
    # Waitress warns "Task queue depth is N" whenever every thread is busy: with more clients than free threads,
    # on nearly every request.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    profiles: list[cProfile.Profile] = []
    if profile:
        app.wsgi_app = profiled(app.wsgi_app, profiles, clock)
    with serving(app, threads=threads) as base:
        cpu_started = time.process_time()
        queue.put(base)
        stop.wait()
        cpu_s = time.process_time() - cpu_started
    app.extensions["engine"].dispose()
    dump_profiles(profiles, profile)
    queue.put(cpu_s)


# ---- the clients --------------------------------------------------------------------------------------------

def send_all(label: str, url: str, pcs: list[Pc], clients: int) -> tuple[float, Timings]:
    """Seconds for `clients` threads to send every PC's PROLOG and INVENTORY, and the timings."""
    timings, lock = Timings(), threading.Lock()
    done, started = 0, 0.0
    ready = threading.Barrier(clients + 1)

    def client(k: int) -> None:
        nonlocal done
        http = requests.Session()
        http.trust_env = False  # no proxy, whatever the environment says: loopback only
        post(http, url, pcs[k % len(pcs)].prolog, [], timings, lock)  # warm-up: the connection and the app
        ready.wait()
        for pc in pcs[k::clients]:
            answer = post(http, url, pc.prolog, timings.prolog_ms, timings, lock)
            if answer is None:
                continue
            if b"<RESPONSE>SEND</RESPONSE>" not in zlib.decompress(answer):
                with lock:
                    timings.errors.append(f"PC {pc.n}: PROLOG answered without SEND")
                continue
            post(http, url, pc.inventory, timings.inventory_ms, timings, lock)
            with lock:
                done += 1
                progress(label, done, len(pcs), started)
        http.close()

    with ThreadPoolExecutor(clients, thread_name_prefix="agent") as pool:
        futures = [pool.submit(client, k) for k in range(clients)]
        ready.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        elapsed = time.perf_counter() - started
    return elapsed, timings


def post(http: requests.Session, url: str, body: bytes, latencies: list[float], timings: Timings,
         lock: threading.Lock) -> bytes | None:
    """One agent request; its answer's body, or None (counted as an error) when it is not a 200."""
    sent = time.perf_counter()
    try:
        response = http.post(url, data=body, headers=HEADERS, timeout=120)
    except requests.RequestException as error:
        with lock:
            timings.errors.append(f"{type(error).__name__}: {error}")
        return None
    elapsed_ms = 1000 * (time.perf_counter() - sent)
    with lock:
        if response.status_code != 200:
            timings.errors.append(f"HTTP {response.status_code}: {response.text[:200]!r}")
            return None
        latencies.append(elapsed_ms)
    return response.content


# ---- the check ----------------------------------------------------------------------------------------------

def check(engine, enrolment_id: int, pcs: list[Pc]) -> tuple[int, int, str]:
    """Lost and duplicated PCs, and what was found, as a text."""
    serials = {pc.serial for pc in pcs}
    with make_session_factory(engine)() as session:
        stored_serials = [s for s in session.scalars(select(Device.serial)) if s in serials]
        devices = session.scalar(select(func.count()).select_from(Device))
        reports = session.scalar(select(func.count()).select_from(AgentReport)
                                 .where(AgentReport.enrolment_id == enrolment_id))
        counted = session.get(Enrolment, enrolment_id).inventories
        observations = session.scalar(select(func.count()).select_from(Observation)
                                      .where(Observation.method == "agent"))
        serial_duplicates = session.scalar(select(func.count()).select_from(
            select(Device.serial).where(Device.serial.is_not(None)).group_by(Device.serial)
            .having(func.count() > 1).subquery()))
        mac_duplicates = session.scalar(select(func.count()).select_from(
            select(Interface.mac).where(Interface.mac.is_not(None)).group_by(Interface.mac)
            .having(func.count(Interface.device_id.distinct()) > 1).subquery()))
        macs_stored = session.scalar(select(func.count(Interface.mac.distinct())))
    with_serial = len(set(stored_serials))
    lost = len(pcs) - min(with_serial, reports, counted, observations)
    found = (f"{devices:,} devices ({with_serial:,} with a PC's serial), {macs_stored:,} MACs, {reports:,} "
             f"agent_report rows, enrolment.inventories {counted:,}, {observations:,} agent observations; "
             f"serials on more than one device {serial_duplicates}, MACs on more than one device {mac_duplicates}")
    return lost, serial_duplicates + mac_duplicates, found


def print_summary(figures: dict, ran: list[str], args: argparse.Namespace) -> None:
    met = {}
    full = args.count >= FULL_COUNT and args.clients == FULL_CLIENTS
    rate = figures.get("sqlite_inventories_per_s")
    if rate is None or not full:
        say(f"sqlite_rate: target counted as not met: "
            f"{'SQLite did not run' if rate is None else f'run at {args.count:,} PCs and {args.clients} clients'}")
    met["sqlite_rate_met"] = int(full and rate is not None and rate >= TARGET_PER_S)
    met["lost_met"] = int(bool(ran) and all(figures[f"{name}_{what}"] == 0 for name in ran
                                             for what in ("lost", "duplicates", "errors")))
    print(" ".join(f"{key}={value}" for key, value in (figures | met).items()), flush=True)


if __name__ == "__main__":
    main()
