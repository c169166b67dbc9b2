"""From observations to an approved, exported plan, on SQLite and PostgreSQL: the lab's real recordings polled
over SNMP (snmpsim serving walks of real devices) and an asset register imported, judged under the example
catalog; a ward's officer disputes a gap, finance saves the targeted plan and a blanket one and approves the
targeted plan; the XLSX (its formulas evaluated) and the PDF (its text extracted) say what the API says.

Agent inventories (FusionInventory) join this path with issue 17; the day judged is the example catalog's
TODAY, passed as `on` (nothing replaced)."""
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from accounts.models import Role
from accounts.permissions import ROLE_PERMISSIONS
from accounts.services import create_token, create_user
from discovery import lab
from discovery.snmp.poll import observations_by_address
from inventory.ingest import IngestBatch, ingest
from inventory.units import update_unit
from tests.accounts.test_pages_accounts import signed_in
from tests.budget.test_exports import value
from tests.budget.test_load import TODAY, city  # noqa: F401  (fixture)
from tests.catalog.test_compliance_lab import T0, polls  # noqa: F401  (fixture: the lab polled once)
from tests.conftest import PASSWORD, client_as


@pytest.fixture
def scanned(city, polls, sessions):  # noqa: F811
    """The example city with its registers (tests/budget/test_load.py), then the lab's devices as the lab scope's
    SNMP scan stores them, in the digital transformation centre (one site): its old Cisco core switch among
    them."""
    observed = dict(observations_by_address(list(polls.values()), lab.LAB_UNIT, T0))
    with sessions() as session, session.begin():
        update_unit(session, lab.LAB_UNIT, {"sites": 1})  # its building: the norms want a core switch there
        ids = ingest(session, IngestBatch([observed[polls[name].address] for name in polls], scope_key="lab",
                                          network="secure")).device_ids
    return city | dict(zip(polls, ids))


def api_client(app, sessions, username: str, role: Role, units: list[str]):
    with sessions() as session, session.begin():
        user = create_user(session, username, username, PASSWORD, role, units)
        _, token = create_token(session, user, "tests", ROLE_PERMISSIONS[role.value])
    return client_as(app, token)


def test_observations_to_an_approved_exported_plan(app, sessions, scanned):
    officer = api_client(app, sessions, "officer-p01", Role.UNIT_OFFICER, ["VD-P01"])
    finance = api_client(app, sessions, "finance-1", Role.FINANCE, [])

    # The ward's officer says its missing laptop is not needed: it leaves the plan (no one has resolved it).
    disputed = officer.put("/api/budget/units/VD-P01/gaps/laptop/review",
                           json={"state": "disputed", "comment": "Lãnh đạo dùng máy của văn phòng"})
    assert (disputed.status_code, disputed.json["state"], disputed.json["shortfall"]) == (200, "disputed", 1)

    caps = [300_000_000, 200_000_000]
    saved = finance.post("/api/budget/scenarios", json={
        "unit": "VD", "name": "Kế hoạch 2027-2028", "first_year": 2027, "caps_vnd": caps, "on": TODAY.isoformat()})
    blanket = finance.post("/api/budget/scenarios", json={
        "unit": "VD", "name": "Thay tất cả máy quá 3 năm", "kind": "blanket_age", "older_than_years": 3,
        "first_year": 2027, "on": TODAY.isoformat()})
    assert (saved.status_code, blanket.status_code) == (201, 201)
    plan = saved.json
    assert plan["excluded"] == [{"unit_code": "VD-P01", "category": "laptop", "shortfall": 1}]
    assert not [line for line in plan["lines"] if (line["unit_code"], line["category"]) == ("VD-P01", "laptop")]
    # The Cisco WS-C3560G polled from the lab is out of support: its replacement is a first priority line.
    [core] = [line for line in plan["lines"] if scanned["cisco-c3560"] in line["device_ids"]]
    assert (core["unit_code"], core["category"], core["reason"], core["priority"], core["norm"]) == (
        lab.LAB_UNIT, "core_switch", "end_of_support", 1, "core-site")
    for year, cap in zip((2027, 2028), caps):
        assert sum(line["total_vnd"] for line in plan["lines"] if line["year"] == year) <= cap
    assert plan["total_vnd"] == sum(line["total_vnd"] for line in plan["lines"])
    assert plan["funded_vnd"] == sum(line["total_vnd"] for line in plan["lines"] if line["year"] is not None)
    assert plan["total_vnd"] < blanket.json["total_vnd"]

    approved = finance.post(f"/api/budget/scenarios/{plan['id']}/approval", json={"comment": "Trình HĐND"})
    assert (approved.status_code, approved.json["approved_by"]) == (200, "finance-1")

    # The API speaks English: the workbook's sheets and labels are English.
    workbook = load_workbook(io.BytesIO(finance.get(f"/api/budget/scenarios/{plan['id']}/export.xlsx").data))
    lines = workbook["Lines"]
    total_row = next(row for row in range(2, lines.max_row + 1) if lines[f"A{row}"].value == "Total")
    assert value(workbook, lines, f"J{total_row}") == plan["total_vnd"]
    assert value(workbook, lines, f"J{total_row + 1}") == plan["funded_vnd"]
    by_unit = workbook["Summary by unit"]
    for row in range(2, by_unit.max_row + 1):
        code = by_unit[f"A{row}"].value
        if code and code != "Total":
            assert value(workbook, by_unit, f"C{row}") == sum(
                line["total_vnd"] for line in plan["lines"] if line["unit_code"] == code), code
    comparison = workbook["Scenario comparison"]
    saving = next(row for row in range(2, comparison.max_row + 1)
                  if comparison[f"A{row}"].value == "Thay tất cả máy quá 3 năm")
    assert value(workbook, comparison, f"F{saving}") == blanket.json["total_vnd"] - plan["total_vnd"]

    english = pdf_text(finance.get(f"/api/budget/scenarios/{plan['id']}/export.pdf"))
    assert f"{plan['total_vnd']:,} VND" in english and f"{plan['funded_vnd']:,} VND" in english
    # The plan's page gives the same summary in Vietnamese, the default language.
    vietnamese = pdf_text(signed_in(app, "finance-1", lang="vi").get(f"/budget/scenarios/{plan['id']}/export.pdf"))
    assert "Kế hoạch 2027-2028" in vietnamese and "Thành phố Ví Dụ" in vietnamese
    assert f"{plan['total_vnd']:,}".replace(",", ".") + " ₫" in vietnamese


def pdf_text(response) -> str:
    assert response.mimetype == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
