"""No export cell can run as a formula in the spreadsheet that opens it (issue 11, item 4).

A cell a spreadsheet would read as a formula starts with =, +, -, @, a tab or a carriage return
(OWASP, "CSV Injection"); every CSV and XLSX export, the audit log's included, writes it behind an
apostrophe, which the spreadsheet shows as text and an import takes off again."""
import csv
import io

import openpyxl
import pytest

from core.cells import quote_cell, unquote_cell
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
    client.post("/api/devices", json={"unit_code": "W1", "serial": "AUD-F2", "specs": {"cpu": "\t=1+2"}})
    exported = client.get("/api/audit/export")
    assert exported.status_code == 200
    rows = csv_cells(exported)
    entry = next(dict(zip(rows[0], row)) for row in rows[1:] if row[rows[0].index("action")] == "import.devices")
    assert entry["target_id"] == "'" + ATTACK_NAME
    assert formula_cells(rows) == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_spec_values_starting_as_a_formula_are_quoted(client, fmt):
    """Text specs are read as single-spaced text (inventory/specs.py): a leading tab or carriage return is gone
    before the export, and what follows it is quoted like any formula start."""
    specs = {"cpu_model": "\t=1+2", "os_name": "\r=cmd|' /C calc'!A0", "cpu_cores": 4}
    created = client.post("/api/devices", json={"unit_code": "W1", "serial": "Q1", "specs": specs})
    assert created.status_code == 201, created.json
    exported = client.get(f"/api/exports/devices?format={fmt}")
    rows = csv_cells(exported) if fmt == "csv" else xlsx_cells(exported)
    device = dict(zip(rows[0], rows[1]))
    assert (device["spec:cpu_model"], device["spec:os_name"]) == ("'=1+2", "'=cmd|' /C calc'!A0")
    assert device["spec:cpu_cores"] == ("4" if fmt == "csv" else 4)
    assert formula_cells(rows) == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_quoted_export_imports_back_unchanged(client, fmt):
    specs = {"cpu_model": "@x", "os_name": "-2+3"}
    client.post("/api/devices", json={"unit_code": "W1", "serial": "Q2", "specs": specs})
    exported = client.get(f"/api/exports/devices?format={fmt}")
    response = upload(client, "devices", f"devices.{fmt}", exported.data)
    assert (response.json["created"], response.json["changed"], response.json["unchanged"]) == (0, 0, 1), \
        response.json


def test_nested_spec_values_are_refused(client):
    """{"a": 1} made the XLSX export a 500 (review, finding 8): no spec holds an object or a list any more."""
    refused = client.post("/api/devices", json={"unit_code": "W1", "serial": "J1",
                                                "specs": {"cpu_model": {"a": "ổ", "b": 2}}})
    assert (refused.status_code, refused.json["message"]) == (
        422, "specs.cpu_model: cannot read {'a': 'ổ', 'b': 2} as CPU model; write it like 'i5-8500' or "
             "'Intel Core i5-8500'")
    assert client.get("/api/devices").json["total"] == 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_control_characters_in_spec_text_export_as_spaces(client, fmt):
    """"a\x01b" made the XLSX export a 500 (review, finding 8): the registry reads control characters as spaces."""
    specs = {"cpu_model": "a\x01b\x1f", "os_name": " =3+3"}
    created = client.post("/api/devices", json={"unit_code": "W1", "serial": "J1", "specs": specs})
    assert created.status_code == 201, created.json
    exported = client.get(f"/api/exports/devices?format={fmt}")
    assert exported.status_code == 200
    rows = csv_cells(exported) if fmt == "csv" else xlsx_cells(exported)
    device = dict(zip(rows[0], rows[1]))
    assert (device["spec:cpu_model"], device["spec:os_name"]) == ("a b", "'=3+3")
