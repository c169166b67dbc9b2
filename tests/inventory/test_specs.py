"""The specification registry: what people write in Vietnamese spreadsheets, what the import examples and
older code store, and what discovery's SNMP specs() reports for the lab's recordings. No database."""
import pytest

from core.errors import InvalidInput
from inventory.specs import SPECS, InvalidSpec, SpecKind, installed_ram_gb, parse_spec, parse_specs


def refusal(name, value) -> tuple[str, str]:
    with pytest.raises(InvalidSpec) as caught:
        parse_spec(name, value)
    return caught.value.reason, caught.value.field


def refusal_of_many(given) -> tuple[str, str]:
    with pytest.raises(InvalidSpec) as caught:
        parse_specs(given)
    return caught.value.reason, caught.value.field


def test_the_registry_names_each_spec_once_with_its_unit_and_labels():
    assert list(SPECS) == ["cpu_model", "cpu_cores", "ram_gb", "storage_gb", "storage_kind", "os_name", "os_version",
                           "port_count", "uplink_ports", "port_speed_mbps", "poe", "printer_ppm", "duplex",
                           "page_count", "scanner_ppm", "sheet_feeder", "screen_inch", "battery_status"]
    ram = SPECS["ram_gb"]
    assert (ram.unit, ram.kind, ram.label_vi, ram.label_en) == ("GB", SpecKind.NUMBER, "bộ nhớ RAM", "RAM")
    assert {name: spec.unit for name, spec in SPECS.items() if spec.unit} == {
        "ram_gb": "GB", "storage_gb": "GB", "port_speed_mbps": "Mbps", "printer_ppm": "ppm", "scanner_ppm": "ppm",
        "screen_inch": "inch"}
    assert SPECS["storage_kind"].choices == ("ssd", "hdd")
    assert SPECS["battery_status"].choices == ("normal", "low", "depleted")
    assert issubclass(InvalidSpec, InvalidInput) and InvalidSpec("x").status_code == 422
    refused = InvalidSpec("cannot read 'x' as RAM", key="RAM")
    assert (refused.reason, refused.field, refused.key, refused.problem) == (
        "RAM: cannot read 'x' as RAM", "specs.RAM", "RAM", "cannot read 'x' as RAM")


def test_cpu_model():
    people = ["i5-8500", "Core i5 8500", "Intel Core i5-8500", "Intel(R) Core(TM) i5-8500 CPU @ 3.00GHz"]
    assert {parse_spec("cpu_model", text) for text in people} == {"Intel Core i5-8500"}
    assert parse_spec("cpu_model", "core i7 8700k") == "Intel Core i7-8700K"
    assert parse_spec("cpu_model", "AMD Ryzen 5 3600 6-Core Processor") == "AMD Ryzen 5 3600"
    # hrDeviceDescr of the lab's processors: vyatta, slackware, isilon-nas, windows-2003, paloalto-pa5000
    assert parse_spec("cpu_model", "GenuineIntel: Intel(R) Core(TM) i5-2400 CPU @ 3.10GHz") == "Intel Core i5-2400"
    assert parse_spec("cpu_model", "GenuineIntel: Intel(R) Pentium(R) 4 CPU 3.00GHz") == "Intel Pentium 4"
    assert parse_spec("cpu_model", "Intel(R) Xeon(R) CPU E5-2407 v2 @ 2.40GHz") == "Intel Xeon E5-2407 v2"
    assert parse_spec("cpu_model", "Intel") == "Intel"
    assert parse_spec("cpu_model", "Management Processor") == "Management Processor"
    assert parse_spec("cpu_model", "i5 thế hệ 8") == "i5 thế hệ 8"  # not a model, but what the sheet knows
    assert refusal("cpu_model", "3.0") == (
        "cpu_model: cannot read '3.0' as CPU model; write it like 'i5-8500' or 'Intel Core i5-8500'", "specs.cpu_model")
    assert refusal("cpu_model", 4)[0] == \
        "cpu_model: cannot read 4 as CPU model; write it like 'i5-8500' or 'Intel Core i5-8500'"


def test_cpu_cores():
    assert [parse_spec("cpu_cores", v) for v in ["4", "4 cores", "6 nhân 12 luồng", "4C/8T", "8 lõi", 4, 4.0]] == \
        [4, 4, 6, 4, 8, 4, 4]
    assert refusal("cpu_cores", "bốn") == ("cpu_cores: cannot read 'bốn' as CPU cores; write it like '4' or '4 cores'",
                                          "specs.cpu_cores")
    assert refusal("cpu_cores", 0)[0] == "cpu_cores: cannot read 0 as CPU cores; write it like '4' or '4 cores'"
    assert refusal("cpu_cores", 2.5)[0].startswith("cpu_cores: cannot read 2.5 as CPU cores")


def test_ram_gb():
    spreadsheet = ["8 GB", "8GB", "8 G", "RAM 8GB", "8192 MB", "8192MB", "8", "8.192 MB", "2x4GB",
                   "RAM 8GB DDR4 2666MHz"]
    assert [parse_spec("ram_gb", text) for text in spreadsheet] == [8] * len(spreadsheet)
    assert [parse_spec("ram_gb", v) for v in ["16 GiB", "7972 MB", "7,8 GB", 16, 7.8, "0.25 GB"]] == \
        [16, 7.8, 7.8, 16, 7.8, 0.3]  # 1 GB = 1024 MB; one decimal, half up
    assert refusal("ram_gb", "8 bananas") == (
        "ram_gb: cannot read '8 bananas' as RAM; write it like '8 GB' or '8192 MB'", "specs.ram_gb")
    assert refusal("ram_gb", True)[0] == "ram_gb: cannot read True as RAM; write it like '8 GB' or '8192 MB'"
    assert refusal("ram_gb", "32 MB")[0].startswith("ram_gb: cannot read '32 MB' as RAM")  # not "0 GB"


def test_storage_gb():
    assert [parse_spec("storage_gb", text) for text in ["512GB SSD", "1 TB HDD", "ổ cứng 256GB SSD", "256 GB",
                                                        "1,5 TB", "1.000 GB", "256GB SSD + 1TB HDD", 733]] == \
        [512, 1000, 256, 256, 1500, 1000, 1256, 733]  # disks count 1 TB = 1000 GB, as their makers do
    assert refusal("storage_gb", "SSD") == (
        "storage_gb: cannot read 'SSD' as storage size; write it like '512 GB SSD' or '1 TB HDD'", "specs.storage_gb")
    assert refusal("storage_gb", "SSD + 1TB HDD")[0] == \
        "storage_gb: cannot read 'SSD + 1TB HDD' as storage size; write it like '512 GB SSD' or '1 TB HDD'"


def test_storage_kind():
    assert [parse_spec("storage_kind", text) for text in ["SSD", "HDD", "NVMe", "ổ SSD", "512GB SSD",
                                                          "ổ cứng 256GB SSD", "1 TB HDD", "ssd"]] == \
        ["ssd", "hdd", "ssd", "ssd", "ssd", "ssd", "hdd", "ssd"]
    assert refusal("storage_kind", "256 GB") == (
        "storage_kind: cannot read '256 GB' as storage kind; write it like 'SSD' or 'HDD'", "specs.storage_kind")
    assert refusal("storage_kind", "256GB SSD + 1TB HDD")[0].startswith(
        "storage_kind: cannot read '256GB SSD + 1TB HDD' as storage kind")  # two kinds: neither is the kind


def test_os_name_and_version():
    assert [(parse_spec("os_name", text), parse_spec("os_version", text))
            for text in ["Windows 10 Pro 22H2", "Ubuntu 22.04.3 LTS", "win10 pro 64-bit 21H2",
                         "CentOS Linux 7.9.2009 (Core)", "Windows 11 home single language 23H2"]] == \
        [("Windows 10 Pro", "22H2"), ("Ubuntu", "22.04.3"), ("Windows 10 Pro", "21H2"),
         ("CentOS Linux", "7.9.2009"), ("Windows 11 Home Single Language", "23H2")]
    names_only = ["Windows Server 2019 Standard", "Windows 8.1", "Windows 7 Professional", "IOS"]
    assert [parse_spec("os_name", text) for text in names_only] == \
        ["Windows Server 2019 Standard", "Windows 8.1", "Windows 7 Professional", "IOS"]
    # What discovery's identify() says of the lab's windows-2003 and linux-ibm-x3550
    assert parse_specs({"os": "Windows 5.2"}) == {"os_name": "Windows", "os_version": "5.2"}
    assert parse_specs({"os": "Linux 2.6.16.46-353"}) == {"os_name": "Linux", "os_version": "2.6.16.46-353"}
    assert parse_spec("os_version", "22H2") == "22H2"
    assert refusal("os_version", "Windows Server 2019 Standard") == (
        "os_version: cannot read 'Windows Server 2019 Standard' as OS version; write it like '22H2' or '22.04.3'",
        "specs.os_version")
    assert refusal("os_name", "22.04")[0] == \
        "os_name: cannot read '22.04' as operating system; write it like 'Windows 10 Pro' or 'Ubuntu'"


def test_ports_count_uplinks_and_speed():
    texts = ["24 x 1G + 4 SFP", "48 cổng 10/100/1000", "24-port Gigabit", "16 x 10/100Mbps + 2 x 1G SFP",
             "24 x 1G PoE+ + 4 SFP+", "8 cổng", 24]
    assert [parse_spec("port_count", v) for v in texts] == [28, 48, 24, 18, 28, 8, 24]  # every port, uplinks too
    assert [parse_spec("port_speed_mbps", v) for v in texts[:5]] == [1000, 1000, 1000, 100, 1000]  # access ports
    assert [parse_spec("uplink_ports", v) for v in ["24 x 1G + 4 SFP", "24 x 1G + 2 x 10G", "4", 0]] == [4, 2, 4, 0]
    assert [parse_spec("port_speed_mbps", v) for v in ["1G", "2.5G", "100 Mbps", "Fast Ethernet", "1000", 10000]] == \
        [1000, 2500, 100, 100, 1000, 10000]
    assert refusal("port_count", "nhiều cổng") == (
        "port_count: cannot read 'nhiều cổng' as number of ports; write it like '24' or '24 x 1G + 4 SFP'",
        "specs.port_count")
    assert refusal("uplink_ports", "48 cổng 10/100/1000")[0] == (  # one group, no SFP: uplinks unknown
        "uplink_ports: cannot read '48 cổng 10/100/1000' as uplink ports; write it like '4' or '24 x 1G + 4 SFP'")
    assert refusal("port_speed_mbps", "nhanh")[0] == \
        "port_speed_mbps: cannot read 'nhanh' as port speed; write it like '1G' or '100 Mbps'"


def test_poe():
    yes = ["PoE", "PoE+", "Có", "có", "co", "yes", "x", "X", "802.3at", True, 1]
    no = ["Không", "không", "khong", "ko", "no", "không PoE", "non-PoE", False, 0]
    assert [parse_spec("poe", v) for v in yes] == [True] * len(yes)
    assert [parse_spec("poe", v) for v in no] == [False] * len(no)
    assert refusal("poe", "chưa rõ") == (
        "poe: cannot read 'chưa rõ' as PoE; write it like 'có' or 'không'", "specs.poe")


def test_printer_ppm():
    assert [parse_spec("printer_ppm", v) for v in ["30 ppm", "30ppm", "30 trang/phút", "30 tờ / phút",
                                                   "lên đến 30 trang/phút", "30", 30]] == [30] * 7
    assert refusal("printer_ppm", "30 trang") == (
        "printer_ppm: cannot read '30 trang' as print speed; write it like '30 ppm' or '30 trang/phút'",
        "specs.printer_ppm")


def test_duplex():
    assert [parse_spec("duplex", v) for v in ["in 2 mặt", "Duplex", "có", "in hai mặt", "in 1 mặt", "Không"]] == \
        [True, True, True, True, False, False]
    assert refusal("duplex", "2")[0] == "duplex: cannot read '2' as two-sided printing; write it like 'có' or 'không'"


def test_page_count():
    # prtMarkerLifeCount as SNMP gives it, and a counter as a spreadsheet writes it
    assert [parse_spec("page_count", v) for v in [125000, "125000", "125.000", "125,000 trang", "125 000 pages", 0,
                                                  "0"]] == [125000, 125000, 125000, 125000, 125000, 0, 0]
    assert refusal("page_count", "12.5") == (
        "page_count: cannot read '12.5' as page count; write it like '125000' or '125.000 trang'", "specs.page_count")
    assert refusal("page_count", -1)[0].startswith("page_count: cannot read -1 as page count")


def test_scanner_ppm():
    assert [parse_spec("scanner_ppm", v) for v in ["25 ppm", "25 trang/phút", 25]] == [25, 25, 25]
    assert refusal("scanner_ppm", "0 ppm") == (
        "scanner_ppm: cannot read '0 ppm' as scan speed; write it like '25 ppm' or '25 trang/phút'",
        "specs.scanner_ppm")


def test_sheet_feeder():
    assert [parse_spec("sheet_feeder", v) for v in ["ADF", "khay nạp tự động", "Có ADF", "không ADF", "Không"]] == \
        [True, True, True, False, False]
    assert refusal("sheet_feeder", "khay tay")[0] == \
        "sheet_feeder: cannot read 'khay tay' as automatic document feeder; write it like 'có' or 'không'"


def test_screen_inch():
    assert [parse_spec("screen_inch", v) for v in ['23.8"', "24 inch", "21.5 in", "23,8 inch", "24”", 23.8, 24]] == \
        [23.8, 24, 21.5, 23.8, 24, 23.8, 24]
    assert refusal("screen_inch", "24 cm") == (
        "screen_inch: cannot read '24 cm' as screen size; write it like '23.8\"' or '24 inch'", "specs.screen_inch")


def test_battery_status():
    # upsBatteryStatus 2, 3, 4 as discovery names them (eaton-93e's recording says 2, normal), and in Vietnamese
    assert [parse_spec("battery_status", v) for v in ["normal", "low", "depleted", "Bình thường", "yếu", "cạn"]] == \
        ["normal", "low", "depleted", "normal", "low", "depleted"]
    assert refusal("battery_status", "unknown") == (  # upsBatteryStatus 1: the UPS does not know
        "battery_status: cannot read 'unknown' as battery status; write it like 'bình thường' or 'yếu'",
        "specs.battery_status")


def test_control_characters_in_text_read_as_spaces():
    assert parse_spec("cpu_model", "Intel\x00Xeon\x1f E5\x01") == "Intel Xeon E5"
    assert parse_spec("os_name", "\tUbuntu\r") == "Ubuntu"


def test_an_unknown_spec_is_refused_with_the_known_names():
    known = ("battery_status, cpu_cores, cpu_model, duplex, os_name, os_version, page_count, poe, port_count, "
             "port_speed_mbps, printer_ppm, ram_gb, scanner_ppm, screen_inch, sheet_feeder, storage_gb, storage_kind, "
             "uplink_ports")
    assert refusal("colour", "đỏ") == (f"colour: no such specification; known ones are {known}", "specs.colour")
    assert refusal("ram", "8 GB")[0] == f"ram: no such specification; known ones are {known}"  # aliases: parse_specs
    assert refusal_of_many({"ram_gb": 8, "note": "x"}) == (f"note: no such specification; known ones are {known}",
                                                           "specs.note")


def test_snmp_findings_of_the_lab_read_as_the_registry_stores_them():
    """What specs() of discovery/snmp/identify.py stored for the lab's recordings before issue 12 (hrProcessorTable
    rows, hrMemorySize // 1024, fixed-disk bytes / 10**9), as migration 0013 reads it; and hrMemorySize in KB, as
    specs() writes ram_gb now (tests/discovery/test_lab_specs_and_versions.py polls the lab)."""
    assert parse_specs({"cpu_count": 4, "memory_mb": 2047, "disk_gb": 54}) == \
        {"cpu_cores": 4, "ram_gb": 2, "storage_gb": 54}  # windows-2003
    assert parse_specs({"cpu_count": 4, "memory_mb": 7660, "disk_gb": 733}) == \
        {"cpu_cores": 4, "ram_gb": 7.5, "storage_gb": 733}  # vyatta
    assert parse_specs({"cpu_count": 4, "memory_mb": 49046, "disk_gb": 1537})["ram_gb"] == 47.9  # isilon-nas
    assert [parse_specs({"memory_mb": mb})["ram_gb"] for mb in (990, 998, 99, 152)] == [1, 1, 0.1, 0.1]
    assert parse_specs({"memory_mb": "8 GB"}) == {"ram_gb": 8}  # under an MB name a unit still counts
    # hrMemorySize of vyatta, isilon-nas and linux-ibm-x3550, and of an 8 GiB machine
    assert [parse_spec("ram_gb", f"{kb} KB") for kb in (7_844_796, 50_223_940, 102_196, 8_388_608)] == \
        [7.5, 47.9, 0.1, 8]


def test_old_spellings_and_imports_meet_in_one_key():
    # tests/inventory/test_transfer.py imports spec:ram_gb as CSV text and as an XLSX number
    assert [parse_specs({"ram_gb": v}) for v in ("16", "8", 16)] == [{"ram_gb": 16}, {"ram_gb": 8}, {"ram_gb": 16}]
    # tests/inventory/test_ingest.py's switch, and the spec:cpu column of the robustness tests
    assert parse_specs({"ports": 24, "poe": True}) == {"port_count": 24, "poe": True}
    assert parse_specs({"cpu": "Intel(R) Core(TM) i5-8500 CPU @ 3.00GHz"}) == {"cpu_model": "Intel Core i5-8500"}
    four_ways = [{"ram_gb": 8}, {"RAM": "8 GB"}, {"ram_mb": 8192}, {"memory_mb": "8192"}, {"ram": "RAM 8GB"}]
    assert [parse_specs(given) for given in four_ways] == [{"ram_gb": 8}] * 5


def test_a_combined_text_adds_the_specs_it_states_unless_given():
    assert parse_specs({"storage": "ổ cứng 256GB SSD", "os": "Windows 10 Pro 22H2", "ports": "24 x 1G PoE+ + 4 SFP"}) \
        == {"storage_gb": 256, "storage_kind": "ssd", "os_name": "Windows 10 Pro", "os_version": "22H2",
            "port_count": 28, "uplink_ports": 4, "port_speed_mbps": 1000, "poe": True}
    assert parse_specs({"storage_kind": "hdd", "storage_gb": "512GB SSD", "os_version": "21H2",
                        "os": "Windows 10 Pro 22H2", "poe": "không", "ports": "24 x 1G PoE"}) == \
        {"storage_gb": 512, "storage_kind": "hdd", "os_name": "Windows 10 Pro", "os_version": "21H2",
         "port_count": 24, "port_speed_mbps": 1000, "poe": False}  # what is given itself wins, in any order
    assert parse_specs({"storage_gb": "256GB SSD + 1TB HDD"}) == {"storage_gb": 1256}  # two kinds: none said
    assert parse_specs({"uplink_ports": "24 x 1G + 4 SFP"}) == {"uplink_ports": 4}  # only itself


def test_blank_values_say_nothing_and_a_spec_given_twice_is_refused():
    assert parse_specs({"ram_gb": "", "cpu": "  ", "poe": None, "screen_inch": 24}) == {"screen_inch": 24}
    assert refusal_of_many({"ram_gb": 8, "memory_mb": 8192}) == (
        "memory_mb: ram_gb is given twice, as 'ram_gb' and 'memory_mb'", "specs.memory_mb")
    assert refusal_of_many({"ram_mb": "tám"}) == (
        "ram_mb: cannot read 'tám' as RAM; write it like '8 GB' or '8192 MB'", "specs.ram_mb")
    assert refusal("ram_gb", "")[0] == "ram_gb: cannot read '' as RAM; write it like '8 GB' or '8192 MB'"


def test_stored_values_read_back_unchanged():
    stored = parse_specs({"cpu": "i5-8500", "cpu_count": 6, "memory_mb": 7972, "storage": "512GB SSD",
                          "os": "Ubuntu 22.04.3 LTS", "ports": "24 x 1G PoE+ + 4 SFP", "printer_ppm": "30 ppm",
                          "duplex": "in 2 mặt", "scanner_ppm": "25 trang/phút", "sheet_feeder": "ADF",
                          "screen_inch": '23.8"'})
    assert stored == {"cpu_model": "Intel Core i5-8500", "cpu_cores": 6, "ram_gb": 7.8, "storage_gb": 512,
                      "storage_kind": "ssd", "os_name": "Ubuntu", "os_version": "22.04.3", "port_count": 28,
                      "uplink_ports": 4, "port_speed_mbps": 1000, "poe": True, "printer_ppm": 30, "duplex": True,
                      "scanner_ppm": 25, "sheet_feeder": True, "screen_inch": 23.8}
    assert parse_specs(stored) == stored
    assert {name: type(value) for name, value in stored.items() if name in ("ram_gb", "storage_gb")} == \
        {"ram_gb": float, "storage_gb": int}


def test_installed_ram_is_what_the_system_can_use_up_to_the_next_half_gb():
    # An 8 GB PC says 7972 MB; the lab's Isilon node 49,069 MB (47.9 GB of 48); under 1 GB stays as it is.
    assert [installed_ram_gb(mb) for mb in (7972, 8192, 49_069, 3_950, 1_024, 99.8)] == [8, 8, 48, 4, 1, 99.8 / 1024]
