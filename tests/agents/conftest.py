"""Fixtures of the agent tests: an enrolment issued through the API, this machine's hardware as Linux tells it
(to compare with what the real agent reports), and the device an inventory became, as a user would read it."""
import socket
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from inventory.models import Device, DeviceEvent, Link
from inventory.specs import installed_ram_gb, parse_spec

# Block devices that are no disk of the PC: RAM disks, compressed swap in RAM, loop-mounted images.
NOT_DISKS = ("zram", "ram", "loop")


def issued(client, unit_code="W1", name="W1 PCs", **more) -> dict:
    """An enrolment of the unit, issued through the API by the client's caller: its id, secret and server_url."""
    response = client.post("/api/agent-enrolments", json={"unit_code": unit_code, "name": name, **more})
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def enrolment(client) -> dict:
    return issued(client)


def this_machine() -> dict:
    """CPU model, cores, RAM and disks as /proc/cpuinfo, /proc/meminfo and lsblk give them, in the spec
    registry's units and spelling (a CPU's model without trademarks: 'Intel(R) Xeon(R) Processor' is 'Intel
    Xeon Processor'), its host name and the MACs of its network hardware (/sys/class/net, an interface with a
    device behind it): what the device must show once this machine's agent has reported."""
    cpus = [dict(line.split(":", 1) for line in block.splitlines() if ":" in line)
            for block in Path("/proc/cpuinfo").read_text().split("\n\n") if block.strip()]
    cpus = [{key.strip(): value.strip() for key, value in cpu.items()} for cpu in cpus]
    # Cores: each physical package's "cpu cores", once per package (a logical CPU per thread repeats it).
    cores = {cpu.get("physical id", "0"): int(cpu["cpu cores"]) for cpu in cpus if "cpu cores" in cpu}
    mem_total_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                        if line.startswith("MemTotal:"))
    listed = subprocess.run(["lsblk", "--bytes", "--nodeps", "--noheadings", "--raw", "--output",
                             "NAME,SIZE,TYPE,RM"], capture_output=True, text=True, check=True).stdout
    disks = [(name, int(size)) for name, size, kind, removable in (line.split() for line in listed.splitlines())
             if kind == "disk" and removable == "0" and int(size) > 0 and not name.startswith(NOT_DISKS)]
    # The agent gives each disk's size in whole decimal MB; the registry stores GB.
    storage_mb = sum(size // 1_000_000 for _name, size in disks)
    return {"cpu_model": parse_spec("cpu_model", cpus[0]["model name"]), "cpu_cores": sum(cores.values()) or None,
            "ram_gb": installed_ram_gb(mem_total_kb // 1024), "storage_gb": round(storage_mb / 1000),
            "disks": sorted(name for name, _size in disks), "hostname": socket.gethostname().split(".")[0].lower(),
            "macs": sorted((net / "address").read_text().strip() for net in Path("/sys/class/net").iterdir()
                           if (net / "device").exists())}


def device_state(session, device_id: int) -> dict:
    """What a user reads of a device: its fields, specs, unit, interfaces, links and how many history events."""
    device = session.get(Device, device_id)
    return {"unit": device.unit.code, "device_class": device.device_class.value, "vendor": device.vendor,
            "model": device.model, "serial": device.serial, "hostname": device.hostname, "os": device.os,
            "specs": dict(device.specs), "status": device.status.value,
            "interfaces": sorted((i.mac, i.name, tuple(i.ips), i.speed_mbps) for i in device.interfaces),
            "links": sorted((link.device_id, link.port, link.remote_device_id, link.remote_port, link.protocol)
                            for link in session.scalars(select(Link).where(
                                (Link.device_id == device_id) | (Link.remote_device_id == device_id)))),
            "history": Counter(session.scalars(select(DeviceEvent.kind).where(DeviceEvent.device_id == device_id))),
            "events": session.scalar(select(func.count()).select_from(DeviceEvent)
                                     .where(DeviceEvent.device_id == device_id))}
