"""The devices' pages in a real Chromium, as VD-P01's officer: find devices with filters kept in the URL, open one,
correct it (a refusal next to the field first), mark it spare, confirm a relocation; another ward's device is 404."""
import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from core.permissions import Permission, requires
from inventory.ingest import IngestBatch, ingest
from inventory.observations import ObservedDevice, ObservedInterface
from tests.browser.conftest import accessibility_violations, check_page, sign_in
from tests.conftest import T0

LAPTOP_MAC = "00:1a:2b:3c:4d:5e"


@pytest.fixture(autouse=True)
def pages_of_others(browser_app):
    """The layout links to every package's pages: while one another helper builds does not exist yet, a
    stand-in answers for it. A no-op once all exist."""
    endpoints = [entry.endpoint for entry in browser_app.extensions.get("navigation", [])] + \
        [browser_app.config["ACCOUNT_PAGE"]]
    for endpoint in endpoints:
        if endpoint not in browser_app.view_functions:
            browser_app.add_url_rule(f"/stand-in/{endpoint}", endpoint=endpoint,
                                     view_func=requires(Permission.PUBLIC)(lambda: "stand-in"))


def described(unit: str, minutes: int, **fields) -> ObservedDevice:
    return ObservedDevice("import", T0 + dt.timedelta(minutes=minutes), unit, "kiem-ke-2026.xlsx", fields=fields)


@pytest.fixture
def fleet(browser_app, sessions) -> dict[str, int]:
    """Four devices of VD-P01, two of VD-P02, and a relocation: VD-P01's scan saw VD-P02's laptop."""
    with sessions() as session, session.begin():
        ids = ingest(session, IngestBatch([
            described("VD-P01", 0, serial="FOC-P01", hostname="sw-p01", device_class="switch", vendor="Cisco",
                      model="WS-C2960"),
            described("VD-P01", 1, serial="PC-P01-A", hostname="pc-p01-a", device_class="workstation", vendor="Dell",
                      model="OptiPlex 7090", status="spare"),
            described("VD-P01", 2, serial="PC-P01-B", hostname="pc-p01-b", device_class="workstation", vendor="Dell",
                      model="OptiPlex 7090"),
            described("VD-P01", 3, serial="CN-P01", hostname="prn-p01", device_class="printer", vendor="HP",
                      model="LaserJet M404"),
            described("VD-P02", 4, serial="PC-P02", hostname="pc-p02", device_class="workstation", vendor="Dell",
                      model="OptiPlex 7090"),
            ObservedDevice("import", T0 + dt.timedelta(minutes=5), "VD-P02", "kiem-ke-2026.xlsx",
                           fields={"serial": "LAP-P02", "hostname": "lap-p02", "device_class": "laptop"},
                           interfaces=(ObservedInterface(mac=LAPTOP_MAC),))])).device_ids
    with sessions() as session, session.begin():
        relocation, = ingest(session, IngestBatch([ObservedDevice(
            "snmp", T0 + dt.timedelta(hours=1), "VD-P01", "snmp:VD-P01",
            interfaces=(ObservedInterface(mac=LAPTOP_MAC, ips=("10.1.0.50",)),))])).relocations_raised
    return dict(zip(["sw-p01", "pc-p01-a", "pc-p01-b", "prn-p01", "pc-p02", "lap-p02"], ids)) | \
        {"relocation": relocation}


def rows(page) -> list[str]:
    """The first cell of each row of the device list: '#id name'."""
    return page.locator("#devices tbody tr td:first-child").all_inner_texts()


def test_an_officer_finds_corrects_and_moves_devices(server, page, fleet):
    sign_in(page, server, "officer", "/devices")
    assert rows(page) == [f"#{fleet[name]} {name}" for name in ("sw-p01", "pc-p01-a", "pc-p01-b", "prn-p01")]
    check_page(page, "devices-list")

    # Filters: class, status and free text, all kept in the URL.
    page.select_option("#f-class", "workstation")
    page.select_option("#f-status", "in_use")
    page.fill("#f-q", "optiplex")
    page.click("#apply-filters")
    query = parse_qs(urlsplit(page.url).query)
    assert (query["class"], query["status"], query["q"]) == (["workstation"], ["in_use"], ["optiplex"])
    assert rows(page) == [f"#{fleet['pc-p01-b']} pc-p01-b"]
    assert page.locator("#f-q").input_value() == "optiplex"
    page.click("#devices thead >> text=Mẫu")  # sorting keeps the filters
    query = parse_qs(urlsplit(page.url).query)
    assert (query["class"], query["status"], query["q"], query["sort"]) == (
        ["workstation"], ["in_use"], ["optiplex"], ["model"])

    # Open it; correct it: a refused value is shown next to its field, a good one is saved into the history.
    page.click(f"text=#{fleet['pc-p01-b']} pc-p01-b")
    assert page.locator("#device-name").inner_text() == "pc-p01-b"
    assert page.locator("#field-serial td").all_inner_texts() == [
        "PC-P01-B", "Nhập từ tệp · kiem-ke-2026.xlsx · 02/11/2026 15:02"]
    check_page(page, "device-page")
    page.click("#edit")
    check_page(page, "device-edit")
    page.fill("#f-purchase_price_vnd", "15,5 triệu")
    page.fill("#f-location", "Phòng một cửa")
    page.click("#save")
    assert page.locator("#e-purchase_price_vnd").inner_text() == "Không phải số nguyên hợp lệ."
    assert page.locator("#f-location").input_value() == "Phòng một cửa"
    assert accessibility_violations(page) == []
    # The refusal answers 422, which Chromium reports as a failed load: the page fixture expects that one.
    assert page.console_errors == []
    page.fill("#f-purchase_price_vnd", "15.500.000")
    page.click("#save")
    assert page.url == f"{server}/devices/{fleet['pc-p01-b']}"
    assert page.locator(".alert-success").inner_text() == \
        "Đã lưu hồ sơ thiết bị; thay đổi có trong lịch sử của thiết bị."
    assert page.locator("#field-location td").all_inner_texts()[0] == "Phòng một cửa"
    assert page.locator("#field-purchase_price_vnd td").all_inner_texts()[0] == "15.500.000\xa0₫"
    changes = page.locator("#timeline > li strong").all_inner_texts()
    assert sorted(changes[:2]) == ["Giá mua đã thay đổi", "Vị trí đã thay đổi"]

    # Mark it spare.
    page.click("#status-spare")
    assert page.locator(".alert-success").inner_text() == "Đã đánh dấu thiết bị dự phòng."
    assert page.locator("#device-status").inner_text() == "dự phòng"
    assert page.locator("#timeline > li").first.inner_text().split(" · ", 1)[1].startswith(
        "Trạng thái đã thay đổi\nđang sử dụng → dự phòng")

    # Confirm the relocation VD-P01's scan raised: VD-P02's laptop moves here.
    page.goto(f"{server}/relocations")
    assert page.locator(f"#relocation-{fleet['relocation']} td").nth(5).inner_text() == "chờ quyết định"
    check_page(page, "relocations")
    page.fill(f"#note-{fleet['relocation']}", "Mang sang phường Hoà Bình")
    page.click(f"#confirm-{fleet['relocation']}")
    assert page.locator(".alert-success").inner_text() == "Đã xác nhận chuyển đơn vị: thiết bị nay thuộc VD-P01."
    assert page.locator(f"#relocation-{fleet['relocation']} td").nth(5).inner_text() == "đã xác nhận"
    page.click(f"text=#{fleet['lap-p02']} lap-p02")
    assert page.locator("#breadcrumbs").inner_text().split("\n") == ["Thiết bị", "VD-P01", "lap-p02"]

    # Another ward's device does not exist for this officer.
    response = page.goto(f"{server}/devices/{fleet['pc-p02']}")
    assert response.status == 404
    assert page.locator("#reason").inner_text() == f"thiết bị {fleet['pc-p02']} không tồn tại"
