"""Inventories of other machines, recorded in samples/ by varying real agent output (FusionInventory 2.6's
sections and spellings: a Windows agent's WMI values, a Linux agent's sysfs and os-release ones), reported to
the agent endpoint on both databases: the devices they become, their specs through the spec registry, the
example catalog's judgement of them, and a PC first seen behind a switch's port that its agent then describes.

samples/windows10-optiplex-3020.xml: a Dell OptiPlex 3020 under Windows 10 Pro 22H2 (build 19045), 4 GB of RAM
(Windows counts 3991 MiB), a Seagate 500 GB hard disk (Windows gives sizes in MiB: 476937) and a DVD writer.
samples/ubuntu-latitude-5490.xml: a Dell Latitude 5490 laptop under Ubuntu 22.04.4, its battery, 8 GB of RAM
(Linux counts 7821 MB) and a 256 GB NVMe SSD (Linux gives sizes in decimal MB: 256060)."""
import datetime as dt
import zlib
from pathlib import Path

import pytest
from sqlalchemy import select

from agents.models import AgentReport
from catalog.examples import load_example_catalog
from catalog.models import Compliance
from discovery.snmp.poll import _terminal_observation
from discovery.snmp.terminals import Sighting
from inventory.ingest import IngestBatch, ingest
from inventory.models import Device
from inventory.observations import ObservedDevice, ObservedInterface
from tests.agents.conftest import device_state, issued

SAMPLES = Path(__file__).parent / "samples"
T0 = dt.datetime(2026, 11, 30, 9, 0)
PC, LAPTOP = "windows10-optiplex-3020.xml", "ubuntu-latitude-5490.xml"
# What a user must read on each device: its fields, its interfaces' MACs and its specs as the registry stores them.
EXPECTED = {
    PC: {"device_class": "workstation", "serial": "4HX7N32", "vendor": "Dell Inc.", "model": "OptiPlex 3020",
         "hostname": "kt-pc-07", "macs": ["f8:b1:56:a7:3c:21"],
         # Its disk's kind is unknown: Windows reports an SSD and a hard disk alike ("Fixed hard disk media").
         "specs": {"cpu_model": "Intel Core i5-4590", "cpu_cores": 4, "ram_gb": 4, "storage_gb": 500,
                   "os_name": "Windows 10 Pro", "os_version": "22H2"}},
    LAPTOP: {"device_class": "laptop", "serial": "9QK2RT2", "vendor": "Dell Inc.", "model": "Latitude 5490",
             "hostname": "kt-lap-03", "macs": ["54:bf:64:3a:9c:1e", "9c:b6:d0:e1:47:5a"],
             "specs": {"cpu_model": "Intel Core i5-8350U", "cpu_cores": 4, "ram_gb": 8, "storage_gb": 256,
                       "storage_kind": "ssd", "os_name": "Ubuntu", "os_version": "22.04.4"}},
}
RAM_BELOW = {"status": "below_spec", "spec": "ram_gb", "op": "at_least", "required": 8, "found": 4,
             "severity": "required"}


def report(anonymous, enrolment: dict, name: str):
    """The sample sent as its agent sends it: zlib-compressed, to the enrolment's URL."""
    response = anonymous.post(f"/agents/{enrolment['secret']}", data=zlib.compress((SAMPLES / name).read_bytes()),
                              headers={"Content-Type": "application/x-compress-zlib"})
    assert response.status_code == 200, response.data
    return response


@pytest.fixture
def reported(client, anonymous, sessions) -> dict[str, int]:
    """The example catalog in force, then both samples reported under an enrolment of W1: device ids by sample."""
    with sessions() as session, session.begin():
        load_example_catalog(session)
    enrolment = issued(client)
    for name in EXPECTED:
        report(anonymous, enrolment, name)
    with sessions() as session:
        return {name: session.scalars(select(Device.id).where(Device.serial == EXPECTED[name]["serial"])).one()
                for name in EXPECTED}


def read(session, device_id: int) -> dict:
    state = device_state(session, device_id)
    return {"device_class": state["device_class"], "serial": state["serial"], "vendor": state["vendor"],
            "model": state["model"], "hostname": state["hostname"], "macs": [mac for mac, *_ in state["interfaces"]],
            "specs": state["specs"], "unit": state["unit"]}


def test_the_laptop_becomes_a_laptop_with_its_battery_ram_and_nvme_ssd(reported, sessions):
    with sessions() as session:
        assert read(session, reported[LAPTOP]) == {**EXPECTED[LAPTOP], "unit": "W1"}


def test_the_windows_pc_becomes_a_workstation_with_its_disk_in_gb_and_its_windows_release(reported, sessions):
    """Windows counts its 500 GB disk as 476,937 MiB; its release comes from the build (10.0.19045), not from
    ReleaseId, frozen at 2009 since 20H2."""
    with sessions() as session:
        assert read(session, reported[PC]) == {**EXPECTED[PC], "unit": "W1"}


def judgement(session, device_id: int) -> tuple:
    compliance = session.get(Compliance, device_id)
    return compliance.category_code, compliance.approved_model_id is not None, compliance.status.value, \
        compliance.findings


def test_the_4_gb_pc_is_below_the_desktop_minimum_for_its_ram(reported, sessions):
    with sessions() as session:
        category, approved, status, findings = judgement(session, reported[PC])
    # An approved model (Dell OptiPlex *), below the desktop category's 8 GB of RAM.
    assert (category, approved, status) == ("desktop", True, "below_spec")
    assert findings[0] == RAM_BELOW


def test_the_4_gb_pc_s_findings_are_the_desktop_minimum_s(reported, sessions):
    with sessions() as session:
        assert judgement(session, reported[PC])[3] == [
            RAM_BELOW,
            {"status": "unknown", "missing": "storage_kind", "severity": "required"},  # the agent cannot say
            {"status": "below_spec", "spec": "cpu_generation", "op": "at_least", "required": 8, "found": 4,
             "severity": "recommended"}]


def test_the_laptop_meets_the_laptop_minimum(reported, sessions):
    with sessions() as session:
        assert judgement(session, reported[LAPTOP]) == ("laptop", True, "compliant", [])


# ---- a PC behind a switch's port, then its agent ----------------------------------------------------------------

def switch_observation() -> ObservedDevice:
    """The lab's access switch as an SNMP poll describes it."""
    return ObservedDevice(method="snmp", observed_at=T0, unit_code="W1", source="snmp 10.20.1.2",
                          fields={"device_class": "switch", "vendor": "Cisco", "model": "WS-C2960X-24TS-L",
                                  "serial": "FOC2031X0AB", "hostname": "w1-sw-01"},
                          interfaces=(ObservedInterface(name="Vlan1", mac="70:10:5c:8a:11:40", ips=("10.20.1.2",)),))


def test_a_pc_behind_a_switch_port_then_reported_by_its_agent_is_one_device_on_that_port(client, anonymous,
                                                                                          sessions):
    switch = switch_observation()
    # The PC's MAC learned on the switch's access port Gi1/0/7, as discovery's poll makes a terminal of it.
    sighting = Sighting(mac="f8:b1:56:a7:3c:21", switch_address="10.20.1.2", port="Gi1/0/7", ips=("10.20.1.57",),
                        vendor="Dell Inc.")
    with sessions() as session, session.begin():
        switch_id, terminal_id = ingest(session, IngestBatch(
            [switch, _terminal_observation(sighting, switch, "W1", T0)])).device_ids
    with sessions() as session:
        terminal = device_state(session, terminal_id)
        said_by = {name: said["method"] for name, said in session.get(Device, terminal_id).provenance.items()}
    assert said_by["vendor"] == "fdb"  # the MAC's prefix
    port_link = (terminal_id, "", switch_id, "Gi1/0/7", "fdb")  # the PC hangs on the switch's Gi1/0/7
    assert (terminal["serial"], terminal["hostname"], terminal["links"]) == (None, None, [port_link])

    report(anonymous, issued(client), PC)
    with sessions() as session:
        assert sorted(session.scalars(select(Device.id))) == sorted([switch_id, terminal_id])
        assert session.scalars(select(AgentReport.device_id)).one() == terminal_id
        found = read(session, terminal_id)
        links = device_state(session, terminal_id)["links"]
        said_by = {name: said["method"] for name, said in session.get(Device, terminal_id).provenance.items()}
    expected = EXPECTED[PC]
    # Its fields now come from its agent; it still hangs on the switch's port.
    assert {name: found[name] for name in ("device_class", "serial", "vendor", "model", "hostname", "macs")} == {
        name: expected[name] for name in ("device_class", "serial", "vendor", "model", "hostname", "macs")}
    assert {name: found["specs"].get(name) for name in ("cpu_model", "cpu_cores", "ram_gb")} == {
        "cpu_model": "Intel Core i5-4590", "cpu_cores": 4, "ram_gb": 4}
    agent_fields = ("device_class", "serial", "vendor", "model", "hostname")
    assert {name: said_by[name] for name in agent_fields} == dict.fromkeys(agent_fields, "agent")
    assert links == [port_link]
