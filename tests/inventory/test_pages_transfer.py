"""The imports and exports page: an upload's dry run as a report row by row, confirming without uploading again,
the column templates and the exports, for each role and within the caller's units."""
import html
import io
import os
import re
import time

import openpyxl
import pytest
from sqlalchemy import func, select

from accounts.models import Role
from inventory.models import Device
from inventory.specs import SPECS
from inventory.transfer import DEVICE_COLUMNS, SPEC_PREFIX, UNIT_COLUMNS
from tests.conftest import client_as, table_contents

NOT_KEPT = ("This upload is no longer kept (an hour at most, until it is imported or another file is uploaded); "
            "upload the file again.")


@pytest.fixture(autouse=True)
def pending_folder(app, tmp_path):
    """Kept uploads in this test's own folder, not the instance folder other runs share."""
    folder = tmp_path / "pending"
    app.config["PENDING_IMPORTS_FOLDER"] = str(folder)
    return folder


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def table_rows(page: str, table_id: str) -> list[list[str]]:
    """The body rows of the table with this id, each as its cells' text."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', page, re.S)
    assert table is not None, f"no table #{table_id}"
    return [[text_of(cell) for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)]


def element_text(page: str, element_id: str) -> str | None:
    found = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    return text_of(found.group(2)) if found else None


def flashes(page: str) -> list[str]:
    messages = re.findall(r'<div class="alert alert-\w+" role="(?:status|alert)">(.*?)</div>', page, re.S)
    return [text_of(message) for message in messages]


def upload(client, kind: str, name: str, content: bytes, lang: str = "en"):
    return client.post(f"/imports/{kind}?lang={lang}", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def upload_id(page: str) -> str:
    return re.search(r'name="upload" value="([^"]+)"', page).group(1)


def confirm(client, kind: str, kept: str):
    return client.post(f"/imports/{kind}/confirm?lang=en", data={"upload": kept})


def test_a_bad_row_is_reported_cell_by_cell_and_nothing_is_stored(org, client, engine, pending_folder):
    before = table_contents(engine)
    content = (b"unit_code,serial,hostname,macs\nW1,PG-1,pc-1,00:1b:00:00:00:01\nW9,PG-2,pc-2,\n"
               b"W1,PG-3,pc-3,not-a-mac\n")
    response = upload(client, "devices", "kiem-ke.csv", content)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert element_text(page, "verdict") == ("The file was refused and nothing was stored. Correct the cells listed "
                                             "below and upload the file again.")
    assert table_rows(page, "problems") == [
        ["3", "unit_code", "W9", "unit 'W9' does not exist"],
        ["4", "macs", "not-a-mac", "'not-a-mac' is not a MAC address"],
    ]
    assert 'name="upload"' not in page  # nothing to confirm
    assert table_contents(engine) == before
    assert not pending_folder.exists() or list(pending_folder.iterdir()) == []


def test_the_header_problems_name_the_column_and_what_it_holds(org, client):
    page = upload(client, "devices", "wrong.csv", b"serial,colour\nS1,red\n").get_data(as_text=True)
    assert table_rows(page, "problems") == [
        ["1", "unit_code", "", "required column is missing"],
        ["1", "colour", "colour", "unknown column; expected " + ", ".join(DEVICE_COLUMNS) + " or spec:<name>"],
    ]


def test_the_reasons_without_values_are_in_vietnamese_by_default(org, client):
    page = upload(client, "devices", "wrong.csv", b"serial,serial\nS1,S2\n", lang="vi").get_data(as_text=True)
    assert table_rows(page, "problems") == [
        ["1", "unit_code", "", "thiếu cột bắt buộc"],
        ["1", "serial", "serial", "cột xuất hiện hai lần"],
    ]


def test_a_rows_problems_are_in_vietnamese_by_default(org, client, engine):
    """Each problem's reason (core.i18n.Reason) in the page's language, its values as the file holds them."""
    before = table_contents(engine)
    content = b"unit_code,serial,macs,purchase_price_vnd\nW9,PG-1,,\nW1,PG-2,not-a-mac,\nW1,PG-3,,15tr\n"
    response = upload(client, "devices", "kiem-ke.csv", content, lang="vi")
    assert response.status_code == 422
    assert table_rows(response.get_data(as_text=True), "problems") == [
        ["2", "unit_code", "W9", "đơn vị 'W9' không tồn tại"],
        ["3", "macs", "not-a-mac", "'not-a-mac' không phải là địa chỉ MAC"],
        ["4", "purchase_price_vnd", "15tr", "'15tr' không phải là số tiền nguyên tính bằng đồng"],
    ]
    assert client.post("/api/imports/devices", data={"file": (io.BytesIO(content), "kiem-ke.csv")},
                       content_type="multipart/form-data").json["details"][0] == {
        "row": 2, "column": "unit_code", "reason": "unit 'W9' does not exist"}
    assert table_contents(engine) == before


def test_a_dry_run_shows_each_row_and_the_confirmation_imports_it(org, client, engine, pending_folder):
    existing = client.post("/api/devices", json={"unit_code": "W1", "serial": "PG-0"}).json["id"]
    before = table_contents(engine)
    content = "unit_code,device_class,serial,hostname\nW1,workstation,PG-0,pc-0\n\nW2,printer,PG-4,prn-4\n".encode()
    response = upload(client, "devices", "kiem-ke.csv", content)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert [element_text(page, f"count-{name}") for name in ("rows", "created", "changed", "unchanged")] == \
        ["2", "1", "1", "0"]
    assert table_rows(page, "rows") == [
        ["2", f"updates device {existing}", "W1", "desktop computer", "PG-0", "pc-0"],
        ["4", "new", "W2", "printer", "PG-4", "prn-4"],
    ]
    assert table_contents(engine) == before  # a dry run
    kept = upload_id(page)
    assert sorted(p.name for p in pending_folder.iterdir()) == [f"{kept}.json", f"{kept}.upload"]

    response = confirm(client, "devices", kept)
    assert (response.status_code, response.headers["Location"]) == (302, "/imports")
    assert flashes(client.get("/imports?lang=en").get_data(as_text=True)) == [
        "kiem-ke.csv imported: 2 rows, 1 created, 1 changed, 0 unchanged."]
    assert [(d["serial"], d["hostname"], d["unit_code"]) for d in client.get("/api/devices").json["items"]] == [
        ("PG-0", "pc-0", "W1"), ("PG-4", "prn-4", "W2")]
    entry = client.get("/api/audit").json["items"][0]
    assert (entry["actor"], entry["action"], entry["target_type"], entry["target_id"], entry["after"]) == (
        "admin", "import.devices", "file", "kiem-ke.csv",
        {"kind": "devices", "rows": 2, "created": 1, "changed": 1, "unchanged": 0, "dry_run": False})
    assert list(pending_folder.iterdir()) == []
    again = confirm(client, "devices", kept)
    assert (again.status_code, element_text(again.get_data(as_text=True), "reason")) == (404, NOT_KEPT)
    assert client.get("/api/devices").json["total"] == 2


def test_another_users_upload_is_not_found(org, app, client, officer, engine, pending_folder):
    kept = upload_id(upload(client, "devices", "a.csv", b"unit_code,serial\nW1,MINE-1\n").get_data(as_text=True))
    before = table_contents(engine)
    for forged in (kept, "../../etc/passwd", kept.split("-", 1)[0] + "-short", ""):
        response = confirm(officer, "devices", forged)
        assert (response.status_code, element_text(response.get_data(as_text=True), "reason")) == (404, NOT_KEPT)
    assert confirm(client, "units", kept).status_code == 404  # kept as devices: not a units import
    assert table_contents(engine) == before
    assert confirm(client, "devices", kept).status_code == 302  # still the admin's to confirm


def test_an_upload_is_kept_an_hour_and_one_per_user(org, client, engine, pending_folder):
    first = upload_id(upload(client, "devices", "a.csv", b"unit_code,serial\nW1,S-1\n").get_data(as_text=True))
    second = upload_id(upload(client, "devices", "b.csv", b"unit_code,serial\nW1,S-2\n").get_data(as_text=True))
    assert sorted(p.stem for p in pending_folder.iterdir()) == [second, second]  # the first is forgotten
    assert confirm(client, "devices", first).status_code == 404
    hour_ago = time.time() - 3601
    os.utime(pending_folder / f"{second}.json", (hour_ago, hour_ago))
    before = table_contents(engine)
    assert confirm(client, "devices", second).status_code == 404
    assert list(pending_folder.iterdir()) == []
    assert table_contents(engine) == before


def test_a_confirmation_rechecks_what_changed_since_the_dry_run(org, client, engine, pending_folder):
    kept = upload_id(upload(client, "devices", "a.csv", b"unit_code,serial\nW2,LATE-1\n").get_data(as_text=True))
    client.post("/api/units/merge", json={"sources": ["W2"], "into_code": "W1", "effective_on": "2026-07-01"})
    before = table_contents(engine)
    response = confirm(client, "devices", kept)
    assert response.status_code == 422
    assert table_rows(response.get_data(as_text=True), "problems") == [["2", "unit_code", "W2", "unit W2 is inactive"]]
    assert table_contents(engine) == before
    assert list(pending_folder.iterdir()) == []


def test_each_role_sees_the_imports_it_may_make(app, org, client, officer, token_for):
    admin = client.get("/imports?lang=en").get_data(as_text=True)
    assert 'id="import-devices"' in admin and 'id="import-units"' in admin
    mine = officer.get("/imports?lang=en").get_data(as_text=True)
    assert 'id="import-devices"' in mine and 'id="import-units"' not in mine
    assert re.findall(r'<option value="([^"]*)"', mine) == ["", "W1", "xlsx", "csv"]  # only the officer's unit
    finance = client_as(app, token_for(Role.FINANCE))
    page = finance.get("/imports?lang=en").get_data(as_text=True)
    assert 'id="import-devices"' not in page and element_text(page, "no-imports") == (
        "Your role may download the inventory; importing needs the right to record devices or to manage units.")
    refused = upload(finance, "devices", "a.csv", b"unit_code,serial\nW1,F-1\n")
    assert (refused.status_code, element_text(refused.get_data(as_text=True), "reason")) == (
        403, "a finance may not do this (needs inventory:write)")
    assert upload(officer, "units", "u.csv", b"code,name,kind\nX,X,ward\n").status_code == 403


def test_an_officer_may_name_only_their_units(org, client, officer, engine):
    client.post("/api/devices", json={"unit_code": "W2", "serial": "THEIRS1"})
    before = table_contents(engine)
    page = upload(officer, "devices", "a.csv", b"unit_code,serial\nW1,OK1\nW2,X2\nW1,THEIRS1\n").get_data(as_text=True)
    assert table_rows(page, "problems") == [
        ["3", "unit_code", "W2", "unit 'W2' is not one of your units"],
        ["4", "serial", "THEIRS1", "THEIRS1 is a device of a unit that is not yours"],
    ]
    assert table_contents(engine) == before


def test_a_busy_importer_is_said_next_to_the_file(app, org, client, engine):
    slots = app.extensions["import_slots"]
    assert slots.acquire(blocking=False)
    try:
        before = table_contents(engine)
        response = upload(client, "devices", "a.csv", b"unit_code,serial\nW1,B-1\n")
        page = response.get_data(as_text=True)
        assert response.status_code == 429
        assert element_text(page, "devices-file-error") == (
            "another import is being read; try again when it has finished")
        assert table_contents(engine) == before
    finally:
        slots.release()


def test_an_unreadable_file_and_a_missing_one_are_said_next_to_the_field(org, client):
    response = upload(client, "devices", "notes.txt", b"hello")
    assert (response.status_code, element_text(response.get_data(as_text=True), "devices-file-error")) == (
        422, "'notes.txt': only .csv and .xlsx files can be imported")
    response = client.post("/imports/units?lang=en", data={}, content_type="multipart/form-data")
    assert (response.status_code, element_text(response.get_data(as_text=True), "units-file-error")) == (
        422, "Choose a CSV or XLSX file to upload.")


def test_units_show_what_each_row_would_do(org, client, engine):
    content = b"code,name,kind,parent_code,staff_count\nW1,Ward One,ward,C,20\nW2,Ward Two (new name),ward,C,15\n" \
              b"W3,Ward Three,ward,C,9\n"
    before = table_contents(engine)
    page = upload(client, "units", "units.csv", content).get_data(as_text=True)
    assert table_rows(page, "rows") == [
        ["2", "unchanged", "W1", "Ward One", "ward", "C", "20"],
        ["3", "changes the unit", "W2", "Ward Two (new name)", "ward", "C", "15"],
        ["4", "new", "W3", "Ward Three", "ward", "C", "9"],
    ]
    assert table_contents(engine) == before
    assert confirm(client, "units", upload_id(page)).status_code == 302
    assert client.get("/api/units/W3").json["name"] == "Ward Three"
    assert client.get("/api/audit").json["items"][0]["after"] == {
        "kind": "units", "rows": 3, "created": 1, "changed": 1, "unchanged": 1, "dry_run": False}


def test_the_column_templates_are_the_imports_columns(org, client):
    devices = client.get("/imports/templates/devices.csv")
    header = [*DEVICE_COLUMNS, *(SPEC_PREFIX + name for name in SPECS)]
    assert devices.headers["Content-Disposition"] == "attachment; filename=devices-template.csv"
    assert devices.data.decode("utf-8-sig").splitlines() == [",".join(header)]
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/imports/templates/units.xlsx").data))
    assert [list(row) for row in workbook.active.iter_rows(values_only=True)] == [list(UNIT_COLUMNS)]
    # The template, filled in, is accepted as it is.
    cells = [""] * len(header)
    cells[header.index("unit_code")], cells[header.index("serial")] = "W1", "TPL-1"
    filled = devices.data + ",".join(cells).encode() + b"\n"
    page = upload(client, "devices", "template.csv", filled).get_data(as_text=True)
    assert table_rows(page, "rows") == [["2", "new", "W1", "", "", "", "TPL-1", ""]]


def test_exports_are_of_the_callers_units(org, client, officer):
    client.post("/api/devices", json={"unit_code": "W1", "serial": "MINE1"})
    client.post("/api/devices", json={"unit_code": "W2", "serial": "THEIRS1"})
    mine = officer.get("/imports/exports/devices?unit=W1&format=csv")
    assert mine.headers["Content-Disposition"] == "attachment; filename=devices-W1.csv"
    assert "MINE1" in mine.data.decode("utf-8-sig") and "THEIRS1" not in mine.data.decode("utf-8-sig")
    everything = officer.get("/imports/exports/devices?format=xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(everything.data)).active.iter_rows(values_only=True))
    assert [row[DEVICE_COLUMNS.index("serial")] for row in rows[1:]] == ["MINE1"]
    refused = officer.get("/imports/exports/devices?unit=W2&format=csv&lang=en")
    assert (refused.status_code, element_text(refused.get_data(as_text=True), "reason")) == (
        403, "unit 'W2' is not one of your units")
    wrong = officer.get("/imports/exports/devices?unit=W1&format=pdf&lang=en")
    assert (wrong.status_code, element_text(wrong.get_data(as_text=True), "e-format")) == (
        422, "Must be one of: csv, xlsx.")
    units = client.get("/imports/exports/units?format=csv").data.decode("utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in units] == ["code", "A1", "A1-D1", "C", "W1", "W2"]


def test_the_unit_page_links_to_its_devices_export(org, client):
    page = client.get("/units/W1?lang=en").get_data(as_text=True)
    assert '<a href="/imports/exports/devices?unit=W1&amp;format=csv" id="unit-export-csv">CSV</a>' in page


def test_a_confirmation_sent_twice_imports_once(org, client, sessions, pending_folder):
    kept = upload_id(upload(client, "devices", "a.csv", b"unit_code,serial\nW1,TWICE-1\n").get_data(as_text=True))
    assert confirm(client, "devices", kept).status_code == 302
    again = confirm(client, "devices", kept)  # a double click, or the same form in a second tab
    assert (again.status_code, element_text(again.get_data(as_text=True), "reason")) == (404, NOT_KEPT)
    assert list(pending_folder.iterdir()) == []
    with sessions() as session:
        assert session.scalars(select(func.count()).select_from(Device).where(Device.serial == "TWICE-1")).one() == 1
