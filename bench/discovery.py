"""Benchmark: an nmap sweep of the namespace test network through the product, against the same raw
nmap command in the same run.

    .venv/bin/python bench/discovery.py [--repeat 5] [--no-os-detection]

Run as root: it builds the five hosts of tests/discovery/netns.py (network namespaces behind the bridge
rdtbr0, 10.213.7.11-15; building, waiting for their services and tearing down are not timed). Before
each sweep, `ip route get` of every host must go through rdtbr0, or the run stops with the reason.
Only those hosts and loopback (the SQLite file aside, nothing else) are contacted.

- raw nmap: `nmap -oX - <hosts> -p <port_list(settings)> <discovery.sweep.nmap_arguments(settings)>`,
  the command the product has python-nmap run, through subprocess, its XML read to the end;
- the product: `start_run` and `execute_run` of an nmap scope of the five hosts, on a fresh SQLite
  database each time (migrated with Alembic, units through `create_unit`, neither timed): the sweep
  through python-nmap, parsing, hints, ingestion and the run's bookkeeping.

Settings are the product's defaults (root: SYN scan, UDP 161, OS detection), so both sides do the same
probing. Each side runs --repeat times, alternating, and the medians are compared: the target is the
product taking at most 1.2 times as long as raw nmap. With --no-os-detection a sweep takes 0.2 to
0.4 s and nmap's own time flips between the two from one run to the next, raw or not: five rounds
do not settle that ratio (use --repeat 21). Progress goes to stderr; the last stdout line has
the figures as key=value pairs. Exit status 1 if a sweep misses a host or the product's run fails."""
import argparse
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

# Run as `python bench/discovery.py`: the project is not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.db import make_engine, make_session_factory, migrate
from core.encryption import SecretBox, new_key
from discovery.models import ScanScope  # noqa: E402
from discovery.scans import ScanSettings, execute_run, start_run  # noqa: E402
from discovery.scopes import create_scope  # noqa: E402
from discovery.sweep import SweepSettings, nmap_arguments, port_list  # noqa: E402
from inventory.models import UnitKind  # noqa: E402
from inventory.units import NewUnit, create_unit  # noqa: E402
from tests.discovery import netns  # noqa: E402

TARGET_RATIO = 1.2
ALLOWLIST = f"127.0.0.0/8,{netns.NETWORK}"


def raw_nmap(settings: SweepSettings, addresses: list[str]) -> tuple[float, int]:
    """Seconds for the raw command, and the hosts it found up."""
    # In python-nmap's order: nmap -oX - HOSTS -p PORTS ARGUMENTS.
    command = ["nmap", "-oX", "-", *addresses, "-p", port_list(settings), *shlex.split(nmap_arguments(settings))]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"raw nmap failed ({result.returncode}): {result.stderr.strip()}")
    up = ET.fromstring(result.stdout).find("runstats/hosts").get("up")
    return elapsed, int(up)


def product_run(work: Path, n: int, settings: ScanSettings) -> tuple[float, int]:
    """Seconds for start_run + execute_run on a fresh SQLite database, and the hosts the run stored."""
    engine = make_engine(f"sqlite:///{work / f'product-{n}.sqlite3'}")
    migrate(engine)
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        create_unit(session, NewUnit("C", "City", UnitKind.CITY, 0))
        create_unit(session, NewUnit("W1", "Ward One", UnitKind.WARD, 20), parent_code="C")
        scope_id = create_scope(session, unit_code="W1", name="netns", networks=netns.RANGE, allowlist=ALLOWLIST,
                                methods="nmap").id
    box = SecretBox([new_key()])
    started = time.perf_counter()
    with sessions() as session, session.begin():
        run_id = start_run(session, session.get(ScanScope, scope_id), "nmap", settings).id
    run = execute_run(sessions, run_id, box, settings)
    elapsed = time.perf_counter() - started
    engine.dispose()
    if run.status != "finished":
        sys.exit(f"the product's run {n} failed: {run.errors}")
    return elapsed, run.created


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-os-detection", dest="os_detection", action="store_false")
    args = parser.parse_args()
    sweep = SweepSettings(os_detection=args.os_detection)
    settings = ScanSettings(allowlist=ALLOWLIST, sweep=sweep)
    addresses = [host.address for host in netns.HOSTS]
    work = Path(tempfile.mkdtemp(prefix="bench-discovery-"))
    try:
        network = netns.start(work / "netns")
    except netns.Unavailable as error:
        sys.exit(f"no test network: {error.reason}")
    raw_s, product_s = [], []
    try:
        for n in range(args.repeat):
            for side, times in (("raw nmap", raw_s), ("product", product_s)):
                network.check_routes()  # every host through rdtbr0, right before each sweep
                elapsed, hosts = raw_nmap(sweep, addresses) if side == "raw nmap" else \
                    product_run(work, n, settings)
                if hosts != len(addresses):
                    sys.exit(f"{side} found {hosts} of the {len(addresses)} hosts")
                times.append(elapsed)
                print(f"round {n + 1}: {side} {elapsed:.3f} s ({hosts} hosts)", file=sys.stderr)
    except netns.Unavailable as error:
        sys.exit(f"stopped: {error.reason}")
    finally:
        network.stop()
        shutil.rmtree(work, ignore_errors=True)
    raw, product = statistics.median(raw_s), statistics.median(product_s)
    ratio = product / raw
    met = ratio <= TARGET_RATIO
    print(f"command: nmap -oX - {' '.join(addresses)} -p {port_list(sweep)} {nmap_arguments(sweep)}")
    print(f"raw nmap  median {raw:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in raw_s)})")
    print(f"product   median {product:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in product_s)})")
    print(f"ratio {ratio:.2f}: target of at most {TARGET_RATIO} {'met' if met else 'NOT met'}")
    print(f"hosts={len(addresses)} repeat={args.repeat} os_detection={int(args.os_detection)} "
          f"raw_nmap_s={raw:.3f} product_s={product:.3f} ratio={ratio:.2f} target={TARGET_RATIO} "
          f"met={int(met)}")


if __name__ == "__main__":
    main()
