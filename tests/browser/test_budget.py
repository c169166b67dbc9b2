"""The budget's pages in a real Chromium, in Vietnamese: a ward's officer disputes a gap of their ward and may not
resolve it nor open another ward's gaps; an administrator finds the dispute on the budget page and upholds it;
finance saves a targeted plan, approves it, downloads its workbook, saves a blanket one and compares the two.

The budget pages' Vietnamese translations are still being written: the Vietnamese pages are checked by their
element ids, numbers, money (Babel's "15.000.000 ₫") and states; the few texts asserted are English, under the
English locale (the `lang` cookie). The days are today's: the example catalog is in force from 2026-01-01."""
import datetime as dt
import io
import re

import openpyxl
import pytest
from sqlalchemy import select

from accounts.models import Role, User
from accounts.permissions import ROLE_PERMISSIONS
from accounts.services import create_token
from tests.browser.conftest import check_later, sign_in
from tests.budget.test_load import record_city
from tests.conftest import client_as

MONEY = re.compile(r"^\d{1,3}(\.\d{3})* ₫$")  # Babel's VND in Vietnamese: "15.000.000 ₫", no decimals
SHEETS = ["Summary by unit", "Summary by category", "Lines", "Transfers", "Upgrades", "Scenario comparison"]


@pytest.fixture
def city(browser_app, sessions) -> dict[str, int]:
    """The example catalog, the two wards' facts and every device of tests/budget/test_load.py's DEVICES, over
    the example organisation and accounts of browser_app: VD-P01 holds 3 usable desktops of the 5 it needs."""
    return record_city(sessions)


@pytest.fixture
def finance_api(browser_app, sessions):
    """The API client of the browser's finance account, through an API token of finance's permissions."""
    with sessions() as session, session.begin():
        user = session.scalars(select(User).where(User.username == "finance")).one()
        _, token = create_token(session, user, "tests", ROLE_PERMISSIONS[Role.FINANCE.value])
    return client_as(browser_app, token)


def texts(page, selector: str) -> list[str]:
    return [" ".join(text.split()) for text in page.locator(selector).all_inner_texts()]


def cells(page, selector: str) -> list[list[str]]:
    return page.locator(selector).evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => (c.querySelector('a')?.firstChild ?? c).textContent.trim()))")


def money(page, selector: str) -> int:
    """The amount shown, after checking it is shown as Vietnamese money."""
    [shown] = texts(page, selector)
    assert MONEY.match(shown), shown
    return int(re.sub(r"\D", "", shown))


def in_english(page, server: str, english: bool) -> None:
    page.context.add_cookies([{"name": "lang", "value": "en" if english else "vi", "url": server}])


def test_an_officer_disputes_a_gap_and_an_administrator_upholds_it(server, city, page):
    problems: list[str] = []
    sign_in(page, server, "officer", "/budget/units/VD-P01")
    row = cells(page, "#gap-VD-P01-desktop")[0]
    assert row[0] == "VD-P01"
    assert row[2:8] == ["5", "3", "2", "0", "2", "1"]  # required, usable, shortfall, surplus, replacements, upgrades
    assert page.locator("#gap-VD-P01-desktop td:nth-child(5) .badge.text-bg-warning").inner_text() == "2"
    assert page.locator("#review-VD-P01-desktop").count() == 0
    assert page.locator("#uphold-VD-P01-desktop").count() == 0  # an officer does not resolve
    assert page.locator("#readiness-score").inner_text().endswith(" / 100")
    check_later(page, "budget-unit-gaps-officer", problems)

    page.fill("#comment-VD-P01-desktop", "Hai máy của bộ phận một cửa đã được tỉnh cấp tháng trước")
    page.click("#dispute-VD-P01-desktop")
    page.wait_for_url(f"{server}/budget/units/VD-P01#gap-VD-P01-desktop")
    assert page.locator(".alert-success").count() == 1  # the flash: saved
    badge = page.locator("#review-VD-P01-desktop")
    assert badge.get_attribute("class") == "badge text-bg-warning"
    assert "Hai máy của bộ phận một cửa" in page.locator("#gap-VD-P01-desktop").inner_text()
    assert page.locator("#uphold-VD-P01-desktop").count() == 0
    check_later(page, "budget-unit-gaps-disputed", problems)
    in_english(page, server, True)
    page.reload()
    assert badge.inner_text() == "disputed: out of the plans until resolved"
    in_english(page, server, False)

    page.goto(f"{server}/budget")
    assert page.locator("#new-scenario").count() == 0  # no "Save a scenario" for an officer
    assert page.locator("#disputes").count() == 1  # the ward's own dispute, waiting
    assert page.locator("#unit-links a").all_inner_texts() == ["VD-P01"]  # only the officer's units
    check_later(page, "budget-overview-officer", problems)

    response = page.goto(f"{server}/budget/units/VD-P02")
    assert response.status == 404  # another ward's gaps are absent, as its page is
    assert page.locator("#reason").count() == 1
    check_later(page, "budget-unit-gaps-refused", problems)

    page.context.clear_cookies()  # signed out: the administrator signs in in the same browser
    sign_in(page, server, "admin", "/budget")
    [dispute] = cells(page, "#disputes tbody tr")
    assert dispute[:4] == ["VD-P01", "desktop", "2", "Hai máy của bộ phận một cửa đã được tỉnh cấp tháng trước"]
    assert dispute[4].startswith("officer · ")
    check_later(page, "budget-overview-admin", problems)

    page.click("#disputes tbody a")
    page.wait_for_url(f"{server}/budget/units/VD-P01#gap-VD-P01-desktop")
    assert page.locator("#uphold-VD-P01-desktop").is_visible()
    assert page.locator("#withdraw-VD-P01-desktop").is_visible()
    check_later(page, "budget-unit-gaps-admin", problems)
    page.fill("#resolution-VD-P01-desktop", "Chưa có biên bản bàn giao: khoảng thiếu vẫn giữ")
    page.click("#uphold-VD-P01-desktop")
    page.wait_for_url(f"{server}/budget/units/VD-P01#gap-VD-P01-desktop")
    assert page.locator("#review-VD-P01-desktop").get_attribute("class") == "badge text-bg-success"
    assert page.locator("#uphold-VD-P01-desktop").count() == 0  # resolved: nothing left to resolve
    assert "Chưa có biên bản bàn giao: khoảng thiếu vẫn giữ" in page.locator("#gap-VD-P01-desktop").inner_text()
    page.goto(f"{server}/budget")
    assert page.locator("#disputes").count() == 0  # nothing waits any more

    page.goto(f"{server}/budget/units/VD-P01?lang=en")
    assert page.locator("#review-VD-P01-desktop").inner_text() == "dispute resolved: the gap stands"
    in_english(page, server, False)
    assert problems == [], "\n".join(problems)


def save_scenario(page, server: str, fields: dict[str, str]) -> int:
    page.goto(f"{server}/budget")
    page.select_option("#f-unit", "VD")
    page.select_option("#f-kind", fields.pop("kind"))
    for name, value in fields.items():
        page.fill(f"#f-{name}", value)
    page.click("#save-scenario")
    page.wait_for_url(re.compile(r".*/budget/scenarios/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def test_finance_saves_approves_exports_and_compares_plans(server, city, page, finance_api):
    problems: list[str] = []
    sign_in(page, server, "finance", "/budget")
    assert page.locator("#disputes").count() == 0
    assert page.locator("#f-first_year").input_value() == str(dt.date.today().year + 1)
    check_later(page, "budget-overview-finance", problems)

    targeted = save_scenario(page, server, {"kind": "targeted", "name": "Kế hoạch 2027-2028", "first_year": "2027",
                                            "caps_vnd": "200000000; 100000000"})
    assert page.locator("h1").inner_text() == "Kế hoạch 2027-2028"
    total, funded = money(page, "#total-vnd"), money(page, "#funded-vnd")
    assert 0 < funded <= total
    assert money(page, "#unfunded-vnd") == total - funded
    assert page.locator("#draft").count() == 1
    # The lines of the city's subtree: VD-P02's 2 spare desktops go to VD-P01 first (a transfer), the rest bought.
    lines = [row for p in (1, 2, 3) for row in cells(page, f"#lines-p{p} tbody tr")]
    assert any(row[1] == "VD-P01" for row in lines)
    for row in lines:
        assert MONEY.match(row[6].replace("\xa0", " ")) and MONEY.match(row[7].replace("\xa0", " ")), row
        assert int(re.sub(r"\D", "", row[5])) * int(re.sub(r"\D", "", row[6])) == int(re.sub(r"\D", "", row[7]))
    assert sum(int(re.sub(r"\D", "", row[7])) for row in lines) == total
    assert page.locator("#excluded").count() == 0  # nothing disputed
    check_later(page, "budget-scenario-draft", problems)

    # The same total through the API.
    got = finance_api.get(f"/api/budget/scenarios/{targeted}")
    assert got.status_code == 200, got.json
    assert (got.json["total_vnd"], got.json["funded_vnd"]) == (total, funded)

    page.fill("#approval-comment", "Trình UBND thành phố")
    page.click("#approve")
    page.wait_for_url(f"{server}/budget/scenarios/{targeted}")
    assert page.locator("#approved .badge").get_attribute("class") == "badge text-bg-success"
    assert "Trình UBND thành phố" in page.locator("#approved").inner_text()
    assert page.locator("#approve").count() == 0 and page.locator("#delete").count() == 0  # frozen
    assert money(page, "#total-vnd") == total
    check_later(page, "budget-scenario-approved", problems)

    with page.expect_download() as download:
        page.click("#export-xlsx")
    assert download.value.suggested_filename.endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert len(workbook.sheetnames) == len(SHEETS)  # Vietnamese names: their translation is under way
    lines = workbook.worksheets[SHEETS.index("Lines")]
    assert lines.max_row >= 2 + 3  # the header, a line or more, the total, funded and unfunded rows
    assert [lines.cell(row, 1).value for row in range(2, lines.max_row - 2)].count("VD-P01") >= 1
    in_english(page, server, True)
    with page.expect_download() as download:
        page.click("#export-xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert workbook.sheetnames == SHEETS
    assert workbook["Lines"]["A1"].value == "Unit code"
    assert [workbook["Lines"].cell(row, 1).value for row in range(workbook["Lines"].max_row - 2,
                                                                    workbook["Lines"].max_row + 1)] == \
        ["Total", "Funded", "Unfunded"]
    in_english(page, server, False)

    blanket = save_scenario(page, server, {"kind": "blanket_age", "name": "Thay toàn bộ máy trên 3 năm",
                                           "first_year": "2027", "older_than_years": "3"})
    assert page.locator("#approve").count() == 0  # a blanket scenario is for comparison, not for approval
    blanket_total = money(page, "#total-vnd")
    assert blanket_total > 0
    assert page.locator("#comparison tbody tr").count() == 2  # the scenarios of the same unit
    check_later(page, "budget-scenario-blanket", problems)

    page.goto(f"{server}/budget")
    assert page.locator("#scenarios tbody tr").count() == 2
    assert page.locator(f"#scenario-{targeted} .badge").get_attribute("class") == "badge text-bg-success"
    page.check(f"#compare-{targeted}")
    page.check(f"#compare-{blanket}")
    page.click("#compare")
    page.wait_for_url(re.compile(r".*/budget/compare\?ids=\d+&ids=\d+$"))
    assert sorted(int(i) for i in re.findall(r"ids=(\d+)", page.url)) == sorted([targeted, blanket])

    page.goto(f"{server}/budget/compare?ids={targeted}&ids={blanket}")
    headers = cells(page, "#comparison thead tr")[0]
    assert headers[1:] == ["Kế hoạch 2027-2028", "Thay toàn bộ máy trên 3 năm"]
    rows = {row[0]: row[1:] for row in cells(page, "#comparison tbody tr")}
    assert len(rows) == 6  # three priorities, the total, funded, the saving
    totals = page.locator("#comparison tbody tr.fw-semibold td").all_inner_texts()
    assert [int(re.sub(r"\D", "", t)) for t in totals] == [total, blanket_total]
    assert all(MONEY.match(" ".join(t.split())) for t in totals)
    check_later(page, "budget-compare", problems)
    assert problems == [], "\n".join(problems)
