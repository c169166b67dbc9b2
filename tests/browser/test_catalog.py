"""The catalog's pages in a real Chromium, in Vietnamese: the versions, a version's content, a new draft and its
publication page; a ward's compliance on its page, a count clicked through to the devices it counts, a device's
judgement; and another ward's compliance, absent for an officer.

The texts asserted in Vietnamese are the catalog pages' translations (marked "translated" below); numbers, money
and dates are Babel's."""
import datetime as dt

import pytest

from catalog.compliance import today
from catalog.examples import load_example_catalog
from catalog.rules import add_years
from inventory.ingest import IngestBatch, ingest
from inventory.observations import ObservedDevice
from tests.browser.conftest import check_page, sign_in
from tests.conftest import T0


def device(unit: str, host: str, device_class: str, vendor: str, model: str, specs: dict, **fields) -> ObservedDevice:
    return ObservedDevice("import", T0, unit, "kiem-ke-2026.xlsx", fields={
        "hostname": host, "device_class": device_class, "vendor": vendor, "model": model, **fields}, specs=specs)


@pytest.fixture
def judged(browser_app, sessions) -> dict[str, int]:
    """Three desktops and a switch in VD-P01, a desktop in VD-P02, then the example catalog published: every
    device judged under it. The devices' ids by host name."""
    bought = add_years(today(), -7) - dt.timedelta(days=31)  # past the desktops' 5 years of service life
    with sessions() as session, session.begin():
        ids = ingest(session, IngestBatch([
            device("VD-P01", "pc-ok", "workstation", "Dell", "OptiPlex 7010",
                   {"ram_gb": "16 GB", "storage_gb": "512 GB SSD", "cpu_model": "Intel Core i5-12500",
                    "os_version": "23H2"}),
            device("VD-P01", "pc-ram", "workstation", "HP", "ProDesk 400 G5",
                   {"ram_gb": "4 GB", "storage_gb": "256 GB SSD"}),
            device("VD-P01", "pc-old", "workstation", "Dell", "OptiPlex 3020",
                   {"ram_gb": "8 GB", "storage_gb": "256 GB SSD"}, purchase_date=bought, purchase_price_vnd=12_000_000),
            device("VD-P01", "sw-1", "switch", "Brocade", "ICX6430-24", {"port_count": "24"}),
            device("VD-P02", "pc-p02", "workstation", "Dell", "OptiPlex 7010", {"ram_gb": "4 GB"}),
        ])).device_ids
        load_example_catalog(session)
    return dict(zip(["pc-ok", "pc-ram", "pc-old", "sw-1", "pc-p02"], ids))


def texts(page, selector: str) -> list[str]:
    return [" ".join(text.split()) for text in page.locator(selector).all_inner_texts()]


def cells(page, selector: str) -> list[list[str]]:
    return page.locator(selector).evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => (c.querySelector('a')?.firstChild ?? c).textContent.trim()))")


def test_an_administrator_reads_the_catalog_and_prepares_the_next_version(server, judged, page):
    sign_in(page, server, "admin", "/catalog")
    assert page.locator("#navigation a[aria-current=page]").count() == 1
    rows = page.locator("#versions tbody tr")
    assert rows.count() == 1
    assert texts(page, "#versions tbody tr td:nth-child(2)") == ["01/01/2026"]
    assert page.locator("#version-1 .badge").get_attribute("class") == "badge text-bg-success"
    assert page.locator("h1").inner_text() == "Danh mục thiết bị"  # translated
    check_page(page, "catalog-versions")

    page.click("#version-1 a")
    page.wait_for_url(f"{server}/catalog/1")
    assert cells(page, "#models-desktop tbody tr")[0] == ["Dell", "OptiPlex *", "9.900.000\xa0₫", "", "", ""]
    assert page.locator("#requirements-desktop tbody tr").count() == 5
    assert page.locator("#norms tbody tr").count() == 15
    assert page.locator("#download-workbook").get_attribute("href") == "/catalog/1/workbook.xlsx"
    check_page(page, "catalog-version")

    page.goto(f"{server}/catalog")
    page.fill("#f-name", "Danh mục 2027")
    page.fill("#f-effective_on", "2027-01-01")
    assert page.locator("#f-copy_of").input_value() == "1"  # a copy of the version in force, unless chosen
    page.click("#create-version")
    page.wait_for_url(f"{server}/catalog/2")
    assert page.locator("#version-status").get_attribute("class") == "badge text-bg-secondary"
    assert page.locator("#import-form input[type=file]").count() == 1
    check_page(page, "catalog-draft")
    page.click("#publish")
    page.wait_for_url(f"{server}/catalog/2/publish")
    assert page.locator("#publish-warning").is_visible()
    check_page(page, "catalog-publish")
    page.click("#cancel")
    page.wait_for_url(f"{server}/catalog/2")


def test_a_count_on_the_unit_page_opens_its_devices_and_a_device_its_judgement(server, judged, page):
    sign_in(page, server, "officer", "/units/VD-P01")
    table = cells(page, "#compliance-by-category tr")
    assert len(table[0]) == 9  # the category, the seven statuses, the total
    assert [row[1:] for row in table[1:]] == [["1", "1", "0", "0", "0", "1", "0", "3"],
                                              ["0", "0", "0", "0", "1", "0", "0", "1"],
                                              ["1", "1", "0", "0", "1", "1", "0", "4"]]
    check_page(page, "unit-compliance-section")

    below_spec = page.locator("#compliance-by-category tbody tr").first.locator("td").nth(1).locator("a")
    assert below_spec.get_attribute("href") == "/units/VD-P01/compliance?category=desktop&status=below_spec"
    below_spec.click()
    page.wait_for_url(f"{server}/units/VD-P01/compliance?category=desktop&status=below_spec")
    assert texts(page, "#judged-devices tbody tr td:first-child") == [f"#{judged['pc-ram']} pc-ram"]
    assert page.locator("#f-status").input_value() == "below_spec"
    assert page.locator("#f-category").input_value() == "desktop"
    assert page.locator("#judged-devices tbody .badge").get_attribute("class") == "badge text-bg-warning"
    check_page(page, "unit-compliance-list")

    page.select_option("#f-status", "")  # every status of the desktops
    page.click("#apply-filters")
    page.wait_for_url(f"{server}/units/VD-P01/compliance?status=&category=desktop&version=")
    assert texts(page, "#judged-devices tbody tr td:first-child") == [
        f"#{judged['pc-ok']} pc-ok", f"#{judged['pc-ram']} pc-ram", f"#{judged['pc-old']} pc-old"]

    page.click(f"#judged-{judged['pc-old']} a")
    page.wait_for_url(f"{server}/devices/{judged['pc-old']}")
    assert page.locator("#compliance-status").get_attribute("class") == "badge text-bg-danger"
    ends = add_years(add_years(today(), -7) - dt.timedelta(days=31), 5)
    assert texts(page, "#compliance-wear tr td") == ["12.000.000 ₫", "20% mỗi năm", "7", "12.000.000 ₫", "0 ₫",
                                                     f"{ends:%d/%m/%Y} đã qua"]  # translated: "mỗi năm", "đã qua"
    assert page.locator("#compliance-reasons li").count() == 3  # past its life; CPU and OS not known (recommended)
    check_page(page, "device-compliance")

    page.goto(f"{server}/units/VD-P01/norms")
    assert page.locator("#norm-quantities tbody tr").count() == 13
    assert texts(page, "#norm-totals tbody tr")[0].endswith("28")
    check_page(page, "unit-norms")

    response = page.goto(f"{server}/units/VD-P02/compliance")
    assert response.status == 404
    assert page.locator("#reason").inner_text() == "đơn vị 'VD-P02' không tồn tại"
