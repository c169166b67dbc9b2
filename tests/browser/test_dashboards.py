"""The dashboards in a real Chromium (Debian's), in Vietnamese unless a test asks for English: every figure drawn
by plotly.js with its data, within the Content-Security-Policy and without an accessibility violation; a click on
a gap heatmap's cell opens that unit's devices of that category; the table behind a figure holds the API's numbers
and the budget's live gaps; its CSV and the figure's PNG download; a ward's officer sees only their ward; a table
sorts by a click on a column; English on request.

The data is tests/budget/test_load.py's city (the example catalog, two wards' facts and their devices), recorded
once by budget.scores.record_day as the nightly run does: VD-P01 needs 5 desktops and holds 3 usable ones.
README_SCREENSHOTS=1 also writes the README's screenshots (docs/screenshots/) from the overview and VD-P01's
dashboard."""
import csv
import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import select

from accounts.models import Role, User
from accounts.permissions import ROLE_PERMISSIONS
from accounts.services import create_token
from budget import scenarios, scores
from dashboards.board import VIEWS
from inventory.models import Unit
from tests.browser.conftest import check_later, sign_in
from tests.budget.test_load import record_city
from tests.conftest import client_as

README_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
README_FIGURES = {"overview": "gap-heatmap", "unit": "gap-heatmap"}  # the last figure each README picture shows
PATHS = {"overview": "/dashboards", "unit": "/dashboards/units/VD-P01", "finance": "/dashboards/finance"}
GAP_COLUMNS = ["unit", "name", "category_name", "category", "required", "usable", "shortfall", "surplus",
               "replacements", "upgrades"]
# VD-P01's recorded gaps, from tests/budget/test_load.py: (required, usable, shortfall, surplus, replacements,
# upgrades) per category. 5 desktops required, 3 usable; the old and the broken PC due for replacement, the slow
# one below specification; the core switch is out of support and required by no norm.
P01_GAPS = {"access_switch": (1, 0, 1, 0, 0, 0), "core_switch": (0, 0, 0, 0, 1, 0), "desktop": (5, 3, 2, 0, 2, 1),
            "firewall": (1, 0, 1, 0, 0, 0), "ip_phone": (1, 0, 1, 0, 0, 0), "laptop": (1, 0, 1, 0, 0, 0),
            "printer": (1, 0, 1, 0, 0, 0), "rack_ups": (1, 0, 1, 0, 0, 0), "router": (1, 0, 1, 0, 0, 0),
            "scanner": (0, 0, 0, 0, 0, 0), "vc_endpoint": (1, 0, 1, 0, 0, 0), "wireless": (2, 0, 2, 0, 0, 0)}
EMPTY = {"overview": ["collectors"], "unit": ["collectors"], "finance": []}
DRAWN = "() => [...document.querySelectorAll('div.dashboard-figure')].every(d => d.dataset.drawn === 'true')"


@pytest.fixture
def city(browser_app, sessions) -> dict[str, int]:
    """The city of tests/budget/test_load.py over browser_app's organisation and accounts, its readiness and
    gaps recorded today (as the nightly run does); the devices' ids by name."""
    ids = record_city(sessions)
    with sessions() as session, session.begin():
        scores.record_day(session, by="tests")
    return ids


@pytest.fixture
def plans(city, sessions) -> dict[str, int]:
    """The city's targeted plan under two years' caps and its blanket one (older than 3 years), and a targeted
    plan of VD-P01's own (its dashboard shows the plans of its subtree); their ids."""
    with sessions() as session, session.begin():
        found = {"targeted": scenarios.save(session, "VD", None, "Kế hoạch 2027-2028", "targeted",
                                            {"first_year": 2027, "caps_vnd": [200_000_000, 100_000_000]},
                                            by="finance"),
                 "blanket": scenarios.save(session, "VD", None, "Thay toàn bộ máy trên 3 năm", "blanket_age",
                                           {"first_year": 2027, "older_than_years": 3}, by="finance"),
                 "ward": scenarios.save(session, "VD-P01", None, "Phường Hoà Bình 2027", "targeted",
                                        {"first_year": 2027}, by="finance")}
        return {name: scenario.id for name, scenario in found.items()}


def api_of(browser_app, sessions, username: str, role: Role):
    """The API client of a browser account, through an API token of its role's permissions."""
    with sessions() as session, session.begin():
        user = session.scalars(select(User).where(User.username == username)).one()
        _, token = create_token(session, user, "tests", ROLE_PERMISSIONS[role.value])
    return client_as(browser_app, token)


def open_dashboard(page, url: str) -> int:
    """Open a dashboard and wait until plotly.js has drawn each of its figures; the page's status."""
    response = page.goto(url)
    page.wait_for_function(DRAWN)
    return response.status


def figures(page) -> list[tuple[str, str | None, int]]:
    """Each figure of the page: its div's id, data-drawn, and how many traces plotly.js holds for it."""
    return page.evaluate("[...document.querySelectorAll('div.dashboard-figure')].map(d => "
                         "[d.id, d.getAttribute('data-drawn'), Array.isArray(d.data) ? d.data.length : -1])")


def open_table(page, name: str):
    """Open the table behind a figure and wait until the page has read it (it is read when first opened)."""
    page.click(f"#table-{name} summary")
    page.wait_for_selector(f"#table-{name}[data-loaded='true'] table")
    return page.locator(f"#table-{name} table")


def table_values(page, name: str) -> list[list[str]]:
    """The plain values (data-value) of the rows of a figure's table, as the page holds them now."""
    return page.locator(f"#table-{name} tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.getAttribute('data-value')))")


def table_keys(page, name: str) -> list[str]:
    return page.locator(f"#table-{name} thead th").evaluate_all("cells => cells.map(c => c.dataset.key)")


def plain(value) -> str:
    """An API value as a table cell's data-value writes it (JavaScript's String(): the heatmap's are integers)."""
    return "" if value is None else str(value)


def unit_codes(sessions) -> set[str]:
    with sessions() as session:
        return set(session.scalars(select(Unit.code)))


def save_readme_screenshot(page, name: str, last: str) -> None:
    """The README's picture of a dashboard: the page at 1280 px from its top to the end of the figure `last`
    (the whole page is five screens long), kept under ~600 KB."""
    README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    bottom = page.locator(f"#chart-{last}").evaluate("e => e.getBoundingClientRect().bottom + window.scrollY")
    shot = page.screenshot(full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": bottom + 16})
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    path = README_SCREENSHOTS / f"{name}.png"
    image.save(path, optimize=True)
    if path.stat().st_size > 600_000:  # a palette of 256 colours: gradients band a little, text stays sharp
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


# ---- 1. every figure drawn, within the policy ------------------------------------------------------------------

def test_each_dashboard_draws_every_figure_with_its_data(server, plans, page):
    problems: list[str] = []
    sign_in(page, server, "admin", "/dashboards")
    for view, path in PATHS.items():
        assert open_dashboard(page, server + path) == 200
        sections = page.locator("section.dashboard-chart").evaluate_all("found => found.map(s => s.id)")
        assert sections == [f"chart-{name}" for name in VIEWS[view]]
        # A figure with nothing to draw says why instead: no collector is issued in this city.
        empty = page.locator("section.dashboard-chart [id^=empty-]").evaluate_all("found => found.map(e => e.id)")
        assert empty == [f"empty-{name}" for name in EMPTY[view]]
        drawn = figures(page)
        assert [d[0] for d in drawn] == [f"figure-{name}" for name in VIEWS[view] if name not in EMPTY[view]]
        undrawn = [d[0] for d in drawn if d[1] != "true" or d[2] < 1]
        assert undrawn == [], f"{view}: figures not drawn or without data: {undrawn}"
        check_later(page, f"dashboard-{view}", problems)
        if view in README_FIGURES and os.environ.get("README_SCREENSHOTS"):
            save_readme_screenshot(page, f"dashboard-{view}", README_FIGURES[view])

    # The data drawn is the data recorded: VD-P01's desktops 2 short (3 usable less 5 required) on the
    # overview's heatmap, the city's two plans side by side on the finance view.
    page.goto(server + PATHS["overview"])
    page.wait_for_function(DRAWN)
    heatmap = page.evaluate("(() => { const t = document.getElementById('figure-gap-heatmap').data[0];"
                            " return {y: t.y, z: t.z, links: t.customdata}; })()")
    row = next(i for i, label in enumerate(heatmap["y"]) if label.endswith("(VD-P01)"))
    column = heatmap["links"][row].index("/units/VD-P01/compliance?category=desktop")
    assert heatmap["z"][row][column] == -2
    page.goto(server + PATHS["finance"])
    page.wait_for_function(DRAWN)
    assert page.evaluate("document.getElementById('figure-plan-comparison').data[0].x") == [
        "Kế hoạch 2027-2028", "Thay toàn bộ máy trên 3 năm"]
    assert problems == [], "\n".join(problems)


# ---- 2. a heatmap cell leads to the unit's devices ---------------------------------------------------------------

CELL_CENTRE = """([row, column]) => {
  const div = document.getElementById('figure-gap-heatmap'), layout = div._fullLayout;
  const box = div.getBoundingClientRect();
  return [box.left + layout.xaxis._offset + layout.xaxis.l2p(column),
          box.top + layout.yaxis._offset + layout.yaxis.l2p(row)];
}"""


def test_a_click_on_a_heatmap_cell_lists_that_unit_s_devices_of_that_category(server, city, page):
    problems: list[str] = []
    sign_in(page, server, "admin", "/dashboards")
    page.wait_for_function(DRAWN)
    links = page.evaluate("document.getElementById('figure-gap-heatmap').data[0].customdata")
    labels = page.evaluate("document.getElementById('figure-gap-heatmap').data[0].y")
    row = next(i for i, label in enumerate(labels) if label.endswith("(VD-P01)"))
    column = links[row].index("/units/VD-P01/compliance?category=desktop")
    page.locator("#figure-gap-heatmap").scroll_into_view_if_needed()
    x, y = page.evaluate(CELL_CENTRE, [row, column])
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.wait_for_url(f"{server}/units/VD-P01/compliance?category=desktop")
    shown = page.locator("#judged-devices tbody tr").evaluate_all("rows => rows.map(r => r.id)")
    # Every desktop of VD-P01 with its judgement, the retired one too (the compliance list shows each device; the
    # gaps count it nowhere); the PDU (no category) and the core switch are not desktops.
    desktops = ["p01-a", "p01-b", "p01-c", "p01-old", "p01-slow", "p01-broken", "p01-retired"]
    assert shown == [f"judged-{city[name]}" for name in desktops]
    assert set(page.locator("#judged-devices tbody td:nth-child(2)").all_inner_texts()) == {"VD-P01"}
    assert page.locator("#f-category").input_value() == "desktop"
    check_later(page, "dashboard-heatmap-click-devices", problems)
    assert problems == [], "\n".join(problems)


# ---- 3. the table behind a figure: the API's numbers, and the budget's -----------------------------------------

def test_the_table_behind_the_heatmap_holds_the_api_s_numbers_and_the_budget_s_gaps(browser_app, sessions, server,
                                                                                      city, page):
    api = api_of(browser_app, sessions, "admin", Role.ADMIN)
    sign_in(page, server, "admin", "/dashboards")
    open_dashboard(page, f"{server}/dashboards?lang=en")  # the API speaks English: so do the categories' names
    open_table(page, "gap-heatmap")
    found = api.get("/api/dashboards/figures/gap-heatmap")
    assert found.status_code == 200, found.json
    assert (found.json["name"], found.json["unit"]) == ("gap-heatmap", "VD")
    assert [c["key"] for c in found.json["columns"]] == GAP_COLUMNS == table_keys(page, "gap-heatmap")
    rows = table_values(page, "gap-heatmap")
    assert rows == [[plain(row[key]) for key in GAP_COLUMNS] for row in found.json["rows"]]
    assert len(rows) == 175  # 15 units' recorded gaps
    p01 = {row[3]: tuple(int(v) for v in row[4:]) for row in rows if row[0] == "VD-P01"}
    assert p01 == P01_GAPS

    # On VD-P01's own dashboard, the same numbers as the budget computes them now: nothing changed since.
    open_dashboard(page, f"{server}/dashboards/units/VD-P01")
    open_table(page, "gap-heatmap")
    shown = {(row[0], row[3]): tuple(int(v) for v in row[4:8]) for row in table_values(page, "gap-heatmap")}
    live = api.get("/api/budget/units/VD-P01/gaps")
    assert live.status_code == 200, live.json
    assert shown == {(g["unit_code"], g["category"]): (g["required"], g["usable"], g["shortfall"], g["surplus"])
                     for g in live.json["gaps"]}
    assert {category: numbers[:4] for (_unit, category), numbers in shown.items()} == {
        category: numbers[:4] for category, numbers in P01_GAPS.items()}


# ---- 4. the CSV of a table and the PNG of a figure -------------------------------------------------------------

def test_the_csv_holds_the_table_behind_the_figure(server, city, page):
    problems: list[str] = []
    sign_in(page, server, "officer", "/dashboards/units/VD-P01")
    page.wait_for_function(DRAWN)
    open_table(page, "gap-heatmap")
    headings = [" ".join(t.split()) for t in page.locator("#table-gap-heatmap thead th").all_inner_texts()]
    with page.expect_download() as download:
        page.click("#chart-gap-heatmap a[data-csv]")
    assert download.value.suggested_filename == "gap-heatmap-VD-P01.csv"
    content = download.value.path().read_bytes()
    assert content.startswith("\ufeff".encode())  # Excel reads the Vietnamese names as UTF-8
    header, *rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert header == headings
    assert rows == table_values(page, "gap-heatmap")
    assert [row[3] for row in rows] == sorted(P01_GAPS)
    assert next(row for row in rows if row[3] == "desktop")[4:] == ["5", "3", "2", "0", "2", "1"]
    check_later(page, "dashboard-unit-csv", problems)
    assert problems == [], "\n".join(problems)


def test_the_png_button_downloads_the_figure_as_a_png(server, city, page):
    problems: list[str] = []
    sign_in(page, server, "officer", "/dashboards/units/VD-P01")
    page.wait_for_function(DRAWN)
    try:
        with page.expect_download(timeout=10_000) as download:
            page.click("#chart-gap-heatmap button[data-png]")
    except PlaywrightTimeout:
        pytest.fail(f"no PNG downloaded; the console: {page.console_errors}")
    assert download.value.suggested_filename == "gap-heatmap-VD-P01.png"
    image = download.value.path().read_bytes()
    assert image.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = Image.open(io.BytesIO(image)).size
    assert (width, height) == tuple(page.locator("#figure-gap-heatmap").evaluate(
        "div => [div.clientWidth, div.clientHeight]"))  # the figure as the page draws it
    check_later(page, "dashboard-unit-png", problems)
    assert problems == [], "\n".join(problems)


# ---- 5. a ward's officer sees their ward only ------------------------------------------------------------------

def test_a_ward_officer_sees_only_their_ward(server, sessions, plans, page):
    problems: list[str] = []
    others = unit_codes(sessions) - {"VD-P01"}
    sign_in(page, server, "officer", "/dashboards")
    page.wait_for_function(DRAWN)
    assert page.locator("#f-unit option").evaluate_all("options => options.map(o => o.value)") == ["VD-P01"]
    assert page.locator("#f-unit").input_value() == "VD-P01"  # the root: the officer's ward
    assert page.locator("#dashboard-views a").nth(1).get_attribute("href") == "/dashboards/units/VD-P01"
    for name in VIEWS["overview"]:
        open_table(page, name)
    text = " ".join(page.locator("table").all_inner_texts()) + " ".join(
        page.locator("td[data-value]").evaluate_all("cells => cells.map(c => c.dataset.value)"))
    assert sorted(code for code in others if re.search(rf"\b{re.escape(code)}\b(?!-)", text)) == []
    gaps = table_values(page, "gap-heatmap")
    assert {row[0] for row in gaps} == {"VD-P01"} and len(gaps) == len(P01_GAPS)
    figures_json = " ".join(page.locator("div[data-figure]").evaluate_all("divs => divs.map(d => d.dataset.figure)"))
    assert sorted(code for code in others if f"({code})" in figures_json or f"/{code}/" in figures_json) == []
    check_later(page, "dashboard-overview-officer", problems)

    # Another ward's dashboard is absent, as that ward's own page is (inventory/unit_pages.py); its figures'
    # tables are refused as the API refuses another unit (unit_in_scope).
    response = page.goto(f"{server}/dashboards/units/VD-P02")
    assert response.status == 404
    assert page.locator("#reason").inner_text() == "đơn vị 'VD-P02' không tồn tại"
    check_later(page, "dashboard-unit-refused", problems)
    for path in ("/dashboards/figures/gap-heatmap.csv?unit=VD-P02", "/dashboards/figures/gap-heatmap.json?unit=VD-P02"):
        assert page.request.get(server + path).status == 403, path

    # Asked for through the filter, another ward is refused as a filter's error and the officer's ward shown.
    assert open_dashboard(page, f"{server}/dashboards?unit=VD-P02") == 422
    assert page.locator("#f-unit").input_value() == "VD-P01"
    assert page.locator("#e-unit").inner_text() == "đơn vị 'VD-P02' không thuộc các đơn vị của bạn"
    open_table(page, "gap-heatmap")
    assert {row[0] for row in table_values(page, "gap-heatmap")} == {"VD-P01"}
    assert problems == [], "\n".join(problems)


# ---- 6. sorting a table ----------------------------------------------------------------------------------------

def test_a_click_on_a_column_sorts_the_table_numerically(server, city, page):
    sign_in(page, server, "admin", "/dashboards")
    page.wait_for_function(DRAWN)
    table = open_table(page, "gap-heatmap")
    shortfall = GAP_COLUMNS.index("shortfall")
    before = [int(row[shortfall]) for row in table_values(page, "gap-heatmap")]
    heading = table.locator("th[data-key=shortfall]")
    heading.locator("button").click()
    assert heading.get_attribute("aria-sort") == "ascending"
    ascending = table_values(page, "gap-heatmap")
    assert [int(row[shortfall]) for row in ascending] == sorted(before)
    assert str(sorted(before)) != str(sorted(before, key=str))  # 2 before 120: a text sort would differ
    heading.locator("button").click()
    assert heading.get_attribute("aria-sort") == "descending"
    descending = table_values(page, "gap-heatmap")
    assert [int(row[shortfall]) for row in descending] == sorted(before, reverse=True)
    # The largest shortfall: the 120 desktops of the finance agency's staff (tests/budget/test_load.py).
    assert (descending[0][0], descending[0][3], descending[0][shortfall]) == ("VD-STC", "desktop", "120")
    table.locator("th[data-key=unit] button").click()
    units = [row[0] for row in table_values(page, "gap-heatmap")]
    assert units == sorted(units) and units[0] == "VD"
    assert table.locator("th[data-key=shortfall]").get_attribute("aria-sort") is None


# ---- 7. Vietnamese by default, English on request --------------------------------------------------------------

TICKS = "name => [...document.querySelectorAll(`#figure-${name} .ytick text`)].map(t => t.textContent)"


def test_english_on_request_and_vietnamese_numbers_by_default(server, plans, page):
    problems: list[str] = []
    sign_in(page, server, "finance", "/dashboards/finance")
    page.wait_for_function(DRAWN)
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("#dashboard-title").inner_text() == "Tài chính"
    assert page.title().startswith("Tài chính · ")
    open_table(page, "budget-by-year")
    money = page.locator("#table-budget-by-year td[data-value]:nth-child(3)").all_text_contents()
    assert money and all(re.fullmatch(r"\d{1,3}(\.\d{3})* ₫", " ".join(m.split())) for m in money), money
    ticks = page.evaluate(TICKS, "budget-by-year")
    assert "2.000.000.000" in ticks and all(re.fullmatch(r"\d{1,3}(\.\d{3})*", t) for t in ticks), ticks
    check_later(page, "dashboard-finance-vi", problems)

    open_dashboard(page, f"{server}/dashboards/finance?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#dashboard-title").inner_text() == "Finance"
    open_table(page, "budget-by-year")
    assert page.locator(".dashboard-chart h2").all_inner_texts() == [
        "The targeted plan beside the blanket ones", "The plan by year and priority", "The plan by category",
        "The plan by unit", "Devices falling due for replacement, by quarter"]
    money = page.locator("#table-budget-by-year td[data-value]:nth-child(3)").all_text_contents()
    assert money and all(re.fullmatch(r"₫\d{1,3}(,\d{3})*", m.strip()) for m in money), money
    ticks = page.evaluate(TICKS, "budget-by-year")
    assert "2,000,000,000" in ticks, ticks
    check_later(page, "dashboard-finance-en", problems)

    open_dashboard(page, f"{server}/dashboards?lang=vi")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("#dashboard-title").inner_text() == "Bảng điều khiển"
    assert problems == [], "\n".join(problems)
