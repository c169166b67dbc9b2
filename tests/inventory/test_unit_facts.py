"""A unit's facts beside its staff (leaders, specialists, meeting rooms, sites, archive to digitise and its deadline,
the secure network): through the API, merges, imports and exports, the pages, and the migration that added them."""
import datetime as dt
import io

import openpyxl
import pytest
from alembic import command
from sqlalchemy import text

from core.db import alembic_config, migrate
from inventory.examples import load_example_organisation
from inventory.models import UnitKind
from inventory.units import NewUnit, get_unit, merge_units
from tests.conftest import table_contents
from tests.inventory.test_pages_units import Page, english, page
from tests.inventory.test_transfer import upload, xlsx

JULY = dt.date(2026, 7, 1)
FACTS = ("staff_count", "leader_count", "specialist_count", "meeting_rooms", "sites", "archive_pages",
         "archive_deadline", "on_secure_network")
DEFAULTS = {"leader_count": 0, "specialist_count": 0, "meeting_rooms": 0, "sites": 1, "archive_pages": 0,
            "archive_deadline": None, "on_secure_network": False}
WARD_THREE = {"code": "W3", "name": "Ward Three", "kind": "ward", "parent_code": "C", "staff_count": 22,
              "leader_count": 2, "specialist_count": 14, "meeting_rooms": 1, "sites": 1, "archive_pages": 30_000,
              "archive_deadline": "2027-06-30", "on_secure_network": True}
OVERRUN = "leader_count and specialist_count together ({total}) exceed the unit's staff ({staff})"


def facts(unit: dict) -> dict:
    return {name: unit[name] for name in FACTS}


# The API.

def test_a_unit_is_created_and_edited_with_its_facts(org, client):
    created = client.post("/api/units", json=WARD_THREE)
    assert created.status_code == 201, created.json
    assert facts(created.json) == {name: WARD_THREE[name] for name in FACTS}
    assert facts(client.get("/api/units/W3").json) == facts(created.json)
    edited = client.patch("/api/units/W3", json={"meeting_rooms": 2, "archive_pages": 10**10,
                                                 "archive_deadline": None, "on_secure_network": False})
    assert edited.status_code == 200, edited.json
    assert facts(edited.json) == {"staff_count": 22, "leader_count": 2, "specialist_count": 14, "meeting_rooms": 2,
                                  "sites": 1, "archive_pages": 10_000_000_000, "archive_deadline": None,
                                  "on_secure_network": False}


def test_a_unit_created_without_facts_gets_the_defaults(org, client):
    created = client.post("/api/units", json={"code": "W3", "name": "Ward Three", "kind": "ward"})
    assert facts(created.json) == {"staff_count": 0, **DEFAULTS}
    assert facts(client.get("/api/units/W1").json) == {"staff_count": 20, **DEFAULTS}  # made before the facts


@pytest.mark.parametrize(("method", "path", "body", "field", "message"), [
    ("post", "/api/units", WARD_THREE | {"leader_count": -1}, "leader_count",
     "Must be greater than or equal to 0 and less than or equal to 1000000."),
    ("post", "/api/units", WARD_THREE | {"specialist_count": 2.5}, "specialist_count", "Not a valid integer."),
    ("post", "/api/units", WARD_THREE | {"meeting_rooms": "two"}, "meeting_rooms", "Not a valid integer."),
    ("post", "/api/units", WARD_THREE | {"sites": -1}, "sites",
     "Must be greater than or equal to 0 and less than or equal to 1000000."),
    ("post", "/api/units", WARD_THREE | {"archive_pages": 10**10 + 1}, "archive_pages",
     "Must be greater than or equal to 0 and less than or equal to 10000000000."),
    ("post", "/api/units", WARD_THREE | {"archive_deadline": "30/06/2027"}, "archive_deadline", "Not a valid date."),
    ("post", "/api/units", WARD_THREE | {"on_secure_network": "maybe"}, "on_secure_network", "Not a valid boolean."),
    ("post", "/api/units", WARD_THREE | {"leader_count": 10, "specialist_count": 13}, "leader_count",
     OVERRUN.format(total=23, staff=22)),
    ("post", "/api/units", WARD_THREE | {"leader_count": 0, "specialist_count": 23}, "specialist_count",
     OVERRUN.format(total=23, staff=22)),
    ("patch", "/api/units/W1", {"specialist_count": 21}, "specialist_count", OVERRUN.format(total=21, staff=20)),
    ("patch", "/api/units/W1", {"leader_count": -3}, "leader_count",
     "Must be greater than or equal to 0 and less than or equal to 1000000."),
    ("patch", "/api/units/W1", {"archive_pages": "many"}, "archive_pages", "Not a valid integer."),
])
def test_bad_facts_are_refused_by_field_and_change_nothing(org, client, engine, method, path, body, field, message):
    before = table_contents(engine)
    response = getattr(client, method)(path, json=body)
    assert response.status_code == 422
    assert response.json["errors"] == {"json": {field: [message]}}
    assert table_contents(engine) == before


def test_a_lowered_headcount_under_the_leaders_and_specialists_is_refused_at_the_staff(org, client, engine):
    assert client.patch("/api/units/W1", json={"leader_count": 2, "specialist_count": 15}).status_code == 200
    before = table_contents(engine)
    response = client.patch("/api/units/W1", json={"staff_count": 16})
    assert (response.status_code, response.json["message"], response.json["errors"]) == (
        422, OVERRUN.format(total=17, staff=16), {"json": {"staff_count": [OVERRUN.format(total=17, staff=16)]}})
    assert table_contents(engine) == before
    assert client.patch("/api/units/W1", json={"staff_count": 17}).json["staff_count"] == 17


# Merges.

def test_a_merge_adds_up_the_facts_keeps_the_earlier_deadline_and_the_secure_network(org, client):
    client.patch("/api/units/W1", json={"leader_count": 2, "specialist_count": 12, "meeting_rooms": 1, "sites": 1,
                                        "archive_pages": 30_000, "archive_deadline": "2027-12-31"})
    client.patch("/api/units/W2", json={"leader_count": 1, "specialist_count": 9, "meeting_rooms": 2, "sites": 2,
                                        "archive_pages": 5_000, "archive_deadline": "2027-06-30",
                                        "on_secure_network": True})
    merged = client.post("/api/units/merge", json={"sources": ["W2"], "into_code": "W1", "effective_on": "2026-07-01"})
    assert merged.status_code == 201, merged.json
    assert facts(client.get("/api/units/W1").json) == {
        "staff_count": 35, "leader_count": 3, "specialist_count": 21, "meeting_rooms": 3, "sites": 3,
        "archive_pages": 35_000, "archive_deadline": "2027-06-30", "on_secure_network": True}


def test_a_merge_into_a_new_unit_counts_the_merged_units_sites_only(org, client):
    client.patch("/api/units/W1", json={"leader_count": 2, "archive_deadline": "2027-12-31"})
    client.patch("/api/units/W2", json={"sites": 2})
    merged = client.post("/api/units/merge", json={"sources": ["W1", "W2"], "into_new": {
        "code": "W12", "name": "Ward One-Two", "kind": "ward"}, "effective_on": "2026-07-01"})
    assert merged.status_code == 201, merged.json
    assert facts(client.get("/api/units/W12").json) == {
        "staff_count": 35, "leader_count": 2, "specialist_count": 0, "meeting_rooms": 0, "sites": 3,
        "archive_pages": 0, "archive_deadline": "2027-12-31", "on_secure_network": False}


def test_a_merge_without_deadlines_has_none(org):
    with org() as session, session.begin():
        merge_units(session, ["W2"], into_code="W1", effective_on=JULY, by="tester")
    with org() as session:
        merged = get_unit(session, "W1")
        assert (merged.archive_deadline, merged.sites, merged.on_secure_network) == (None, 2, False)


def test_a_split_gives_each_new_unit_its_own_facts(org, client):
    split = client.post("/api/units/W1/split", json={"targets": [
        {"code": "W1N", "name": "North", "kind": "ward", "staff_count": 12, "leader_count": 1, "meeting_rooms": 1,
         "on_secure_network": True},
        {"code": "W1S", "name": "South", "kind": "ward", "staff_count": 8, "archive_pages": 4_000,
         "archive_deadline": "2027-06-30"}], "effective_on": "2026-09-01"})
    assert split.status_code == 201, split.json
    assert [facts(client.get(f"/api/units/{code}").json) for code in ("W1N", "W1S")] == [
        {"staff_count": 12, **DEFAULTS, "leader_count": 1, "meeting_rooms": 1, "on_secure_network": True},
        {"staff_count": 8, **DEFAULTS, "archive_pages": 4_000, "archive_deadline": "2027-06-30"}]


def test_a_split_naming_too_many_leaders_changes_nothing(org, client, engine):
    before = table_contents(engine)
    refused = client.post("/api/units/W1/split", json={"targets": [
        {"code": "W1N", "name": "North", "kind": "ward", "staff_count": 2, "leader_count": 3},
        {"code": "W1S", "name": "South", "kind": "ward"}], "effective_on": "2026-09-01"})
    assert (refused.status_code, refused.json["errors"]) == (
        422, {"json": {"leader_count": [OVERRUN.format(total=3, staff=2)]}})
    assert table_contents(engine) == before


# Imports and exports.

HEADER = "code,name,kind,parent_code,staff_count,leader_count,specialist_count,meeting_rooms,sites,archive_pages," \
         "archive_deadline,on_secure_network\n"


def test_a_csv_import_reads_the_facts_as_people_write_them(org, client):
    content = (HEADER + "W1,Ward One,ward,C,20,2,12,1,1,30.000,30/06/2027,có\n"
               "W3,Ward Three,ward,C,22,2,14,1,2,\"1,250,000\",2027-12-31,X\n"
               "W4,Ward Four,ward,C,9,,,,,,,Không\n").encode()
    response = upload(client, "units", "units.csv", content)
    assert response.json == {"kind": "units", "rows": 3, "created": 2, "changed": 1, "unchanged": 0,
                             "dry_run": False}
    assert [facts(client.get(f"/api/units/{code}").json) for code in ("W1", "W3", "W4")] == [
        {"staff_count": 20, "leader_count": 2, "specialist_count": 12, "meeting_rooms": 1, "sites": 1,
         "archive_pages": 30_000, "archive_deadline": "2027-06-30", "on_secure_network": True},
        {"staff_count": 22, "leader_count": 2, "specialist_count": 14, "meeting_rooms": 1, "sites": 2,
         "archive_pages": 1_250_000, "archive_deadline": "2027-12-31", "on_secure_network": True},
        {"staff_count": 9, **DEFAULTS}]
    again = upload(client, "units", "units.csv", content)
    assert (again.json["changed"], again.json["unchanged"]) == (0, 3)


def test_an_xlsx_import_reads_typed_cells(org, client):
    content = xlsx([HEADER.strip().split(","),
                    ["W3", "Ward Three", "ward", "C", 22, 2, 14.0, 1, 1, 30000, dt.datetime(2027, 6, 30), True],
                    ["W4", "Ward Four", "ward", "C", 10, 1, 0, 0, 1, 0, "30/06/2027", "no"],
                    ["W5", "Ward Five", "ward", "C", 10, 1, 0, 0, 1, 0, None, 1]])
    response = upload(client, "units", "units.xlsx", content)
    assert response.json["created"] == 3, response.json
    assert [facts(client.get(f"/api/units/{code}").json) for code in ("W3", "W4", "W5")] == [
        {"staff_count": 22, "leader_count": 2, "specialist_count": 14, "meeting_rooms": 1, "sites": 1,
         "archive_pages": 30_000, "archive_deadline": "2027-06-30", "on_secure_network": True},
        {"staff_count": 10, **DEFAULTS, "leader_count": 1, "archive_deadline": "2027-06-30"},
        {"staff_count": 10, **DEFAULTS, "leader_count": 1, "on_secure_network": True}]


def test_a_spreadsheet_number_with_a_fraction_is_no_count_of_pages(org, client, engine):
    # 12.345 typed into a number cell is twelve and a fraction; only text groups thousands with a dot ('30.000').
    before = table_contents(engine)
    content = xlsx([HEADER.strip().split(","), ["W3", "Ward Three", "ward", "C", 22, 2, 14, 1, 1, 12.345, None, 0]])
    response = upload(client, "units", "units.xlsx", content)
    assert response.json["details"] == [
        {"row": 2, "column": "archive_pages", "reason": "'12.345' is not a whole number from 0 to 10000000000"}]
    assert table_contents(engine) == before


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_older_sheet_without_the_facts_keeps_them(org, client, fmt):
    client.patch("/api/units/W1", json={"leader_count": 2, "specialist_count": 12, "sites": 2,
                                        "archive_deadline": "2027-06-30", "on_secure_network": True})
    kept = facts(client.get("/api/units/W1").json)
    rows = [["code", "name", "kind", "parent_code"], ["W1", "Phường Một", "ward", "C"],
            ["W3", "Ward Three", "ward", "C"]]
    content = xlsx(rows) if fmt == "xlsx" else "".join(",".join(row) + "\n" for row in rows).encode()
    response = upload(client, "units", f"old.{fmt}", content)
    assert (response.json["created"], response.json["changed"]) == (1, 1), response.json
    w1 = client.get("/api/units/W1").json
    assert (w1["name"], facts(w1)) == ("Phường Một", kept)
    assert facts(client.get("/api/units/W3").json) == {"staff_count": 0, **DEFAULTS}


def test_bad_facts_in_a_sheet_are_reported_by_row_and_column_and_nothing_is_stored(org, client, engine):
    client.patch("/api/units/W2", json={"leader_count": 3, "specialist_count": 10})
    before = table_contents(engine)
    content = (HEADER + "W1,Ward One,ward,C,20,-1,2.5,two,1e3,99999999999,31/02/2027,maybe\n"
               "W3,Ward Three,ward,C,5,3,3,,,,,\n").encode()
    response = upload(client, "units", "bad.csv", content)
    assert response.status_code == 422
    assert response.json["details"] == [
        {"row": 2, "column": "leader_count", "reason": "'-1' is not a headcount (a whole number, 0 or more)"},
        {"row": 2, "column": "specialist_count", "reason": "'2.5' is not a headcount (a whole number, 0 or more)"},
        {"row": 2, "column": "meeting_rooms", "reason": "'two' is not a whole number from 0 to 1000000"},
        {"row": 2, "column": "sites", "reason": "'1e3' is not a whole number from 0 to 1000000"},
        {"row": 2, "column": "archive_pages", "reason": "'99999999999' is not a whole number from 0 to 10000000000"},
        {"row": 2, "column": "archive_deadline", "reason": "'31/02/2027' is not a date (dd/mm/yyyy or yyyy-mm-dd)"},
        {"row": 2, "column": "on_secure_network",
         "reason": "'maybe' is not yes or no (có, không, yes, no, x, 1 or 0)"},
        {"row": 3, "column": "leader_count", "reason": OVERRUN.format(total=6, staff=5)},
    ]
    assert table_contents(engine) == before
    # A sheet lowering the staff under the leaders and specialists the unit keeps is refused at the staff.
    lowered = upload(client, "units", "lowered.csv", b"code,name,kind,parent_code,staff_count\nW2,Ward Two,ward,C,12\n")
    assert lowered.json["details"] == [
        {"row": 2, "column": "staff_count", "reason": OVERRUN.format(total=13, staff=12)}]
    assert table_contents(engine) == before


def test_the_export_holds_the_facts(org, client):
    client.patch("/api/units/W1", json={"leader_count": 2, "specialist_count": 12, "meeting_rooms": 1,
                                        "archive_pages": 30_000, "archive_deadline": "2027-06-30",
                                        "on_secure_network": True})
    lines = client.get("/api/exports/units?format=csv").data.decode("utf-8-sig").splitlines()
    assert lines[0] == HEADER.strip() + ",active,successor_code,dissolved_on"
    assert lines[4] == "W1,Ward One,ward,C,20,2,12,1,1,30000,2027-06-30,true,true,,"
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/api/exports/units?format=xlsx").data)).active
    row = [cell.value for cell in sheet[5]]
    assert row[:12] == ["W1", "Ward One", "ward", "C", 20, 2, 12, 1, 1, 30000, dt.datetime(2027, 6, 30), True]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_exported_sheet_less_its_status_columns_imports_back_unchanged(org, client, fmt):
    client.patch("/api/units/W1", json={"leader_count": 2, "archive_deadline": "2027-06-30", "on_secure_network": True})
    exported = openpyxl.load_workbook(io.BytesIO(client.get("/api/exports/units?format=xlsx").data)).active
    rows = [[cell.value for cell in row][:12] for row in exported.iter_rows()]
    if fmt == "csv":
        csv_text = client.get("/api/exports/units?format=csv").data.decode("utf-8-sig")
        content = "".join(",".join(line.split(",")[:12]) + "\n" for line in csv_text.splitlines()).encode()
    else:
        content = xlsx(rows)
    response = upload(client, "units", f"units.{fmt}", content)
    assert (response.json["changed"], response.json["unchanged"]) == (0, 5), response.json


def test_the_units_template_lists_the_fact_columns(client):
    template = client.get("/imports/templates/units.csv").data.decode("utf-8-sig")
    assert template.strip() == HEADER.strip()


# The pages.

@pytest.fixture
def admin(client):
    return english(client)


def test_the_unit_page_shows_the_facts(org, admin):
    admin.patch("/api/units/W1", json={"leader_count": 2, "specialist_count": 12, "meeting_rooms": 1,
                                       "archive_pages": 30_000, "archive_deadline": "2027-06-30",
                                       "on_secure_network": True})
    shown = page(admin, "/units/W1")
    assert [shown.text(f"fact-{name}") for name in ("staff", "leaders", "specialists", "meeting-rooms", "sites",
                                                    "archive-pages", "archive-deadline", "secure-network")] == \
        ["20", "2", "12", "1", "1", "30,000", "30/06/2027", "yes"]
    other = page(admin, "/units/W2")
    assert (other.text("fact-archive-deadline"), other.text("fact-secure-network")) == ("not known", "no")


def test_the_unit_page_speaks_vietnamese_by_default(org, client):
    client.patch("/api/units/W1", json={"archive_pages": 30_000, "on_secure_network": True})
    shown = page(client, "/units/W1")
    assert (shown.text("fact-archive-pages"), shown.text("fact-secure-network")) == ("30.000", "có")
    assert "Phải kết nối mạng chuyên dùng" in shown.html and "Số trang hồ sơ cần số hóa" in shown.html


def test_the_unit_forms_create_and_edit_the_facts(org, admin, engine):
    form = page(admin, "/units/new")
    assert [form.attr(f"f-{name}", "value") for name in ("leader_count", "sites", "archive_deadline")] == \
        ["0", "1", ""]
    assert "checked" not in form.attributes["f-on_secure_network"]
    done = admin.post("/units/new", data={"code": "W3", "name": "Ward Three", "kind": "ward", "parent_code": "C",
                                          "staff_count": "22", "leader_count": "2", "specialist_count": "14",
                                          "meeting_rooms": "1", "sites": "1", "archive_pages": "30000",
                                          "archive_deadline": "2027-06-30", "on_secure_network": "true"})
    assert (done.status_code, done.headers["Location"]) == (302, "/units/W3")
    assert facts(admin.get("/api/units/W3").json) == {name: WARD_THREE[name] for name in FACTS}
    edit = page(admin, "/units/W3/edit")
    assert (edit.attr("f-archive_deadline", "value"), "checked" in edit.attributes["f-on_secure_network"]) == \
        ("2027-06-30", True)
    # An unticked box is "no"; an emptied deadline is none.
    saved = admin.post("/units/W3/edit", data={"name": "Ward Three", "kind": "ward", "parent_code": "C",
                                               "staff_count": "22", "archive_deadline": "", "meeting_rooms": "2"})
    assert saved.status_code == 302
    assert facts(admin.get("/api/units/W3").json) == {name: WARD_THREE[name] for name in FACTS} | {
        "meeting_rooms": 2, "archive_deadline": None, "on_secure_network": False}
    before = table_contents(engine)
    refused = Page(admin.post("/units/W3/edit", data={"name": "Ward Three", "kind": "ward", "parent_code": "C",
                                                      "staff_count": "22", "specialist_count": "21",
                                                      "sites": "-1"}))
    assert (refused.status, refused.text("e-sites")) == (
        422, "Must be greater than or equal to 0 and less than or equal to 1000000.")
    assert refused.attr("f-specialist_count", "value") == "21"
    overrun = Page(admin.post("/units/W3/edit", data={"name": "Ward Three", "kind": "ward", "parent_code": "C",
                                                      "staff_count": "22", "specialist_count": "21"}))
    assert (overrun.status, overrun.text("e-specialist_count")) == (422, OVERRUN.format(total=23, staff=22))
    assert table_contents(engine) == before


# The migration.

def test_units_stored_before_the_facts_get_the_defaults(engine):
    command.downgrade(alembic_config(engine), "0013")
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO unit (code, name, kind, staff_count, active, is_example) "
                                    "VALUES ('W1', 'Ward One', 'ward', 20, true, false)"))
    finally:
        migrate(engine)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT leader_count, specialist_count, meeting_rooms, sites, archive_pages, "
                                      "archive_deadline, on_secure_network FROM unit")).one()
    assert tuple(row) == (0, 0, 0, 1, 0, None, False)


def test_the_example_organisation_has_its_facts(sessions):
    with sessions() as session, session.begin():
        load_example_organisation(session)
    with sessions() as session:
        commune, agency = get_unit(session, "VD-X01"), get_unit(session, "VD-STC")
        assert [getattr(commune, name) for name in FACTS] == [22, 2, 14, 1, 1, 30_000, dt.date(2027, 6, 30), True]
        assert (agency.staff_count, agency.meeting_rooms, agency.sites) == (120, 4, 3)


def test_new_units_made_by_the_service_default_their_facts():
    assert NewUnit("X", "x", UnitKind.WARD) == NewUnit("X", "x", UnitKind.WARD, 0, **DEFAULTS)
