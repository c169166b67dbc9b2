"""Versions that compare (issue 12, point 3), tested on what real devices say. Each string below is the value
a recording of the snmpsim-data package holds, named by its recording and object (the lab's devices,
discovery/data/lab.csv, first), and the first test reads the recordings to check they still hold it.
Pure: no database, no agent."""
import bz2
import itertools
from pathlib import Path

import pytest
import snmpsim_data
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory.versions import at_least, normalise_version, version_key

RECORDINGS = Path(snmpsim_data.__file__).resolve().parent / "data"
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
UPS_SOFTWARE = "1.3.6.1.2.1.33.1.1.3.0"  # UPS-MIB::upsIdentUPSSoftwareVersion
UPS_AGENT_SOFTWARE = "1.3.6.1.2.1.33.1.1.4.0"  # UPS-MIB::upsIdentAgentSoftwareVersion
APC_PDU_FIRMWARE = "1.3.6.1.4.1.318.1.1.12.1.3.0"  # PowerNet-MIB::rPDUIdentFirmwareRev
NETAPP_VERSION = "1.3.6.1.4.1.789.1.1.2.0"  # NETAPP-MIB::productVersion
PAN_SW_VERSION = "1.3.6.1.4.1.25461.2.1.2.1.1.0"  # PAN-COMMON-MIB::panSysSwVersion
FORTINET_VERSION = "1.3.6.1.4.1.12356.101.4.1.1.0"  # FORTINET-FORTIGATE-MIB::fgSysVersion
METEL_CLOCK = "1.3.6.1.4.1.38616.1.8.2.2.0"  # a date and time in Metel's own MIB


def software_rev(index: int) -> str:
    return f"1.3.6.1.2.1.47.1.1.1.1.10.{index}"  # ENTITY-MIB::entPhysicalSoftwareRev


def firmware_rev(index: int) -> str:
    return f"1.3.6.1.2.1.47.1.1.1.1.9.{index}"  # ENTITY-MIB::entPhysicalFirmwareRev


# (recording under snmpsim_data/data, object, the text it holds, the version inside it)
RECORDED = [
    # The lab, in lab.csv's order. cisco-c3560:
    ("network/switch/cisco-c3560.snmprec", SYS_DESCR,
     "Cisco IOS Software, C3560 Software (C3560-IPSERVICESK9-M), Version 12.2(55)SE3, RELEASE SOFTWARE (fc1)\r\n"
     "Technical Support: http://www.cisco.com/techsupport\r\nCopyright (c) 1986-2011 by Cisco Systems, Inc.\r\n"
     "Compiled Thu 05-May-11 16:14 by prod_rel_team", "12.2(55)SE3"),
    ("network/switch/cisco-c3560.snmprec", software_rev(1001), "12.2(55)SE3", "12.2(55)SE3"),
    # cisco-c3750
    ("network/switch/cisco-c3750.snmprec", SYS_DESCR,
     "Cisco IOS Software, C3750 Software (C3750-IPBASE-M), Version 12.2(50)SE5, RELEASE SOFTWARE (fc1)", "12.2(50)SE5"),
    ("network/switch/cisco-c3750.snmprec", software_rev(1001), "12.2(50)SE5", "12.2(50)SE5"),
    # dlink-des3200: a model number is no version
    ("network/switch/dlink-des3200.snmprec", SYS_DESCR, "DES-3200-18 Fast Ethernet Switch", None),
    # hpe-procurve: the family letter kept; the OID quoted at the end is no version
    ("network/switch/hpe-procurve-516733-b21.snmprec", SYS_DESCR,
     "ProCurve 516733-B21 6120XG Blade Switch, revision Z.14.31, ROM Z.14.09 "
     "(/ws/swbuildm/ec_Z_zint4b_qaoff/code/build/vern(ec_Z_zint1.3.6.1.4.1.11.2.3.7.11.107", "Z.14.31"),
    ("network/switch/hpe-procurve-516733-b21.snmprec", software_rev(1), "Z.14.31", "Z.14.31"),
    ("network/switch/hpe-procurve-516733-b21.snmprec", firmware_rev(1), "Z.14.09", "Z.14.09"),
    # brocade-icx6430
    ("network/switch/brocade-icx6430-24.snmprec", SYS_DESCR,
     "Brocade Communications Systems, Inc. ICX6430-24, IronWare Version 08.0.30tT311 Compiled on Feb 13 2019 "
     "at 17:44:50 labeled as ICX64S08030t", "08.0.30tT311"),
    # h3c-e528: Comware's platform version and its release
    ("network/switch/h3c-e528-2.snmprec", SYS_DESCR,
     "H3C Switch E528 Software Version 5.20, Release 1513P62\r\n"
     "Copyright(c) 2004-2013 Hangzhou H3C Tech. Co., Ltd. All rights reserved.", "5.20 Release 1513P62"),
    ("network/switch/h3c-e528-2.snmprec", software_rev(2), "5.20 Release 1513P62", "5.20 Release 1513P62"),
    ("network/switch/h3c-e528-2.snmprec", software_rev(30), "Release 1513P62", "Release 1513P62"),
    # ruijie-s5750: the build number in parentheses is not kept
    ("network/switch/ruijie-s5750-24gt12sfp.snmprec", SYS_DESCR,
     "Ruijie 10G Routing Switch(S5750-24GT/12SFP) By Ruijie Networks", None),
    ("network/switch/ruijie-s5750-24gt12sfp.snmprec", software_rev(1), "RGOS 10.4(3)p4 Release(161753)", "10.4(3)p4"),
    # cisco-router
    ("network/router/cisco-unmarked-0.snmprec", SYS_DESCR, "Cisco Internetwork Operating System Software", None),
    # huawei-s5720: VRP's platform version and the product release, as Huawei prints them; not the model
    ("network/router/huawei-s5720.snmprec", SYS_DESCR,
     "S5720-36C-EI-AC \r\nHuawei Versatile Routing Platform Software \r\n VRP (R) software,Version 5.160 "
     "(S5720 V200R007C00SPC500) \r\n Copyright (C) 2007 Huawei Technologies Co., Ltd.", "5.160 V200R007C00SPC500"),
    ("network/router/huawei-s5720.snmprec", software_rev(67108867), "Version 5.160 V200R007C00SPC500",
     "5.160 V200R007C00SPC500"),
    # vyatta
    ("network/router/vyatta-unknown.snmprec", SYS_DESCR, "Vyatta unknown-version", None),
    # paloalto-pa5000
    ("network/firewall/paloalto-pa-5000.snmprec", SYS_DESCR, "Palo Alto Networks PA-5000 series firewall", None),
    ("network/firewall/paloalto-pa-5000.snmprec", software_rev(1), "8.0.1", "8.0.1"),
    ("network/firewall/paloalto-pa-5000.snmprec", PAN_SW_VERSION, "8.0.1", "8.0.1"),
    # clavister
    ("network/firewall/clavister-amaranten.snmprec", SYS_DESCR, "Amaranten Firewall 8.90.07.01-11595",
     "8.90.07.01-11595"),
    # topsec-ngfw: the model's numbers in parentheses are no version
    ("network/firewall/topsec-ngfw4000-uf.snmprec", SYS_DESCR,
     "Topsec  NGFW4000-UF(TG-72282) Software Version V3.2073N.2060N_NGFW.1", "3.2073N.2060N_NGFW.1"),
    # aruba-7010
    ("network/wifi/aruba-7010.snmprec", SYS_DESCR, "ArubaOS (MODEL: Aruba7010), Version 8.3.0.0 (64659)", "8.3.0.0"),
    # ubiquiti-m5: the kernel's version, not the build date
    ("network/wifi/ubiquiti-m5.snmprec", SYS_DESCR, "Linux 2.6.32.61 #1 Wed May 21 18:37:41 EEST 2014 mips",
     "2.6.32.61"),
    # apc-8932: the AOS version (PF), not the boot monitor's (MB) nor the date of manufacture (MD)
    ("UPS/apc-8932.snmprec", SYS_DESCR,
     "APC Web/SNMP Management Card (MB:v4.1.0 PF:v6.7.2 PN:apc_hw05_aos_672.bin AF1:v6.7.2 "
     "AN1:apc_hw05_rpdu2g_672.bin MN:AP8932 HR:02 SN: 3F503A169043 MD:01/23/2019)", "6.7.2"),
    ("UPS/apc-8932.snmprec", APC_PDU_FIRMWARE, "v6.7.2", "6.7.2"),
    # eaton-93e
    ("UPS/eaton-93e-80.snmprec", SYS_DESCR, "EATON 93E 80", None),
    ("UPS/eaton-93e-80.snmprec", UPS_SOFTWARE, "INV: 2.08.0011", "2.08.0011"),
    # phoenixtec-ups
    ("UPS/phoenixtec-power.snmprec", SYS_DESCR, "My Kert UPS", None),
    ("UPS/phoenixtec-power.snmprec", UPS_AGENT_SOFTWARE, "3.6.CY504.c", "3.6.CY504.c"),
    # linux-slackware, linux-ibm-x3550
    ("os/linux/slackware.snmprec", SYS_DESCR, "Linux cray 2.6.21.5-smp #2 SMP Tue Jun 19 14:58:11 CDT 2007 i686",
     "2.6.21.5-smp"),
    ("os/linux/ibm-x3550-m3.snmprec", SYS_DESCR,
     "Linux vir-extnodeimm 2.6.16.46-353 #2 PREEMPT Tue Dec 28 17:13:13 UTC 2010 mips", "2.6.16.46-353"),
    # windows-xp, windows-2003: the version, not the build number
    ("os/windows/XP.snmprec", SYS_DESCR,
     "Hardware: x86 Family 6 Model 9 Stepping 5 AT/AT COMPATIBLE - Software: Windows 2000 Version 5.1 "
     "(Build 2600 Uniprocessor Free)", "5.1"),
    ("os/windows/server-2003-5-2.snmprec", SYS_DESCR,
     "Hardware: x86 Family 6 Model 63 Stepping 2 AT/AT COMPATIBLE - Software: Windows Version 5.2 "
     "(Build 3790 Multiprocessor Free)", "5.2"),
    # isilon-nas
    ("storage/isilon-onefs.snmprec", SYS_DESCR,
     "Isilon OneFS nas-changan-1 v7.2.1.0 Isilon OneFS v7.2.1.0 B_7_2_1_014(RELEASE) amd64", "7.2.1.0"),
    # netapp-nas
    ("storage/netapp-fas3270.snmprec", SYS_DESCR, "NetApp Release 8.2.3 7-Mode: Thu Jan 15 21:30:45 PST 2015", "8.2.3"),
    ("storage/netapp-fas3270.snmprec", NETAPP_VERSION, "NetApp Release 8.2.3 7-Mode: Thu Jan 15 21:30:45 PST 2015",
     "8.2.3"),
    # samsung-camera: a codec's name is no version; wds-camera: nor a copyright year
    ("camera/samsung-ipolis.snmprec", SYS_DESCR, "SAMSUNG iPolis H.264 Premium Level IP Camera", None),
    ("camera/wds-ips-1022.snmprec", SYS_DESCR, "WRD Tech. IPS-1022 IPSensor, Copyright (c) 2016 WRD Tech. Co., Ltd.",
     None),
    # Recordings of the same package that are not in the lab, for the schemes the lab lacks. Junos:
    ("network/router/juniper-mx960-12-3r6-6.snmprec", SYS_DESCR,
     "Juniper Networks, Inc. mx960 internet router, kernel JUNOS 12.3R6.6, Build date: 2014-03-13 07:12:28 UTC "
     "Copyright (c) 1996-2014 Juniper Networks, Inc.", "12.3R6.6"),
    ("network/router/juniper-mx960-13-3r9-13.snmprec", SYS_DESCR,
     "Juniper Networks, Inc. mx960 internet router, kernel JUNOS 13.3R9.13, Build date: 2016-03-01 08:56:00 UTC "
     "Copyright (c) 1996-2016 Juniper Networks, Inc.", "13.3R9.13"),
    ("network/router/juniper-mx960-16-1r6-7-a.snmprec", SYS_DESCR,
     "Juniper Networks, Inc. mx960 internet router, kernel JUNOS 16.1R6.7, Build date: 2017-11-22 02:47:00 UTC "
     "Copyright (c) 1996-2017 Juniper Networks, Inc.", "16.1R6.7"),
    ("network/router/juniper-mx960-16-1r6-7-a.snmprec", software_rev(1), "16.1R6.7", "16.1R6.7"),
    ("network/router/juniper-mx960-16-1r6-7-a.snmprec", firmware_rev(8),
     "Version 16.1R6.7 by builder on 2017-11-22 00:14:53 UTC", "16.1R6.7"),
    # Cisco NX-OS, ROMMON and other trains
    ("network/switch/cisco-n5000.snmprec", SYS_DESCR,
     "Cisco NX-OS(tm) n5000, Software (n5000-uk9), Version 6.0(2)N2(3), RELEASE SOFTWARE Copyright (c) 2002-2012 "
     "by Cisco Systems, Inc. Device Manager Version 6.2(1),  Compiled 12/17/2013 2:00:00", "6.0(2)N2(3)"),
    ("network/appliance/cisco-ucs-6100.snmprec", firmware_rev(22), "5.2(3)N2(2.28g)", "5.2(3)N2(2.28g)"),
    ("network/appliance/cisco-unknown-01.snmprec", software_rev(1000), "8.5(0.46)RFW51 ", "8.5(0.46)RFW51"),
    ("network/appliance/cisco-unknown-01.snmprec", software_rev(2000), "12.2(18)SXF12", "12.2(18)SXF12"),
    ("network/appliance/cisco-unknown-01.snmprec", firmware_rev(2000), "12.2(18r)S1", "12.2(18r)S1"),
    ("network/appliance/cisco-unknown-01.snmprec", firmware_rev(3016), "12.2(17r)S4", "12.2(17r)S4"),
    ("network/appliance/cisco-unknown-01.snmprec", firmware_rev(4000), "12.2(14r)S5", "12.2(14r)S5"),
    ("network/appliance/cisco-controller.snmprec", software_rev(1), "7.6.130.0", "7.6.130.0"),
    # Arista EOS; FortiOS without its build and date
    ("cloud/arista-dcs-7150s-52-cl.snmprec", SYS_DESCR,
     "Arista Networks EOS version 4.20.5F running on an Arista Networks DCS-7150S-52-CL", "4.20.5F"),
    ("network/firewall/fortinet-xcu.snmprec", software_rev(1), "FortiCarrier-3000D v5.4.5,build1138b1138,170531 (GA)",
     "5.4.5"),
    ("network/firewall/fortinet-xcu.snmprec", FORTINET_VERSION, "v5.4.5,build1138,170531 (GA)", "5.4.5"),
    # Huawei VRP and its older RELEASE numbering, and the scheme where other vendors use it
    ("network/router/huawei-acu2.snmprec", SYS_DESCR,
     "Huawei ACU2 Huawei Versatile Routing Platform Software  VRP (R) software,Version 5.170 "
     "(ACU2 V200R007C20SPC200) Copyright (C) 2011-2017 Huawei Technologies Co., Ltd", "5.170 V200R007C20SPC200"),
    ("network/router/huawei-acu2.snmprec", software_rev(3), "V200R007C20SPC200", "V200R007C20SPC200"),
    ("network/switch/huawei-s12704.snmprec", software_rev(67108867), "Version 5.170 V200R012C00SPC500",
     "5.170 V200R012C00SPC500"),
    ("UPS/huawei-gse200m.snmprec", UPS_SOFTWARE, "V100R001C10B003SP00", "V100R001C10B003SP00"),
    ("network/router/huawei-unknown-001.snmprec", software_rev(16777216),
     "VRP (R) software, Version 5.160 (CN), RELEASE 0089", "5.160 Release 0089"),
    ("network/firewall/venus-vsos-v0600r0705b20180507.snmprec", SYS_DESCR, "VENUS VSOS-V0600R0705B20180507",
     "V0600R0705B20180507"),
    # H3C Comware 7, whose entPhysicalSoftwareRev leaves out the word "Release"
    ("network/switch/h3c-comware-7-1-075.snmprec", SYS_DESCR,
     "H3C Comware Platform Software, Software Version 7.1.075, Release 7751P01", "7.1.075 Release 7751P01"),
    ("network/switch/h3c-comware-7-1-075.snmprec", software_rev(1), "7.1.075 7751P01", "7.1.075 Release 7751P01"),
    ("network/switch/h3c-wx6103.snmprec", software_rev(1), "Release 2509P33", "Release 2509P33"),
    ("network/switch/h3c-comware-lsq1wcmd0-2509p61.snmprec", SYS_DESCR,
     "H3C Comware Platform Software LSQ1WCMD0. Product Version Release 2509P61 Copyright (c) 2004-2017 "
     "New H3C Technologies Co., Ltd. All rights reserved.", "Release 2509P61"),
    # Dates and times before the version; a date that looks dotted like one
    ("network/switch/dcrs-5980-28t-dc.snmprec", SYS_DESCR,
     "DCRS-5980-28T-DC Device, Compiled Mar 27 14:45:44 2015\n SoftWare Version 7.0.3.1(B0232.0031)\n "
     "BootRom Version 7.1.4\n HardWare Version 2.0.2\n Device serial number GOSWE120F327000001\n "
     "Copyright (C) 2001-2015 by Digital China Networks Limited.\n", "7.0.3.1(B0232.0031)"),
    ("network/switch/maipu-sm4200-16gef8ge-ac.snmprec", SYS_DESCR,
     "  SM4200-16GEF8GE-AC Device, Compiled Mar 17 18:33:56 2010\n  SoftWare Version SM4200-16GEF8GE-AC_6.0.222.39\n"
     "  BootRom Version SM4200-16GEF8GE-AC_2.0.11\n  HardWare Version 3.5\n"
     "  Copyright (C) 2009 Maipu Communication Technology Co., Ltd.\n", "6.0.222.39"),
    ("network/switch/metel-poe-box.snmprec", SYS_DESCR, "2G-2S.0.2.F-BOX-PoE (M-PoE), fw:60.7050, PoEfw:118",
     "60.7050"),
    ("network/switch/metel-poe-box.snmprec", METEL_CLOCK, "16.04.2019 11:57:12", None),
    # ZTE, ArubaOS, Tripp Lite, kernels
    ("network/switch/zte-zrx10.snmprec", SYS_DESCR,
     "ZTE ZXR10 9908 Software, 9900 Version: V1.01.10.B19P06,  RELEASE SOFTWARE", "1.01.10.B19P06"),
    ("network/wifi/aruba-7210.snmprec", SYS_DESCR, "ArubaOS (MODEL: Aruba7210), Version 6.5.1.6 (60228)", "6.5.1.6"),
    ("network/wifi/aruba-7210.snmprec", software_rev(1001), "7.4.1.4 (54199)", "7.4.1.4"),
    ("network/appliance/tripplite-poweralert.snmprec", UPS_AGENT_SOFTWARE, "15.5.4 (Build 1045)", "15.5.4"),
    ("os/linux/unknown-002.snmprec", SYS_DESCR, "Linux DCBC-600 3.2.60 #3 SMP Mon Mar 11 09:17:19 CST 2019 x86_64",
     "3.2.60"),
    ("os/linux/unknown-006.snmprec", SYS_DESCR,
     "Linux DummySystem 3.10.0-514.el7.x86_64 #1 SMP Tue Nov 22 16:42:41 UTC 2016 x86_64", "3.10.0-514.el7.x86_64"),
]
RECORDED_IDS = [f"{Path(recording).stem}:{oid}" for recording, oid, _text, _version in RECORDED]


def text_of(recording: str, oid: str = SYS_DESCR) -> str:
    return next(text for found, found_oid, text, _version in RECORDED if (found, found_oid) == (recording, oid))

# What discovery/snmp/identify.py reports as `firmware` for each lab device (polling the lab), with
# the version inside it.
LAB_FIRMWARE = {
    "cisco-c3560": ("12.2(55)SE3", "12.2(55)SE3"),  # ENTITY-MIB::entPhysicalSoftwareRev.1001
    "cisco-c3750": ("12.2(50)SE5", "12.2(50)SE5"),  # ENTITY-MIB::entPhysicalSoftwareRev.1001
    "hpe-procurve": ("Z.14.31", "Z.14.31"),  # ENTITY-MIB::entPhysicalSoftwareRev.1
    "brocade-icx6430": ("08.0.30tT311", "08.0.30tT311"),  # sysDescr pattern
    "h3c-e528": ("5.20 Release 1513P62", "5.20 Release 1513P62"),  # ENTITY-MIB::entPhysicalSoftwareRev.2
    "ruijie-s5750": ("RGOS 10.4(3)p4 Release(161753)", "10.4(3)p4"),  # ENTITY-MIB::entPhysicalSoftwareRev.1
    "huawei-s5720": ("Version 5.160 V200R007C00SPC500", "5.160 V200R007C00SPC500"),  # entPhysicalSoftwareRev
    "vyatta": ("unknown-version", None),  # sysDescr pattern '^Vyatta (?P<firmware>\S+)'
    "paloalto-pa5000": ("8.0.1", "8.0.1"),  # ENTITY-MIB::entPhysicalSoftwareRev.1
    "clavister": ("8.90.07.01-11595", "8.90.07.01-11595"),  # sysDescr pattern
    "topsec-ngfw": ("V3.2073N.2060N_NGFW.1", "3.2073N.2060N_NGFW.1"),  # sysDescr pattern
    "aruba-7010": ("8.3.0.0", "8.3.0.0"),  # sysDescr pattern
    "apc-8932": ("v6.7.2", "6.7.2"),  # PowerNet-MIB::rPDUIdentFirmwareRev
    "eaton-93e": ("2.08.0011", "2.08.0011"),  # MG-SNMP-UPS-MIB::upsmgIdentFirmwareVersion
    "isilon-nas": ("7.2.1.0", "7.2.1.0"),  # sysDescr pattern
    "netapp-nas": ("NetApp Release 8.2.3 7-Mode: Thu Jan 15 21:30:45 PST 2015", "8.2.3"),  # vendor MIB (firmware)
}


def recorded(recording: str, oid: str) -> str:
    """The value a recording holds for an object, as the agent sends it (snmprec: `oid|type|value`, the type
    ending in x when the value is written in hex). Decompressed only as far as that line: some are 40 MB."""
    line = _line_of(recording, f"\n{oid}|".encode())
    _oid, tag, value = line.decode("latin-1").rstrip("\r").split("|", 2)
    return bytes.fromhex(value).decode("latin-1") if tag.endswith("x") else value


def _line_of(recording: str, needle: bytes) -> bytes:
    plain = RECORDINGS / recording
    decompressor = None if plain.exists() else bz2.BZ2Decompressor()
    text, start = b"\n", -1
    with open(plain if decompressor is None else RECORDINGS / f"{recording}.bz2", "rb") as f:
        while chunk := f.read(1 << 16):
            text += chunk if decompressor is None else decompressor.decompress(chunk)
            start = text.find(needle)
            end = text.find(b"\n", start + 1) if start >= 0 else -1
            if end >= 0:
                return text[start + 1:end]
            if start < 0:
                text = text[text.rfind(b"\n"):]  # keep the unfinished line only
    if start >= 0:
        return text[start + 1:]
    raise AssertionError(f"{recording} holds no {needle.decode().strip()}")


@pytest.mark.parametrize(("recording", "oid", "text", "version"), RECORDED, ids=RECORDED_IDS)
def test_each_string_is_what_its_recording_holds(recording, oid, text, version):
    assert recorded(recording, oid) == text


@pytest.mark.parametrize(("recording", "oid", "text", "version"), RECORDED, ids=RECORDED_IDS)
def test_the_version_inside_what_a_device_reports(recording, oid, text, version):
    assert normalise_version(text) == version


def test_the_version_inside_what_identify_reports_as_firmware_in_the_lab():
    assert {name: normalise_version(firmware) for name, (firmware, _version) in LAB_FIRMWARE.items()} == {
        name: version for name, (_firmware, version) in LAB_FIRMWARE.items()}


def test_a_normalised_version_normalises_to_itself():
    versions = {version for *_recorded, version in RECORDED if version}
    assert {version: normalise_version(version) for version in versions} == {version: version for version in versions}


@pytest.mark.parametrize(("text", "version"), [
    # As issue 12 and its brief write them.
    ("Cisco IOS XE Software, Version 16.6.7", "16.6.7"),
    ("Everest 16.6.7", "16.6.7"),
    ("Version 15.0(2)SE11", "15.0(2)SE11"),
    ("K.15.14.0007", "K.15.14.0007"),
    ("18.4R3.3", "18.4R3.3"),
    ("v6.4.5,build1828", "6.4.5"),
    ("Build 1.00.B024", "1.00.B024"),
    ("v6.4.6", "6.4.6"),
    ("8.1.3", "8.1.3"),
    ("", None),
    (" \r\n ", None),
])
def test_the_version_inside_the_issues_examples(text, version):
    assert normalise_version(text) == version


def by_version(versions: list[str]) -> list[str]:
    return sorted(versions, key=version_key)


def test_dotted_numbers_compare_as_numbers():
    # Kernels of os/linux/ibm-x3550-m3, slackware, unknown-002 and unknown-006: 3.10 comes after 3.2.
    assert by_version(["3.10.0-514.el7.x86_64", "3.2.60", "2.6.21.5-smp", "2.6.16.46-353"]) == [
        "2.6.16.46-353", "2.6.21.5-smp", "3.2.60", "3.10.0-514.el7.x86_64"]
    # ArubaOS of aruba-7210 (sysDescr, then entPhysicalSoftwareRev), aruba-7010; Palo Alto; Clavister.
    assert by_version(["8.90.07.01-11595", "8.3.0.0", "7.4.1.4", "6.5.1.6", "8.0.1"]) == [
        "6.5.1.6", "7.4.1.4", "8.0.1", "8.3.0.0", "8.90.07.01-11595"]
    assert version_key("1.9") < version_key("1.10")  # the issue's own example
    assert version_key("08.0.30tT311") == version_key("8.0.30tT311")  # a leading zero is no digit of its own


def test_cisco_trains_compare_by_release_then_rebuild():
    # ROMMON of cisco-unknown-01, its IOS (12.2(18)SXF12), cisco-c3750 and cisco-c3560.
    assert by_version(["12.2(55)SE3", "12.2(18r)S1", "12.2(50)SE5", "12.2(14r)S5", "12.2(18)SXF12", "12.2(17r)S4"]) == [
        "12.2(14r)S5", "12.2(17r)S4", "12.2(18)SXF12", "12.2(18r)S1", "12.2(50)SE5", "12.2(55)SE3"]
    assert version_key("5.2(3)N2(2.28g)") < version_key("6.0(2)N2(3)")  # NX-OS of cisco-ucs-6100, cisco-n5000
    assert version_key("15.0(2)SE11") < version_key("15.2(4)E")  # the issue's example
    assert version_key("12.2(55)SE") < version_key("12.2(55)SE3")  # the train, then its rebuilds


def test_junos_compares_major_then_release():
    # juniper-mx960-16-1r6-7-a, -12-3r6-6, -13-3r9-13
    assert by_version(["16.1R6.7", "12.3R6.6", "13.3R9.13"]) == ["12.3R6.6", "13.3R9.13", "16.1R6.7"]
    assert version_key("16.1R6.7") < version_key("18.4R3.3")
    # The decision documented in the module: of one major.minor, R releases come before X (special) builds.
    assert version_key("18.4R3.3") < version_key("18.4X53-D10")


def test_huawei_releases_compare_v_r_c_and_service_pack():
    # huawei-gse200m (UPS-MIB), huawei-s5720, huawei-acu2, huawei-s12704 (entPhysicalSoftwareRev)
    assert by_version(["5.170 V200R012C00SPC500", "5.160 V200R007C00SPC500", "V100R001C10B003SP00",
                       "5.170 V200R007C20SPC200"]) == [
        "V100R001C10B003SP00", "5.160 V200R007C00SPC500", "5.170 V200R007C20SPC200", "5.170 V200R012C00SPC500"]
    # The release says which firmware runs: the VRP platform version beside it is not compared.
    assert version_key("5.160 V200R007C00SPC500") == version_key("V200R007C00SPC500")


def test_comware_releases_compare_by_release():
    # h3c-e528-2, h3c-wx6103, h3c-comware-lsq1wcmd0-2509p61, h3c-comware-7-1-075
    assert by_version(["Release 2509P61", "7.1.075 Release 7751P01", "Release 2509P33", "5.20 Release 1513P62"]) == [
        "5.20 Release 1513P62", "Release 2509P33", "Release 2509P61", "7.1.075 Release 7751P01"]
    assert version_key("5.20 Release 1513P62") == version_key("Release 1513P62")


def test_a_leading_v_is_ignored():
    # APC's rPDUIdentFirmwareRev (apc-8932), FortiOS's fgSysVersion (fortinet-xcu)
    assert version_key("v6.7.2") == version_key("6.7.2") == version_key("V6.7.2")
    assert version_key("v5.4.5,build1138,170531 (GA)") == version_key("5.4.5")


def test_versions_of_every_scheme_compare_without_error_and_in_one_order():
    versions = [version for *_recorded, version in RECORDED if version]
    keys = [version_key(version) for version in versions]
    assert all(isinstance(key, tuple) for key in keys)
    for a, b in itertools.product(keys, repeat=2):
        assert [a < b, a == b, a > b].count(True) == 1
    assert sorted(keys) == sorted(reversed(keys))
    # Text holding no version still gets a key, from its words.
    assert version_key("Vyatta unknown-version") < version_key("8.0.1")


@pytest.mark.parametrize(("reported", "minimum", "expected"), [
    # cisco-c3560's sysDescr, and cisco-c3750's firmware, against 12.2(55)SE3
    (text_of("network/switch/cisco-c3560.snmprec"), "12.2(55)SE3", True),
    ("12.2(50)SE5", "12.2(55)SE3", False),
    # huawei-s5720's entPhysicalSoftwareRev against its own release, and against huawei-s12704's
    ("Version 5.160 V200R007C00SPC500", "V200R007C00SPC500", True),
    ("Version 5.160 V200R007C00SPC500", "V200R012C00SPC500", False),
    # h3c-e528's firmware against its own release and h3c-wx6103's
    ("5.20 Release 1513P62", "Release 1513P62", True),
    ("5.20 Release 1513P62", "Release 2509P33", False),
    # apc-8932's and fortinet-xcu's firmware against the issue's minimums
    ("v6.7.2", "v6.4.6", True),
    ("v5.4.5,build1138,170531 (GA)", "v6.4.5,build1828", False),
    # juniper-mx960-16-1r6-7-a's sysDescr; paloalto-pa5000's firmware
    (text_of("network/router/juniper-mx960-16-1r6-7-a.snmprec"), "13.3R9.13", True),
    ("16.1R6.7", "18.4R3.3", False),
    ("8.0.1", "8.1.3", False),
    ("8.0.1", "8.0.1", True),
    # hpe-procurve's software against its boot ROM's number: one family letter, compared by number
    ("Z.14.31", "Z.14.09", True),
])
def test_at_least(reported, minimum, expected):
    assert at_least(reported, minimum) is expected


@pytest.mark.parametrize(("reported", "minimum"), [
    ("Vyatta unknown-version", "1.0"),  # vyatta's firmware as identify reports it
    ("EATON 93E 80", "2.08"),  # eaton-93e's sysDescr
    ("8.0.1", "latest"),
    ("8.0.1", ""),
    ("16.04.2019 11:57:12", "16.04"),  # metel-poe-box's clock
])
def test_at_least_is_unknown_without_a_version_on_either_side(reported, minimum):
    assert at_least(reported, minimum) is None


# Text made of the pieces versions are made of, in any order: digits, dots, parentheses, scheme letters, labels.
VERSION_LIKE = st.lists(st.sampled_from([*"0123456789.()-_,:/ vVRXCSPabcKZ", "Release ", "Version ", "V200R007",
                                         "SPC", "PF:", "\r\n"]), max_size=30).map("".join)


@settings(max_examples=500)
@given(VERSION_LIKE, VERSION_LIKE)
def test_any_two_texts_compare_and_a_normalised_version_stays_put(a, b):
    version = normalise_version(a)
    if version is not None:
        assert normalise_version(version) == version
        assert version_key(version) == version_key(a)
    assert [version_key(a) < version_key(b), version_key(a) == version_key(b), version_key(a) > version_key(b)].count(
        True) == 1
    assert at_least(a, b) in (True, False, None)
