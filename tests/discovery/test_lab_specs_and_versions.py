"""What the lab's recordings say of hardware and firmware, as the inventory stores it (issue 12, points 2 and 3):
specs under the registry's names and types, and beside each firmware text the version inside it, which compares.
The lab's agents are polled for real (snmpsim), as in test_snmp.py."""
import datetime as dt

from sqlalchemy import select

from discovery.snmp.identify import specs
from discovery.snmp.poll import observations_by_address
from inventory.ingest import IngestBatch, ingest
from inventory.models import Device
from inventory.versions import at_least, version_key
from tests.discovery.test_snmp import PUBLIC, poll

T0 = dt.datetime(2026, 11, 2, 8, 0)
# The firmware each recording states and the version the inventory keeps of it.
FIRMWARE = {
    "cisco-c3560": ("12.2(55)SE3", "12.2(55)SE3"),
    "cisco-c3750": ("12.2(50)SE5", "12.2(50)SE5"),
    "ruijie-s5750": ("RGOS 10.4(3)p4 Release(161753)", "10.4(3)p4"),
    "huawei-s5720": ("Version 5.160 V200R007C00SPC500", "5.160 V200R007C00SPC500"),
    "h3c-e528": ("5.20 Release 1513P62", "5.20 Release 1513P62"),
    "apc-8932": ("v6.7.2", "6.7.2"),
    "eaton-93e": ("2.08.0011", "2.08.0011"),  # MG-SNMP-UPS-MIB::upsmgIdentFirmwareVersion, before UPS-MIB
    "netapp-nas": ("NetApp Release 8.2.3 7-Mode: Thu Jan 15 21:30:45 PST 2015", "8.2.3"),
    "vyatta": ("unknown-version", None),
}


def test_host_resources_and_ups_specs_use_the_registry_names_and_types(snmp_lab_devices):
    found = {name: {spec: finding.value for spec, finding in specs(poll(snmp_lab_devices[name].address,
                                                                         [PUBLIC]).readings).items()}
             for name in ("vyatta", "isilon-nas", "linux-ibm-x3550", "eaton-93e")}
    assert found == {
        "vyatta": {"cpu_cores": 4, "ram_gb": 7.5, "storage_gb": 733},
        "isilon-nas": {"cpu_cores": 4, "ram_gb": 48, "storage_gb": 1537},
        "linux-ibm-x3550": {"cpu_cores": 1, "ram_gb": 0.1},  # hrMemorySize 102,196 KB
        "eaton-93e": {"battery_status": "normal"},
    }
    assert type(found["vyatta"]["ram_gb"]) is float and type(found["vyatta"]["storage_gb"]) is int


def test_a_printers_page_counter_is_the_registrys_page_count():
    """No recording of the lab is a printer: Printer-MIB's counter as the poll reads it (an int per marker)."""
    readings = {"prtMarkerLifeCount": {(1, 1): 125_000}, "hrMemorySize": {(0,): 16_384}}
    assert {name: finding.value for name, finding in specs(readings).items()} == {"page_count": 125_000}
    # 16 MB of RAM is no tenth of a GB: left out, not refused with the whole observation


def test_polled_devices_are_stored_with_typed_specs_and_comparable_firmware(snmp_lab_devices, org):
    polls = [poll(snmp_lab_devices[name].address, [PUBLIC]) for name in FIRMWARE]
    observed = [o for address, o in observations_by_address(polls, "W1", T0) if address is not None]
    with org() as session, session.begin():
        device_ids = ingest(session, IngestBatch(observed)).device_ids
    with org() as session:
        devices = {name: session.get(Device, device_id) for name, device_id in zip(FIRMWARE, device_ids)}
        assert {name: (d.firmware, d.firmware_version) for name, d in devices.items()} == FIRMWARE
        vyatta = devices["vyatta"]
        assert vyatta.specs == {"cpu_cores": 4, "ram_gb": 7.5, "storage_gb": 733}
        assert vyatta.provenance["specs.ram_gb"]["method"] == "snmp"
        assert devices["eaton-93e"].specs == {"battery_status": "normal"}
        # "firmware at least X", on what was stored
        assert [at_least(devices[name].firmware_version, "12.2(55)SE") for name in ("cisco-c3560", "cisco-c3750")] \
            == [True, False]
        assert at_least(devices["huawei-s5720"].firmware_version, "V200R007C00SPC600") is False
        assert at_least(devices["vyatta"].firmware or "", "1.0") is None
        oldest_first = sorted(["cisco-c3560", "cisco-c3750"], key=lambda n: version_key(devices[n].firmware_version))
        assert oldest_first == ["cisco-c3750", "cisco-c3560"]
        assert session.scalar(select(Device.firmware_version).where(Device.firmware == "v6.7.2")) == "6.7.2"
