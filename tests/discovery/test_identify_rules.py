"""Identification's rules on what agents say (pure: readings in, findings out): the vendor families' rule files
(discovery/data/vendors) and how they load, the IANA registry and FusionInventory's product OIDs read from
Debian's packages where the families are silent, the 802.11 MIB, HOST-RESOURCES, the ENTITY-MIB chassis of an
agent without entPhysicalClass, and sysDescr texts of product lines. The sysDescr strings are real devices'
(their makers' formats)."""
import pytest

from discovery.snmp.identify import Finding, identify
from discovery.snmp.registries import maker_name
from discovery.snmp.rules import InvalidRules, load

SYS_OBJECT_ID = "sysObjectID"


def readings(sys_descr: str = "", oid: tuple[int, ...] = (), **columns) -> dict:
    found = {"sysDescr": {(0,): sys_descr.encode()}} if sys_descr else {}
    if oid:
        found[SYS_OBJECT_ID] = {(0,): oid}
    return found | columns


def test_a_maker_missing_from_the_table_is_named_by_the_iana_registry():
    found = identify(readings(oid=(1, 3, 6, 1, 4, 1, 17713, 21)))
    assert found["vendor"] == Finding("Cambium", "sysObjectID enterprise 17713 (IANA registry)")


def test_registered_names_become_the_names_people_use():
    assert [maker_name(n) for n in ("HUAWEI Technology Co.,Ltd", "IBM (https://w3.ibm.com/standards )",
                                    "Cambium Networks Limited # formerly 'PipingHot Networks Limited'",
                                    "Fortinet, Inc.", "Zhejiang Dahua Technology Co., Ltd.", "The FreeBSD Project",
                                    "Fujitsu Technology Solutions GmbH", "Synology Incorporated")] == [
        "HUAWEI", "IBM", "Cambium", "Fortinet", "Dahua", "FreeBSD", "Fujitsu", "Synology"]


def test_a_product_line_s_text_names_its_brand_before_the_maker_s_number():
    """UTAX sells Kyocera's printers under its own name, with Kyocera's number."""
    found = identify(readings("TA_UTAX Printing System", (1, 3, 6, 1, 4, 1, 1347, 41)))
    assert (found["vendor"].value, found["device_class"].value) == ("UTAX", "printer")
    assert found["vendor"].source.endswith("(kyocera)")


def test_a_maker_s_own_mib_speaks_before_the_entity_mib():
    """An ENTITY-MIB chassis row's revision may be a part's; ZyXEL's own MIB states the system's firmware."""
    found = identify(readings(oid=(1, 3, 6, 1, 4, 1, 890, 1, 15),
                              entPhysicalClass={(1,): 3}, entPhysicalSoftwareRev={(1,): b"2.10.68857"},
                              **{"ZYXEL-ES-COMMON::sysSwVersionString": {(0,): b"V2.40(AAHN.0) | 04/12/2018"}}))
    assert found["firmware"] == Finding("V2.40(AAHN.0)", "ZYXEL-ES-COMMON::sysSwVersionString")


def test_an_appliance_on_net_snmp_is_named_by_its_maker_s_mib():
    """Synology's DSM answers with net-snmp's number; SYNOLOGY-SYSTEM-MIB, probed, says the rest."""
    found = identify(readings("Linux nas 4.4.302+ #64570 SMP x86_64", (1, 3, 6, 1, 4, 1, 8072, 3, 2, 10),
                              **{"SYNOLOGY-SYSTEM-MIB::modelName": {(0,): b"DS920+"},
                                 "SYNOLOGY-SYSTEM-MIB::version": {(0,): b"DSM 7.2-64570"}}))
    assert [found[field] for field in ("vendor", "model", "firmware", "device_class")] == [
        Finding("Synology", "SYNOLOGY-SYSTEM-MIB::modelName"), Finding("DS920+", "SYNOLOGY-SYSTEM-MIB::modelName"),
        Finding("DSM 7.2-64570", "SYNOLOGY-SYSTEM-MIB::version"), Finding("nas", "SYNOLOGY-SYSTEM-MIB::modelName")]


def test_a_mib_object_s_pattern_takes_the_value_out_of_its_text():
    found = identify(readings(oid=(1, 3, 6, 1, 4, 1, 4555, 1, 1, 7),
                              **{"SOCOMECUPS-MIB::upsIdentAgentSoftwareVersion": {(0,): b"NetVision v8.00"}}))
    assert found["firmware"] == Finding("8.00", "SOCOMECUPS-MIB::upsIdentAgentSoftwareVersion")


@pytest.mark.parametrize(("text", "message"), [
    ('[[enterprises]]\nclass = "ups"\n', "bad.toml: an entry lacks 'number'"),
    ('[[enterprises]]\nnumber = 1\nclass = "toaster"\n',
     "bad.toml: class 'toaster' is none of switch, router, firewall, wireless, printer, scanner, ups, pdu, server, "
     "workstation, laptop, nas, storage, camera, phone, video-conference, other"),
    ('[[objects]]\nname = "X-MIB::x"\nenterprise = 1\nfield = "colour"\noid = "1.3.6.1.4.1.1.1"\n',
     "bad.toml: object 1.3.6.1.4.1.1.1: field 'colour' is none of model, serial, firmware"),
    ("[[descriptions]]\npattern = '(unclosed'\n",
     "bad.toml: missing ), unterminated subpattern at position 0"),
    ("vendor = \"Acme\n", "bad.toml: Illegal character '\\n' (at line 1, column 15)"),
])
def test_a_rule_file_that_cannot_be_used_is_named_with_the_reason(tmp_path, text, message):
    (tmp_path / "good.toml").write_text('vendor = "Good"\n[[enterprises]]\nnumber = 7\n')
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(InvalidRules) as refused:
        load(tmp_path)
    assert str(refused.value) == message


def test_family_files_load_with_generic_rules_last(tmp_path):
    (tmp_path / "generic.toml").write_text("[[descriptions]]\npattern = 'switch'\nclass = \"switch\"\n")
    (tmp_path / "zeta.toml").write_text('vendor = "Zeta"\n[[descriptions]]\npattern = \'^Zeta\'\n')
    (tmp_path / "alpha.toml").write_text('vendor = "Alpha"\n[[enterprises]]\nnumber = 9\nclass = "ups"\n'
                                         "[[agents]]\nnumber = 8072\n")
    rules = load(tmp_path)
    assert [(d.family, d.vendor, d.device_class) for d in rules.descriptions] == [
        ("zeta", "Zeta", ""), ("generic", "", "switch")]
    assert (rules.enterprises[9].vendor, rules.enterprises[9].device_class, rules.agents) == ("Alpha", "ups",
                                                                                              frozenset({8072}))


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
    assert fields("Integrated Lights-Out 4 2.60 May 23 2018") == ("server", None, "2.60")
    assert fields("8-Port Gigabit Smart Switch") == ("switch", None, None)
