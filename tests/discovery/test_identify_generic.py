"""The generic rules, which name a device's class when no maker's rule knows it: UPS-MIB, sysServices, the
BRIDGE-MIB, IP-MIB's ipForwarding, HOST-RESOURCES-MIB and the IEEE 802.11 MIB, each on a real device of
snmpsim-data polled for real (tests/discovery/snmp_lab.py GENERIC), with the MIB object that said it."""
import pytest

from discovery.snmp.identify import Finding, identify
from tests.discovery.test_snmp import PUBLIC, poll

# name → what identification finds, each value with the source the evidence keeps.
EXPECTED = {
    "east-power-ups": {
        "device_class": Finding("ups", "UPS-MIB present"),
        "model": Finding("EA9080", "UPS-MIB::upsIdentModel"),
        "firmware": Finding("V8.0", "UPS-MIB::upsIdentUPSSoftwareVersion"),
        "vendor": Finding("EAST POWER", "sysObjectID enterprise 40614 (IANA registry)")},
    "metel-poe-box": {"device_class": Finding("switch", "sysServices 2 (layer 2) only")},
    "anonymous-bridge": {"device_class": Finding("switch", "BRIDGE-MIB: 7 bridge ports")},
    "forwarding-only": {"device_class": Finding("router", "IP-MIB::ipForwarding forwarding, no BRIDGE-MIB ports")},
    "linux-host": {"device_class": Finding("server", "HOST-RESOURCES-MIB processors")},
    "anonymous-radio": {
        "device_class": Finding("wireless", "IEEE802dot11-MIB present"),
        "model": Finding("NanoStation M5", "IEEE802dot11-MIB::dot11ManufacturerProductName"),
        "firmware": Finding("XW.ar934x.v5.6-beta4.22359.140521.1836",
                            "IEEE802dot11-MIB::dot11ManufacturerProductVersion"),
        "vendor": Finding("Ubiquiti", "IEEE802dot11-MIB::dot11ManufacturerName")},
}


@pytest.mark.parametrize("name", EXPECTED)
def test_a_generic_rule_names_the_class_of_a_device_no_maker_rule_knows(snmp_lab_devices, name):
    found = identify(poll(snmp_lab_devices[name].address, [PUBLIC]).readings)
    assert {field: found.get(field) for field in EXPECTED[name]} == EXPECTED[name]


def test_the_printer_mib_makes_a_printer_with_its_serial_and_model():
    """No snmpsim-data recording holds a Printer-MIB: an HP LaserJet's values, as its agent gives them."""
    found = identify({"sysDescr": {(0,): b"HP ETHERNET MULTI-ENVIRONMENT,ROM none,JETDIRECT,JD153,EEPROM JSI24090012"},
                      "prtGeneralSerialNumber": {(1,): b"PHBQH03215"},
                      "prtMarkerLifeCount": {(1, 1): 15873},
                      "hrDeviceType": {(1,): (1, 3, 6, 1, 2, 1, 25, 3, 1, 5)},
                      "hrDeviceDescr": {(1,): b"HP LaserJet Pro M404dn"}})
    assert [found[field] for field in ("device_class", "serial", "model")] == [
        Finding("printer", "Printer-MIB present"), Finding("PHBQH03215", "Printer-MIB::prtGeneralSerialNumber"),
        Finding("HP LaserJet Pro M404dn", "HOST-RESOURCES-MIB::hrDeviceDescr")]


def test_a_host_that_bridges_and_forwards_is_still_a_host():
    """Processors in HOST-RESOURCES-MIB: a Linux server with a bridge and forwarding on is no switch or router."""
    found = identify({"sysDescr": {(0,): b"Linux vm01 5.10.0-28-amd64"}, "sysServices": {(0,): 78},
                      "ipForwarding": {(0,): 1},
                      "dot1dBasePortIfIndex": {(n,): n for n in range(1, 11)},
                      "hrDeviceType": {(768,): (1, 3, 6, 1, 2, 1, 25, 3, 1, 3)}})
    assert found["device_class"] == Finding("server", "HOST-RESOURCES-MIB processors")
