"""The lab: recordings of real devices (the snmpsim-data package) served by snmpsim, each device on
its own loopback address, so that discovery and polling work end to end with no network at all.

One simulator process per device: snmpsim 1.2's way of choosing a recording by the address asked
does not work with pysnmp 7 (its handler hooks were renamed), and a process serving one recording
as community `public` is the plainest setup. The processes outlive the command that starts them;
`stop` ends them through the pid file."""
import asyncio
import bz2
import os
import shutil
import signal
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


@dataclass(frozen=True)
class LabDevice:
    name: str
    recording: str  # path under snmpsim_data/data, without .bz2
    address: str


def lab_devices(path: Path = DATA / "lab.csv") -> list[LabDevice]:
    return [LabDevice(**row) for row in read_table(path)]


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
    """The lab's simulator processes still alive, by device name."""
    alive = {}
    for pid_file in lab_dir.glob("*.pid"):
        pid = int(pid_file.read_text())
        if _alive(pid):
            alive[pid_file.stem] = pid
        else:
            pid_file.unlink()
    return alive


def stop(lab_dir: Path) -> int:
    """End every simulator of the lab; how many were running."""
    pids = running_pids(lab_dir)
    for name, pid in pids.items():
        os.kill(pid, signal.SIGTERM)
        (lab_dir / f"{name}.pid").unlink(missing_ok=True)
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(pids)


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
                 allowlist=allowlist, snmp_port=port, credential_ids=[credential.id])
    return True
