"""No export cell can run as a formula in the spreadsheet that opens it (issue 11, item 4).

A cell a spreadsheet would read as a formula starts with =, +, -, @, a tab or a carriage return
(OWASP, "CSV Injection"); every CSV and XLSX export, the audit log's included, writes it behind an
apostrophe, which the spreadsheet shows as text and an import takes off again."""
import csv
import io

import openpyxl
import pytest

from inventory.cells import quote_cell, unquote_cell
from tests.inventory.test_transfer import upload

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ATTACK_NAME = "=cmd|' /C calc'!A0.csv"


def csv_cells(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


def xlsx_cells(response) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def formula_cells(rows) -> list:
    return [cell for row in rows for cell in row if isinstance(cell, str) and cell.startswith(FORMULA_STARTS)]


@pytest.mark.parametrize("value", ["=1+2", "+1", "-1+2", "@SUM(A1)", "\t=1+2", "\r=1+2"])
def test_a_formula_start_is_quoted(value):
    assert quote_cell(value) == "'" + value


@pytest.mark.parametrize("value", [" =3+3", "\n=5+5", "\u3000-1", "\uff1d4+4", "\uff0b1", " \uff20A1"])
def test_a_formula_start_behind_white_space_or_in_full_width_is_quoted(value):
    """Spreadsheets skip leading white space and read a full-width ＝ as = (review of issue 11, finding 20)."""
    assert (quote_cell(value), unquote_cell("'" + value)) == ("'" + value, value)


@pytest.mark.parametrize("value", ["W1", "", " 1", "'=1", "\u3000W1", 12, -3, None, 1.5])
def test_anything_else_is_kept(value):
    assert quote_cell(value) == value


def test_an_import_named_as_a_formula_is_quoted_in_the_audit_export(client):
    imported = upload(client, "devices", ATTACK_NAME, b"unit_code,serial\nW1,AUD-F1\n")
    assert imported.status_code == 200, imported.json
    client.post("/api/devices", json={"unit_code": "W1", "serial": "AUD-F2", "specs": {"note": "\t=1+2"}})
    exported = client.get("/api/audit/export")
    assert exported.status_code == 200
    rows = csv_cells(exported)
    entry = next(dict(zip(rows[0], row)) for row in rows[1:] if row[rows[0].index("action")] == "import.devices")
    assert entry["target_id"] == "'" + ATTACK_NAME
    assert formula_cells(rows) == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_spec_values_and_text_starting_with_a_tab_or_carriage_return_are_quoted(client, fmt):
    specs = {"note": "\t=1+2", "owner": "\r=cmd|' /C calc'!A0", "ports": "-2+3", "count": 4}
    created = client.post("/api/devices", json={"unit_code": "W1", "serial": "Q1", "specs": specs})
    assert created.status_code == 201, created.json
    exported = client.get(f"/api/exports/devices?format={fmt}")
    rows = csv_cells(exported) if fmt == "csv" else xlsx_cells(exported)
    device = dict(zip(rows[0], rows[1]))
    carriage_return = "\r" if fmt == "csv" else "\n"  # XML reads every line end as "\n"
    assert (device["spec:note"], device["spec:owner"], device["spec:ports"]) == \
        ("'\t=1+2", f"'{carriage_return}=cmd|' /C calc'!A0", "'-2+3")
    assert device["spec:count"] in ("4", 4)
    assert formula_cells(rows) == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_quoted_export_imports_back_unchanged(client, fmt):
    specs = {"note": "@x", "ports": "-2+3"}  # an import strips a leading tab, as it strips any white space
    client.post("/api/devices", json={"unit_code": "W1", "serial": "Q2", "specs": specs})
    exported = client.get(f"/api/exports/devices?format={fmt}")
    response = upload(client, "devices", f"devices.{fmt}", exported.data)
    assert (response.json["created"], response.json["changed"], response.json["unchanged"]) == (0, 0, 1), \
        response.json


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_nested_specs_and_control_characters_export_as_json_text(client, fmt):
    """{"a": 1} and "a\x01b" made the XLSX export a 500, and CSV wrote Python's repr (review, finding 8)."""
    specs = {"board": {"b": 2, "a": "ổ"}, "slots": ["=1", 2], "note": "a\x01b\x1f", "lead": " =3+3"}
    created = client.post("/api/devices", json={"unit_code": "W1", "serial": "J1", "specs": specs})
    assert created.status_code == 201, created.json
    exported = client.get(f"/api/exports/devices?format={fmt}")
    assert exported.status_code == 200
    rows = csv_cells(exported) if fmt == "csv" else xlsx_cells(exported)
    device = dict(zip(rows[0], rows[1]))
    assert (device["spec:board"], device["spec:slots"], device["spec:note"], device["spec:lead"]) == \
        ('{"a": "ổ", "b": 2}', '["=1", 2]', "ab", "' =3+3")
