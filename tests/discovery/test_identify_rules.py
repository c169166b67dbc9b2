"""Identification's general rules on what agents say (pure: readings in, findings out): the IANA registry and
FusionInventory's product OIDs read from Debian's packages where discovery/data is silent, the 802.11 MIB,
HOST-RESOURCES, the ENTITY-MIB chassis of an agent without entPhysicalClass, and sysDescr texts of product
lines. The sysDescr strings are real devices' (their makers' formats)."""
from discovery.snmp.identify import Finding, identify
from discovery.snmp.registries import maker_name

SYS_OBJECT_ID = "sysObjectID"


def readings(sys_descr: str = "", oid: tuple[int, ...] = (), **columns) -> dict:
    found = {"sysDescr": {(0,): sys_descr.encode()}} if sys_descr else {}
    if oid:
        found[SYS_OBJECT_ID] = {(0,): oid}
    return found | columns


def test_a_maker_missing_from_the_table_is_named_by_the_iana_registry():
    found = identify(readings(oid=(1, 3, 6, 1, 4, 1, 17713, 21)))
    assert found["vendor"] == Finding("Cambium Networks", "sysObjectID enterprise 17713 (IANA registry)")


def test_registered_names_lose_their_legal_form_and_notes():
    assert [maker_name(n) for n in ("HUAWEI Technology Co.,Ltd", "IBM (https://w3.ibm.com/standards )",
                                    "Cambium Networks Limited # formerly 'PipingHot Networks Limited'",
                                    "Fortinet, Inc.")] == ["HUAWEI Technology", "IBM", "Cambium Networks", "Fortinet"]


def test_fusioninventory_s_product_oid_gives_the_model():
    found = identify(readings(oid=(1, 3, 6, 1, 4, 1, 9, 1, 1208)))
    assert found["model"] == Finding("Catalyst 2960S Software",
                                     "sysObjectID 1.3.6.1.4.1.9.1.1208 (FusionInventory sysobject.ids)")
    assert found["vendor"].value == "Cisco"  # discovery/data's table speaks first for Cisco's number


def test_an_agent_s_own_number_names_no_vendor_and_no_product():
    found = identify(readings("Linux nas0 3.2.101 #42962 SMP armv7l", (1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)))
    assert "vendor" not in found and "model" not in found


def test_the_802_11_mib_makes_an_access_point():
    found = identify(readings(dot11StationID={(5,): b"\x00\x11\x22\x33\x44\x55"},
                              dot11ManufacturerName={(5,): b"Cisco Systems, Inc."},
                              dot11ManufacturerProductName={(5,): b"AIR-CAP3702I-E-K9"},
                              dot11ManufacturerProductVersion={(5,): b"15.3(3)JD4"}))
    assert (found["device_class"], found["model"].value, found["firmware"].value) == (
        Finding("wireless", "IEEE802dot11-MIB present"), "AIR-CAP3702I-E-K9", "15.3(3)JD4")


def test_processors_in_host_resources_make_a_server():
    found = identify(readings("Linux web01 5.10.0-28-amd64", hrDeviceType={(768,): (1, 3, 6, 1, 2, 1, 25, 3, 1, 3)}))
    assert found["device_class"] == Finding("server", "HOST-RESOURCES-MIB processors")


def test_a_chassis_without_entphysicalclass_is_the_first_named_row():
    found = identify(readings(entPhysicalSerialNum={(1001,): b"CAT0912N0CU", (1002,): b"", (2001,): b"LIT1234"},
                              entPhysicalModelName={(1001,): b"WS-C3560-48TS-S"}))
    assert (found["serial"].value, found["model"].value) == ("CAT0912N0CU", "WS-C3560-48TS-S")


def fields(sys_descr: str) -> tuple:
    found = identify(readings(sys_descr))
    return tuple((found.get(name) or Finding(None, "")).value for name in ("device_class", "model", "firmware"))


def test_product_lines_say_class_model_and_version_in_their_sysdescr():
    assert fields('"Cisco IOS Software, C3560 Software (C3560-IPSERVICESK9-M), Version 12.2(55)SE12, RELEASE '
                  'SOFTWARE (fc2)"') == ("switch", None, "12.2(55)SE12")
    assert fields("Cisco IOS Software [Gibraltar], Catalyst L3 Switch Software (CAT9K_LITE_IOSXE), Version "
                  "16.12.4, RELEASE SOFTWARE (fc5)") == ("switch", None, "16.12.4")
    assert fields("Cisco IOS Software [Bengaluru], ISR Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), Version 17.6.4, "
                  "RELEASE SOFTWARE (fc1)") == ("router", None, "17.6.4")
    assert fields("Dell EMC Networking N1524P, 6.6.0.13, Linux 3.6.5, Not Available") == (
        "switch", "Dell EMC Networking N1524P", "6.6.0.13")
    assert fields("EdgeSwitch 24-Port 250W, 1.8.0.5106045, Linux 3.6.5-1b505fb7") == (
        "switch", "EdgeSwitch 24-Port 250W", "1.8.0")
    assert fields("SonicWALL TZ 570 (SonicOS 7.0.1-R1456)") == ("firewall", "TZ 570", None)
    assert fields("D-Link DAP-2660") == ("wireless", "DAP-2660", None)
    assert fields("Integrated Lights-Out 4 2.60 May 23 2018") == ("server", None, None)
    assert fields("8-Port Gigabit Smart Switch") == ("switch", None, None)
