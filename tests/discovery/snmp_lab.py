"""The test lab: the project's lab recordings on their own loopback addresses (127.0.5.N, apart from
a lab `make run` may be serving on 127.0.1.N), plus fault-injecting copies and net-snmp's snmpd."""
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from discovery import lab

PORT = 161 if os.geteuid() == 0 else 16162
BASE = "127.0.5."


def recorded_devices() -> list[lab.LabDevice]:
    return [lab.LabDevice(d.name, d.recording, d.address.replace("127.0.1.", BASE)) for d in lab.lab_devices()]


SYS_OBJECT_ID = re.compile(r"^(?P<oid>1\.3\.6\.1\.2\.1\.1\.2\.0)\|6\|(?P<value>[\d.]+)$", re.M)


def _answer_error(text: str) -> str:
    """sysObjectID through snmpsim's `error` variation module: every request for it gets genErr."""
    return SYS_OBJECT_ID.sub(r"\g<oid>|6:error|op=any,status=genError", text)


def _answer_late(text: str) -> str:
    """sysObjectID through the `delay` module: answered after 4 s."""
    return SYS_OBJECT_ID.sub(r"\g<oid>|6:delay|value=\g<value>,wait=4000", text)


def _answer_in_a_loop(text: str) -> str:
    """ifDescr.1 moved after ifDescr.5, as in a recording taken out of order: the agent answers
    ifDescr.5, then ifDescr.1 again, then 2... a walk that would never end."""
    lines = text.splitlines(keepends=True)
    first = next(n for n, line in enumerate(lines) if line.startswith("1.3.6.1.2.1.2.2.1.2.1|"))
    fifth = next(n for n, line in enumerate(lines) if line.startswith("1.3.6.1.2.1.2.2.1.2.5|"))
    lines.insert(fifth, lines.pop(first))
    return "".join(lines)


# Fault agents: a real recording (the Clavister firewall's) with a record changed, through snmpsim's
# own variation modules or the order of its lines, so the agent really misbehaves.
FAULTS = {
    "answers-errors": (f"{BASE}201", _answer_error),
    "answers-late": (f"{BASE}202", _answer_late),
    "answers-in-a-loop": (f"{BASE}203", _answer_in_a_loop),
}
FAULT_SOURCE = "network/firewall/clavister-amaranten.snmprec"


def fault_devices(lab_dir: Path) -> list[lab.LabDevice]:
    devices = []
    for name, (address, change) in FAULTS.items():
        device = lab.LabDevice(name, FAULT_SOURCE, address)
        recording = lab.prepare(device, lab_dir) / f"{lab.COMMUNITY}.snmprec"
        recording.write_text(change(recording.read_text(encoding="latin-1")), encoding="latin-1")
        devices.append(device)
    return devices


def _anonymous_maker(text: str) -> str:
    """sysObjectID under an enterprise number no rule knows, sysDescr a bare Linux: only the standard MIBs the
    recording holds can say what the device is."""
    text = SYS_OBJECT_ID.sub(r"\g<oid>|6|1.3.6.1.4.1.99999.1", text)
    return re.sub(r"^1\.3\.6\.1\.2\.1\.1\.1\.0\|.*$", "1.3.6.1.2.1.1.1.0|4|Linux 2.6.32", text, flags=re.M)


def _anonymous_bridge(text: str) -> str:
    """An anonymous maker's agent that leaves out sysServices too: only its BRIDGE-MIB ports speak."""
    return re.sub(r"^1\.3\.6\.1\.2\.1\.1\.7\.0\|.*\n", "", _anonymous_maker(text), flags=re.M)


# Devices of snmpsim-data that no maker's rule describes, for the generic rules (discovery/snmp/identify.py):
# name → (address, recording, change to the recording or None).
GENERIC = {
    "east-power-ups": (f"{BASE}220", "UPS/eastpower-istars-swv053.snmprec", None),  # UPS-MIB
    "metel-poe-box": (f"{BASE}221", "network/switch/metel-poe-box.snmprec", None),  # sysServices: layer 2 only
    "anonymous-bridge": (f"{BASE}222", "network/router/cisco-unmarked-0.snmprec", _anonymous_bridge),  # BRIDGE-MIB
    "forwarding-only": (f"{BASE}223", "unclassified/01.snmprec", None),  # IP-MIB ipForwarding
    "linux-host": (f"{BASE}224", "os/linux/unknown-002.snmprec", None),  # HOST-RESOURCES-MIB processors
    "anonymous-radio": (f"{BASE}225", "network/wifi/ubiquiti-m5.snmprec", _anonymous_maker),  # 802.11 MIB
}


def generic_devices(lab_dir: Path) -> list[lab.LabDevice]:
    devices = []
    for name, (address, recording, change) in GENERIC.items():
        device = lab.LabDevice(name, recording, address)
        if change:
            prepared = lab.prepare(device, lab_dir) / f"{lab.COMMUNITY}.snmprec"
            prepared.write_text(change(prepared.read_text(encoding="latin-1")), encoding="latin-1")
        devices.append(device)
    return devices


SNMPD_ADDRESS = f"{BASE}210"
V3_USER, V3_AUTH, V3_PRIV = "poller", "auth-pass-123", "priv-pass-456"


def start_snmpd(work: Path) -> subprocess.Popen | None:
    """net-snmp's agent with an SNMPv3 authPriv user (SHA, AES), or None where snmpd is missing."""
    snmpd = shutil.which("snmpd") or "/usr/sbin/snmpd"
    if not Path(snmpd).exists():
        return None
    work.mkdir(parents=True, exist_ok=True)
    (work / "snmpd.conf").write_text(
        f"agentAddress udp:{SNMPD_ADDRESS}:{PORT}\n"
        f"createUser {V3_USER} SHA {V3_AUTH} AES {V3_PRIV}\n"
        f"rouser {V3_USER} priv\n"
        "sysName v3-agent\nsysLocation test rack\nsysServices 72\n")
    process = subprocess.Popen([snmpd, "-f", "-Lo", "-C", "-c", str(work / "snmpd.conf"),
                                f"-Dnone", "-p", str(work / "snmpd.pid"), "--persistentDir=" + str(work)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=os.environ | {"SNMP_PERSISTENT_DIR": str(work), "MIBS": ""})
    time.sleep(0.5)
    return process
