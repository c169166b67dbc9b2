"""The dashboards' pages, their CSV and the API of their tables, through the test client on both databases, over
the example city of tests/budget/test_recorded.py recorded on EARLIER and TODAY, with a targeted plan for the
city under two years' caps and a blanket one beside it (tests/budget/test_scenarios.py's). Every request to the
dashboards gives the day they stand on, TODAY (?on=, as a user may: the test's day, not the machine's clock).
Pages are read in English (the msgids), chosen by the language cookie."""
import csv
import datetime as dt
import io
import json
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from accounts.models import Role
from accounts.permissions import ROLE_PERMISSIONS
from accounts.services import create_token, create_user
from budget import scenarios
from budget.models import GapRecord, ReadinessScore
from catalog.compliance import today
from dashboards import records
from inventory.ingest import IngestBatch, ingest
from inventory.observations import ObservedDevice
from inventory.units import update_unit
from tests.budget.test_load import T0, TODAY, city  # noqa: F401  (fixture)
from tests.budget.test_recorded import record_two_days
from tests.conftest import PASSWORD, client_as, table_contents

CAPS = [300_000_000, 200_000_000]  # 2027, 2028
OVERVIEW = ["headlines", "readiness-tree", "gap-heatmap", "readiness-history", "plan-comparison", "budget-by-year",
            "lifecycle", "device-age", "scan-coverage", "collectors"]
UNIT = ["headlines", "readiness-history", "gap-heatmap", "readiness-tree", "lifecycle", "device-age",
        "scan-coverage", "collectors", "budget-by-year"]
FINANCE = ["plan-comparison", "budget-by-year", "budget-by-category", "budget-by-unit", "lifecycle"]
LONG_CATEGORY = "x" * 33
NO_PLAN = "No targeted plan is saved for these units: save one on the budget page."
NO_COLLECTOR = ("No collector is issued for these units: a site whose network the server cannot reach gets one on the "
                "Collectors page.")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Board(HTMLParser):
    """A dashboard as a test reads it: the ids of its elements in order, their attributes and text, and each
    figure's JSON."""

    def __init__(self, response):
        super().__init__()
        self.status = response.status_code
        self.html = response.get_data(as_text=True)
        self.ids: list[str] = []
        self.attributes: dict[str, dict[str, str | None]] = {}
        self.texts: dict[str, list[str]] = {}
        self.open: list[str | None] = []
        self.feed(self.html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.append(attributes["id"])
            self.attributes[attributes["id"]] = attributes
            self.texts[attributes["id"]] = []
        if tag not in VOID:
            self.open.append(attributes.get("id"))

    def handle_endtag(self, tag):
        if tag not in VOID and self.open:
            self.open.pop()

    def handle_data(self, data):
        for element_id in filter(None, self.open):
            self.texts[element_id].append(data)

    def text(self, element_id: str) -> str:
        return " ".join("".join(self.texts[element_id]).split())

    def figure_data(self, name: str) -> list[dict]:
        return json.loads(self.attributes[f"figure-{name}"]["data-figure"])["data"]

    def charts(self) -> list[str]:
        return [i.removeprefix("chart-") for i in self.ids if i.startswith("chart-")]

    def options(self, select_id: str) -> list[str]:
        [body] = re.findall(rf'<select[^>]* id="{select_id}"[^>]*>(.*?)</select>', self.html, re.S)
        return re.findall(r'<option value="([^"]*)"', body)


class OnToday:
    """A test client whose requests to the dashboards ask for TODAY (?on=), unless they ask for a day."""

    def __init__(self, client):
        self.client = client

    def open(self, path: str, method: str = "GET", **kwargs):
        parts = urlsplit(path)
        if parts.path.startswith(("/dashboards", "/api/dashboards")) and "on" not in parse_qs(parts.query):
            path = parts._replace(query="&".join(filter(None, [parts.query, f"on={TODAY.isoformat()}"]))).geturl()
        return self.client.open(path, method=method, **kwargs)

    def get(self, path: str, **kwargs):
        return self.open(path, "GET", **kwargs)

    def post(self, path: str, **kwargs):
        return self.open(path, "POST", **kwargs)


def english(client):
    client.set_cookie("lang", "en")
    return OnToday(client)


@pytest.fixture
def plans(sessions, city):  # noqa: F811
    """EARLIER and TODAY recorded, a targeted plan for VD (2027 and 2028 capped) and a blanket one by age; the
    plans' ids."""
    record_two_days(sessions)
    with sessions() as session, session.begin():
        targeted = scenarios.save(session, "VD", None, "Kế hoạch 2027", "targeted",
                                  {"first_year": 2027, "caps_vnd": CAPS}, by="finance-officer", on=TODAY).id
        blanket = scenarios.save(session, "VD", None, "Thay thế đồng loạt", "blanket_age",
                                 {"first_year": 2027, "older_than_years": 5}, by="finance-officer", on=TODAY).id
    return {"targeted": targeted, "blanket": blanket}


@pytest.fixture
def admin(app, token_for):
    return english(client_as(app, token_for(Role.ADMIN)))


@pytest.fixture
def p01_officer(app, sessions, city):  # noqa: F811
    """The unit officer of VD-P01 (a ward of the example city)."""
    with sessions() as session, session.begin():
        user = create_user(session, "officer-p01", "Officer P01", PASSWORD, Role.UNIT_OFFICER, ["VD-P01"])
        _, token = create_token(session, user, "tests", ROLE_PERMISSIONS["unit_officer"])
    return english(client_as(app, token))


def api_rows(client, name: str, query: str = "") -> list[dict]:
    response = client.get(f"/api/dashboards/figures/{name}?{query}")
    assert response.status_code == 200, response.json
    return response.json["rows"]


def csv_rows(response) -> list[list[str]]:
    assert (response.status_code, response.mimetype) == (200, "text/csv")
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))


# ---- the views -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, title, names", [("/dashboards", "Dashboards", OVERVIEW),
                                                ("/dashboards/units/VD-P01", "Dashboard of Phường Hoà Bình", UNIT),
                                                ("/dashboards/finance", "Finance", FINANCE)])
def test_each_view_shows_its_figures_each_with_its_table(plans, admin, url, title, names):
    board = Board(admin.get(url))
    assert (board.status, board.text("dashboard-title"), board.charts()) == (200, title, names)
    # Each figure with its JSON, or what to do when there is nothing to draw: no collector is issued (a ward's
    # dashboard shows the city's plan for the ward: the next test).
    empty = {"collectors": NO_COLLECTOR}
    for name in names:
        assert {f"title-{name}", f"table-{name}"} <= set(board.ids)
        if name in empty:
            assert board.text(f"empty-{name}") == empty[name] and f"figure-{name}" not in board.ids
        else:
            assert f"figure-{name}" in board.ids and board.figure_data(name), name
    # When record_day ran (the real clock), in the city's time, dd/mm/yyyy.
    assert re.match(r"Gaps and readiness as recorded at \d\d/\d\d/\d{4} \d\d:\d\d\.", board.text("recorded"))


def test_the_overview_s_figures_carry_the_recorded_numbers(plans, admin):
    board = Board(admin.get("/dashboards"))
    [tree] = board.figure_data("readiness-tree")
    colours = dict(zip(tree["ids"], tree["marker"]["colors"]))
    # The city: 24 of 2637 weighted (0.9); VD-STC with its departments: 3 of 660 (0.5); VD-P01 36.4.
    assert (colours["VD"], colours["VD-STC"], colours["VD-P01"]) == (0.9, 0.5, 36.4)
    assert tree["customdata"][tree["ids"].index("VD-P01")] == ["VD-P01", "36.4%", "/dashboards/units/VD-P01"]
    [cells] = board.figure_data("gap-heatmap")
    row = cells["y"].index("Phường Hoà Bình (VD-P01)")
    column = cells["x"].index("Desktop computer")
    assert (cells["z"][row][column], cells["customdata"][row][column]) == (
        -2, "/units/VD-P01/compliance?category=desktop")
    history = board.figure_data("readiness-history")
    assert (history[0]["name"], history[0]["x"], history[0]["y"]) == (
        "Thành phố Ví Dụ (ví dụ)", ["2026-11-07", "2026-12-07"], [0.8, 0.9])


def test_the_unit_view_reads_each_table_of_the_unit_s_subtree(plans, admin):
    board = Board(admin.get("/dashboards/units/VD-STC?year=2026"))
    assert board.status == 200
    # Each table is read with the page's filters (the day among them) and the unit's subtree.
    assert [query_of(board.attributes[f"table-{name}"]["data-table-url"]) for name in UNIT] == [
        {"year": ["2026"], "on": [TODAY.isoformat()], "unit": ["VD-STC"]}] * len(UNIT)
    url = board.attributes["table-readiness-tree"]["data-table-url"]
    assert [r["unit"] for r in admin.get(url).json["rows"]] == ["VD-STC", "VD-STC-NS", "VD-STC-TCDN"]
    assert "(3 rows)" in board.text("table-readiness-tree")
    history = board.figure_data("readiness-history")
    assert [(h["name"], h["y"]) for h in history] == [("Sở Tài chính", [0.5, 0.5]),
                                                     ("Phòng Quản lý ngân sách", [2.7, 2.7]),
                                                     ("Phòng Tài chính doanh nghiệp", [0.0, 0.0])]


# ---- each figure's table, on the page, as CSV and through the API ----------------------------------------------

def cell(value) -> str:
    """A plain value as the CSV writes it (core.cells)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


@pytest.mark.parametrize("name", OVERVIEW)
def test_a_figure_s_csv_holds_the_rows_of_its_table_and_of_the_api(plans, admin, name):
    board = Board(admin.get("/dashboards"))
    url = board.attributes[f"table-{name}"]["data-table-url"]
    assert query_of(url) == {"on": [TODAY.isoformat()], "unit": ["VD"]}
    found = admin.get(url).json  # the table the page opens, in the page's language (English here)
    assert found["rows"] == api_rows(admin, name, "unit=VD")
    rows = csv_rows(admin.get(f"/dashboards/figures/{name}.csv?unit=VD"))
    assert rows[0] == [c["label"] for c in found["columns"]]
    assert rows[1:] == [[cell(r[c["key"]]) for c in found["columns"]] for r in found["rows"]]
    count = len(found["rows"])
    assert f"({count} row{'' if count == 1 else 's'})" in board.text(f"table-{name}")


def test_the_csv_of_a_unit_s_gaps(plans, admin):
    response = admin.get("/dashboards/figures/gap-heatmap.csv?unit=VD-P01&category=desktop")
    assert response.headers["Content-Disposition"] == "attachment; filename*=UTF-8''gap-heatmap-VD-P01.csv"
    assert csv_rows(response) == [
        ["Unit", "Name", "Category", "Category code", "Required", "Usable", "Shortfall", "Surplus",
         "Due for replacement", "Below specification"],
        ["VD-P01", "Phường Hoà Bình", "Desktop computer", "desktop", "5", "3", "2", "0", "2", "1"]]


def gap(category: str, name: str, required: int, usable: int, shortfall: int, replacements: int = 0,
        upgrades: int = 0) -> dict:
    return {"unit": "VD-P01", "name": "Phường Hoà Bình", "category": category, "category_name": name,
            "required": required, "usable": usable, "shortfall": shortfall, "surplus": 0,
            "replacements": replacements, "upgrades": upgrades}


def test_the_api_gives_a_ward_s_recorded_gaps_and_readiness(plans, admin):
    response = admin.get("/api/dashboards/figures/gap-heatmap?unit=VD-P01")
    assert (response.json["name"], response.json["unit"], response.json["recorded_on"]) == (
        "gap-heatmap", "VD-P01", "2026-12-07")
    # tests/budget/test_load.py's P01_NEEDS against its devices, and the endpoint.
    assert response.json["rows"] == [
        gap("access_switch", "Access switch", 1, 0, 1), gap("core_switch", "Core or distribution switch", 0, 0, 0, 1),
        gap("desktop", "Desktop computer", 5, 3, 2, 2, 1), gap("firewall", "Firewall", 1, 0, 1),
        gap("ip_phone", "IP phone", 1, 0, 1), gap("laptop", "Laptop", 1, 0, 1), gap("printer", "Printer", 1, 0, 1),
        gap("rack_ups", "Rack UPS", 1, 0, 1), gap("router", "Router", 1, 0, 1),
        gap("scanner", "Document scanner", 0, 0, 0), gap("vc_endpoint", "Video-conference endpoint", 1, 1, 0),
        gap("wireless", "Wireless access point or controller", 2, 0, 2)]
    assert api_rows(admin, "readiness-history", "unit=VD-P01") == [
        {"day": "2026-11-07", "score": 27.3, "required": 33, "covered": 9},
        {"day": "2026-12-07", "score": 36.4, "required": 33, "covered": 12}]
    assert api_rows(admin, "readiness-history", "unit=VD-P01&year=2025") == []
    assert api_rows(admin, "headlines", "unit=VD-P01")[3:] == [
        {"day": "2026-12-07", "figure": "Staff with a usable computer on the secure network",
         "key": "secure_network_staff", "count": 2, "out_of": 5, "percent": 40.0},
        {"day": "2026-12-07", "figure": "Wards and communes with a working video-conference endpoint",
         "key": "wards_with_vc", "count": 1, "out_of": 1, "percent": 100.0},
        {"day": "2026-12-07", "figure": "Units with the scanners their archive digitisation needs",
         "key": "archive_scanners", "count": 0, "out_of": 0, "percent": None}]
    assert api_rows(admin, "readiness-tree", "unit=VD-STC") == [
        {"unit": "VD-STC", "name": "Sở Tài chính", "kind": "agency", "score": 0.5, "own_score": 0.0, "staff": 120},
        {"unit": "VD-STC-NS", "name": "Phòng Quản lý ngân sách", "kind": "department", "score": 2.7,
         "own_score": 2.7, "staff": 30},
        {"unit": "VD-STC-TCDN", "name": "Phòng Tài chính doanh nghiệp", "kind": "department", "score": 0.0,
         "own_score": 0.0, "staff": 25}]


def test_the_api_gives_a_ward_s_lifecycle_age_and_coverage(plans, admin):
    # VD-P01's held devices: desktops bought 01/03/2024 (a, b and the broken one), 15/09/2025, 01/03/2020 and
    # 02/05/2023 (the slow one), five years' service life; the core switch (no purchase date) out of support since
    # 31/01/2018; the endpoint bought 15/01/2025. At the cheapest approved models: a Lenovo desktop 9,500,000, a
    # Ruijie core switch 58,000,000.
    assert api_rows(admin, "lifecycle", "unit=VD-P01") == [
        {"quarter": "already due", "why": "end of support", "category_name": "Core or distribution switch",
         "category": "core_switch", "devices": 1, "money_vnd": 58_000_000},
        {"quarter": "already due", "why": "end of service life", "category_name": "Desktop computer",
         "category": "desktop", "devices": 1, "money_vnd": 9_500_000},
        {"quarter": "2028-Q2", "why": "end of service life", "category_name": "Desktop computer",
         "category": "desktop", "devices": 1, "money_vnd": 9_500_000},
        {"quarter": "2029-Q1", "why": "end of service life", "category_name": "Desktop computer",
         "category": "desktop", "devices": 3, "money_vnd": 28_500_000}]
    assert [(r["category"], r["age"], r["devices"]) for r in api_rows(admin, "device-age", "unit=VD-P01")] == [
        ("core_switch", "not known", 1), ("desktop", "1", 1), ("desktop", "2", 3), ("desktop", "3", 1),
        ("desktop", "6", 1), ("vc_endpoint", "1", 1)]
    assert [(r["category"], r["age"], r["devices"]) for r in
            api_rows(admin, "device-age", "unit=VD-P02&category=desktop")] == [
        ("desktop", "1", 1), ("desktop", "3", 1), ("desktop", "4", 1), ("desktop", "not known", 1)]
    # Imported on 02/11/2026 08:00 UTC, two PCs scanned the day after: 35 and 34 full days before the end of TODAY
    # in the city (07/12/2026 23:59, 16:59 UTC).
    assert [{k: v for k, v in row.items() if k != "method_name"}
            for row in api_rows(admin, "scan-coverage", "unit=VD-P01")] == [
        {"unit": "VD-P01", "name": "Phường Hoà Bình", "method": "agent", "last_seen": None, "days": None},
        {"unit": "VD-P01", "name": "Phường Hoà Bình", "method": "nmap", "last_seen": "2026-11-03T08:00:00",
         "days": 34},
        {"unit": "VD-P01", "name": "Phường Hoà Bình", "method": "snmp", "last_seen": None, "days": None},
        {"unit": "VD-P01", "name": "Phường Hoà Bình", "method": "import", "last_seen": "2026-11-02T08:00:00",
         "days": 35}]
    assert api_rows(admin, "collectors", "unit=VD") == []


def test_the_lifecycle_and_coverage_are_read_as_recorded_until_the_next_record(plans, admin, sessions,
                                                                                 city):  # noqa: F811
    """Recorded on TODAY, the dashboards read the record: a PC retired and a ward swept since change nothing there
    until the next record (the page says when it was made), and a board of another day counts live."""
    with sessions() as session, session.begin():
        records.record_day(session, "tests", TODAY)
    recorded = api_rows(admin, "lifecycle", "unit=VD-P01"), api_rows(admin, "scan-coverage", "unit=VD-P02")
    retired = admin.client.patch(f"/api/devices/{city['p01-old']}", json={"status": "retired"})  # due since 2025
    assert retired.status_code == 200, retired.json
    with sessions() as session, session.begin():
        ingest(session, IngestBatch([ObservedDevice("snmp", T0 + dt.timedelta(days=3), "VD-P02", "poll",
                                                    fields={"serial": "LN2001"})]))
    assert (api_rows(admin, "lifecycle", "unit=VD-P01"), api_rows(admin, "scan-coverage", "unit=VD-P02")) == recorded
    tomorrow = api_rows(admin, "lifecycle", f"unit=VD-P01&on={(TODAY + dt.timedelta(days=1)).isoformat()}")
    assert [(r["quarter"], r["category"], r["devices"]) for r in tomorrow][:2] == [
        ("already due", "core_switch", 1), ("2028-Q2", "desktop", 1)]  # the retired PC is gone
    with sessions() as session, session.begin():
        records.record_day(session, "tests", TODAY)
    coverage = api_rows(admin, "scan-coverage", "unit=VD-P02")
    # Polled 05/11/2026 08:00 UTC: 32 full days before the end of TODAY in the city.
    assert [(r["method"], r["days"]) for r in coverage if r["method"] == "snmp"] == [("snmp", 32)]


def test_the_api_gives_the_city_s_plan_by_year_and_beside_the_blanket_one(plans, admin, sessions):
    with sessions() as session:
        targeted = session.get(scenarios.Scenario, plans["targeted"])
        total, funded = targeted.total_vnd, targeted.funded_vnd
    rows = api_rows(admin, "budget-by-year", "unit=VD")
    # tests/budget/test_scenarios.py: 2027, the desktops' 294,500,000 and three IP phones' 5,100,000 (priority 2);
    # 2028, 21 desktops' 199,500,000; the rest fits under no cap.
    assert rows[:3] == [{"year": "2027", "priority": 1, "total_vnd": 294_500_000},
                        {"year": "2027", "priority": 2, "total_vnd": 5_100_000},
                        {"year": "2028", "priority": 1, "total_vnd": 199_500_000}]
    assert [(r["year"], r["priority"]) for r in rows[3:]] == [("not funded", 1), ("not funded", 2)]
    assert (funded, sum(r["total_vnd"] for r in rows[3:])) == (499_100_000, total - 499_100_000)
    assert api_rows(admin, "budget-by-year", "unit=VD&year=2028") == [
        {"year": "2028", "priority": 1, "total_vnd": 199_500_000}]
    comparison = api_rows(admin, "plan-comparison", "unit=VD")
    # The blanket plan buys VD-P01 two desktops where the targeted one takes VD-P02's two spare ones.
    assert [(r["scenario"], r["total_vnd"], r["funded_vnd"], r["saving_vnd"], r["approved"]) for r in comparison] == [
        ("Kế hoạch 2027", total, 499_100_000, None, False),
        ("Thay thế đồng loạt", total + 2 * 9_500_000, total + 2 * 9_500_000, 19_000_000, False)]


def test_a_ward_without_a_plan_of_its_own_shows_the_city_s_lines_for_it(plans, admin, sessions):
    with sessions() as session:
        lines = [line for line in scenarios.lines_of(session.get(scenarios.Scenario, plans["targeted"]))
                 if line.unit_code == "VD-P01"]
    sums: dict[tuple[str, int], int] = {}
    for line in lines:
        key = (str(line.year) if line.year else "not funded", line.priority)
        sums[key] = sums.get(key, 0) + line.total_vnd
    rows = api_rows(admin, "budget-by-year", "unit=VD-P01")
    assert {(r["year"], r["priority"]): r["total_vnd"] for r in rows} == sums
    assert sum(sums.values()) == 221_000_000
    comparison = api_rows(admin, "plan-comparison", "unit=VD-P01")
    # Each plan over the ward's own lines: the blanket one buys the ward the two desktops the targeted one moves in.
    assert [(r["scenario"], r["total_vnd"], r["saving_vnd"]) for r in comparison] == [
        ("Kế hoạch 2027", 221_000_000, None), ("Thay thế đồng loạt", 221_000_000 + 2 * 9_500_000, 19_000_000)]


def test_an_unknown_figure_is_not_found(plans, admin):
    response = admin.get("/api/dashboards/figures/nope")
    assert (response.status_code, response.json["message"]) == (404, "there is no figure 'nope'")
    page = Board(admin.get("/dashboards/figures/nope.csv"))
    assert (page.status, page.text("reason")) == (404, "there is no figure 'nope'")


# ---- an officer's units only -----------------------------------------------------------------------------------

def test_an_officer_s_dashboard_shows_only_their_units(plans, p01_officer):
    board = Board(p01_officer.get("/dashboards"))
    assert (board.status, board.charts()) == (200, OVERVIEW)
    assert board.options("f-unit") == ["VD-P01"]
    [tree] = board.figure_data("readiness-tree")
    assert (tree["ids"], tree["marker"]["colors"]) == (["VD-P01"], [36.4])
    assert [r["unit"] for r in api_rows(p01_officer, "readiness-tree")] == ["VD-P01"]
    assert {r["unit"] for r in api_rows(p01_officer, "gap-heatmap")} == {"VD-P01"}
    assert {r["unit"] for r in api_rows(p01_officer, "scan-coverage")} == {"VD-P01"}
    assert [(r["key"], r["count"], r["out_of"]) for r in api_rows(p01_officer, "headlines")][3:] == [
        ("secure_network_staff", 2, 5), ("wards_with_vc", 1, 1), ("archive_scanners", 0, 0)]
    # No plan: the city's is VD's, which is not one of the officer's units.
    assert api_rows(p01_officer, "plan-comparison") == []


def test_another_unit_s_dashboard_is_refused_to_an_officer(plans, p01_officer, engine):
    before = table_contents(engine)
    page = Board(p01_officer.get("/dashboards/units/VD-P02"))
    assert (page.status, page.text("reason")) == (404, "unit 'VD-P02' does not exist")  # as the unit's own page
    response = p01_officer.get("/api/dashboards/figures/gap-heatmap?unit=VD-P02")
    assert (response.status_code, response.json["message"], response.json["errors"]) == (
        403, "unit 'VD-P02' is not one of your units", {"json": {"unit": ["unit 'VD-P02' is not one of your units"]}})
    # Asked for as a filter: the field's message beside the officer's own board.
    filtered = Board(p01_officer.get("/dashboards?unit=VD-P02"))
    assert (filtered.status, filtered.text("e-unit"), filtered.options("f-unit")) == (
        422, "unit 'VD-P02' is not one of your units", ["VD-P01"])
    assert filtered.figure_data("readiness-tree")[0]["ids"] == ["VD-P01"]
    csv_refused = Board(p01_officer.get("/dashboards/figures/gap-heatmap.csv?unit=VD"))
    assert (csv_refused.status, csv_refused.text("reason")) == (403, "unit 'VD' is not one of your units")
    assert table_contents(engine) == before


# ---- filters ---------------------------------------------------------------------------------------------------

YEAR_RANGE = "Must be greater than or equal to 2000 and less than or equal to 2100."
DAY_RANGE = "Must be greater than or equal to 2000-01-01 and less than or equal to 2100-12-31."


@pytest.mark.parametrize("query, field, message", [("year=abc", "year", "Not a valid integer."),
                                                    ("year=1999", "year", YEAR_RANGE),
                                                    ("on=9999-12-31", "on", DAY_RANGE),
                                                    ("on=0001-01-05", "on", DAY_RANGE),
                                                    (f"category={LONG_CATEGORY}", "category",
                                                     "Length must be between 1 and 32.")])
def test_a_bad_filter_is_refused_with_the_field_s_message_and_changes_nothing(plans, admin, engine, query, field,
                                                                              message):
    before = table_contents(engine)
    page = Board(admin.get(f"/dashboards?{query}"))
    assert page.status == 422
    assert page.text(f"e-{field}") == message
    assert page.charts() == OVERVIEW  # the board without the bad filter
    response = admin.get(f"/api/dashboards/figures/gap-heatmap?{query}")
    assert (response.status_code, response.json["errors"]) == (422, {"query": {field: [message]}})
    refused = admin.get(f"/dashboards/figures/gap-heatmap.csv?{query}")
    assert (refused.status_code, refused.get_data(as_text=True)) == (422, f"{field}: {message}")
    assert table_contents(engine) == before


def test_a_scenario_of_other_units_is_refused_and_a_chosen_plan_is_not_compared_with_itself(plans, admin, sessions):
    with sessions() as session, session.begin():
        other = scenarios.save(session, "VD-P02", None, "Phường Tân Lập 2027", "targeted", {"first_year": 2027},
                               by="finance-officer", on=TODAY).id
    page = Board(admin.get(f"/dashboards/units/VD-P01?scenario={other}"))
    assert (page.status, page.text("e-scenario")) == (
        422, f"scenario {other} is not a plan of these units or of a unit above them")
    assert page.charts() == UNIT  # the board without it
    response = admin.get(f"/api/dashboards/figures/plan-comparison?unit=VD-P01&scenario={other}")
    assert (response.status_code, response.json["message"]) == (
        404, f"scenario {other} is not a plan of these units or of a unit above them")
    # The city's blanket plan shown: beside it the other plans of VD but never itself.
    shown = api_rows(admin, "plan-comparison", f"unit=VD&scenario={plans['blanket']}")
    assert [r["scenario"] for r in shown] == ["Thay thế đồng loạt"]


def test_names_reach_the_page_as_text(plans, admin, sessions):
    """A unit named with markup: the figure's JSON in the page cannot end its attribute or open a <script>, and
    plotly gets the name as text (its entities), not as a link."""
    with sessions() as session, session.begin():
        update_unit(session, "VD-P01", {"name": '</script><a href="https://example.org/">x</a>'})
    response = admin.get("/dashboards")
    page = response.get_data(as_text=True)
    assert "</script><a href" not in page
    [tree] = Board(response).figure_data("readiness-tree")
    assert '&lt;/script&gt;&lt;a href="https://example.org/"&gt;x&lt;/a&gt;' in tree["labels"]


@pytest.mark.parametrize("target", ["//example.org/", "https://example.org/dashboards", "/\\example.org"])
def test_recording_returns_to_a_page_of_this_site_only(plans, app, token_for, target):
    finance = english(client_as(app, token_for(Role.FINANCE)))
    response = finance.post("/dashboards/record", data={"next": target})
    assert (response.status_code, response.headers["Location"]) == (302, "/dashboards")


@pytest.mark.parametrize("query", ["lang=en", "unit=VD&category=&year="])
def test_the_language_link_and_an_empty_filter_form_show_the_board(plans, admin, query):
    board = Board(admin.get(f"/dashboards?{query}"))
    assert (board.status, board.charts()) == (200, OVERVIEW)


# ---- recording ---------------------------------------------------------------------------------------------------

def test_recording_now_needs_budget_approval(sessions, city, app, p01_officer, token_for, engine):  # noqa: F811
    before = table_contents(engine)
    refused = Board(p01_officer.post("/dashboards/record", data={"next": "/dashboards"}))
    assert (refused.status, refused.text("reason")) == (403, "a unit_officer may not do this (needs budget:approve)")
    assert table_contents(engine) == before
    finance = english(client_as(app, token_for(Role.FINANCE)))
    response = finance.post("/dashboards/record", data={"next": "/dashboards/finance"})
    assert (response.status_code, response.headers["Location"]) == (302, "/dashboards/finance")
    with sessions() as session:
        days = session.scalars(select(ReadinessScore.day)).all()
        gap_days = set(session.scalars(select(GapRecord.day)))
    assert (len(days), set(days), gap_days) == (15, {today()}, {today()})
    assert "Readiness and gaps recorded for 15 units." in finance.get("/dashboards/finance").get_data(as_text=True)
