"""The lab: recordings of real devices (the snmpsim-data package) served by snmpsim, each device on
its own loopback address, so that discovery and polling work end to end with no network at all.

One simulator process per device: snmpsim 1.2's way of choosing a recording by the address asked
does not work with pysnmp 7 (its handler hooks were renamed), and a process serving one recording
as community `public` is the plainest setup. The processes outlive the command that starts them;
`stop` ends them through the pid file. `diagnose` says, for a device that does not answer, why: its
address held by another process, its simulator ended (with its log) or still indexing its recording."""
import asyncio
import bz2
import contextlib
import csv
import enum
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import snmpsim_data
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.datafiles import read_table
from core.encryption import SecretBox
from discovery.credentials import save_credential
from discovery.models import Credential, ScanScope, SnmpVersion
from discovery.scopes import create_scope
from discovery.snmp.client import Access, Agent, SnmpFault, new_engine

DATA = Path(__file__).resolve().parent / "data"
RECORDINGS = Path(snmpsim_data.__file__).resolve().parent / "data"
COMMUNITY = "public"
LAB_SCOPE = "lab"
LAB_CREDENTIAL = "lab-public"
LAB_UNIT = "VD-SKHCN-CDS"  # the example organisation's digital transformation centre
LAB_SCHEDULE = "every 1h"  # the lab's scope is scanned as a unit's would be: nmap, then SNMP, every hour
STOP_WITHIN_S = 5.0  # a simulator still running this long after SIGTERM is killed
SERVED_DEVICES, SERVED_PORT = "served.csv", "served-port"  # in the lab folder: what the last start served


@dataclass(frozen=True)
class LabDevice:
    name: str
    recording: str  # path under snmpsim_data/data, without .bz2
    address: str


def folder(config, instance_path: str) -> Path:
    """Where the lab keeps its simulators' data, pid files and logs: LAB_FOLDER, else the instance folder's lab/
    (the tests serve a lab of their own apart from the one `make run` serves)."""
    return Path(config.get("LAB_FOLDER") or Path(instance_path) / "lab")


def lab_devices(path: Path = DATA / "lab.csv") -> list[LabDevice]:
    return [LabDevice(**row) for row in read_table(path)]


def served(lab_dir: Path) -> tuple[list[LabDevice], int]:
    """The devices and port the last `start` served from `lab_dir`; the project's lab and the default port
    before any start."""
    devices_file, port_file = lab_dir / SERVED_DEVICES, lab_dir / SERVED_PORT
    if not (devices_file.exists() and port_file.exists()):
        return lab_devices(), default_port()
    return lab_devices(devices_file), int(port_file.read_text())


def _record_served(lab_dir: Path, devices: Sequence[LabDevice], port: int) -> None:
    """What `start` serves, so that `status` reports on these devices and this port without being told."""
    with open(lab_dir / SERVED_DEVICES, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["name", "recording", "address"])
        writer.writerows((d.name, d.recording, d.address) for d in devices)
    (lab_dir / SERVED_PORT).write_text(str(port))


def default_port() -> int:
    """161 as real agents, when allowed to bind it; otherwise an unprivileged port."""
    return 161 if os.geteuid() == 0 else 16161


def recording_text(recording: str) -> bytes:
    """The recording's lines, decompressed if the package ships it compressed."""
    plain = RECORDINGS / recording
    if plain.exists():
        return plain.read_bytes()
    return bz2.decompress((RECORDINGS / f"{recording}.bz2").read_bytes())


def prepare(device: LabDevice, lab_dir: Path) -> Path:
    """The device's own data directory, with its recording as `public.snmprec`."""
    data_dir = lab_dir / "devices" / device.name
    target = data_dir / f"{COMMUNITY}.snmprec"
    if not target.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        partial.write_bytes(recording_text(device.recording))
        partial.rename(target)
    return data_dir


def simulator_command(data_dir: Path, cache_dir: Path, address: str, port: int) -> list[str]:
    program = Path(sys.executable).parent / "snmpsim-command-responder"
    return [str(program), f"--data-dir={data_dir}", f"--cache-dir={cache_dir}",
            f"--agent-udpv4-endpoint={address}:{port}", "--log-level=error"]


def start(lab_dir: Path, devices: Sequence[LabDevice], port: int,
          progress: Callable[[str], None] = lambda _: None) -> list[int]:
    """Serve each device on its address; returns the pids. Devices already served are left running."""
    lab_dir.mkdir(parents=True, exist_ok=True)
    cache_dir = lab_dir / "cache"
    cache_dir.mkdir(exist_ok=True)
    running = running_pids(lab_dir)
    _record_served(lab_dir, devices, port)
    environment = os.environ | {"SNMPSIM_ALLOW_ROOT": "true"}
    pids = []
    for device in devices:
        if device.name in running:
            pids.append(running[device.name])
            continue
        progress(device.name)
        log = open(lab_dir / f"{device.name}.log", "wb")
        process = subprocess.Popen(simulator_command(prepare(device, lab_dir), cache_dir, device.address, port),
                                   stdout=log, stderr=subprocess.STDOUT, env=environment, start_new_session=True)
        (lab_dir / f"{device.name}.pid").write_text(str(process.pid))
        pids.append(process.pid)
    return pids


def running_pids(lab_dir: Path) -> dict[str, int]:
    """The lab's simulator processes still alive, by device name. The pid file of one that ended stays, for
    `diagnose` to say so; `start` writes over it, `stop` removes it."""
    alive = {}
    for pid_file in lab_dir.glob("*.pid"):
        pid = int(pid_file.read_text())
        if _alive(pid):
            alive[pid_file.stem] = pid
    return alive


def stop(lab_dir: Path) -> int:
    """End every simulator of the lab; how many were running."""
    pids = running_pids(lab_dir)
    _signal(pids.values(), signal.SIGTERM)
    for pid_file in lab_dir.glob("*.pid"):
        pid_file.unlink()
    if not _ended(pids.values(), within=STOP_WITHIN_S):
        # Still there (a busy machine): killed, so that the next start finds the addresses free.
        _signal(pids.values(), signal.SIGKILL)
        _ended(pids.values(), within=STOP_WITHIN_S)
    return len(pids)


def _signal(pids, signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # ended meanwhile
            os.kill(pid, signum)


def _ended(pids, within: float) -> bool:
    deadline = time.monotonic() + within
    while any(_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of this process counts as ended.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def remove(lab_dir: Path) -> None:
    stop(lab_dir)
    shutil.rmtree(lab_dir, ignore_errors=True)


def wait_ready(devices: Sequence[LabDevice], port: int, timeout: float = 60) -> int:
    """Wait until every device answers SNMP (a large recording takes seconds to index the first
    time); how many do."""
    async def answers(engine, device: LabDevice) -> bool:
        agent = Agent(engine, device.address, port, Access("lab", SnmpVersion.V2C, community=COMMUNITY),
                      timeout=0.5, retries=0)
        try:
            return bool(await agent.get("1.3.6.1.2.1.1.2.0"))
        except SnmpFault:
            return False

    async def poll_until_ready() -> int:
        engine = new_engine()
        waiting = list(devices)
        deadline = time.monotonic() + timeout
        while waiting and time.monotonic() < deadline:
            ready = await asyncio.gather(*(answers(engine, device) for device in waiting))
            waiting = [device for device, ok in zip(waiting, ready) if not ok]
        return len(devices) - len(waiting)
    return asyncio.run(poll_until_ready())


def ensure_lab_scope(session: Session, box: SecretBox, allowlist: str, unit_code: str, port: int) -> bool:
    """The lab as a scan scope of `unit_code` with the community it answers, unless already there."""
    if session.scalars(select(ScanScope.id).where(ScanScope.name == LAB_SCOPE)).first() is not None:
        return False
    credential = session.scalars(select(Credential).where(Credential.name == LAB_CREDENTIAL)).first() or \
        save_credential(session, box, {"name": LAB_CREDENTIAL, "version": SnmpVersion.V2C, "community": COMMUNITY})
    devices = lab_devices()
    create_scope(session, unit_code=unit_code, name=LAB_SCOPE, networks=f"{devices[0].address}-{devices[-1].address}",
                 allowlist=allowlist, snmp_port=port, credential_ids=[credential.id], schedule=LAB_SCHEDULE)
    return True


class Condition(enum.StrEnum):
    """Where a lab device stands; every one but ANSWERS comes with the reason it does not answer."""
    ANSWERS = "answers"
    NOT_STARTED = "not started"  # no pid file: `start` never served it from this lab folder
    HELD = "held"  # another process holds its address and port
    ENDED = "ended"  # its simulator is not running any more
    STARTING = "starting"  # its simulator runs and has not bound its socket yet: it indexes its recording
    UNBOUND = "unbound"  # its simulator runs but could not bind its socket (held when it started)
    SILENT = "silent"  # its simulator holds the socket and still does not answer


@dataclass(frozen=True)
class DeviceState:
    device: LabDevice
    condition: Condition
    reason: str = ""  # why it does not answer, with what to do; empty when it answers

    @property
    def answers(self) -> bool:
        return self.condition is Condition.ANSWERS


# What the operator does about each condition, in the order `start` names them.
REMEDIES = {
    Condition.HELD: "stop the other process (or serve the lab on another port: --port), then `flask lab stop` "
                    "and `flask lab start`",
    Condition.UNBOUND: "`flask lab stop`, then `flask lab start`",
    Condition.SILENT: "`flask lab stop`, then `flask lab start`",
    Condition.ENDED: "`flask lab start` starts it again",
    Condition.NOT_STARTED: "`flask lab start`",
    Condition.STARTING: "wait, then `flask lab status`",
}
LOG_LINES = 5  # of a simulator's log, in the reason it ended
# snmpsim writes these at every start (its redis and sql variation modules have no settings here): noise.
LOG_NOISE = re.compile(r'^ERROR Variation module "(redis|sql)" from .* load FAILED')
LISTENING = "Listening at UDP"  # the simulator's log line once its recording is indexed, right before it binds
BIND_WITHIN_S = 3.0  # a simulator that said it listens this long ago and holds no socket could not bind it


def diagnose(lab_dir: Path, devices: Sequence[LabDevice], port: int, timeout: float = 0.5) -> list[DeviceState]:
    """Whether each device answers SNMP (its sysObjectID, as `wait_ready` asks) and, for one that does not, why."""
    answering = asyncio.run(_answering(devices, port, timeout))
    lab_pids = {pid: name for name, pid in running_pids(lab_dir).items()}
    return [DeviceState(device, Condition.ANSWERS) if device.name in answering
            else _why_silent(lab_dir, device, port, lab_pids) for device in devices]


def settle(lab_dir: Path, devices: Sequence[LabDevice], port: int, timeout: float = 60) -> list[DeviceState]:
    """Diagnose until no simulator is still starting (a large recording takes seconds to index the first
    time) or `timeout` has passed."""
    deadline = time.monotonic() + timeout
    while True:
        states = diagnose(lab_dir, devices, port)
        pending = any(s.condition in (Condition.STARTING, Condition.SILENT) for s in states)
        if not pending or time.monotonic() > deadline:
            return states
        time.sleep(0.2)


async def _answering(devices: Sequence[LabDevice], port: int, timeout: float) -> set[str]:
    engine = new_engine()

    async def answers(device: LabDevice) -> bool:
        agent = Agent(engine, device.address, port, Access("lab", SnmpVersion.V2C, community=COMMUNITY),
                      timeout=timeout, retries=0)
        try:
            return bool(await agent.get("1.3.6.1.2.1.1.2.0"))
        except SnmpFault:
            return False
    try:
        ready = await asyncio.gather(*(answers(device) for device in devices))
    finally:
        engine.close_dispatcher()
    return {device.name for device, ok in zip(devices, ready) if ok}


def _why_silent(lab_dir: Path, device: LabDevice, port: int, lab_pids: dict[int, str]) -> DeviceState:
    endpoint = f"{device.address}:{port}/udp"
    own = _recorded_pid(lab_dir, device.name)
    own_alive = own is not None and own in lab_pids
    holders = socket_holders(device.address, port)
    own_holds = own_alive and any(holder.pid == own for holder in holders)
    others = [holder for holder in holders if not (own_alive and holder.pid == own)]
    if others and not own_holds:
        return DeviceState(device, Condition.HELD, f"{endpoint} is held by " + ", ".join(
            _describe_holder(holder, lab_pids) for holder in others))
    if own is None:
        return DeviceState(device, Condition.NOT_STARTED,
                           "no simulator serves it (never started, or stopped by `flask lab stop`)")
    if not own_alive:
        return DeviceState(device, Condition.ENDED, f"its simulator (pid {own}) is not running; "
                                                    f"{_log_tail(lab_dir / f'{device.name}.log')}")
    if own_holds:
        return DeviceState(device, Condition.SILENT, f"its simulator (pid {own}) holds {endpoint} but does not "
                                                     f"answer (community '{COMMUNITY}')")
    if _failed_to_bind(lab_dir / f"{device.name}.log"):
        return DeviceState(device, Condition.UNBOUND, f"its simulator (pid {own}) runs but could not bind {endpoint} "
                                                      "(another process held it when it started)")
    return DeviceState(device, Condition.STARTING, f"its simulator (pid {own}) runs but does not answer yet "
                                                   "(indexing a large recording?)")


@dataclass(frozen=True)
class SocketHolder:
    pid: int | None  # None: the socket's process is not visible to this user
    uid: int  # the socket's owner, from /proc/net/udp


def socket_holders(address: str, port: int) -> list[SocketHolder]:
    """The processes with a UDP socket bound to address:port, or to the same port on every address (which
    holds it as well). Read from /proc: the socket's inode in /proc/net/udp and udp6, then the process whose
    /proc/PID/fd links to socket:[inode]."""
    bound = {inode: uid for inode, uid in _udp_sockets(address, port)}
    if not bound:
        return []
    owners = _socket_owners(set(bound))
    return [SocketHolder(pid, bound[inode]) for inode in sorted(bound) for pid in owners.get(inode, [None])]


def _udp_sockets(address: str, port: int) -> list[tuple[int, int]]:
    """(inode, uid) of each UDP socket bound to `address` (or a wildcard address) on `port`."""
    wanted = {("udp", address), ("udp", "0.0.0.0"), ("udp6", f"::ffff:{address}"), ("udp6", "::ffff:0.0.0.0"),
              ("udp6", "::")}  # `::` holds IPv4 too on a dual-stack socket (Linux's default)
    found = []
    for table in ("udp", "udp6"):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except FileNotFoundError:  # no IPv6 in this kernel
            continue
        for line in lines:
            fields = line.split()
            local_address, local_port = fields[1].split(":")
            if int(local_port, 16) == port and (table, _proc_address(local_address)) in wanted:
                found.append((int(fields[9]), int(fields[7])))
    return found


def _proc_address(hex_address: str) -> str:
    """An address as /proc/net/udp{,6} writes it: 32-bit words in the machine's byte order."""
    words = [int(hex_address[i:i + 8], 16) for i in range(0, len(hex_address), 8)]
    packed = b"".join(struct.pack("=I", word) for word in words)
    return socket.inet_ntop(socket.AF_INET if len(packed) == 4 else socket.AF_INET6, packed)


def _socket_owners(inodes: set[int]) -> dict[int, list[int]]:
    """The pids whose open files include each of these sockets (a forked child shares its parent's)."""
    links = {f"socket:[{inode}]": inode for inode in inodes}
    owners: dict[int, list[int]] = {}
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            for fd in fd_dir.iterdir():
                inode = links.get(os.readlink(fd))
                if inode is not None and int(fd_dir.parent.name) not in owners.get(inode, []):
                    owners.setdefault(inode, []).append(int(fd_dir.parent.name))
        except (FileNotFoundError, PermissionError, ProcessLookupError):  # ended meanwhile, or another user's
            continue
    return owners


def _describe_holder(holder: SocketHolder, lab_pids: dict[int, str]) -> str:
    if holder.pid is None:
        return f"a process of uid {holder.uid} that this user may not look at"
    if holder.pid in lab_pids:
        return f"the lab's simulator of {lab_pids[holder.pid]} (pid {holder.pid})"
    name = _process_name(holder.pid)
    if name.startswith("snmpsim-command"):  # the kernel keeps 15 characters of the program's name
        return f"another process: pid {holder.pid} (snmpsim-command-responder, a simulator of another lab folder)"
    return f"another process: pid {holder.pid} ({name})"


def _process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except FileNotFoundError:
        return "ended since"


def _recorded_pid(lab_dir: Path, name: str) -> int | None:
    """The pid `start` wrote for the device, even if that process has ended."""
    try:
        return int((lab_dir / f"{name}.pid").read_text())
    except (FileNotFoundError, ValueError):
        return None


def _log_lines(log: Path) -> list[str]:
    try:
        text = log.read_text(errors="replace")
    except FileNotFoundError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip() and not LOG_NOISE.match(line)]


def _log_tail(log: Path) -> str:
    lines = _log_lines(log)
    if not lines:
        return f"its log {log} is empty"
    return "the last lines of its log: " + " | ".join(lines[-LOG_LINES:])


def _failed_to_bind(log: Path) -> bool:
    """The simulator said it listens, a while ago, and holds no socket: its bind failed. It says so right before
    it binds, so one that said it a moment ago may be binding still."""
    lines = _log_lines(log)
    return any(line.startswith(LISTENING) for line in lines) and time.time() - log.stat().st_mtime > BIND_WITHIN_S
