"""Importing and exporting spreadsheets: all rows or none, every bad row reported."""
import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Role
from inventory.examples import load_example_organisation
from inventory.models import Device
from tests.conftest import client_as, table_contents

DEVICES_CSV = """unit_code,device_class,vendor,model,serial,hostname,status,location,purchase_date,purchase_price_vnd,macs,ips,spec:ram_gb
W1,workstation,Dell,OptiPlex 7090,PC0001,pc-01,in_use,Phòng một cửa,2023-02-01,"15.500.000",00:1b:00:00:00:11,10.1.0.11,16
W1,printer,HP,LaserJet M404,CN0001,prn-01,in_use,,2022-06-15,6200000,001B.0000.0012,10.1.0.12,
W2,workstation,Dell,OptiPlex 7090,PC0002,pc-02,spare,Kho,,,,,8
"""


def upload(client, kind: str, name: str, content: bytes, query: str = ""):
    return client.post(f"/api/imports/{kind}{query}", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_a_csv_import_records_every_row(org, client):
    response = upload(client, "devices", "kiem-ke.csv", DEVICES_CSV.encode())
    assert response.status_code == 200, response.json
    assert response.json == {"kind": "devices", "rows": 3, "created": 3, "changed": 0, "unchanged": 0,
                             "dry_run": False}
    pc = client.get("/api/devices?q=PC0001").json["items"][0]
    assert (pc["location"], pc["purchase_price_vnd"], pc["specs"], pc["interfaces"][0]["ips"]) == \
        ("Phòng một cửa", 15_500_000, {"ram_gb": 16}, ["10.1.0.11"])
    assert pc["provenance"]["location"]["source"] == "import:kiem-ke.csv by admin"
    printer = client.get("/api/devices?q=CN0001").json["items"][0]
    assert printer["interfaces"][0]["mac"] == "00:1b:00:00:00:12"


def test_the_same_import_twice_changes_nothing(org, client, engine):
    upload(client, "devices", "kiem-ke.csv", DEVICES_CSV.encode())
    before = table_contents(engine)
    response = upload(client, "devices", "kiem-ke.csv", DEVICES_CSV.encode())
    assert (response.json["created"], response.json["changed"], response.json["unchanged"]) == (0, 0, 3)
    after = table_contents(engine)
    assert after["device_event"] == before["device_event"]
    assert [d.serial for d in after_devices(engine)] == ["PC0001", "CN0001", "PC0002"]
    assert without_last_seen(after["device"]) == without_last_seen(before["device"])
    assert after["interface"] == before["interface"]
    assert len(after["observation"]) == 6  # the evidence of both imports is kept


def after_devices(engine):
    with Session(engine) as session:
        return session.scalars(select(Device).order_by(Device.id)).all()


def without_last_seen(rows):
    position = list(Device.__table__.columns.keys()).index("last_seen")
    return [row[:position] + row[position + 1:] for row in rows]


def test_a_rejected_import_reports_every_bad_row_and_stores_nothing(org, client, engine):
    upload(client, "devices", "first.csv", DEVICES_CSV.encode())
    before = table_contents(engine)
    bad = DEVICES_CSV + """W9,workstation,Dell,,PC0009,pc-09,,,,,,,
W1,toaster,Dell,,PC0010,pc-10,,,,,,,
W1,workstation,Dell,,PC0011,pc-11,,,01/02/2023,,,,
W1,workstation,Dell,,PC0012,pc-12,,,,a lot,,,
W1,workstation,Dell,,PC0001,pc-13,,,,,zz:zz,,
W1,workstation,Dell,,PC0014,pc-14,,,,,00:1b:00:00:00:11,,
"""
    response = upload(client, "devices", "second.csv", bad.encode())
    assert response.status_code == 422
    assert response.json["details"] == [
        {"row": 5, "column": "unit_code", "reason": "unit 'W9' does not exist"},
        {"row": 6, "column": "device_class", "reason": "'toaster' is not one of switch, router, firewall, wireless, "
                                                       "printer, scanner, ups, pdu, server, workstation, laptop, "
                                                       "nas, storage, camera, phone, video-conference, other"},
        {"row": 7, "column": "purchase_date", "reason": "'01/02/2023' is not a date (YYYY-MM-DD)"},
        {"row": 8, "column": "purchase_price_vnd", "reason": "'a lot' is not a whole number of dong"},
        {"row": 9, "column": "macs", "reason": "'zz:zz' is not a MAC address"},
        {"row": 10, "column": "macs", "reason": "00:1b:00:00:00:11 is also on row 2"},
    ]
    assert response.json["message"] == ("import rejected, nothing was stored: row 5, column unit_code: "
                                        "unit 'W9' does not exist (and 5 more)")
    assert table_contents(engine) == before


@pytest.mark.parametrize(("content", "name", "message"), [
    (b"", "empty.csv", "the file is empty: it needs a header row"),
    (b"\xff\xfe\x00garbage", "bad.csv", "the CSV file is not UTF-8 (byte 0)"),
    (b"PK\x03\x04 not really a zip", "bad.xlsx", "the file is not a readable XLSX workbook (BadZipFile)"),
    (b"unit_code\nW1\n", "list.ods", "'list.ods': only .csv and .xlsx files can be imported"),
    (b"unit_code,colour\nW1,red\n", "x.csv", "import rejected, nothing was stored: row 1, column colour: unknown column"),
    (b"hostname\npc-1\n", "x.csv", "import rejected, nothing was stored: row 1, column unit_code: required column is missing"),
])
def test_unreadable_files_are_refused_plainly(org, client, engine, content, name, message):
    before = table_contents(engine)
    response = upload(client, "devices", name, content)
    assert response.status_code == 422
    assert response.json["message"].startswith(message)
    assert table_contents(engine) == before


def test_an_xlsx_import_reads_typed_cells(org, client):
    content = xlsx([["unit_code", "device_class", "serial", "purchase_date", "purchase_price_vnd", "spec:ram_gb"],
                    ["W1", "laptop", "LT0001", dt.datetime(2024, 1, 5), 21_000_000, 16],
                    ["W2", "ups", 123456789, None, 4_500_000.0, None]])
    response = upload(client, "devices", "may.xlsx", content)
    assert response.json["created"] == 2, response.json
    laptop = client.get("/api/devices?q=LT0001").json["items"][0]
    assert (laptop["purchase_date"], laptop["purchase_price_vnd"], laptop["specs"]) == \
        ("2024-01-05", 21_000_000, {"ram_gb": 16})
    assert client.get("/api/devices?q=123456789").json["items"][0]["purchase_price_vnd"] == 4_500_000


def test_a_dry_run_reports_without_storing(org, client, engine):
    before = table_contents(engine)
    response = upload(client, "devices", "kiem-ke.csv", DEVICES_CSV.encode(), "?dry_run=true")
    assert (response.status_code, response.json["created"], response.json["dry_run"]) == (200, 3, True)
    assert table_contents(engine) == before


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_imports_back_unchanged(org, client, engine, fmt):
    upload(client, "devices", "kiem-ke.csv", DEVICES_CSV.encode())
    exported = client.get(f"/api/exports/devices?format={fmt}")
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"] == f"attachment; filename=devices.{fmt}"
    response = upload(client, "devices", f"devices.{fmt}", exported.data)
    assert (response.json["created"], response.json["changed"], response.json["unchanged"]) == (0, 0, 3)


def test_export_of_a_subtree_and_formula_cells_are_quoted(org, client):
    client.post("/api/devices", json={"unit_code": "A1-D1", "serial": "PC7", "location": "=HYPERLINK(\"x\")"})
    client.post("/api/devices", json={"unit_code": "W1", "serial": "PC8"})
    text = client.get("/api/exports/devices?unit=A1").data.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("id,unit_code,device_class,vendor,model,serial")
    assert len(lines) == 2 and ",PC7," in lines[1]
    assert "'=HYPERLINK" in lines[1]


def test_units_import_replaces_the_example_and_nests_children_first(app, sessions, token_for):
    with sessions() as session, session.begin():
        load_example_organisation(session)
    client = client_as(app, token_for(Role.ADMIN))
    content = xlsx([["code", "name", "kind", "parent_code", "staff_count"],
                    ["HN-P01", "Phường Ba Đình", "ward", "HN", 31],
                    ["HN", "Thành phố", "city", None, None],
                    ["HN-STC", "Sở Tài chính", "agency", "HN", 120]])
    response = upload(client, "units", "units.xlsx", content)
    assert response.json == {"kind": "units", "rows": 3, "created": 3, "changed": 0, "unchanged": 0,
                             "dry_run": False}
    units = client.get("/api/units").json
    assert [(u["code"], u["parent_code"], u["staff_count"], u["is_example"]) for u in units] == \
        [("HN", None, 0, False), ("HN-P01", "HN", 31, False), ("HN-STC", "HN", 120, False)]


def test_units_import_updates_and_rejects_cycles(org, client, engine):
    before = table_contents(engine)
    content = b"code,name,kind,parent_code,staff_count\nW1,Ward One,ward,W3,20\nW3,Ward Three,ward,W1,5\nW4,,ward,C,-2\n"
    response = upload(client, "units", "u.csv", content)
    assert response.status_code == 422
    assert response.json["details"] == [
        {"row": 2, "column": "parent_code", "reason": "W1 would be its own ancestor"},
        {"row": 3, "column": "parent_code", "reason": "W3 would be its own ancestor"},
        {"row": 4, "column": "name", "reason": "is empty"},
        {"row": 4, "column": "staff_count", "reason": "'-2' is not a headcount (a whole number, 0 or more)"},
    ]
    assert table_contents(engine) == before
    ok = upload(client, "units", "u.csv", b"code,name,kind,parent_code,staff_count\nW1,Ward One,ward,C,25\nW2,Ward Two,ward,C,15\n")
    assert (ok.json["changed"], ok.json["unchanged"]) == (1, 1)


def test_flask_export_never_writes_through_a_planted_link(app, org, tmp_path):
    """`flask export` wrote FILE.partial first, following any link already there: one planted at
    .devices.csv.partial made the export overwrite the file the link pointed to (issue 11, item 14)."""
    folder = tmp_path / "exports"  # tmp_path also holds the SQLite database
    folder.mkdir()
    victim = folder / "victim.txt"
    victim.write_text("precious")
    (folder / ".devices.csv.partial").symlink_to(victim)
    target = folder / "devices.csv"
    result = app.test_cli_runner().invoke(args=["export", "devices", str(target)])
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "precious"
    assert target.read_bytes().decode("utf-8-sig").startswith("id,unit_code,device_class")
    assert not target.is_symlink()
    assert sorted(p.name for p in folder.iterdir()) == [".devices.csv.partial", "devices.csv", "victim.txt"]
    assert (folder / ".devices.csv.partial").readlink() == victim  # the link is left alone, never followed


def test_flask_export_over_a_link_replaces_the_link_not_its_target(app, org, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = tmp_path / "units.csv"
    target.symlink_to(victim)
    result = app.test_cli_runner().invoke(args=["export", "units", str(target)])
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "precious"
    assert not target.is_symlink() and target.read_bytes().decode("utf-8-sig").startswith("code,name,kind")


def test_an_officer_cannot_tell_which_device_ids_exist(org, client, officer, engine):
    """An id of another unit's device and an id of no device read the same (review of issue 11, finding 13)."""
    theirs = client.post("/api/devices", json={"unit_code": "W2", "serial": "THEIRS-ID"}).json["id"]
    before = table_contents(engine)
    response = upload(officer, "devices", "ids.csv", f"id,unit_code\n{theirs},W1\n2000000000,W1\n".encode())
    assert (response.status_code, response.json["details"]) == (422, [
        {"row": 2, "column": "id", "reason": f"device {theirs} is not a device of your units"},
        {"row": 3, "column": "id", "reason": "device 2000000000 is not a device of your units"}])
    assert table_contents(engine) == before
    assert upload(client, "devices", "ids.csv", b"id,unit_code\n2000000000,W1\n").json["details"] == [
        {"row": 2, "column": "id", "reason": "device 2000000000 does not exist"}]
