"""Every source writes specs through the registry (inventory/specs.py), and firmware gets a version that
compares (inventory/versions.py): issue 12, points 2 and 3, wired in. Imports, people's records and the API,
other sources' observations, exports read back, device.firmware_version, and migration 0013 converting what
was stored before. SNMP's side, on the lab's recordings: tests/discovery/test_lab_specs_and_versions.py."""
import csv
import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import select

from core.db import alembic_config, migrate
from inventory.devices import record_device
from inventory.ingest import IngestBatch, ingest
from inventory.models import Device, DeviceEvent, grouped_provenance, provenance_by_field
from inventory.observations import InvalidObservation, ObservedDevice, normalise
from inventory.specs import SPECS, parse_spec
from tests.conftest import table_contents
from tests.inventory.test_transfer import upload, xlsx

T0 = dt.datetime(2026, 11, 2, 8, 0)
RAM_FORM = "write it like '8 GB' or '8192 MB'"
KNOWN = ("battery_status, cpu_cores, cpu_model, duplex, os_name, os_version, page_count, poe, port_count, "
         "port_speed_mbps, printer_ppm, ram_gb, scanner_ppm, screen_inch, sheet_feeder, storage_gb, storage_kind, "
         "uplink_ports")

# How a ward's asset sheet writes them: the registry's names and its aliases, text as people type it.
SHEET = """unit_code,device_class,serial,firmware,spec:cpu,spec:cpu_cores,spec:ram,spec:storage,spec:os,spec:ports,spec:printer_ppm,spec:duplex,spec:page_count,spec:screen_inch
W1,workstation,PC0001,,Intel(R) Core(TM) i5-8500 CPU @ 3.00GHz,6 nhân 12 luồng,RAM 8GB DDR4 2666MHz,ổ cứng 256GB SSD,Windows 10 Pro 22H2,,,,,"23,8"
W1,switch,SW0001,"Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 15.0(2)SE11, RELEASE SOFTWARE (fc3)",,,,,,24 x 1G PoE+ + 4 SFP,,,,
W1,printer,CN0001,2409A,,,7972 MB,,,,30 trang/phút,in 2 mặt,125.000,
"""
STORED = {
    "PC0001": {"cpu_model": "Intel Core i5-8500", "cpu_cores": 6, "ram_gb": 8, "storage_gb": 256, "storage_kind": "ssd",
               "os_name": "Windows 10 Pro", "os_version": "22H2", "screen_inch": 23.8},
    "SW0001": {"port_count": 28, "uplink_ports": 4, "port_speed_mbps": 1000, "poe": True},
    "CN0001": {"ram_gb": 7.8, "printer_ppm": 30, "duplex": True, "page_count": 125000},
}


README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_lists_every_spec_with_its_unit_and_examples_the_registry_reads():
    section = README.read_text().split("\n## Specifications\n")[1].split("\n## ")[0]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in section.splitlines()
            if line.startswith("| `")]
    assert [(name.strip("`"), unit or None) for name, unit, _stored, _examples in rows] == \
        [(name, spec.unit) for name, spec in SPECS.items()]
    for name, _unit, _stored, examples in rows:
        for example in re.findall(r"`([^`]+)`", examples):
            parse_spec(name.strip("`"), example)  # InvalidSpec, naming the example, if it no longer reads


def device_by_serial(client, serial: str) -> dict:
    return client.get(f"/api/devices?q={serial}").json["items"][0]


def refusal(observation: ObservedDevice, position: int | None) -> tuple:
    with pytest.raises(InvalidObservation) as caught:
        normalise(observation, position=position)
    error = caught.value
    return error.reason, error.field, error.path, error.problem


def test_an_observation_is_refused_at_the_spec_it_cannot_read():
    unreadable = ObservedDevice("collector", T0, "W1", specs={"cpu": "i5-8500", "memory_mb": "tám"})
    assert refusal(unreadable, 3) == (
        f"observations[3].specs.memory_mb: cannot read 'tám' as RAM; {RAM_FORM}", "specs.memory_mb",
        "specs.memory_mb", f"cannot read 'tám' as RAM; {RAM_FORM}")
    unknown = ObservedDevice("manual", T0, "W1", specs={"colour": "đỏ"})
    assert refusal(unknown, None) == (f"specs.colour: no such specification; known ones are {KNOWN}",
                                      "specs.colour", "specs.colour", f"no such specification; known ones are {KNOWN}")
    twice = ObservedDevice("import", T0, "W1", specs={"ram_gb": 8, "RAM": "8 GB"})
    assert refusal(twice, 0)[0] == "observations[0].specs.RAM: ram_gb is given twice, as 'ram_gb' and 'RAM'"


def test_an_observation_keeps_its_specs_by_the_registry_names_and_types():
    said = ObservedDevice("collector", T0, "W1", specs={"memory_mb": 7972, "cpu_count": 4, "storage": "1 TB HDD",
                                                      "os": "Ubuntu 22.04.3 LTS", "poe": None})
    assert normalise(said).specs == {"cpu_cores": 4, "ram_gb": 7.8, "storage_gb": 1000, "storage_kind": "hdd",
                                     "os_name": "Ubuntu", "os_version": "22.04.3"}


def test_a_collectors_specs_are_stored_typed_with_their_provenance(org):
    said = ObservedDevice("collector", T0, "W1", "agent pc-07", fields={"serial": "PC0007"},
                          specs={"cpu": "Intel(R) Core(TM) i5-8500 CPU @ 3.00GHz", "memory_mb": 7972})
    with org() as session, session.begin():
        [device_id] = ingest(session, IngestBatch([said])).device_ids
    with org() as session:
        device = session.get(Device, device_id)
        assert device.specs == {"cpu_model": "Intel Core i5-8500", "ram_gb": 7.8}
        assert (device.provenance["specs.ram_gb"]["source"], "specs.memory_mb" in device.provenance) == \
            ("agent pc-07", False)


def test_an_import_stores_what_people_write_as_typed_specs(org, client):
    response = upload(client, "devices", "kiem-ke.csv", SHEET.encode())
    assert response.json["created"] == 3, response.json
    assert {serial: device_by_serial(client, serial)["specs"] for serial in STORED} == STORED
    assert device_by_serial(client, "PC0001")["provenance"]["specs.storage_kind"]["source"] == \
        "import:kiem-ke.csv by admin"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_unreadable_spec_is_a_row_problem_and_nothing_is_stored(org, client, engine, fmt):
    rows = [["unit_code", "serial", "spec:ram", "spec:colour", "spec:memory_mb"],
            ["W1", "PC0001", "8 GB", None, None],
            ["W1", "PC0002", "8 bananas", None, None],
            ["W1", "PC0003", None, "đỏ", None],
            ["W1", "PC0004", "8 GB", None, 8192]]
    content = xlsx(rows) if fmt == "xlsx" else \
        "\n".join(",".join("" if cell is None else str(cell) for cell in row) for row in rows).encode()
    before = table_contents(engine)
    response = upload(client, "devices", f"kiem-ke.{fmt}", content)
    assert response.status_code == 422
    assert response.json["details"] == [
        {"row": 3, "column": "spec:ram", "reason": f"cannot read '8 bananas' as RAM; {RAM_FORM}"},
        {"row": 4, "column": "spec:colour", "reason": f"no such specification; known ones are {KNOWN}"},
        {"row": 5, "column": "spec:memory_mb", "reason": "ram_gb is given twice, as 'ram' and 'memory_mb'"},
    ]
    assert table_contents(engine) == before


def test_a_persons_unreadable_spec_is_refused_and_changes_nothing(org, client, engine):
    created = client.post("/api/devices", json={"unit_code": "W1", "serial": "PC0001", "specs": {"ram": "8 GB"}})
    assert created.json["specs"] == {"ram_gb": 8}
    before = table_contents(engine)
    refused = client.patch(f"/api/devices/{created.json['id']}", json={"specs": {"ram_gb": "16 GB",
                                                                                 "storage_gb": "rất lớn"}})
    reason = ("specs.storage_gb: cannot read 'rất lớn' as storage size; write it like '512 GB SSD' or '1 TB HDD'")
    assert (refused.status_code, refused.json["message"], refused.json["errors"]) == (
        422, reason, {"json": {"specs.storage_gb": [reason]}})
    assert table_contents(engine) == before
    changed = client.patch(f"/api/devices/{created.json['id']}", json={"specs": {"ram_gb": "16 GB"}})
    assert changed.json["specs"] == {"ram_gb": 16}
    [event] = [e for e in client.get(f"/api/devices/{created.json['id']}/history").json["items"]
               if e["field"] == "specs.ram_gb"]
    assert (event["kind"], event["old_value"], event["new_value"], event["method"]) == ("changed", 8, 16, "manual")


def exported(client, fmt: str) -> list[dict]:
    content = client.get(f"/api/exports/devices?format={fmt}").data
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    else:
        rows = [list(row) for row in openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
                .iter_rows(values_only=True)]
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def test_an_export_writes_typed_values_under_the_registry_names_in_its_order(org, client):
    upload(client, "devices", "kiem-ke.csv", SHEET.encode())
    content = client.get("/api/exports/devices?format=csv").data.decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(content)))
    assert header[header.index("firmware"):header.index("firmware") + 2] == ["firmware", "firmware_version"]
    assert [c for c in header if c.startswith("spec:")] == [
        "spec:cpu_model", "spec:cpu_cores", "spec:ram_gb", "spec:storage_gb", "spec:storage_kind", "spec:os_name",
        "spec:os_version", "spec:port_count", "spec:uplink_ports", "spec:port_speed_mbps", "spec:poe",
        "spec:printer_ppm", "spec:duplex", "spec:page_count", "spec:screen_inch"]
    cells = {row["serial"]: row for row in exported(client, "xlsx")}
    assert [(cells["CN0001"][c], cells["SW0001"][c], cells["PC0001"][c]) for c in ("spec:ram_gb", "spec:poe")] == \
        [(7.8, None, 8), (None, True, None)]
    assert (cells["SW0001"]["firmware_version"], cells["CN0001"]["firmware_version"]) == ("15.0(2)SE11", None)
    texts = {row["serial"]: row for row in exported(client, "csv")}
    assert [texts["CN0001"]["spec:ram_gb"], texts["SW0001"]["spec:poe"], texts["PC0001"]["spec:screen_inch"]] == \
        ["7.8", "true", "23.8"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_imports_back_identically(org, client, engine, fmt):
    """Same method (import) and a later time: a value read back any differently would change the device."""
    upload(client, "devices", "kiem-ke.csv", SHEET.encode())
    before = table_contents(engine)
    content = client.get(f"/api/exports/devices?format={fmt}").data
    response = upload(client, "devices", f"devices.{fmt}", content)
    assert (response.json["created"], response.json["changed"], response.json["unchanged"]) == (0, 0, 3)
    assert table_contents(engine)["device_event"] == before["device_event"]
    assert {serial: device_by_serial(client, serial)["specs"] for serial in STORED} == STORED


def test_firmware_version_follows_firmware_whoever_sets_it(org, client):
    snmp = ObservedDevice("snmp", T0, "W1", "snmp 10.1.0.2", fields={
        "serial": "FOC1111A1", "firmware": "Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version "
                                          "15.0(2)SE11, RELEASE SOFTWARE (fc3)"})
    with org() as session, session.begin():
        [device_id] = ingest(session, IngestBatch([snmp])).device_ids

    def firmware() -> tuple:
        device = client.get(f"/api/devices/{device_id}").json
        return device["firmware"], device["firmware_version"]
    assert firmware()[1] == "15.0(2)SE11"
    upload(client, "devices", "kiem-ke.csv", b"unit_code,serial,firmware\nW1,FOC1111A1,15.2(7)E8\n")
    assert firmware()[1] == "15.0(2)SE11"  # an import ranks below SNMP: neither firmware nor its version moves
    client.patch(f"/api/devices/{device_id}", json={"firmware": "15.2(7)E8"})
    assert firmware() == ("15.2(7)E8", "15.2(7)E8")
    client.patch(f"/api/devices/{device_id}", json={"firmware": "Vyatta unknown-version"})
    assert firmware() == ("Vyatta unknown-version", None)
    client.patch(f"/api/devices/{device_id}", json={"firmware": "v6.7.2"})
    assert firmware() == ("v6.7.2", "6.7.2")
    client.patch(f"/api/devices/{device_id}", json={"firmware": None})
    assert firmware() == (None, None)
    refused = client.patch(f"/api/devices/{device_id}", json={"firmware_version": "99"})
    assert (refused.status_code, refused.json["errors"]) == (422, {"json": {"firmware_version": ["Unknown field."]}})


# ---- migration 0013 ----------------------------------------------------------------------------------------

DEVICE = sa.table("device", sa.column("id", sa.Integer), sa.column("specs", sa.JSON),
                  sa.column("provenance", sa.JSON))
SNMP_SAID = {"method": "snmp", "source": "snmp 10.1.0.9", "at": "2026-11-02T08:01:00"}
SHEET_SAID = {"method": "import", "source": "import:kiem-ke.xlsx by admin", "at": "2026-11-03T09:00:00"}
PERSON_SAID = {"method": "manual", "source": "lan", "at": "2026-11-01T10:00:00"}


def plant(engine, device_id: int, specs: dict, said: dict[str, dict]) -> None:
    """Specs as code before revision 0013 stored them, with who said each (provenance as stored)."""
    with engine.begin() as connection:
        stored = connection.scalar(select(DEVICE.c.provenance).where(DEVICE.c.id == device_id))
        provenance = provenance_by_field(stored) | {f"specs.{key}": who for key, who in said.items()}
        connection.execute(sa.update(DEVICE).where(DEVICE.c.id == device_id).values(
            specs=specs, provenance=grouped_provenance(provenance)))


def test_migration_0013_types_stored_specs_and_keeps_what_it_cannot_read_in_the_history(org, engine):
    with org() as session, session.begin():
        ids = [record_device(session, "W1", values, by="setup").id for values in (
            {"serial": "NAS-1", "firmware": "Cisco IOS Software, C3750 Software (C3750-IPBASE-M), Version "
                                            "12.2(50)SE5, RELEASE SOFTWARE (fc1)"},
            {"serial": "PC-1"}, {"serial": "SW-1", "firmware": "Vyatta unknown-version"}, {"serial": "PC-2"},
            {"serial": "PC-3", "firmware": "v6.7.2"})]
    nas, pc, switch, typed, agreeing = ids
    command.downgrade(alembic_config(engine), "0012")
    try:
        plant(engine, nas, {"cpu_count": 4, "memory_mb": 7660, "disk_gb": 733},
              dict.fromkeys(["cpu_count", "memory_mb", "disk_gb"], SNMP_SAID))
        plant(engine, pc, {"ram_gb": "8 GB", "cpu": "i5-8500", "storage": "512GB SSD", "note": "máy của chị Lan",
                           "poe": "chưa rõ", "memory_mb": 16200},
              dict.fromkeys(["ram_gb", "cpu", "storage", "note", "poe"], SHEET_SAID) | {"memory_mb": SNMP_SAID})
        plant(engine, switch, {"ports": 24, "poe": True}, {"ports": SHEET_SAID, "poe": SHEET_SAID})
        plant(engine, typed, {"ram_gb": 16.0, "storage_kind": "ssd"}, {})
        plant(engine, agreeing, {"disk_gb": 512, "storage": "512GB SSD", "os": "Windows 10 Pro 22H2",
                                 "os_version": "21H2"},
              {"disk_gb": SNMP_SAID, "storage": SHEET_SAID, "os": SHEET_SAID, "os_version": PERSON_SAID})
        migrate(engine, "0013")
    finally:
        migrate(engine)
    with org() as session:
        devices = {device_id: session.get(Device, device_id) for device_id in ids}
        assert {i: (d.specs, d.firmware_version) for i, d in devices.items()} == {
            nas: ({"cpu_cores": 4, "ram_gb": 7.5, "storage_gb": 733}, "12.2(50)SE5"),
            pc: ({"cpu_model": "Intel Core i5-8500", "ram_gb": 16, "storage_gb": 512, "storage_kind": "ssd"}, None),
            switch: ({"port_count": 24, "poe": True}, None),
            typed: ({"ram_gb": 16, "storage_kind": "ssd"}, None),
            agreeing: ({"storage_gb": 512, "storage_kind": "ssd", "os_name": "Windows 10 Pro", "os_version": "21H2"},
                       "6.7.2")}
        assert [type(devices[typed].specs["ram_gb"]), type(devices[nas].specs["ram_gb"])] == [int, float]
        assert {k: v for k, v in devices[pc].provenance.items() if k.startswith("specs.")} == {
            "specs.ram_gb": SNMP_SAID, "specs.cpu_model": SHEET_SAID, "specs.storage_gb": SHEET_SAID,
            "specs.storage_kind": SHEET_SAID}  # SNMP outranks the sheet: its RAM is kept
        assert sorted(k for k in devices[nas].provenance if k.startswith("specs.")) == \
            ["specs.cpu_cores", "specs.ram_gb", "specs.storage_gb"]
        # A value that agrees with a stronger one still says what else it states; a spec stated beats one implied.
        assert {k: v for k, v in devices[agreeing].provenance.items() if k.startswith("specs.")} == {
            "specs.storage_gb": SNMP_SAID, "specs.storage_kind": SHEET_SAID, "specs.os_name": SHEET_SAID,
            "specs.os_version": PERSON_SAID}
        events = session.scalars(select(DeviceEvent).where(DeviceEvent.kind == "spec_refused")
                                 .order_by(DeviceEvent.id)).all()
        assert [(e.device_id, e.field, e.old_value, e.new_value, e.method, e.source, e.detail) for e in events] == [
            (pc, "specs.note", "máy của chị Lan", None, "migration", "migration 0013",
             f"note: no such specification; known ones are {KNOWN}"),
            (pc, "specs.poe", "chưa rõ", None, "migration", "migration 0013",
             "poe: cannot read 'chưa rõ' as PoE; write it like 'có' or 'không'"),
            (pc, "specs.ram_gb", "8 GB", None, "migration", "migration 0013",
             "ram_gb: ram_gb is given twice, as 'memory_mb' and 'ram_gb'; 'memory_mb' is kept")]


def sheet(os: str, day: int, method: str = "import", **specs) -> ObservedDevice:
    return ObservedDevice(method, dt.datetime(2026, 3, day), "W1", f"kiem-ke-{day}.xlsx",
                          fields={"serial": "PC-7"}, specs={"os": os, **specs})


def stored(org) -> tuple[dict, list]:
    with org() as session:
        device = session.scalars(select(Device).where(Device.serial == "PC-7")).one()
        events = session.scalars(select(DeviceEvent).where(DeviceEvent.device_id == device.id,
                                                           DeviceEvent.field.like("specs.%")).order_by(DeviceEvent.id))
        return device.specs, [(e.field, e.old_value, e.new_value) for e in events]


def test_a_new_os_takes_the_old_version_with_it_and_a_restated_one_keeps_it(org):
    def say(observation):
        with org() as session, session.begin():
            ingest(session, IngestBatch([observation]))
    say(sheet("Windows 10 Pro 22H2", 1, storage="512GB SSD"))
    say(sheet("Windows 10 Pro", 2))  # the same name again, without a version: the version stands
    assert stored(org)[0] == {"storage_gb": 512, "storage_kind": "ssd", "os_name": "Windows 10 Pro",
                              "os_version": "22H2"}
    say(sheet("Windows 11 Pro", 3, storage="1 TB"))  # upgraded, new disk: 22H2 and the SSD were the old ones'
    specs, history = stored(org)
    assert specs == {"storage_gb": 1000, "os_name": "Windows 11 Pro"}
    assert sorted(history) == [("specs.os_name", "Windows 10 Pro", "Windows 11 Pro"), ("specs.os_version", "22H2", None),
                               ("specs.storage_gb", 512, 1000), ("specs.storage_kind", "ssd", None)]


def test_a_weaker_source_changing_a_spec_leaves_a_persons_companion_alone(org):
    with org() as session, session.begin():
        ingest(session, IngestBatch([sheet("Windows 10 Pro", 1, method="manual", os_version="22H2")]))
        ingest(session, IngestBatch([sheet("Windows 11 Pro", 2, method="manual")]))
    assert stored(org)[0] == {"os_name": "Windows 11 Pro"}
    with org() as session, session.begin():
        ingest(session, IngestBatch([sheet("Windows 11 Pro 23H2", 3, method="manual")]))
        ingest(session, IngestBatch([sheet("Windows 10 Pro", 4)]))  # an old sheet outranked by the person
    assert stored(org)[0] == {"os_name": "Windows 11 Pro", "os_version": "23H2"}
