"""The budget API's writes and plans over HTTP, on both databases: who may review, resolve, save, approve and
delete; what a unit officer sees of scenarios; the schema's refusals; the exports; and `flask budget readiness`."""
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from accounts.models import Role
from budget.models import HeadlineFigure, ReadinessScore
from tests.budget.test_api import admin, p01_officer  # noqa: F401  (fixtures)
from tests.budget.test_load import TODAY, city  # noqa: F401  (fixture)
from tests.conftest import client_as, table_contents

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEETS = ["Summary by unit", "Summary by category", "Lines", "Transfers", "Upgrades", "Scenario comparison"]


@pytest.fixture
def finance(app, city, token_for):  # noqa: F811
    return client_as(app, token_for(Role.FINANCE))


def scenario_body(unit: str = "VD-P02", **changes) -> dict:
    return {"unit": unit, "name": "Kế hoạch 2027", "first_year": 2027, "on": TODAY.isoformat(), **changes}


def saved(client, **changes) -> dict:
    response = client.post("/api/budget/scenarios", json=scenario_body(**changes))
    assert response.status_code == 201, response.json
    return response.json


def refused(response, status: int, message: str) -> None:
    assert (response.status_code, response.json["message"]) == (status, message)


def p01_kit(client) -> dict:
    """A standard-kit scenario for VD-P01, the officer's own ward: a printer per unit."""
    return saved(client, unit="VD-P01", name="Bộ chuẩn", kind="standard_kit", kit={"printer": 1})


# ---- who may do what --------------------------------------------------------------------------------------------

def test_finance_saves_and_approves_a_plan(finance):
    scenario = saved(finance)
    # VD-P02 holds 4 usable desktops for 2 staff: its plan buys everything else, nothing for desktops. The audit
    # names the account by its user name.
    assert (scenario["unit"], scenario["kind"], scenario["judged_on"], scenario["created_by"]) == (
        {"code": "VD-P02", "name": "Phường Tân Lập"}, "targeted", TODAY.isoformat(), "finance")
    assert "desktop" not in {line["category"] for line in scenario["lines"]}
    assert scenario["total_vnd"] == sum(line["total_vnd"] for line in scenario["lines"])
    response = finance.post(f"/api/budget/scenarios/{scenario['id']}/approval", json={"comment": "đồng ý"})
    assert response.status_code == 200
    assert (response.json["approved_by"], response.json["approval_comment"]) == ("finance", "đồng ý")
    again = finance.post(f"/api/budget/scenarios/{scenario['id']}/approval", json={})
    assert again.status_code == 409
    assert again.json["message"].startswith(f"scenario {scenario['id']} was approved by finance on ")
    refused(finance.delete(f"/api/budget/scenarios/{scenario['id']}"), 409,
            f"scenario {scenario['id']} is an approved plan: it is kept as approved")
    difference = finance.get(f"/api/budget/scenarios/{scenario['id']}/difference?on={TODAY}")
    assert (difference.status_code, difference.json) == (200, [])  # nothing changed since


def test_finance_deletes_a_draft(finance):
    scenario = saved(finance)
    assert finance.delete(f"/api/budget/scenarios/{scenario['id']}").status_code == 204
    refused(finance.get(f"/api/budget/scenarios/{scenario['id']}"), 404, f"scenario {scenario['id']} does not exist")


def test_finance_does_not_review_or_resolve(finance, engine):
    before = table_contents(engine)
    refused(finance.put("/api/budget/units/VD-P01/gaps/desktop/review", json={"state": "confirmed"}), 403,
            "a finance may not do this (needs budget:review)")
    refused(finance.put("/api/budget/units/VD-P01/gaps/desktop/resolution", json={"state": "upheld"}), 403,
            "a finance may not do this (needs budget:resolve)")
    assert table_contents(engine) == before


def test_an_officer_reviews_their_ward_and_an_admin_resolves(p01_officer, admin):  # noqa: F811
    response = p01_officer.put("/api/budget/units/VD-P01/gaps/desktop/review",
                               json={"state": "disputed", "comment": "hai máy đã được đặt mua"})
    assert response.status_code == 200
    review = response.json
    assert {key: review[key] for key in ("unit_code", "category", "state", "shortfall", "comment", "reviewed_by",
                                         "resolution", "resolved_by")} == {
        "unit_code": "VD-P01", "category": "desktop", "state": "disputed", "shortfall": 2,
        "comment": "hai máy đã được đặt mua", "reviewed_by": "officer-p01", "resolution": "", "resolved_by": None}
    plan = p01_officer.get(f"/api/budget/units/VD-P01/plan?first_year=2027&on={TODAY}").json
    assert plan["excluded"] == [{"unit_code": "VD-P01", "category": "desktop", "shortfall": 2}]
    refused(p01_officer.put("/api/budget/units/VD-P01/gaps/desktop/resolution", json={"state": "upheld"}), 403,
            "a unit_officer may not do this (needs budget:resolve)")
    response = admin.put("/api/budget/units/VD-P01/gaps/desktop/resolution",
                         json={"state": "upheld", "resolution": "đã kiểm tra"})
    assert (response.status_code, response.json["state"], response.json["resolution"]) == (200, "upheld",
                                                                                           "đã kiểm tra")
    assert p01_officer.get(f"/api/budget/units/VD-P01/plan?first_year=2027&on={TODAY}").json["excluded"] == []


def test_an_officer_does_not_review_another_ward_or_dispute_without_a_reason(p01_officer, engine):  # noqa: F811
    before = table_contents(engine)
    refused(p01_officer.put("/api/budget/units/VD-P02/gaps/desktop/review", json={"state": "confirmed"}), 403,
            "unit 'VD-P02' is not one of your units")
    response = p01_officer.put("/api/budget/units/VD-P01/gaps/desktop/review", json={"state": "disputed"})
    assert (response.status_code, response.json) == (422, {
        "code": 422, "status": "Unprocessable Entity", "message": "say why the gap is disputed",
        "errors": {"json": {"comment": ["say why the gap is disputed"]}}})
    assert table_contents(engine) == before


def test_an_officer_neither_saves_nor_approves_nor_deletes(p01_officer, finance, engine):  # noqa: F811
    scenario = p01_kit(finance)
    before = table_contents(engine)
    refused(p01_officer.post("/api/budget/scenarios", json=scenario_body("VD-P01")), 403,
            "a unit_officer may not do this (needs budget:approve)")
    refused(p01_officer.post(f"/api/budget/scenarios/{scenario['id']}/approval", json={}), 403,
            "a unit_officer may not do this (needs budget:approve)")
    refused(p01_officer.delete(f"/api/budget/scenarios/{scenario['id']}"), 403,
            "a unit_officer may not do this (needs budget:approve)")
    assert table_contents(engine) == before


def test_an_officer_sees_the_scenarios_of_their_units_only(p01_officer, finance):  # noqa: F811
    own, other = p01_kit(finance), saved(finance, unit="VD-P02")
    assert [s["id"] for s in finance.get("/api/budget/scenarios").json] == [other["id"], own["id"]]  # newest first
    assert [s["id"] for s in p01_officer.get("/api/budget/scenarios").json] == [own["id"]]
    assert p01_officer.get(f"/api/budget/scenarios/{own['id']}").json["lines"] == own["lines"]
    # Another unit's scenario is not found, as if it did not exist: its id tells the officer nothing.
    for path in ("", "/difference", "/export.xlsx", "/export.pdf"):
        refused(p01_officer.get(f"/api/budget/scenarios/{other['id']}{path}"), 404,
                f"scenario {other['id']} does not exist")


def test_carrying_out_a_transfer(admin, finance, city, engine):  # noqa: F811
    body = {"unit": "VD", "device_id": city["p02-b"], "to_unit": "VD-P01"}
    refused(finance.post("/api/budget/transfers", json=body), 403, "a finance may not do this (needs budget:review)")
    response = admin.post("/api/budget/transfers", json=body)
    assert (response.status_code, response.json) == (200, {
        "device_id": city["p02-b"], "category": "desktop", "from_unit": "VD-P02", "to_unit": "VD-P01",
        "distance": 2})
    before = table_contents(engine)
    # Done once: the list no longer proposes it.
    refused(admin.post("/api/budget/transfers", json=body), 409,
            f"the transfers of VD do not propose device {city['p02-b']} for VD-P01")
    assert table_contents(engine) == before


def test_readiness_of_a_ward(p01_officer):  # noqa: F811
    got = p01_officer.get(f"/api/budget/units/VD-P01/readiness?on={TODAY}").json
    assert got["total"] == {"unit_code": "VD-P01", "required": 33, "covered": 9, "score": 27.3}
    assert got["figures"][1] == {"key": "wards_with_vc", "count": 0, "out_of": 1, "percent": 0.0}
    assert got["history"] == []


# ---- the schema's refusals --------------------------------------------------------------------------------------

def schema_error(errors: dict) -> dict:
    return {"code": 422, "status": "Unprocessable Entity", "errors": {"json": errors}}


@pytest.mark.parametrize("changes, errors", [
    ({"first_year": None}, {"first_year": ["Field may not be null."]}),
    ({"caps_vnd": [100_000_000, -1]},
     {"caps_vnd": {"1": ["Must be greater than or equal to 0 and less than or equal to 1000000000000000."]}}),
    ({"kind": "everything"}, {"kind": ["Must be one of: targeted, blanket_age, standard_kit."]}),
    ({"max_share_percent": 0}, {"max_share_percent": ["Must be greater than or equal to 1 and less than or equal to "
                                                      "100."]}),
])
def test_bad_plan_parameters(finance, engine, changes, errors):
    before = table_contents(engine)
    response = finance.post("/api/budget/scenarios", json=scenario_body(**changes))
    assert (response.status_code, response.json) == (422, schema_error(errors))
    assert table_contents(engine) == before


def test_first_year_is_required(finance, engine):
    before = table_contents(engine)
    body = scenario_body()
    del body["first_year"]
    response = finance.post("/api/budget/scenarios", json=body)
    assert (response.status_code, response.json) == (422, schema_error(
        {"first_year": ["Missing data for required field."]}))
    assert table_contents(engine) == before


def test_kinds_need_their_parameters(finance, engine):
    before = table_contents(engine)
    response = finance.post("/api/budget/scenarios", json=scenario_body(kind="blanket_age"))
    message = "a blanket plan needs the age in years beyond which everything is replaced"
    assert (response.status_code, response.json) == (422, {
        "code": 422, "status": "Unprocessable Entity", "message": message,
        "errors": {"json": {"older_than_years": [message]}}})
    refused(finance.post("/api/budget/scenarios", json=scenario_body(kind="standard_kit", kit={"desktop": 0})), 422,
            "a standard kit needs at least one category and quantity")
    assert table_contents(engine) == before


def test_a_review_state_is_confirmed_or_disputed(p01_officer):  # noqa: F811
    response = p01_officer.put("/api/budget/units/VD-P01/gaps/desktop/review", json={"state": "withdrawn"})
    assert (response.status_code, response.json) == (422, schema_error(
        {"state": ["Must be one of: confirmed, disputed."]}))


# ---- exports and the command line -------------------------------------------------------------------------------

def test_the_workbook_downloads(finance):
    scenario = saved(finance)
    response = finance.get(f"/api/budget/scenarios/{scenario['id']}/export.xlsx")
    assert (response.status_code, response.content_type) == (200, XLSX)
    assert response.headers["Content-Disposition"] == f'attachment; filename="plan-{scenario["id"]}.xlsx"'
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == SHEETS
    assert len([row for row in workbook["Lines"].iter_rows(min_row=2) if row[0].value not in (
        "Total", "Funded", "Unfunded", "Tổng", "Đã cấp vốn", "Chưa cấp vốn")]) >= len(scenario["lines"]) > 0


def test_the_pdf_downloads(finance):
    scenario = saved(finance)
    response = finance.get(f"/api/budget/scenarios/{scenario['id']}/export.pdf")
    assert (response.status_code, response.content_type) == (200, "application/pdf")
    assert response.data.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Phường Tân Lập" in text


def stored_rows(sessions) -> tuple[int, int]:
    with sessions() as session:
        return (session.scalar(select(func.count()).select_from(ReadinessScore).where(ReadinessScore.day == TODAY)),
                session.scalar(select(func.count()).select_from(HeadlineFigure).where(HeadlineFigure.day == TODAY)))


def test_the_readiness_command(app, city, sessions):  # noqa: F811
    for _ in range(2):  # run twice: the day's rows are replaced, not added
        result = app.test_cli_runner().invoke(args=["budget", "readiness", "--on", "2026-12-07"])
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[0] == "readiness recorded for 15 units"
        assert stored_rows(sessions) == (15, 3)
    assert result.output.splitlines()[1:] == [
        "staff with a usable computer on the secure network: 0 of 682 (0.0%)",
        "wards and communes with a working video-conference endpoint: 0 of 6 (0.0%)",
        "units with the scanners their archive digitisation needs: 0 of 9 (0.0%)"]


def test_the_readiness_command_refuses_a_bad_day(app, city, engine):  # noqa: F811
    before = table_contents(engine)
    result = app.test_cli_runner().invoke(args=["budget", "readiness", "--on", "07/12/2026"])
    assert result.exit_code == 2
    assert table_contents(engine) == before
