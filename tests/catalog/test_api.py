"""The catalog's HTTP API: versions, their sheets edited row by row or whole, publication, differences; every
refusal with the service's exact message, storing nothing."""
import datetime as dt
from urllib.parse import quote

import pytest

from accounts.models import Role
from catalog.compliance import today
from catalog.examples import load_example_catalog
from tests.conftest import client_as, table_contents

EXAMPLE = "Danh mục mẫu 2026"
EXAMPLE_COUNTS = {"categories": 18, "models": 39, "requirements": 18, "parts": 4, "norms": 15}
PUBLISHED = f"{EXAMPLE} is published and can no longer change; create a new version from it"
DESKTOP_REQUIREMENTS = [
    {"category": "desktop", "spec": "ram_gb", "op": ">=", "value": "8", "severity": "required"},
    {"category": "desktop", "spec": "storage_gb", "op": ">=", "value": "256", "severity": "required"},
    {"category": "desktop", "spec": "storage_kind", "op": "=", "value": "ssd", "severity": "required"},
    {"category": "desktop", "spec": "cpu_generation", "op": ">=", "value": "8", "severity": "recommended"},
    {"category": "desktop", "spec": "os_version", "op": ">=", "value": "22H2", "severity": "recommended"}]


@pytest.fixture
def example(org):
    """The example catalog shipped in catalog/data/, loaded and published as `flask seed` does: its id."""
    with org() as session, session.begin():
        return load_example_catalog(session).id


def later(days: int) -> str:
    return (today() + dt.timedelta(days=days)).isoformat()


def draft(client, copy_of: int | None, name: str = "Danh mục 2027", **fields) -> dict:
    response = client.post("/api/catalog/versions", json={"name": name, "effective_on": later(30),
                                                          "copy_of": copy_of} | fields)
    assert response.status_code == 201, response.json
    return response.json


def with_ram(rows: list[dict], gigabytes: str) -> list[dict]:
    """The requirements with desktop RAM raised (or lowered) to `gigabytes`."""
    return [row | {"value": gigabytes} if (row["category"], row["spec"]) == ("desktop", "ram_gb") else row
            for row in rows]


def test_the_example_is_listed_in_force_with_its_counts(example, client):
    [version] = client.get("/api/catalog/versions").json
    assert version | {"published_at": None} == {
        "id": example, "name": EXAMPLE, "effective_on": "2026-01-01", "status": "in_force", "published_at": None,
        "published_by": "seed", "based_on_id": None, "is_example": True, "counts": EXAMPLE_COUNTS,
        "legal_basis": "Ví dụ: Hướng dẫn danh mục thiết bị đầu cuối và hạ tầng mạng của Văn phòng UBND thành phố "
                       "(thay bằng văn bản đang có hiệu lực)",
        "note": "Dữ liệu mẫu - cần điều chỉnh trước khi sử dụng"}
    assert version["published_at"].endswith("+00:00")
    assert client.get(f"/api/catalog/versions/{example}").json == version


def test_a_copy_starts_as_a_draft_with_the_same_rows(example, client):
    copy = draft(client, example, legal_basis="Quyết định 12/QĐ-UBND", note="bản nháp")
    assert copy | {"id": 0} == {"id": 0, "name": "Danh mục 2027", "effective_on": later(30), "status": "draft",
                                "published_at": None, "published_by": None, "based_on_id": example,
                                "legal_basis": "Quyết định 12/QĐ-UBND", "note": "bản nháp", "is_example": False,
                                "counts": EXAMPLE_COUNTS}
    for sheet in EXAMPLE_COUNTS:
        assert client.get(f"/api/catalog/versions/{copy['id']}/{sheet}").json == \
            client.get(f"/api/catalog/versions/{example}/{sheet}").json, sheet
    empty = draft(client, None, name="Trống")
    assert empty["counts"] == dict.fromkeys(EXAMPLE_COUNTS, 0)
    assert [v["name"] for v in client.get("/api/catalog/versions").json] == ["Trống", "Danh mục 2027", EXAMPLE]


def test_sheets_read_as_their_csv_holds_them(example, client):
    base = f"/api/catalog/versions/{example}"
    assert client.get(f"{base}/requirements").json[:5] == DESKTOP_REQUIREMENTS
    assert client.get(f"{base}/categories").json[0] == {
        "code": "desktop", "name_vi": "Máy vi tính để bàn", "name_en": "Desktop computer", "group": "terminal",
        "device_classes": "workstation", "conditions": "", "rank": 10, "wired": "yes", "service_life_years": 5,
        "wear_rate_percent": 20.0, "life_legal_basis": "Ví dụ theo Thông tư 23/2023/TT-BTC (kiểm tra văn bản hiện hành)"}
    assert client.get(f"{base}/models").json[19] == {
        "category": "core_switch", "vendor": "Cisco", "model_pattern": "WS-C3560G-*", "price_vnd": None,
        "end_of_sale": "2013-01-26", "end_of_support": "2018-01-31", "note": "Catalyst 3560G: hết hỗ trợ"}
    assert client.get(f"{base}/parts").json[1] == {
        "code": "ssd-256gb-desktop", "category": "desktop", "name": "SSD 256 GB SATA",
        "raises": "storage_gb=256; storage_kind=ssd", "adds": "no", "price_vnd": 850000}
    assert client.get(f"{base}/norms").json[4] == {
        "code": "printer-staff", "category": "printer", "unit_kinds": "", "basis": "staff_count", "every": 5,
        "each": 1, "spare_percent": 0, "minimum": 1, "max_quantity": 1, "max_unit_price_vnd": 10000000,
        "legal_basis": "Quyết định 50/2017/QĐ-TTg (ví dụ): 1 máy in cho 5 người", "note": ""}


def test_a_sheet_put_back_as_read_reads_back_the_same(example, client):
    copy = draft(client, example)["id"]
    for sheet in EXAMPLE_COUNTS:
        url = f"/api/catalog/versions/{copy}/{sheet}"
        rows = client.get(url).json
        response = client.put(url, json=rows)
        assert (response.status_code, response.json) == (200, rows), sheet


def test_raising_desktop_ram_shows_in_the_sheet_and_the_differences(example, client):
    copy = draft(client, example)["id"]
    url = f"/api/catalog/versions/{copy}/requirements"
    response = client.put(url, json=with_ram(client.get(url).json, "16 GB"))
    assert response.status_code == 200
    assert response.json[:2] == [DESKTOP_REQUIREMENTS[0] | {"value": "16"}, DESKTOP_REQUIREMENTS[1]]
    assert client.get(url).json == response.json
    differences = client.get(f"/api/catalog/versions/{copy}/differences").json
    assert (differences["from"], differences["to"]) == ({"id": example, "name": EXAMPLE},
                                                       {"id": copy, "name": "Danh mục 2027"})
    assert differences["sheets"] == [
        {"sheet": "categories", "added": [], "removed": [], "changed": []},
        {"sheet": "models", "added": [], "removed": [], "changed": []},
        {"sheet": "requirements", "added": [], "removed": [], "changed": [
            {"key": "desktop ram_gb >=", "cells": {"value": {"before": "8", "after": "16"}}}]},
        {"sheet": "parts", "added": [], "removed": [], "changed": []},
        {"sheet": "norms", "added": [], "removed": [], "changed": []}]
    backwards = client.get(f"/api/catalog/versions/{example}/differences?from={copy}").json
    assert backwards["sheets"][2]["changed"] == [
        {"key": "desktop ram_gb >=", "cells": {"value": {"before": "16", "after": "8"}}}]


def test_differences_need_a_version_to_compare_with(example, client):
    response = client.get(f"/api/catalog/versions/{example}/differences")
    assert (response.status_code, response.json["message"]) == (
        422, f"{EXAMPLE} is not a copy of another version: say which version to compare it with, as ?from=<version id>")
    assert response.json["errors"] == {"json": {"from": [response.json["message"]]}}
    response = client.get(f"/api/catalog/versions/{example}/differences?from=999")
    assert (response.status_code, response.json["message"]) == (404, "catalog version 999 does not exist")


def test_rows_are_added_and_removed_one_at_a_time(example, client):
    copy = draft(client, example)["id"]
    base = f"/api/catalog/versions/{copy}"
    added = client.post(f"{base}/models", json={"category": "desktop", "vendor": "Asus",
                                                "model_pattern": "ExpertCenter *", "price_vnd": "14.500.000"})
    assert (added.status_code, len(added.json)) == (201, 40)
    assert added.json[-1] == {"category": "desktop", "vendor": "Asus", "model_pattern": "ExpertCenter *",
                              "price_vnd": 14500000, "end_of_sale": None, "end_of_support": None, "note": ""}
    removed = client.delete(f"{base}/models?vendor=Dell&model_pattern={quote('OptiPlex *')}")
    assert (removed.status_code, len(removed.json)) == (200, 39)
    assert {"Dell OptiPlex *", "Asus ExpertCenter *"} & {f"{m['vendor']} {m['model_pattern']}"
                                                         for m in removed.json} == {"Asus ExpertCenter *"}
    removed = client.delete(f"{base}/requirements?category=desktop&spec=cpu_generation&op={quote('>=')}")
    assert [r["spec"] for r in removed.json[:4]] == ["ram_gb", "storage_gb", "storage_kind", "os_version"]
    removed = client.delete(f"{base}/requirements?category=desktop&spec=os_version&op=at_least")
    assert [r["spec"] for r in removed.json[:4]] == ["ram_gb", "storage_gb", "storage_kind", "ram_gb"]
    assert client.delete(f"{base}/categories?code=camera").json[-1]["code"] == "server"
    categories = client.get(f"{base}/categories").json
    assert "camera" not in {c["code"] for c in categories} and len(categories) == 17
    added = client.post(f"{base}/categories", json={"code": "kiosk", "name_vi": "Ki-ốt tra cứu", "name_en": "Kiosk",
                                                    "group": "terminal", "rank": 5, "wired": True})
    assert added.status_code == 201
    assert added.json[0] == {"code": "kiosk", "name_vi": "Ki-ốt tra cứu", "name_en": "Kiosk", "group": "terminal",
                             "device_classes": "", "conditions": "", "rank": 5, "wired": "yes",
                             "service_life_years": None, "wear_rate_percent": None, "life_legal_basis": ""}
    assert client.get(f"/api/catalog/versions/{copy}").json["counts"] == {
        "categories": 18, "models": 39, "requirements": 16, "parts": 4, "norms": 15}


def test_removing_a_category_still_in_use_names_every_row_and_changes_nothing(example, client, engine):
    copy = draft(client, example)["id"]
    before, sheets = table_contents(engine), client.get(f"/api/catalog/versions/{copy}/categories").json
    response = client.delete(f"/api/catalog/versions/{copy}/categories?code=desktop")
    missing = "there is no category 'desktop' in this catalog"
    assert (response.status_code, response.json["message"]) == (
        422, f"import rejected, nothing was stored: row 2, column models.category: {missing} (and 12 more)")
    assert response.json["details"] == [{"row": row, "column": column, "reason": missing} for column, row in [
        ("models.category", 2), ("models.category", 3), ("models.category", 4), ("requirements.category", 2),
        ("requirements.category", 3), ("requirements.category", 4), ("requirements.category", 5),
        ("requirements.category", 6), ("parts.category", 2), ("parts.category", 3), ("norms.category", 2),
        ("norms.category", 3), ("norms.category", 4)]]
    assert response.json["errors"] == {"json": {"json": [response.json["message"]]}}
    assert client.get(f"/api/catalog/versions/{copy}/categories").json == sheets
    assert table_contents(engine) == before


def test_bad_rows_are_all_reported_and_nothing_is_stored(example, client, engine):
    copy = draft(client, example)["id"]
    url = f"/api/catalog/versions/{copy}/requirements"
    rows, before = client.get(url).json, table_contents(engine)
    bad = [rows[0] | {"value": "16 GB", "colour": "red"}, {"category": "router", "spec": "ram", "op": ">="},
           rows[2] | {"severity": ["required"]}, {"category": "desktop", "spec": "ram_gb", "op": "~", "value": "8"},
           rows[5] | {"value": "lots"}, rows[0]]
    response = client.put(url, json=bad)
    assert response.status_code == 422
    assert response.json["details"] == [
        {"row": 2, "column": "requirements.colour",
         "reason": "'colour' is not a column of this sheet; its columns are category, spec, op, value, severity"},
        {"row": 3, "column": "requirements.spec", "reason": "'ram' is no specification; known ones are "
         "battery_status, cpu_cores, cpu_generation, cpu_model, duplex, firmware_version, os_name, os_version, "
         "page_count, poe, port_count, port_speed_mbps, printer_ppm, ram_gb, scanner_ppm, screen_inch, "
         "sheet_feeder, storage_gb, storage_kind, uplink_ports"},
        {"row": 4, "column": "requirements.severity", "reason": "a cell holds text, a number, true or false, or null"},
        {"row": 5, "column": "requirements.op", "reason": "'~' does not compare ram_gb; use >=, <=, ="},
        {"row": 6, "column": "requirements.value", "reason": "cannot read 'lots' as RAM; write it like '8 GB' or "
                                                             "'8192 MB'"},
        {"row": 7, "column": "requirements.spec", "reason": "the same requirement is already on row 2"}]
    assert response.json["message"] == ("import rejected, nothing was stored: row 2, column requirements.colour: "
                                        "'colour' is not a column of this sheet; its columns are category, spec, "
                                        "op, value, severity (and 5 more)")
    assert client.get(url).json == rows
    assert table_contents(engine) == before


@pytest.mark.parametrize(("sheet", "row", "column", "reason"), [
    ("models", {"category": "desktop", "vendor": "Asus", "model_pattern": "X*", "price_vnd": "NaN"}, "price_vnd",
     "'NaN' is not an amount in VND (whole dong, like 15000000)"),
    ("categories", {"code": "kiosk", "name_vi": "a", "name_en": "b", "group": "terminal",
                    "wear_rate_percent": "Infinity"}, "wear_rate_percent", "'Infinity' is not a percentage"),
    ("norms", {"code": "n1", "category": "desktop", "basis": "unit", "every": "sNaN"}, "every",
     "'sNaN' is not a whole number"),
])
def test_numbers_that_are_not_numbers_are_refused(example, client, engine, sheet, row, column, reason):
    copy = draft(client, example)["id"]
    before = table_contents(engine)
    response = client.post(f"/api/catalog/versions/{copy}/{sheet}", json=row)
    assert (response.status_code, response.json["details"]) == (422, [
        {"row": EXAMPLE_COUNTS[sheet] + 2, "column": f"{sheet}.{column}", "reason": reason}])
    assert table_contents(engine) == before


def test_an_overlapping_model_is_refused_with_its_row(example, client, engine):
    copy = draft(client, example)["id"]
    before = table_contents(engine)
    response = client.post(f"/api/catalog/versions/{copy}/models", json={"category": "desktop", "vendor": "Dell",
                                                                         "model_pattern": "OptiPlex 70*"})
    assert (response.status_code, response.json["details"]) == (422, [
        {"row": 41, "column": "models.model_pattern",
         "reason": "Dell 'OptiPlex 70*' overlaps 'OptiPlex *' on row 2: a device would match both"}])
    assert table_contents(engine) == before


@pytest.mark.parametrize(("query", "status", "field", "message"), [
    ("vendor=Dell&model_pattern=Vostro%20*", 404, None, "the sheet models has no row Dell Vostro *"),
    ("vendor=Dell", 422, "model_pattern", "name the row to remove by vendor, model_pattern"),
    ("vendor=Dell&model_pattern=OptiPlex%20*&code=x", 422, "code", ("a row of models is named by vendor, "
                                                                   "model_pattern only")),
])
def test_a_row_to_remove_must_be_named_by_its_key(example, client, engine, query, status, field, message):
    copy = draft(client, example)["id"]
    before = table_contents(engine)
    response = client.delete(f"/api/catalog/versions/{copy}/models?{query}")
    assert (response.status_code, response.json["message"]) == (status, message)
    if field:
        assert response.json["errors"] == {"json": {field: [message]}}
    assert table_contents(engine) == before


def test_a_draft_is_edited_and_deleted(example, client):
    copy = draft(client, example)["id"]
    edited = client.patch(f"/api/catalog/versions/{copy}", json={"name": "Danh mục 2027 (sửa)",
                                                                 "effective_on": "2027-02-01", "note": "đã sửa"})
    assert (edited.status_code, edited.json["name"], edited.json["effective_on"], edited.json["note"]) == \
        (200, "Danh mục 2027 (sửa)", "2027-02-01", "đã sửa")
    response = client.delete(f"/api/catalog/versions/{copy}")
    assert (response.status_code, response.data) == (204, b"")
    response = client.get(f"/api/catalog/versions/{copy}")
    assert (response.status_code, response.json["message"]) == (404, f"catalog version {copy} does not exist")
    assert [v["id"] for v in client.get("/api/catalog/versions").json] == [example]


def test_a_draft_another_was_copied_from_stays(example, client, engine):
    first = draft(client, example)["id"]
    draft(client, first, name="Danh mục 2027 (bản 2)")
    before = table_contents(engine)
    response = client.delete(f"/api/catalog/versions/{first}")
    assert (response.status_code, response.json["message"]) == (
        409, "Danh mục 2027 cannot be deleted: it is the base of Danh mục 2027 (bản 2)")
    assert table_contents(engine) == before


def test_publishing_a_later_version_schedules_it(example, client):
    copy = draft(client, example)["id"]
    published = client.post(f"/api/catalog/versions/{copy}/publish")
    assert (published.status_code, published.json["status"], published.json["published_by"]) == \
        (200, "scheduled", "admin")
    assert client.get("/api/catalog/versions/in-force").json["id"] == example
    assert client.get(f"/api/catalog/versions/in-force?on={later(30)}").json["id"] == copy
    assert client.get("/api/catalog/versions/in-force?on=2026-06-01").json["id"] == example
    response = client.get("/api/catalog/versions/in-force?on=2025-12-31")
    assert (response.status_code, response.json["message"]) == (
        404, "no catalog version is in force on 31/12/2025; publish one first")
    current = draft(client, copy, name="Danh mục hiện hành", effective_on=today().isoformat())
    assert client.post(f"/api/catalog/versions/{current['id']}/publish").json["status"] == "in_force"
    assert [(v["name"], v["status"]) for v in client.get("/api/catalog/versions").json] == [
        ("Danh mục 2027", "scheduled"), ("Danh mục hiện hành", "in_force"), (EXAMPLE, "superseded")]


@pytest.mark.parametrize(("method", "path", "body", "status", "field", "message"), [
    ("get", "/api/catalog/versions/999", None, 404, None, "catalog version 999 does not exist"),
    ("patch", "/api/catalog/versions/999", {"note": "x"}, 404, None, "catalog version 999 does not exist"),
    ("delete", "/api/catalog/versions/999", None, 404, None, "catalog version 999 does not exist"),
    ("post", "/api/catalog/versions/999/publish", None, 404, None, "catalog version 999 does not exist"),
    ("get", "/api/catalog/versions/999/models", None, 404, None, "catalog version 999 does not exist"),
    ("put", "/api/catalog/versions/999/models", [], 404, None, "catalog version 999 does not exist"),
    ("post", "/api/catalog/versions", {"name": "x", "effective_on": "2027-01-01", "copy_of": 999}, 404, None,
     "catalog version 999 does not exist"),
    ("post", "/api/catalog/versions", {"name": EXAMPLE, "effective_on": "2027-01-01"}, 409, "name",
     f"a catalog version named '{EXAMPLE}' already exists"),
    ("patch", "/api/catalog/versions/{example}", {"note": "x"}, 409, None, PUBLISHED),
    ("delete", "/api/catalog/versions/{example}", None, 409, None, PUBLISHED),
    ("post", "/api/catalog/versions/{example}/publish", None, 409, None, PUBLISHED),
    ("put", "/api/catalog/versions/{example}/requirements", [], 409, None, PUBLISHED),
    ("post", "/api/catalog/versions/{example}/norms", {"code": "x"}, 409, None, PUBLISHED),
    ("delete", "/api/catalog/versions/{example}/categories?code=camera", None, 409, None, PUBLISHED),
    ("delete", "/api/catalog/versions/{example}/categories?code=nothing", None, 409, None, PUBLISHED),
    ("post", "/api/catalog/versions", {"name": "", "effective_on": "2027-01-01"}, 422, "name",
     "Length must be between 1 and 100."),
    ("post", "/api/catalog/versions", {"name": "x" * 101, "effective_on": "2027-01-01"}, 422, "name",
     "Length must be between 1 and 100."),
    ("post", "/api/catalog/versions", {"name": "x", "effective_on": "01/01/2027"}, 422, "effective_on",
     "Not a valid date."),
    ("post", "/api/catalog/versions", {"name": "x"}, 422, "effective_on", "Missing data for required field."),
    ("post", "/api/catalog/versions", {"name": "x", "effective_on": "2027-01-01", "note": "x" * 2001}, 422, "note",
     "Longer than maximum length 2000."),
    ("post", "/api/catalog/versions", {"name": "x", "effective_on": "2027-01-01", "legal_basis": 5}, 422,
     "legal_basis", "Not a valid string."),
    ("post", "/api/catalog/versions", {"name": "x", "effective_on": "2027-01-01", "copy_of": 0}, 422, "copy_of",
     "Must be greater than or equal to 1 and less than or equal to 2147483647."),
    ("patch", "/api/catalog/versions/{example}", {}, 422, "json", "nothing to change"),
    ("put", "/api/catalog/versions/{example}/models", {"category": "desktop"}, 422, "_schema", "Invalid input type."),
    ("get", "/api/catalog/versions/in-force?on=tomorrow", None, 422, "on", "Not a valid date."),
])
def test_refusals_say_why_and_change_nothing(example, client, engine, method, path, body, status, field, message):
    before = table_contents(engine)
    response = getattr(client, method)(path.format(example=example), json=body)
    assert response.status_code == status, response.json
    errors = response.json.get("errors", {})
    if status == 422 and "message" not in response.json:  # the schema's own answer
        assert next(iter(errors.values()))[field] == [message]
    else:
        assert response.json["message"] == message
        if field:
            assert errors == {"json": {field: [message]}}
    assert table_contents(engine) == before


def test_two_versions_cannot_take_effect_on_one_date(example, client, engine):
    clash = draft(client, example, effective_on="2026-01-01")
    before = table_contents(engine)
    response = client.post(f"/api/catalog/versions/{clash['id']}/publish")
    message = (f"{EXAMPLE} already takes effect on 01/01/2026: two versions cannot be in force on one date; change "
               "this version's effective date")
    assert (response.status_code, response.json["message"]) == (409, message)
    assert response.json["errors"] == {"json": {"effective_on": [message]}}
    assert client.get(f"/api/catalog/versions/{clash['id']}").json["status"] == "draft"
    assert table_contents(engine) == before


def test_a_draft_name_taken_is_refused_on_rename(example, client, engine):
    first, second = draft(client, example), draft(client, example, name="Danh mục 2028", effective_on="2028-01-01")
    before = table_contents(engine)
    response = client.patch(f"/api/catalog/versions/{second['id']}", json={"name": first["name"]})
    assert (response.status_code, response.json["message"]) == (
        409, "a catalog version named 'Danh mục 2027' already exists")
    assert table_contents(engine) == before


def test_publishing_an_empty_draft_is_refused(example, client, engine):
    empty = draft(client, None)
    before = table_contents(engine)
    response = client.post(f"/api/catalog/versions/{empty['id']}/publish")
    assert (response.status_code, response.json["message"]) == (
        422, "the version has no categories; import or add them before publishing")
    assert table_contents(engine) == before


def test_every_write_is_in_the_audit_log(example, client):
    copy = draft(client, example)["id"]
    client.post(f"/api/catalog/versions/{copy}/parts", json={"code": "ram-16gb-desktop", "category": "desktop",
                                                             "name": "RAM DDR4 16 GB", "raises": "ram_gb=16",
                                                             "adds": "yes", "price_vnd": 1_350_000})
    client.patch(f"/api/catalog/versions/{copy}", json={"note": "x"})
    client.post(f"/api/catalog/versions/{copy}/publish")
    entries = client.get("/api/audit?page_size=10").json["items"]
    assert [(e["action"], e["actor"]) for e in entries][:4] == [
        ("catalog.version.publish", "admin"), ("catalog.version.update", "admin"),
        ("catalog.version.edit", "admin"), ("catalog.version.create", "admin")]


@pytest.mark.parametrize("role", [Role.UNIT_OFFICER, Role.FINANCE, Role.AUDITOR])
def test_only_the_catalog_office_writes_and_everyone_reads(example, app, client, token_for, engine, role):
    copy = draft(client, example)["id"]
    reader = client_as(app, token_for(role))
    assert [v["id"] for v in reader.get("/api/catalog/versions").json] == [copy, example]
    assert len(reader.get(f"/api/catalog/versions/{example}/norms").json) == 15
    assert reader.get("/api/catalog/versions/in-force").json["id"] == example
    assert reader.get(f"/api/catalog/versions/{copy}/differences").status_code == 200
    before = table_contents(engine)
    for method, path, body in [
            ("post", "/api/catalog/versions", {"name": "x", "effective_on": "2027-01-01"}),
            ("patch", f"/api/catalog/versions/{copy}", {"note": "x"}), ("delete", f"/api/catalog/versions/{copy}", None),
            ("post", f"/api/catalog/versions/{copy}/publish", None), ("put", f"/api/catalog/versions/{copy}/parts", []),
            ("post", f"/api/catalog/versions/{copy}/parts", {"code": "x"}),
            ("delete", f"/api/catalog/versions/{copy}/parts?code=ram-8gb-desktop", None)]:
        response = getattr(reader, method)(path, json=body)
        assert (response.status_code, response.json["message"]) == (
            403, f"a {role.value} may not do this (needs catalog:manage)"), (method, path)
    assert table_contents(engine) == before
