"""Benchmark: SNMP inventory of the lab recordings by the product, by FusionInventory and by snmpbulkwalk.

    .venv/bin/python bench/snmp_inventory.py [--site-devices 13] [--delay-ms 10] [--skip-fusion]

Run as root: the agents and the relays listen on UDP port 161 of their loopback addresses, because
FusionInventory's per-VLAN queries (`community@vlan`) ignore `--port` and go to port 161.

Every recording of discovery/data/lab.csv is served by its own snmpsim process on 127.0.33.N (not the
127.0.1.x of `make run` nor the 127.0.5.x of the tests, so a lab already running is left alone), community `public`. Starting the
simulators and waiting until each answers sysObjectID.0 is not timed. Three pollers, each polling all
devices at once:
- the product: `discovery.snmp.poll.poll_host` (sysObjectID.0, then `collect`) and `identify` per device,
  all devices concurrently in this process on one SnmpEngine, as `poll_addresses` does; timeout 1 s,
  1 retry;
- snmpbulkwalk (net-snmp), as a shell script would: one `sh` per device, all in parallel, walking in
  sequence each subtree the product reads (`collect.COLUMNS`, then the vendor columns of the device's
  enterprise), `-v2c -c public -t 1 -r 1` and the default -Cr10. The enterprise comes from the untimed
  readiness check, so the script gets it for free. `-On -Ox` only change how values are printed (numeric
  OIDs, strings in hex), so that the output can be parsed back into the product's readings; its
  fields are what the product's `identify` finds in them;
- `fusioninventory-netinventory` (Debian's fusioninventory-agent-task-network), one process per device,
  all in parallel, `--credentials version:2c,community:public --timeout 1` (its default 15 s makes a
  Cisco switch take minutes: its per-VLAN queries go unanswered). It exits 0 when the device did not
  answer, so its XML is parsed (DEVICE/INFO: MANUFACTURER, MODEL, SERIAL, FIRMWARE, TYPE) and a device
  with none of them counts as failed. Its worker thread prints the result with Perl's per-thread
  STDOUT buffer and the main thread may exit before that buffer is flushed (on a loaded machine the
  XML is cut at 16 KiB, or lost); the script therefore runs with STDOUT autoflushed
  (`perl -e 'STDOUT->autoflush(1); do $script'`), which changes no query.

Two conditions:
1. loopback: the pollers speak to the agents directly and are timed so. SNMP requests are counted in a
   separate, untimed pass before (it also warms the simulators): the same three runs through a relay
   on 127.0.34.N:161 that forwards each datagram at once and counts those sent to the agent
   (retransmissions included). Targets: the product's wall time at most snmpbulkwalk's, and no more
   requests per device.
2. site over a city network: a relay on 127.0.35.N:161 in front of each agent holds every datagram
   `--delay-ms` (10) in each direction, 20 ms of round trip; the pollers poll through it and the
   relay counts the requests. `--site-devices` recordings (13), taken in turn from each class of
   recording (switch, router, firewall, wifi, UPS, Linux, Windows, storage, camera). Target: at least
   10 times faster than FusionInventory in total wall time (20 is the aim).
In both: the product finds each field (vendor, model, serial, firmware, class) on at least as many
devices as FusionInventory.

The relays run in a subprocess (this file with `--relay`), an asyncio loop of their own, so that
forwarding never competes with the product's loop. Progress goes to stderr; the last stdout line has
the figures as key=value pairs. Only 127.0.0.0/8 addresses are used."""
import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Run as `python bench/snmp_inventory.py`: the project is not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from discovery import lab  # noqa: E402
from discovery.models import SnmpVersion  # noqa: E402
from discovery.snmp import client, collect, identify, poll  # noqa: E402

FIELDS = ("vendor", "model", "serial", "firmware", "class")
# Away from `make run`'s lab (127.0.1.N) and the test suite's (127.0.5.N), which may be running.
AGENT_NET, COUNTING_NET, SITE_NET = "127.0.33", "127.0.34", "127.0.35"
PORT = 161
COMMUNITY = "public"
TIMEOUT_S, RETRIES = 1, 1
READY_WAIT_S = 60
FUSION = "fusioninventory-netinventory"
# FusionInventory's DEVICE/INFO element for each field.
FUSION_FIELDS = {"vendor": "MANUFACTURER", "model": "MODEL", "serial": "SERIAL", "firmware": "FIRMWARE",
                 "class": "TYPE"}
CLASS_ORDER = ("network/switch", "network/router", "network/firewall", "network/wifi", "UPS", "os/linux",
               "os/windows", "storage", "camera")


@dataclass
class DeviceResult:
    name: str
    wall_s: float
    requests: int = 0
    fields: dict[str, str] = field(default_factory=dict)
    failed: str | None = None  # why nothing was found


@dataclass
class Run:
    tool: str
    wall_s: float
    devices: list[DeviceResult]

    def requests_per_device(self) -> float:
        return sum(d.requests for d in self.devices) / len(self.devices)

    def found(self, name: str) -> int:
        return sum(1 for d in self.devices if d.fields.get(name))


@dataclass(frozen=True)
class Target:
    device: lab.LabDevice
    address: str  # where the pollers send: the agent itself or its relay
    enterprise: int | None


def main() -> None:
    args = parse_args()
    if args.relay:
        relay_main(args.delay_ms, args.relay)
        return
    if os.geteuid() != 0:
        sys.exit("run as root: agents and relays listen on UDP port 161 (FusionInventory's per-VLAN queries go there)")
    fusion = shutil.which(FUSION)
    if fusion is None or args.skip_fusion:
        say(f"{FUSION} not found (apt-get install fusioninventory-agent-task-network): skipping that peer"
            if fusion is None else "FusionInventory skipped (--skip-fusion)")
        fusion = None
    devices = [lab.LabDevice(d.name, d.recording, f"{AGENT_NET}.{i}") for i, d in enumerate(lab.lab_devices(), 1)]
    site = site_devices(devices, args.site_devices)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="snmp-inventory-bench-") as lab_dir:
        try:
            figures = asyncio.run(run_benchmark(Path(lab_dir), devices, site, fusion, args.delay_ms))
        finally:
            lab.remove(Path(lab_dir))
    figures["run_s"] = round(time.perf_counter() - started, 1)
    print(" ".join(f"{key}={value}" for key, value in figures.items()), flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site-devices", type=int, default=13, help="recordings polled in the site condition")
    parser.add_argument("--delay-ms", type=float, default=10.0, help="site relay hold, each direction")
    parser.add_argument("--skip-fusion", action="store_true")
    parser.add_argument("--relay", nargs="+", metavar="FRONT=AGENT", help=argparse.SUPPRESS)
    return parser.parse_args()


def site_devices(devices: Sequence[lab.LabDevice], count: int) -> list[lab.LabDevice]:
    """`count` devices, one of each class of recording in turn, so that every class is there."""
    by_class: dict[str, list[lab.LabDevice]] = {}
    for device in devices:
        kind = next((c for c in CLASS_ORDER if device.recording.startswith(c + "/")), "other")
        by_class.setdefault(kind, []).append(device)
    chosen: list[lab.LabDevice] = []
    while len(chosen) < min(count, len(devices)):
        for group in by_class.values():
            if group and len(chosen) < count:
                chosen.append(group.pop(0))
    return chosen


async def run_benchmark(lab_dir: Path, devices: list[lab.LabDevice], site: list[lab.LabDevice],
                        fusion: str | None, delay_ms: float) -> dict[str, Any]:
    require_free([d.address for d in devices] + [f"{net}.{host(d)}" for d in devices for net in (COUNTING_NET, SITE_NET)])
    say(f"starting {len(devices)} simulators on {AGENT_NET}.x:{PORT}")
    lab.start(lab_dir, devices, PORT)
    enterprises = await wait_ready(devices)
    figures: dict[str, Any] = {}
    counting = await Relay.start(0, {f"{COUNTING_NET}.{host(d)}": d.address for d in devices})
    delayed = await Relay.start(delay_ms, {f"{SITE_NET}.{host(d)}": d.address for d in site})
    try:
        say("loopback: counting pass through a zero-delay relay (untimed)")
        counted = {}
        for tool in tools(fusion):
            await counting.take_counts()
            await run_tool(tool, [Target(d, f"{COUNTING_NET}.{host(d)}", enterprises[d.name]) for d in devices], fusion)
            counts = await counting.take_counts()
            counted[tool] = {d.name: counts.get(f"{COUNTING_NET}.{host(d)}", 0) for d in devices}
        runs = []
        for tool in tools(fusion):
            say(f"loopback: {tool}, timed, direct to the agents")
            run = await run_tool(tool, [Target(d, d.address, enterprises[d.name]) for d in devices], fusion)
            for result in run.devices:
                result.requests = counted[tool][result.name]
            runs.append(run)
        figures |= report("loopback", f"{len(devices)} devices, direct; requests counted through a zero-delay relay",
                          runs, site=False)
        runs = []
        for tool in tools(fusion):
            say(f"site: {tool} through the {delay_ms:g} ms relay")
            await delayed.take_counts()
            run = await run_tool(tool, [Target(d, f"{SITE_NET}.{host(d)}", enterprises[d.name]) for d in site], fusion)
            counts = await delayed.take_counts()
            for result, device in zip(run.devices, site):
                result.requests = counts.get(f"{SITE_NET}.{host(device)}", 0)
            runs.append(run)
        figures |= report("site", f"{len(site)} devices, {2 * delay_ms:g} ms round trip through a relay", runs,
                          site=True)
    finally:
        await counting.stop()
        await delayed.stop()
    return figures


def require_free(addresses: Sequence[str]) -> None:
    """Stop before starting anything if another process already listens on one of our addresses."""
    for address in addresses:
        try:
            udp_socket(address, PORT).close()
        except OSError as error:
            raise SystemExit(f"{address}:{PORT} is taken ({error.strerror}): is another bench running?")


def tools(fusion: str | None) -> list[str]:
    return ["product", "snmpbulkwalk"] + (["fusioninventory"] if fusion else [])


def host(device: lab.LabDevice) -> str:
    return device.address.rsplit(".", 1)[1]


async def wait_ready(devices: Sequence[lab.LabDevice]) -> dict[str, int | None]:
    """Wait until every agent answers sysObjectID.0; the enterprise number of each."""
    engine = client.new_engine()
    try:
        async def ready(device: lab.LabDevice) -> int | None:
            deadline = time.monotonic() + READY_WAIT_S
            while True:
                agent = client.Agent(engine, device.address, PORT, access(), timeout=1, retries=0)
                try:
                    found = await agent.get("1.3.6.1.2.1.1.2.0")
                    return collect.enterprise_of({"sysObjectID": found})
                except client.SnmpFault:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"{device.name} ({device.address}) did not answer within {READY_WAIT_S} s")
                    await asyncio.sleep(0.5)
        numbers = await asyncio.gather(*(ready(d) for d in devices))
    finally:
        engine.close_dispatcher()
    say(f"all {len(devices)} agents answer")
    return {d.name: number for d, number in zip(devices, numbers)}


def access() -> client.Access:
    return client.Access("bench", SnmpVersion.V2C, community=COMMUNITY)


async def run_tool(tool: str, targets: Sequence[Target], fusion: str | None) -> Run:
    pollers: dict[str, Callable[[Sequence[Target]], Any]] = {
        "product": poll_product, "snmpbulkwalk": poll_bulkwalk,
        "fusioninventory": lambda t: poll_fusion(t, fusion)}
    started = time.perf_counter()
    devices = await pollers[tool](targets)
    run = Run(tool, time.perf_counter() - started, devices)
    slowest = max(devices, key=lambda d: d.wall_s)
    say(f"  {tool}: {run.wall_s:.2f} s, slowest {slowest.name} {slowest.wall_s:.2f} s"
        + "".join(f"; {d.name} failed: {d.failed}" for d in devices if d.failed))
    return run


async def poll_product(targets: Sequence[Target]) -> list[DeviceResult]:
    """`discovery.snmp.poll.poll_addresses` with a clock per host: the same `poll_host` on one engine,
    all hosts at once; a scope's poll does nothing else on the network."""
    settings = poll.PollSettings(timeout=TIMEOUT_S, retries=RETRIES, concurrency=len(targets))
    engine = client.new_engine()  # inside the timed run: a real poll builds one too

    async def one(target: Target) -> DeviceResult:
        started = time.perf_counter()
        result = await poll.poll_host(engine, target.address, PORT, [(0, access())], settings)
        wall_s = time.perf_counter() - started
        if result.readings is None:
            return DeviceResult(target.device.name, wall_s, failed=result.reason)
        return DeviceResult(target.device.name, wall_s, fields=product_fields(identify.identify(result.readings)))
    try:
        return await client.gather_bounded([one(t) for t in targets], settings.concurrency)
    finally:
        engine.close_dispatcher()


def product_fields(found: dict[str, identify.Finding]) -> dict[str, str]:
    names = {"vendor": "vendor", "model": "model", "serial": "serial", "firmware": "firmware",
             "class": "device_class"}
    return {name: str(found[key].value) for name, key in names.items() if key in found}


async def poll_bulkwalk(targets: Sequence[Target]) -> list[DeviceResult]:
    return await asyncio.gather(*(bulkwalk_device(t) for t in targets))


def subtrees_of(target: Target) -> dict[str, str]:
    """name → OID of every subtree the product reads from this device."""
    return dict(collect.COLUMNS) | collect.vendor_columns(target.enterprise)


async def bulkwalk_device(target: Target) -> DeviceResult:
    columns = subtrees_of(target)
    script = ('for oid in "$@"; do snmpbulkwalk -v2c -c "$BENCH_COMMUNITY" '
              f'-t {TIMEOUT_S} -r {RETRIES} -On -Ox {target.address}:{PORT} "$oid"; done')
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        "sh", "-c", script, "sh", *columns.values(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=os.environ | {"BENCH_COMMUNITY": COMMUNITY})
    out, err = await process.communicate()
    wall_s = time.perf_counter() - started
    walked = parse_bulkwalk(out.decode("latin-1"))
    if not walked:
        return DeviceResult(target.device.name, wall_s, failed=err.decode(errors="replace").strip()[:120] or "no values")
    readings: collect.Readings = {}
    for name, oid in columns.items():
        root = tuple(int(n) for n in oid.split("."))
        readings[name] = {o[len(root):]: v for o, v in walked.items() if o[:len(root)] == root}
    return DeviceResult(target.device.name, wall_s, fields=product_fields(identify.identify(readings)))


VARBIND = re.compile(r"^\.([\d.]+) = (.*)$")


def parse_bulkwalk(output: str) -> dict[tuple[int, ...], Any]:
    """snmpbulkwalk's `-On -Ox` lines as {OID: value}, values typed as the product's client gives them."""
    values: dict[tuple[int, ...], Any] = {}
    oid, raw = None, ""
    for line in output.splitlines() + [".0 = END"]:
        match = VARBIND.match(line)
        if not match:  # a Hex-STRING goes on over several lines
            raw += " " + line
            continue
        if oid is not None:
            value = bulkwalk_value(raw)
            if value is not None:
                values[oid] = value
        oid, raw = tuple(int(n) for n in match.group(1).split(".")), match.group(2)
    return values


def bulkwalk_value(raw: str) -> Any:
    kind, _, rest = raw.partition(": ")
    rest = rest.strip()
    if raw.strip() == '""':
        return b""
    if kind == "Hex-STRING":
        return bytes.fromhex(rest)
    if kind == "STRING":
        return rest.strip('"').encode("latin-1")
    if kind == "OID":
        return tuple(int(n) for n in rest.strip(".").split("."))
    if kind in ("INTEGER", "Gauge32", "Counter32", "Counter64", "Unsigned32"):
        return int(rest.split()[0])
    if kind == "Timeticks":
        return int(rest.split(")")[0].strip("("))
    if kind == "IpAddress":
        return rest
    return None  # No Such Object / Instance, End of MIB View


async def poll_fusion(targets: Sequence[Target], program: str | None) -> list[DeviceResult]:
    return await asyncio.gather(*(fusion_device(t, program) for t in targets))


async def fusion_device(target: Target, program: str) -> DeviceResult:
    started = time.perf_counter()
    # Autoflushed STDOUT: see the module docstring (its worker thread's output is otherwise lost at times).
    process = await asyncio.create_subprocess_exec(
        "perl", "-MIO::Handle", "-e", "STDOUT->autoflush(1); $0 = shift @ARGV; do $0; die $@ if $@;",
        program, "--host", target.address, "--credentials", f"version:2c,community:{COMMUNITY}",
        "--timeout", str(TIMEOUT_S), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await process.communicate()
    wall_s = time.perf_counter() - started
    try:
        info = ET.fromstring(out).find("CONTENT/DEVICE/INFO") if out.strip() else None
    except ET.ParseError as error:
        return DeviceResult(target.device.name, wall_s, failed=f"XML cut short ({error})")
    fields = {name: (info.findtext(tag) or "").strip() for name, tag in FUSION_FIELDS.items()} if info is not None else {}
    fields = {name: value for name, value in fields.items() if value}
    if not fields:
        error = ET.fromstring(out).findtext(".//ERROR/MESSAGE") if out.strip() else err.decode(errors="replace")
        return DeviceResult(target.device.name, wall_s, failed=(error or "none of the five fields in its XML").strip()[:120])
    return DeviceResult(target.device.name, wall_s, fields=fields)


def report(condition: str, description: str, runs: list[Run], *, site: bool) -> dict[str, Any]:
    """Print the condition's table and targets; its figures."""
    by_tool = {run.tool: run for run in runs}
    product, bulkwalk, fusion = by_tool["product"], by_tool["snmpbulkwalk"], by_tool.get("fusioninventory")
    print(f"\n{condition}: {description}")
    print(f"{'tool':<16}{'wall_s':>8}{'req/dev':>9}{'slowest device':>28}" + "".join(f"{f:>10}" for f in FIELDS)
          + f"{'failed':>8}")
    for run in runs:
        slowest = max(run.devices, key=lambda d: d.wall_s)
        print(f"{run.tool:<16}{run.wall_s:>8.2f}{run.requests_per_device():>9.1f}"
              f"{f'{slowest.name} {slowest.wall_s:.2f} s':>28}"
              + "".join(f"{run.found(f):>10}" for f in FIELDS) + f"{sum(1 for d in run.devices if d.failed):>8}")
    say(f"{condition}, per device: wall s / requests")
    for position, device in enumerate(product.devices):
        say(f"  {device.name:<18}" + "".join(f"{run.tool} {run.devices[position].wall_s:.2f}/"
                                             f"{run.devices[position].requests}  " for run in runs))
    figures: dict[str, Any] = {}
    for run in runs:
        key = {"product": "product", "snmpbulkwalk": "bulkwalk", "fusioninventory": "fusion"}[run.tool]
        figures[f"{condition}_{key}_s"] = round(run.wall_s, 2)
        figures[f"{condition}_{key}_requests"] = round(run.requests_per_device(), 1)
    if site:
        if fusion:
            speedup = fusion.wall_s / product.wall_s
            figures[f"{condition}_speedup"] = round(speedup, 1)
            target(figures, f"{condition}_faster_10x", speedup >= 10,
                   f"product {speedup:.1f} times faster than FusionInventory (target 10, aim 20)")
    else:
        target(figures, f"{condition}_time", product.wall_s <= bulkwalk.wall_s,
               f"product {product.wall_s:.2f} s <= snmpbulkwalk {bulkwalk.wall_s:.2f} s")
        target(figures, f"{condition}_requests", product.requests_per_device() <= bulkwalk.requests_per_device(),
               f"product {product.requests_per_device():.1f} <= snmpbulkwalk {bulkwalk.requests_per_device():.1f} "
               "requests per device")
    if fusion:
        short = coverage_gaps(product, fusion)
        target(figures, f"{condition}_coverage", not any(product.found(f) < fusion.found(f) for f in FIELDS),
               "product finds each field on at least as many devices as FusionInventory"
               + "".join(f"; {f} {product.found(f)} < {fusion.found(f)}" for f in FIELDS
                         if product.found(f) < fusion.found(f)))
        for name, devices in short.items():
            print(f"  found by FusionInventory, not by the product: {name}: {', '.join(devices)}")
    return figures


def coverage_gaps(product: Run, fusion: Run) -> dict[str, list[str]]:
    """Per field, the devices on which FusionInventory found a value and the product none (with its value)."""
    mine = {d.name: d for d in product.devices}
    gaps: dict[str, list[str]] = {}
    for device in fusion.devices:
        for name in FIELDS:
            if device.fields.get(name) and not mine[device.name].fields.get(name):
                gaps.setdefault(name, []).append(f"{device.name} ({device.fields[name]!r})")
    return gaps


def target(figures: dict[str, Any], key: str, met: bool, text: str) -> None:
    print(f"target {'met' if met else 'MISSED'}: {text}")
    figures[f"{key}_met"] = int(met)


class Relay:
    """The relay subprocess (this file with --relay), spoken to over its stdin and stdout."""

    def __init__(self, process: asyncio.subprocess.Process):
        self.process = process

    @classmethod
    async def start(cls, delay_ms: float, pairs: dict[str, str]) -> "Relay":
        process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--relay", *(f"{front}={agent}" for front, agent in pairs.items()),
            "--delay-ms", str(delay_ms), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = await process.stdout.readline()
        if line.strip() != b"ready":
            raise SystemExit(f"relay did not start: {line!r}")
        return cls(process)

    async def take_counts(self) -> dict[str, int]:
        """Datagrams sent to each agent since the last call, by front address."""
        self.process.stdin.write(b"counts\n")
        await self.process.stdin.drain()
        return json.loads(await self.process.stdout.readline())

    async def stop(self) -> None:
        self.process.stdin.close()
        await self.process.wait()


def relay_main(delay_ms: float, pairs: Sequence[str]) -> None:
    asyncio.run(serve_relays(delay_ms / 1000, dict(pair.split("=") for pair in pairs)))


async def serve_relays(delay_s: float, pairs: dict[str, str]) -> None:
    """Forward UDP port 161 of each front address to the same port of its agent, holding each datagram
    `delay_s` in each direction; counts what goes to each agent. Ends when stdin closes."""
    loop = asyncio.get_running_loop()
    counts = {front: 0 for front in pairs}

    def later(send: Callable[[], Any]) -> None:
        loop.call_later(delay_s, send) if delay_s else send()

    for front_address, agent_address in pairs.items():
        front = udp_socket(front_address, PORT)
        upstreams: dict[tuple[str, int], socket.socket] = {}

        def from_client(front=front, front_address=front_address, agent_address=agent_address, upstreams=upstreams):
            data, sender = front.recvfrom(65535)
            counts[front_address] += 1
            upstream = upstreams.get(sender)
            if upstream is None:  # one upstream socket per client, so that answers find their way back
                upstream = upstreams[sender] = udp_socket("127.0.0.1", 0)
                upstream.connect((agent_address, PORT))
                loop.add_reader(upstream, from_agent, upstream, front, sender)
            later(lambda: upstream.send(data))
        loop.add_reader(front, from_client)

    def from_agent(upstream: socket.socket, front: socket.socket, sender: tuple[str, int]) -> None:
        try:
            data = upstream.recv(65535)
        except ConnectionRefusedError:  # the agent's port was closed: the client times out, as it would
            return
        later(lambda: front.sendto(data, sender))

    commands = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    print("ready", flush=True)
    while line := await commands.readline():
        if line.strip() == b"counts":
            print(json.dumps(counts), flush=True)
            counts.update((front, 0) for front in counts)


def udp_socket(address: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((address, port))
    sock.setblocking(False)
    return sock


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
