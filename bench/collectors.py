"""Benchmark: 10 collectors at sites sending nmap batches to a real server of the product, which goes away for
about 5 s in the middle of the run and comes back (exactly-once delivery under load).

    .venv/bin/python bench/collectors.py [--collectors 10] [--batches 200] [--observations 500] [--outage 5]
                                         [--server-threads 8] [--profile FILE [--profile-clock cpu|wall]]

--collectors      collectors, one per unit, each with its own backlog and sender thread (default 10; the targets
                  count only at the full size).
--batches         batches in all, shared out evenly between the collectors (default 200).
--observations    observations per batch: the hosts of a collector's site, every one found by every scan of it
                  (default 500; 200 x 500 = 100,000 observations in all).
--outage          seconds the server is away (default 5; 0: no outage). Its process is killed (SIGKILL: requests
                  in flight get no reply, a transaction in flight is rolled back) once half the batches are in,
                  and a new one is started on the same database and port that many seconds later.
--server-threads  the server's worker threads (default 8, as `python app.py` serves).
--profile         write a cProfile (pstats) of the server side to FILE, every request profiled in its thread and
                  the profiles added up (their time includes the profiler's overhead). With an outage, only the
                  second server process's requests (the first is killed). Use with --outage 0.
--profile-clock   cpu (default): each serving thread's CPU time; wall: the wall clock, lock waits included.

How:
1. A fresh SQLite file in a temporary directory, migrated; a city and 9 wards (`create_unit`); per unit a scan
   scope of its own /22 loopback network (127.(10+k).0.0/22, nmap only: scopes are records here, nothing is
   scanned) and a collector issued for the unit through `discovery.collectors.service.issue`, the scope assigned
   to it (`assign_scopes`).
2. Each collector's site: `--observations` hosts at addresses of its /22, each with its own MAC (a real maker's
   prefix, so the maker is found as nmap would), host name and open ports of its kind (workstations, printers,
   phones, cameras, switches, servers, drawn with a fixed seed). A batch is a sweep of the site as the collector
   makes it: `FoundHost`s -> `discovery.scans.sweep_observations` -> `wire.batch_json`, all built before the
   clock starts and put in the collector's on-disk backlog (`Backlog.put`: numbered, fsynced).
3. Timed: the real app (`create_app`) under waitress on 127.0.0.1 in a process of its own; each collector's
   `Sender` (discovery.collectors.client: oldest first, removed only once kept, backoff 1 s doubling to 30 s
   while the server is away) in a thread of this process, with its own keep-alive connection. The clock runs
   from the senders' start until every backlog is empty. obs_per_s = observations / (that time - outage_s);
   outage_s runs from the kill until the new process serves (its start-up included). The time the senders
   wait out their backoff after the server is back counts as time the server was up: it is what the collectors
   really do (`resume_lag_s` says how long it was).
4. Checked in the database once the server has stopped: lost = observations produced - observations stored
   by the accepted batches whose ids the collectors produced (a batch missing or rejected loses all of its);
   duplicates = batch ids stored more than once + collector runs more than batches + devices more than the
   sites' hosts + MACs on more than one device.

Progress goes to stderr. The last stdout line: `collectors=.. batches=.. observations=.. obs_per_s=..
outage_s=.. lost=.. duplicates=.. rate_met=1|0 lost_met=1|0` (rate_met: at least 5,000 observations per second
at the full size; lost_met: lost and duplicates 0 and every batch sent). Only loopback is contacted."""
import argparse
import cProfile
import logging
import multiprocessing
import os
import random
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

# Run as `python bench/collectors.py`: the project is not an installed package, and its root must come before bench/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import netaddr  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from core.db import make_engine, make_session_factory, migrate  # noqa: E402
from core.encryption import SecretBox, new_key  # noqa: E402
from core.time import utcnow  # noqa: E402
from discovery import scans  # noqa: E402
from discovery import sweep as sweeps  # noqa: E402
from discovery.collectors import client, sender, service, wire  # noqa: E402
from discovery.collectors.backlog import Backlog  # noqa: E402
from discovery.hints import hints  # noqa: E402
from discovery.models import BatchStatus, Collector, CollectorBatch, RunTrigger, ScanRun  # noqa: E402
from discovery.scopes import create_scope  # noqa: E402
from discovery.snmp.identify import mac_vendor  # noqa: E402
from inventory.models import Device, DeviceClass, Interface, UnitKind  # noqa: E402
from inventory.units import NewUnit, create_unit  # noqa: E402
from tests.fleet import CATALOG, dump_profiles, fail, profiled, progress, say  # noqa: E402
from tests.serving import serving  # noqa: E402

FULL = {"collectors": 10, "batches": 200, "observations": 500}
TARGET_OBS_PER_S = 5_000
SEED = 20261206
ALLOWLIST = "127.0.0.0/8"
# Open ports of each kind of host, as nmap names their services.
PORTS = {
    DeviceClass.WORKSTATION: (("tcp", 135, "msrpc"), ("tcp", 445, "microsoft-ds"), ("tcp", 3389, "ms-wbt-server")),
    DeviceClass.LAPTOP: (("tcp", 445, "microsoft-ds"),),
    DeviceClass.PRINTER: (("tcp", 80, "http"), ("tcp", 515, "printer"), ("tcp", 631, "ipp"),
                          ("tcp", 9100, "jetdirect")),
    DeviceClass.PHONE: (("tcp", 80, "http"), ("tcp", 5060, "sip")),
    DeviceClass.CAMERA: (("tcp", 80, "http"), ("tcp", 554, "rtsp")),
    DeviceClass.SWITCH: (("tcp", 22, "ssh"), ("tcp", 23, "telnet"), ("tcp", 443, "https")),
    DeviceClass.ROUTER: (("tcp", 22, "ssh"), ("tcp", 443, "https")),
    DeviceClass.FIREWALL: (("tcp", 443, "https"),),
    DeviceClass.WIRELESS: (("tcp", 22, "ssh"), ("tcp", 443, "https")),
    DeviceClass.UPS: (("tcp", 80, "http"),),
    DeviceClass.SERVER: (("tcp", 22, "ssh"), ("tcp", 443, "https"), ("tcp", 445, "microsoft-ds")),
}
# A site's hosts, by model name: mostly PCs, as in a ward's office.
ESTATE = {"OptiPlex 7010": 40, "ProDesk 400 G9": 25, "ThinkPad E14 Gen 5": 10, "LaserJet Pro M404dn": 8,
          "imageRUNNER 2630i": 2, "SIP-T46U": 6, "DS-2CD1043G2-I": 4, "C9200L-24P-4G": 2, "U6-Lite": 2,
          "PowerEdge R750": 1}


@dataclass(frozen=True)
class Site:
    k: int
    unit_code: str
    collector_id: int
    scope_id: int
    token: str
    network: netaddr.IPNetwork


def main() -> None:
    args = parse_args()
    say(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at start")
    with tempfile.TemporaryDirectory(prefix="readiness-bench-collectors-") as scratch:
        scratch = Path(scratch)
        url, key = f"sqlite:///{scratch / 'bench.sqlite3'}", new_key()
        sites = prepare(url, key, args.collectors)
        per_site = share(args.batches, args.collectors)
        backlogs, produced = fill_backlogs(scratch, sites, per_site, args.observations)
        figures = run(url, key, sites, backlogs, produced, args)
        lost, duplicates, found = check(url, sites, produced, args.observations)
    total_obs = sum(obs for batches in produced.values() for obs in batches.values())
    up_s = figures["elapsed_s"] - figures["outage_s"]
    rate = total_obs / up_s if up_s > 0 else 0.0
    print(f"{args.collectors} collectors, {args.batches} batches of {args.observations} observations "
          f"({total_obs:,} in all) in {figures['elapsed_s']:.1f} s, the server away {figures['outage_s']:.1f} s "
          f"(the senders back {figures['resume_lag_s']:.1f} s after it served again): {rate:,.0f} observations/s "
          f"while it was up (target >= {TARGET_OBS_PER_S:,}); sent: {figures['outcomes']}; {found}; lost {lost}, "
          f"duplicates {duplicates}", flush=True)
    full = (args.collectors, args.batches, args.observations) == tuple(FULL.values())
    if not full:
        say("rate: target counted as not met: not the full size "
            f"({FULL['collectors']} collectors, {FULL['batches']} batches of {FULL['observations']})")
    unsent = figures["left"]
    summary = {"collectors": args.collectors, "batches": args.batches, "observations": total_obs,
               "obs_per_s": round(rate), "outage_s": round(figures["outage_s"], 1), "lost": lost,
               "duplicates": duplicates, "rate_met": int(full and rate >= TARGET_OBS_PER_S),
               "lost_met": int(lost == 0 and duplicates == 0 and unsent == 0)}
    print(" ".join(f"{name}={value}" for name, value in summary.items()), flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collectors", type=int, default=FULL["collectors"])
    parser.add_argument("--batches", type=int, default=FULL["batches"])
    parser.add_argument("--observations", type=int, default=FULL["observations"])
    parser.add_argument("--outage", type=float, default=5.0)
    parser.add_argument("--server-threads", type=int, default=8)
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--profile-clock", choices=("cpu", "wall"), default="cpu")
    args = parser.parse_args()
    if not 1 <= args.collectors <= 100:
        parser.error("--collectors must be 1 to 100")
    if args.batches < args.collectors:
        parser.error("--batches must be at least --collectors (one batch each)")
    if not 1 <= args.observations <= 1000:
        parser.error("--observations must be 1 to 1000 (a site's hosts in its /22)")
    if args.outage < 0 or args.server_threads < 1:
        parser.error("--outage must be 0 or more, --server-threads at least 1")
    return args


def share(batches: int, collectors: int) -> list[int]:
    return [batches // collectors + (k < batches % collectors) for k in range(collectors)]


# ---- the organisation and the sites --------------------------------------------------------------------------

def prepare(url: str, key: str, count: int) -> list[Site]:
    """Units, scopes and collectors through the services, as an operator makes them."""
    engine = make_engine(url)
    migrate(engine)
    sessions, box = make_session_factory(engine), SecretBox([key])
    sites = []
    with sessions() as session, session.begin():
        create_unit(session, NewUnit("BENCH-C", "Thành phố (benchmark)", UnitKind.CITY, 0))
        for k in range(count):
            unit_code = "BENCH-C" if k == 0 else f"BENCH-W{k:02d}"
            if k:
                create_unit(session, NewUnit(unit_code, f"Phường {k} (benchmark)", UnitKind.WARD, 30),
                            parent_code="BENCH-C")
            network = netaddr.IPNetwork(f"127.{10 + k}.0.0/22")
            scope = create_scope(session, unit_code=unit_code, name=f"site {k}", networks=str(network),
                                 allowlist=ALLOWLIST, methods="nmap")
            collector, token = service.issue(session, box, unit_code, f"collector {k}", "bench")
            service.assign_scopes(session, collector.id, [scope.id], "bench")
            sites.append(Site(k, unit_code, collector.id, scope.id, token, network))
    engine.dispose()
    say(f"{count} units, scopes and collectors issued")
    return sites


def site_hosts(site: Site, count: int) -> list[sweeps.FoundHost]:
    """The hosts at a site, as an nmap sweep finds them: each with its own address, MAC and name."""
    rng = random.Random(SEED + site.k)
    models = [m for m in CATALOG if m.name in ESTATE]
    picked = rng.choices(models, weights=[ESTATE[m.name] for m in models], k=count)
    hosts = []
    for n, model in enumerate(picked, start=1):
        address = str(site.network[n])  # .1 onwards: never the network's own address
        mac = f"{model.oui}:{site.k:02x}:{n >> 8:02x}:{n & 255:02x}"
        ports = PORTS[model.device_class]
        vendor = mac_vendor(mac)
        hosts.append(sweeps.FoundHost(
            address, mac, vendor, f"{model.device_class.value[:4]}-s{site.k:02d}-{n:04d}.ward{site.k}.local",
            ports, None, tuple(hints(((proto, port) for proto, port, _ in ports), vendor))))
    return hosts


def fill_backlogs(scratch: Path, sites: list[Site], per_site: list[int],
                  observations: int) -> tuple[dict[int, Backlog], dict[int, dict[str, int]]]:
    """Every collector's batches in its backlog, before the clock; per site: batch id -> observations."""
    started = time.perf_counter()
    mode = sweeps.describe_mode(sweeps.SweepSettings(privileged=True))
    backlogs, produced = {}, {}
    total, made = sum(per_site), 0
    for site, count in zip(sites, per_site, strict=True):
        hosts = site_hosts(site, observations)
        backlog = Backlog(scratch / f"collector-{site.k}" / client.BACKLOG_DIR, max_batches=max(count, 1000))
        produced[site.k] = {}
        for _ in range(count):
            begun = utcnow()
            observed = scans.sweep_observations(hosts, site.unit_code, utcnow())
            batch = wire.batch_json(uuid.uuid4().hex, 0, site.scope_id, "nmap", mode, site.network.size, begun,
                                    utcnow(), observed)
            backlog.put(batch)
            produced[site.k][batch["batch_id"]] = len(observed)
            made += 1
            progress("batches made and kept", made, total, started)
        backlogs[site.k] = backlog
    return backlogs, produced


# ---- the run --------------------------------------------------------------------------------------------------

def run(url: str, key: str, sites: list[Site], backlogs: dict[int, Backlog], produced: dict[int, dict[str, int]],
        args: argparse.Namespace) -> dict:
    """Serve, send every backlog, kill and restart the server half-way; the timings and the senders' outcomes."""
    port = free_port()
    context = multiprocessing.get_context("spawn")
    server, queue, stop = start_server(context, url, key, port, args, profile=args.profile if not args.outage
                                       else None)
    base = f"http://127.0.0.1:{port}"
    states = {site.k: sender.State() for site in sites}
    senders = {site.k: sender.Sender(sender.Server(base, site.token), backlogs[site.k], states[site.k])
               for site in sites}
    total = sum(len(batches) for batches in produced.values())
    threads = [threading.Thread(target=senders[k].run, name=f"collector-{k}", daemon=True) for k in senders]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    outage_s = resume_lag_s = 0.0
    outage_done = args.outage == 0
    left = total
    while left:
        time.sleep(0.05)
        now_left = sum(backlog.count() for backlog in backlogs.values())
        if (total - now_left) * 10 // total != (total - left) * 10 // total:
            say(f"batches sent: {total - now_left:,}/{total:,}, {time.perf_counter() - started:.1f} s")
        left = now_left
        if not outage_done and total - left >= total // 2:
            outage_done = True
            say(f"server: killed with {total - left} of {total} batches in")
            killed = time.perf_counter()
            server.kill()
            server.join(30)
            time.sleep(args.outage)
            server, queue, stop = start_server(context, url, key, port, args, profile=args.profile)
            back = time.perf_counter()
            outage_s = back - killed
            at_restart = sum(backlog.count() for backlog in backlogs.values())
            say(f"server: serving again after {outage_s:.1f} s")
            while left and sum(backlog.count() for backlog in backlogs.values()) == at_restart:
                time.sleep(0.01)
            resume_lag_s = time.perf_counter() - back
        if any(state.refused for state in states.values()):
            fail("the run", [state.last_error for state in states.values() if state.refused])
    elapsed = time.perf_counter() - started
    for state in states.values():
        state.stop.set()
    for thread in threads:
        thread.join(30)
    stop.set()
    server.join(600)
    if server.exitcode != 0:
        fail("the server process", [f"exit code {server.exitcode}"])
    if args.profile:
        say(f"server profile written to {args.profile} (its time includes the profiler)")
    outcomes = {}
    for site_sender in senders.values():
        for name, count in site_sender.outcomes.items():
            outcomes[name] = outcomes.get(name, 0) + count
    return {"elapsed_s": elapsed, "outage_s": outage_s, "resume_lag_s": resume_lag_s, "left": left,
            "outcomes": ", ".join(f"{name} {count}" for name, count in sorted(outcomes.items()))}


def start_server(context, url: str, key: str, port: int, args: argparse.Namespace, profile: Path | None):
    queue, stop = context.Queue(), context.Event()
    server = context.Process(target=serve, args=(url, key, port, args.server_threads, profile, args.profile_clock,
                                                 queue, stop), name="bench-collectors-server")
    server.start()
    ready = queue.get(timeout=120)
    if ready != "serving":
        fail("the server process", [str(ready)])
    return server, queue, stop


def serve(url: str, key: str, port: int, threads: int, profile: Path | None, clock: str, queue, stop) -> None:
    """The server process: the real app over `url` under waitress on `port` until `stop`."""
    from app import create_app

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the benchmark's to handle
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-collectors", "SECRETS_KEYS": key,
                      "SCAN_ALLOWLIST": ALLOWLIST})
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" whenever all threads are busy
    profiles: list[cProfile.Profile] = []
    if profile:
        app.wsgi_app = profiled(app.wsgi_app, profiles, clock)
    with serving(app, threads=threads, port=port):  # the same port again after the outage: collectors know one URL
        queue.put("serving")
        stop.wait()
    app.extensions["engine"].dispose()
    dump_profiles(profiles, profile)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---- the check ------------------------------------------------------------------------------------------------

def check(url: str, sites: list[Site], produced: dict[int, dict[str, int]], hosts: int) -> tuple[int, int, str]:
    """Observations lost and duplicates, and what was found, as a text."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        rows = session.execute(select(CollectorBatch.collector_id, CollectorBatch.batch_id, CollectorBatch.status,
                                      CollectorBatch.observations)).all()
        runs = session.scalar(select(func.count()).select_from(ScanRun).where(ScanRun.trigger == RunTrigger.COLLECTOR))
        devices = session.scalar(select(func.count()).select_from(Device))
        shared_macs = session.scalar(select(func.count()).select_from(
            select(Interface.mac).where(Interface.mac.is_not(None)).group_by(Interface.mac)
            .having(func.count(Interface.device_id.distinct()) > 1).subquery()))
        resent = sum(session.scalars(select(Collector.duplicates)))
    engine.dispose()
    by_site = {site.collector_id: site.k for site in sites}
    stored: dict[tuple[int, str], list[int]] = {}
    rejected = 0
    for collector_id, batch_id, status, observations in rows:
        if status is BatchStatus.ACCEPTED:
            stored.setdefault((by_site[collector_id], batch_id), []).append(observations)
        else:
            rejected += 1
    produced_obs = sum(obs for batches in produced.values() for obs in batches.values())
    kept_obs = sum(stored[(k, batch_id)][0] for k, batches in produced.items() for batch_id in batches
                   if (k, batch_id) in stored)
    lost = produced_obs - kept_obs
    twice = sum(len(counts) - 1 for counts in stored.values())
    accepted = len(stored)
    expected_devices = len(sites) * hosts
    duplicates = twice + max(0, runs - accepted) + max(0, devices - expected_devices) + shared_macs
    found = (f"{accepted:,} batches accepted, {rejected} rejected, {resent} resent after a lost reply (the server "
             f"said duplicate), {runs:,} collector runs, {devices:,} devices ({expected_devices:,} hosts at the "
             f"sites), MACs on more than one device {shared_macs}")
    return lost, duplicates, found


if __name__ == "__main__":
    main()
