"""A test network of five hosts in network namespaces, behind a bridge of the root namespace: real
ARP, real MACs of real makers, real services, and nothing that can reach any other network.

    rdtbr0 10.213.7.1/24 (root namespace)
      rdtv1 ── rdt-h1 10.213.7.11  HTTP (python -m http.server) and 22
      rdtv2 ── rdt-h2 10.213.7.12  net-snmp's snmpd, v2c `public` (UDP 161), and 22
      rdtv3 ── rdt-h3 10.213.7.13  a printer: 9100, 515, 631; a Brother MAC
      rdtv4 ── rdt-h4 10.213.7.14  a camera: 554, 80; a Hikvision MAC
      rdtv5 ── rdt-h5 10.213.7.15  Windows-like: 445, 3389; a Dell MAC

The namespaces have no default route: they answer the bridge and nothing else. Before the network is
built, no route of this machine may lead into 10.213.7.0/24 (else it is someone's real network and
nothing is built); after, every host's `ip route get` must go out through rdtbr0, and callers check it
again right before each scan (`TestNetwork.check_routes`). Needs root (`ip netns add`); where it is
refused, `Unavailable` says why. Used by tests/discovery/conftest.py and bench/discovery.py."""
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BRIDGE = "rdtbr0"
BRIDGE_MAC = "02:13:07:00:00:01"
NETWORK = "10.213.7.0/24"
GATEWAY = "10.213.7.1"
PREFIX_LENGTH = 24
COMMUNITY = "public"
SYS_NAME = "rdt-h2"
SYS_DESCR = "Linux rdt-h2 test host: net-snmp in a network namespace"
LOCK = Path(tempfile.gettempdir()) / "rdt-netns.lock"
READY_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class TestHost:
    name: str             # the namespace
    address: str
    mac: str              # of the namespace end of its veth
    tcp_ports: tuple[int, ...]
    snmp: bool = False    # net-snmp's snmpd on UDP 161
    http: bool = False    # port 80 is python's http.server, not a bare listener

    @property
    def veth(self) -> str:  # the root namespace end, on the bridge
        return "rdtv" + self.name.removeprefix("rdt-h")


HOSTS = (
    TestHost("rdt-h1", "10.213.7.11", "02:13:07:00:00:11", (22, 80), http=True),  # locally administered
    TestHost("rdt-h2", "10.213.7.12", "02:13:07:00:00:12", (22,), snmp=True),
    TestHost("rdt-h3", "10.213.7.13", "00:80:77:13:07:13", (515, 631, 9100)),   # Brother industries, LTD.
    TestHost("rdt-h4", "10.213.7.14", "c4:2f:90:13:07:14", (80, 554)),          # Hangzhou Hikvision
    TestHost("rdt-h5", "10.213.7.15", "d4:be:d9:13:07:15", (445, 3389)),        # Dell Inc.
)
RANGE = f"{HOSTS[0].address}-{HOSTS[-1].address}"

# Accepts and closes connections on the given ports of one address: enough for a SYN or connect scan.
LISTENER = """
import selectors, socket, sys
selector = selectors.DefaultSelector()
for port in map(int, sys.argv[2:]):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((sys.argv[1], port))
    server.listen(16)
    server.setblocking(False)
    selector.register(server, selectors.EVENT_READ)
while True:
    for key, _ in selector.select():
        try:
            key.fileobj.accept()[0].close()
        except OSError:
            pass
"""


class Unavailable(Exception):
    """The test network cannot be built or used here; `reason` says why (tests skip with it)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class TestNetwork:
    work: Path
    hosts: tuple[TestHost, ...] = HOSTS
    processes: list[subprocess.Popen] = field(default_factory=list)
    lock: int | None = None

    def host(self, name: str) -> TestHost:
        return next(h for h in self.hosts if h.name == name)

    def check_routes(self, addresses: Sequence[str] | None = None) -> dict[str, str]:
        """The device each address is routed through, all of them rdtbr0; Unavailable otherwise."""
        return check_routes(addresses or [h.address for h in self.hosts])

    @contextlib.contextmanager
    def host_down(self, name: str) -> Iterator[TestHost]:
        """The host's link down (gone from the network, services still running), then up again."""
        host = self.host(name)
        _ip("netns", "exec", host.name, "ip", "link", "set", "eth0", "down")
        try:
            yield host
        finally:
            _ip("netns", "exec", host.name, "ip", "link", "set", "eth0", "up")
            _wait_for_services(host)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        self.processes.clear()
        remove_leftovers()
        if self.lock is not None:
            os.close(self.lock)
            self.lock = None


def start(work: Path, lock_timeout_s: float = 120) -> TestNetwork:
    """Build the network and start its services; on any failure, nothing is left behind."""
    if os.geteuid() != 0:
        raise Unavailable("the namespace test network needs root (ip netns add, a bridge, veth pairs)")
    if shutil.which("ip") is None:
        raise Unavailable("iproute2's `ip` is not installed")
    network = TestNetwork(work, lock=_take_lock(lock_timeout_s))
    try:
        remove_leftovers()  # of a run that was killed before its teardown
        refuse_if_routed()
        _build(network)
        check_routes([h.address for h in network.hosts])
        for host in network.hosts:
            network.processes += _start_services(host, work)
        for host in network.hosts:
            _wait_for_services(host)
    except BaseException:
        network.stop()
        raise
    return network


def _take_lock(timeout_s: float) -> int:
    """One user of the fixed names at a time: a second test run or bench waits for the first."""
    fd = os.open(LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise Unavailable(f"another process holds {LOCK} (a test run or bench using the "
                                  f"namespace network) for more than {timeout_s:.0f} s") from None
            time.sleep(0.5)


def refuse_if_routed() -> None:
    """Unavailable if any route (but the default route) or address of this machine covers or lies in
    10.213.7.0/24: then that range is a real network here, and the test network would shadow it."""
    routes = _routes("to", "match", NETWORK) + _routes("root", NETWORK)
    taken = dict.fromkeys(f"{r.get('type', 'unicast')} {r['dst']} dev {r.get('dev', '?')} table "
                          f"{r.get('table', 'main')}" for r in routes if r.get("dst") != "default")
    if taken:
        described = "; ".join(taken)
        raise Unavailable(f"{NETWORK} is already routed on this machine ({described}): "
                          f"no test network is built over it")


def _routes(*selector: str) -> list[dict]:
    result = subprocess.run(["ip", "-j", "route", "show", "table", "all", *selector], capture_output=True,
                            text=True, check=True)
    return json.loads(result.stdout or "[]")


def check_routes(addresses: Sequence[str]) -> dict[str, str]:
    """`ip route get` of each address: through rdtbr0, directly (no gateway); Unavailable if not."""
    devices = {}
    for address in addresses:
        result = subprocess.run(["ip", "-j", "route", "get", address], capture_output=True, text=True)
        if result.returncode != 0:
            raise Unavailable(f"ip route get {address} failed: {result.stderr.strip()}")
        route = json.loads(result.stdout)[0]
        if route.get("dev") != BRIDGE or route.get("gateway"):
            via = f"via {route['gateway']} " if route.get("gateway") else ""
            raise Unavailable(f"{address} is routed {via}dev {route.get('dev')}, not through the test "
                              f"network's bridge {BRIDGE}: not scanning it")
        devices[address] = route["dev"]
    return devices


def _build(network: TestNetwork) -> None:
    try:
        _ip("netns", "add", network.hosts[0].name)
    except Unavailable as error:
        raise Unavailable(f"cannot create network namespaces here: {error.reason}") from None
    _ip("link", "add", BRIDGE, "address", BRIDGE_MAC, "type", "bridge", "stp_state", "0")
    _no_ipv6(None, BRIDGE)  # IPv4 only: nothing else to be said on the bridge
    _ip("addr", "add", f"{GATEWAY}/{PREFIX_LENGTH}", "dev", BRIDGE)
    _ip("link", "set", BRIDGE, "up")
    for n, host in enumerate(network.hosts):
        if n:
            _ip("netns", "add", host.name)
        _ip("link", "add", host.veth, "type", "veth", "peer", "name", "eth0", "netns", host.name)
        _no_ipv6(None, host.veth)
        _ip("link", "set", host.veth, "master", BRIDGE, "up")
        inside = ("netns", "exec", host.name, "ip")
        _no_ipv6(host.name, "all")
        _ip(*inside, "link", "set", "eth0", "address", host.mac)
        _ip(*inside, "addr", "add", f"{host.address}/{PREFIX_LENGTH}", "dev", "eth0")
        _ip(*inside, "link", "set", "eth0", "up")
        _ip(*inside, "link", "set", "lo", "up")


def _no_ipv6(namespace: str | None, device: str) -> None:
    command = ["sh", "-c", f"echo 1 > /proc/sys/net/ipv6/conf/{device}/disable_ipv6"]
    if namespace:
        command = ["ip", "netns", "exec", namespace, *command]
    subprocess.run(command, capture_output=True)  # a kernel without IPv6: nothing to switch off


def _start_services(host: TestHost, work: Path) -> list[subprocess.Popen]:
    processes = []
    bare = [p for p in host.tcp_ports if not (host.http and p == 80)]
    if bare:
        processes.append(_in(host, [sys.executable, "-c", LISTENER, host.address, *map(str, bare)]))
    if host.http:
        www = work / host.name / "www"
        www.mkdir(parents=True, exist_ok=True)
        (www / "index.html").write_text("<title>rdt-h1</title>\n")
        processes.append(_in(host, [sys.executable, "-m", "http.server", "80", "--bind", host.address,
                                    "--directory", str(www)]))
    if host.snmp:
        processes.append(_start_snmpd(host, work / host.name / "snmpd"))
    return processes


def _start_snmpd(host: TestHost, state: Path) -> subprocess.Popen:
    snmpd = shutil.which("snmpd") or "/usr/sbin/snmpd"
    if not Path(snmpd).exists():
        raise Unavailable("net-snmp's snmpd is not installed (Debian package snmpd)")
    state.mkdir(parents=True, exist_ok=True)
    (state / "snmpd.conf").write_text(
        f"agentAddress udp:{host.address}:161\n"
        f"rocommunity {COMMUNITY} {NETWORK}\n"
        f"sysName {SYS_NAME}\nsysDescr {SYS_DESCR}\nsysLocation test network\nsysContact tests\n"
        "sysServices 72\n")
    return _in(host, [snmpd, "-f", "-Lo", "-C", "-c", str(state / "snmpd.conf"), "-p", str(state / "snmpd.pid"),
                      f"--persistentDir={state}"], env={"SNMP_PERSISTENT_DIR": str(state), "MIBS": ""})


def _in(host: TestHost, command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    # `ip netns exec` execs the command: the pid is the service's own, which stop() ends.
    return subprocess.Popen(["ip", "netns", "exec", host.name, *command], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env=os.environ | (env or {}))


def _wait_for_services(host: TestHost) -> None:
    """Every TCP port accepting, and snmpd bound to UDP 161: checked inside the namespace, no traffic."""
    wanted = {f"tcp:{port}" for port in host.tcp_ports} | ({"udp:161"} if host.snmp else set())
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        result = subprocess.run(["ip", "netns", "exec", host.name, "ss", "-Hntul"], capture_output=True, text=True)
        listening = {f"{line.split()[0]}:{line.split()[4].rsplit(':', 1)[1]}" for line in result.stdout.splitlines()
                     if line.strip()}
        missing = wanted - listening
        if not missing:
            return
        if time.monotonic() > deadline:
            raise Unavailable(f"{host.name}: {', '.join(sorted(missing))} not listening after "
                              f"{READY_TIMEOUT_S:.0f} s")
        time.sleep(0.05)


def remove_leftovers() -> None:
    """The namespaces, their processes, the veths and the bridge of this or an earlier run."""
    existing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
    for host in HOSTS:
        if host.name not in existing:
            continue
        pids = subprocess.run(["ip", "netns", "pids", host.name], capture_output=True, text=True).stdout.split()
        for pid in map(int, pids):  # only processes inside our own namespaces: ours
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
        subprocess.run(["ip", "netns", "del", host.name], capture_output=True)
    for device in [h.veth for h in HOSTS] + [BRIDGE]:
        if subprocess.run(["ip", "link", "show", device], capture_output=True).returncode == 0:
            subprocess.run(["ip", "link", "del", device], capture_output=True)


def _ip(*args: str) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise Unavailable(f"`ip {' '.join(args)}` failed: {result.stderr.strip() or result.returncode}")

