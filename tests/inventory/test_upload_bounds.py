"""An upload is refused for its size at the first bound it passes, however it was built (issue 11, item 3).

Each attack file is built for real (tests/inventory/upload_attacks.py). Before the bounds, the issue's
200,000 x 20 workbook was read whole before its row count was refused ("has 200000 rows"), and the zip
bomb and the unused strings were accepted. What refusing costs in CPU is measured by
`bench/robustness.py` (`upload_cpu_s`, target under 2 s), which uploads these same files to a real server."""
import pytest

from tests.conftest import table_contents
from tests.inventory import upload_attacks
from tests.inventory.test_transfer import upload, xlsx

def refused(client, engine, kind: str, name: str, content: bytes, message: str) -> None:
    before = table_contents(engine)
    response = upload(client, kind, name, content)
    assert (response.status_code, response.json["message"]) == (422, message), response.json
    assert response.json["errors"] == {"json": {"file": [message]}}
    assert table_contents(engine) == before  # nothing stored, no audit entry


def test_the_issues_workbook_of_200000_rows_is_refused_before_openpyxl_reads_it(org, client, engine):
    name, content = upload_attacks.worst_upload()
    refused(client, engine, "devices", name, content,
                    "'rows.xlsx' has more than 100000 rows; at most 100000 per import")


def test_a_zip_bomb_of_shared_strings_is_refused_by_its_unpacked_size(org, client, engine):
    content = upload_attacks.shared_strings_bomb_xlsx(unpacked_bytes=200 * 2**20)
    assert len(content) < 600_000
    refused(client, engine, "devices", "strings.xlsx", content,
                    "'strings.xlsx' unpacks to more than 128 MiB; at most 128 MiB per import")


def test_shared_strings_no_cell_uses_are_refused(org, client, engine):
    content = upload_attacks.many_shared_strings_xlsx(strings=1_000_000)  # 22 MB unpacked: under the bound
    refused(client, engine, "devices", "strings.xlsx", content,
                    "'strings.xlsx' holds more strings and values than its cells use; "
                    "copy the table alone into a new workbook")


def test_a_workbook_of_200000_cell_formats_is_refused(org, client, engine):
    refused(client, engine, "devices", "styles.xlsx", upload_attacks.styles_bomb_xlsx(formats=200_000),
                    "'styles.xlsx' holds more than 100000 XML elements besides its rows, cells and values "
                    "(formatting, drawings, ...); copy the table alone into a new workbook")


def test_xml_entities_are_refused_before_they_expand(org, client, engine):
    refused(client, engine, "devices", "entities.xlsx", upload_attacks.entity_rows_xlsx(rows=200_000),
                    "the file is not a readable XLSX workbook (it declares XML entities or a DTD)")


def test_rows_far_below_the_last_are_not_read_one_by_one(org, client, engine):
    refused(client, engine, "devices", "far.xlsx", upload_attacks.far_row_xlsx(row_number=5_000_000),
                    "'far.xlsx' has more than 100000 blank rows; at most 100000 per import")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("rows.csv", b"unit_code,serial\n" + b"W1,S\n" * 100_001,
     "'rows.csv' has more than 100000 rows; at most 100000 per import"),
    ("blank.csv", b"unit_code,serial\n" + b"\n" * 10_000_000,
     "'blank.csv' has more than 100000 blank rows; at most 100000 per import"),
    ("wide.csv", b"unit_code" + b",x" * 20_000 + b"\n",
     "'wide.csv' has more than 512 columns; at most 512 per import"),
    ("wide.xlsx", xlsx([["unit_code"] + ["x"] * 16_000]),
     "'wide.xlsx' has more than 512 columns; at most 512 per import"),
])
def test_csv_and_sheets_are_counted_while_read(org, client, engine, name, content, message):
    refused(client, engine, "devices", name, content, message)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "prefixed xlsx"])
def test_the_cell_limit_is_a_setting(app, org, client, engine, fmt):
    app.config["IMPORT_MAX_CELLS"] = 20
    rows = [["unit_code", "serial"]] + [["W1", f"CELL-{n}"] for n in range(10)]  # 22 cells
    content = {"csv": "".join(",".join(row) + "\n" for row in rows).encode(), "xlsx": xlsx(rows),
               "prefixed xlsx": upload_attacks.prefixed_xlsx(rows)}[fmt]
    name = "cells.csv" if fmt == "csv" else "cells.xlsx"
    refused(client, engine, "devices", name, content, f"{name!r} has more than 20 cells; at most 20 per import")
    ok = {"csv": "".join(",".join(row) + "\n" for row in rows[:10]).encode(), "xlsx": xlsx(rows[:10]),
          "prefixed xlsx": upload_attacks.prefixed_xlsx(rows[:10])}[fmt]
    assert upload(client, "devices", name, ok).json["created"] == 9  # 20 cells


def test_the_unpacked_size_limit_is_a_setting(app, org, client, engine):
    app.config["IMPORT_MAX_XML_BYTES"] = 2**20
    content = upload_attacks.shared_strings_bomb_xlsx(unpacked_bytes=2 * 2**20)
    refused(client, engine, "devices", "strings.xlsx", content,
                    "'strings.xlsx' unpacks to more than 1 MiB; at most 1 MiB per import")


def test_a_workbook_of_the_open_xml_sdk_reads_as_any_other(org, client):
    content = upload_attacks.prefixed_xlsx([["unit_code", "serial"], ["W1", "SDK-1"], ["W2", "SDK-2"]])
    response = upload(client, "devices", "sdk.xlsx", content)
    assert (response.status_code, response.json["created"]) == (200, 2), response.json


def test_a_workbook_with_shared_strings_reads_as_any_other(org, client):
    response = upload(client, "devices", "excel.xlsx", upload_attacks.many_shared_strings_xlsx(strings=0))
    assert (response.status_code, response.json["created"]) == (200, 1), response.json
    assert client.get("/api/devices?q=SST-1").json["total"] == 1


def test_one_import_at_a_time_the_next_is_told_to_wait(app, org, client, engine):
    """A file at the limits costs up to half a minute: while one import is read, another is refused, not queued."""
    content = b"unit_code,serial\nW1,WAIT-1\n"
    slots = app.extensions["import_slots"]
    assert slots.acquire(blocking=False)  # an import under way, as another request of this process holds it
    try:
        before = table_contents(engine)
        response = upload(client, "devices", "wait.csv", content)
        assert (response.status_code, response.json["message"]) == (
            429, "another import is being read; try again when it has finished")
        assert table_contents(engine) == before
    finally:
        slots.release()
    assert upload(client, "devices", "wait.csv", content).json["created"] == 1
    assert upload(client, "devices", "again.csv", b"unit_code,serial\nW1,WAIT-2\n").json["created"] == 1  # released
