"""Benchmark: the product's SNMP device identification on a corpus of snmpsim recordings with ground truth.

    .venv/bin/python bench/identification.py [CORPUS] [--lab] [--out FILE] [--concurrency 1]

CORPUS     a directory with `recordings/<name>.snmprec`, `truth.tsv` and `score.py` (default
           ../shared/snmp-corpus relative to the project root; see its README). It is only read: its
           recordings are copied to a temporary directory and served from there.
--lab      measure the project's own lab instead (discovery/lab.py: the snmpsim-data recordings of
           discovery/data/lab.csv, community = the lab device's name). The lab has no truth: the product's
           identification is printed per device, with no score.
--out      also write the product TSV (`recording vendor model serial firmware class`, classes mapped as
           below) to FILE, so that runs can be compared.
--concurrency  devices polled at once on the one engine (default 1: one after another).

How:
1. One `snmpsim-command-responder` (.venv/bin) serves the copy on 127.0.0.1 and a free UDP port (loopback
   only; SNMPSIM_ALLOW_ROOT=true when run as root); each recording answers the community that is its file's
   base name. The run waits until the first community answers sysDescr.0 through the product's client
   (`discovery.snmp.client.Agent`), and stops the simulator in a `finally`.
2. 127.0.0.1 is checked against an allowlist of 127.0.0.1/32 with `discovery.allowlist.require_allowed`, as
   a scan checks its scope's addresses (`discovery.scans.scope_addresses`), before anything is started.
3. Every recording is polled as a scan polls: `discovery.snmp.poll.poll_host` on one `SnmpEngine` with one
   v2c credential (its community) and `PollSettings(timeout=1, retries=1)`, in one asyncio loop. Its
   observation is what the scan stores: `observations_by_address` (which runs `identify`) and then
   `inventory.observations.normalise`, as `ingest` does (a serial upper-cased, placeholder serials dropped,
   text on one line). Where `normalise` refuses the observation (an interface address, say), ingest would
   refuse the scan's whole batch: the device is counted in `refused` and named on stderr, and its
   identification fields alone are normalised and scored. `HostPoll.requests` counts the SNMP requests sent
   (retries included); requests_per_device is their mean over all devices.
4. The product TSV goes to a temporary file and the corpus's own score.py scores it
   (`CORPUS/score.py product.tsv --truth CORPUS/truth.tsv`, run by this interpreter; it needs only the
   standard library); its tables are printed as they are.

Classes: the product's `inventory.models.DeviceClass` values are the corpus's names except `laptop`, written
as `workstation` (the corpus's class for end-user computers), and `scanner`, written as `printer` (LibreNMS,
whose types the corpus uses, files document devices under printer; the corpus has no scanner). The mapping is
by class name only.

Progress goes to stderr. The last stdout line has the figures as key=value pairs: `<field>_exact_pct` and
`<field>_contains_pct` as score.py prints them (no contains figure for serial and class), `requests_per_device`,
`devices`, the target flags `vendor_met` (vendor exact >= 95), `class_met` (class exact >= 95), `model_met`
(model contains >= 85), `serial_met` (serial exact >= 90) and `firmware_met` (firmware contains >= 85), each 1
or 0, then `failed` (devices that did not answer), `refused` and `run_s`. With --lab: `requests_per_device`,
`devices`, `failed`, `refused`, `run_s`. Only 127.0.0.1 is contacted."""
import argparse
import asyncio
import datetime as dt
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

# Run as `python bench/identification.py`: the project is not an installed package.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from discovery import lab  # noqa: E402
from discovery.allowlist import require_allowed  # noqa: E402
from discovery.models import SnmpVersion  # noqa: E402
from discovery.snmp.client import Access, Agent, SnmpFault, gather_bounded, new_engine  # noqa: E402
from discovery.snmp.poll import HostPoll, PollSettings, observations_by_address, poll_host  # noqa: E402
from inventory.observations import InvalidObservation, normalise  # noqa: E402

HOST = "127.0.0.1"
ALLOWLIST = "127.0.0.1/32"  # loopback only: nothing else may be contacted
DEFAULT_CORPUS = ROOT.parent / "shared" / "snmp-corpus"
SETTINGS = PollSettings(timeout=1, retries=1)  # as tests/catalog/test_compliance_lab.py polls the lab
READY_WAIT_S = 120  # snmpsim indexes every recording before it answers
COLUMNS = ("recording", "vendor", "model", "serial", "firmware", "class")
FIELDS = ("vendor", "model", "serial", "firmware", "class")
# The product's class names that the corpus spells otherwise (module docstring); the rest are the same.
CLASS_NAMES = {"laptop": "workstation", "scanner": "printer"}
# field: (score.py figure, minimum %)
TARGETS = {"vendor": ("exact", 95.0), "class": ("exact", 95.0), "model": ("contains", 85.0),
           "serial": ("exact", 90.0), "firmware": ("contains", 85.0)}
SCORE_ROW = re.compile(r"^(vendor|model|serial|firmware|class)\s+(\d+)\s+([\d.]+)\s+([\d.]+)$")
UNIT_CODE = "BENCH"  # an observation needs a unit; nothing is stored
AT = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


@dataclass
class Identified:
    recording: str
    requests: int = 0
    fields: dict[str, str] = field(default_factory=dict)
    failed: str | None = None  # why the device gave no readings
    refused: str | None = None  # why ingest would refuse the scan's observation (see `identified`)


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    require_allowed(HOST, ALLOWLIST)  # the scan's own check, before any packet
    with tempfile.TemporaryDirectory(prefix="identification-bench-") as scratch:
        data_dir = Path(scratch) / "data"
        names = prepare_lab(data_dir) if args.lab else prepare_corpus(args.corpus, data_dir)
        say(f"{len(names)} recordings in {data_dir}")
        results = serve_and_poll(Path(scratch), data_dir, names, args.concurrency)
        product_tsv = Path(scratch) / "product.tsv"
        write_tsv(product_tsv, results)
        if args.out:
            write_tsv(args.out, results)
            say(f"product TSV written to {args.out}")
        common = {"requests_per_device": round(sum(r.requests for r in results) / len(results), 1),
                  "devices": len(results)}
        if args.lab:
            print_table(results)
            figures = common
        else:
            scored, met = score(args.corpus, product_tsv)
            figures = scored | common | met
    failed = [r for r in results if r.failed]
    for result in failed:
        say(f"{result.recording}: no readings: {result.failed}")
    refused = [r for r in results if r.refused]
    for result in refused:
        say(f"{result.recording}: ingest would refuse its observation: {result.refused}")
    figures |= {"failed": len(failed), "refused": len(refused), "run_s": round(time.perf_counter() - started, 1)}
    print(" ".join(f"{key}={value}" for key, value in figures.items()), flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS,
                        help="recordings/, truth.tsv and score.py (default ../shared/snmp-corpus)")
    parser.add_argument("--lab", action="store_true", help="the project's lab recordings instead (no truth)")
    parser.add_argument("--out", type=Path, help="also write the product TSV here")
    parser.add_argument("--concurrency", type=int, default=1, help="devices polled at once")
    args = parser.parse_args()
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    if not args.lab:
        args.corpus = args.corpus.resolve()
        for part in ("recordings", "truth.tsv", "score.py"):
            if not (args.corpus / part).exists():
                parser.error(f"{args.corpus / part} does not exist")
    return args


def prepare_corpus(corpus: Path, data_dir: Path) -> list[str]:
    """A copy of the corpus's recordings (the simulator writes nothing there, but the corpus stays untouched)."""
    shutil.copytree(corpus / "recordings", data_dir)
    return sorted(path.stem for path in data_dir.glob("*.snmprec"))


def prepare_lab(data_dir: Path) -> list[str]:
    """Each lab recording as `<device name>.snmprec`, decompressed from the snmpsim-data package."""
    data_dir.mkdir()
    devices = lab.lab_devices()
    for device in devices:
        (data_dir / f"{device.name}.snmprec").write_bytes(lab.recording_text(device.recording))
    return [device.name for device in devices]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def serve_and_poll(scratch: Path, data_dir: Path, names: Sequence[str], concurrency: int) -> list[Identified]:
    cache_dir = scratch / "cache"
    cache_dir.mkdir()
    port = free_udp_port()
    environment = os.environ | ({"SNMPSIM_ALLOW_ROOT": "true"} if os.geteuid() == 0 else {})
    log_path = scratch / "snmpsim.log"
    say(f"starting snmpsim on {HOST}:{port}")
    with open(log_path, "wb") as log:
        simulator = subprocess.Popen(lab.simulator_command(data_dir, cache_dir, HOST, port), stdout=log,
                                     stderr=subprocess.STDOUT, env=environment, start_new_session=True)
    try:
        return asyncio.run(poll_all(simulator, log_path, port, names, concurrency))
    finally:
        simulator.terminate()
        try:
            simulator.wait(timeout=10)
        except subprocess.TimeoutExpired:
            simulator.kill()
            simulator.wait()


async def poll_all(simulator: subprocess.Popen, log_path: Path, port: int, names: Sequence[str],
                   concurrency: int) -> list[Identified]:
    engine = new_engine()
    try:
        await wait_ready(engine, simulator, log_path, port, names[0])
        done, started = 0, time.perf_counter()

        async def one(name: str) -> Identified:
            nonlocal done
            result = identified(name, await poll_host(engine, HOST, port, [(1, access(name))], SETTINGS))
            done += 1
            say(f"[{done}/{len(names)} {time.perf_counter() - started:.1f} s] {name}: {result.requests} requests"
                + (f", failed: {result.failed}" if result.failed else ""))
            return result
        results = await gather_bounded([one(name) for name in names], concurrency)
        say(f"{len(names)} devices polled in {time.perf_counter() - started:.1f} s")
        return results
    finally:
        engine.close_dispatcher()


async def wait_ready(engine, simulator: subprocess.Popen, log_path: Path, port: int, name: str) -> None:
    """Until the first recording answers sysDescr.0; the simulator indexes every recording first."""
    started = time.monotonic()
    while True:
        if simulator.poll() is not None:
            raise SystemExit(f"snmpsim exited with {simulator.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            if await Agent(engine, HOST, port, access(name), timeout=1, retries=0).get("1.3.6.1.2.1.1.1.0"):
                say(f"snmpsim answers after {time.monotonic() - started:.1f} s")
                return
        except SnmpFault:
            pass  # still indexing
        if time.monotonic() - started > READY_WAIT_S:
            raise SystemExit(f"snmpsim did not answer within {READY_WAIT_S} s")
        await asyncio.sleep(0.5)


def access(community: str) -> Access:
    return Access("bench", SnmpVersion.V2C, community=community)


def identified(name: str, poll: HostPoll) -> Identified:
    """The identification the scan would store for this poll."""
    if poll.readings is None:
        return Identified(name, poll.requests, failed=poll.reason)
    observed = next(o for address, o in observations_by_address([poll], UNIT_CODE, AT) if address is not None)
    refused = None
    try:
        stored = normalise(observed).fields
    except InvalidObservation as error:
        # ingest would refuse the scan's whole batch; the identification fields alone are normalised as it would
        refused = str(error)
        stored = normalise(replace(observed, interfaces=(), neighbours=())).fields
    found = {"vendor": stored.get("vendor"), "model": stored.get("model"), "serial": stored.get("serial"),
             "firmware": stored.get("firmware"), "class": stored.get("device_class")}
    fields = {key: str(getattr(value, "value", value)) for key, value in found.items() if value is not None}
    if "class" in fields:
        fields["class"] = CLASS_NAMES.get(fields["class"], fields["class"])
    return Identified(name, poll.requests, fields, refused=refused)


def cell(value: str) -> str:
    """A TSV cell: score.py reads tabs and newlines as separators, never quotes."""
    return " ".join(value.split())


def write_tsv(path: Path, results: Sequence[Identified]) -> None:
    rows = [COLUMNS] + [[result.recording] + [cell(result.fields.get(name, "")) for name in FIELDS]
                        for result in results]
    lines = ["\t".join(row) for row in rows]
    Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def score(corpus: Path, product_tsv: Path) -> tuple[dict[str, float], dict[str, int]]:
    """score.py's output printed as it is; its exact and contains figures, and the targets met."""
    finished = subprocess.run([sys.executable, str(corpus / "score.py"), str(product_tsv),
                               "--truth", str(corpus / "truth.tsv")], capture_output=True, text=True)
    if finished.returncode != 0:
        raise SystemExit(f"score.py exited with {finished.returncode}:\n{finished.stderr}")
    print(finished.stdout, end="", flush=True)
    rows = {}
    for line in finished.stdout.splitlines():
        match = SCORE_ROW.match(line.strip())
        if match:
            rows[match.group(1)] = {"exact": float(match.group(3)), "contains": float(match.group(4))}
    if set(rows) != set(FIELDS):
        raise SystemExit(f"score.py's table lacks {', '.join(sorted(set(FIELDS) - set(rows)))}")
    figures: dict[str, float] = {}
    for name in FIELDS:
        figures[f"{name}_exact_pct"] = rows[name]["exact"]
        if name not in ("serial", "class"):
            figures[f"{name}_contains_pct"] = rows[name]["contains"]
    met = {f"{name}_met": int(rows[name][kind] >= minimum) for name, (kind, minimum) in TARGETS.items()}
    return figures, met


def print_table(results: Sequence[Identified]) -> None:
    widths = {"recording": 20, "vendor": 22, "model": 28, "serial": 20, "firmware": 28, "class": 16}
    print("".join(f"{name:<{widths[name]}}" for name in COLUMNS) + "requests")
    for result in results:
        values = [result.recording] + [result.fields.get(name, "-") for name in FIELDS]
        print("".join(f"{value[:widths[name] - 1]:<{widths[name]}}" for name, value in zip(COLUMNS, values))
              + f"{result.requests}" + (f"  failed: {result.failed}" if result.failed else ""))


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
