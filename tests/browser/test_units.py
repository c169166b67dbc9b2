"""The organisation's pages in Chromium, in Vietnamese: the tree, a unit's page, a unit created after a refusal,
a merge previewed then confirmed, and what a unit officer sees."""
from inventory.ingest import IngestBatch, ingest
from inventory.observations import ObservedDevice
from tests.browser.conftest import check_page, sign_in
from tests.conftest import T0


def add_devices(sessions, unit_code: str, *devices: tuple[str, str, str]) -> None:
    with sessions() as session, session.begin():
        ingest(session, IngestBatch([ObservedDevice("import", T0, unit_code, "sheet", fields={
            "hostname": host, "device_class": device_class, "status": status})
            for host, device_class, status in devices]))


def texts(page, selector: str) -> list[str]:
    return [" ".join(text.split()) for text in page.locator(selector).all_inner_texts()]


def test_an_administrator_walks_the_tree_creates_and_merges_units(server, sessions, page):
    add_devices(sessions, "VD-P01", ("pc-1", "workstation", "in_use"), ("pc-2", "workstation", "in_use"),
                ("pc-3", "workstation", "broken"), ("prn-1", "printer", "spare"))
    add_devices(sessions, "VD-P03", ("pc-31", "workstation", "in_use"), ("sw-31", "switch", "in_use"))
    add_devices(sessions, "VD-P04", ("pc-41", "laptop", "in_use"))
    sign_in(page, server, "admin", "/units")

    # The tree: the city's branch is open, an agency's closed until opened.
    assert page.locator("h1").inner_text() == "Đơn vị"
    assert " ".join(page.locator("#node-VD-P01").inner_text().split()) == "VD-P01 Phường Hoà Bình phường 4 thiết bị"
    department = page.locator("#node-VD-STC-NS")
    assert not department.is_visible()
    page.locator("#node-VD-STC > details > summary").click(position={"x": 4, "y": 8})  # its disclosure triangle
    assert department.is_visible()
    check_page(page, "units-tree")

    page.fill("#q", "Hoà")
    page.press("#q", "Enter")
    page.wait_for_url(f"{server}/units?q=Ho%C3%A0")
    assert page.locator("#match-count").inner_text() == "1 đơn vị khớp với “Hoà”"
    assert page.locator("#unit-tree li").evaluate_all("items => items.map(i => i.id)") == ["node-VD", "node-VD-P01"]

    page.click("#node-VD-P01 a")
    page.wait_for_url(f"{server}/units/VD-P01")
    assert texts(page, "#breadcrumbs li") == ["Đơn vị", "Thành phố Ví Dụ (ví dụ)", "Phường Hoà Bình"]
    assert [page.locator(f"#fact-{name}").inner_text() for name in ("code", "name", "kind", "staff", "parent",
                                                                     "status")] == \
        ["VD-P01", "Phường Hoà Bình", "phường", "28", "VD Thành phố Ví Dụ (ví dụ)", "đang hoạt động"]
    rows = page.locator("#devices-by-class tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => (c.querySelector('a')?.firstChild ?? c).textContent.trim()))")
    assert rows == [["Loại", "đang sử dụng", "dự phòng", "hỏng", "đã thanh lý", "không tìm thấy", "Tổng"],
                    ["máy in", "0", "1", "0", "0", "0", "1"],
                    ["máy tính để bàn", "2", "0", "1", "0", "0", "3"],
                    ["Tổng", "2", "1", "1", "0", "0", "4"]]
    assert page.locator("#devices-by-class tbody tr").nth(1).locator("a").first.get_attribute("href") == \
        "/devices?unit=VD-P01&class=workstation&status=in_use"
    check_page(page, "unit-VD-P01")

    # A new unit: a code with a space is refused next to the field, then corrected.
    page.goto(f"{server}/units")
    page.click("#new-unit")
    page.fill("#f-code", "VD P05")
    page.fill("#f-name", "Phường Mới")
    page.select_option("#f-kind", "ward")
    page.select_option("#f-parent_code", "VD")
    page.fill("#f-staff_count", "24")
    page.click("#save-unit")
    assert page.locator("#e-code").inner_text() == \
        "Từ 1 đến 32 ký tự gồm chữ cái, chữ số, '.', '_' hoặc '-', bắt đầu bằng chữ cái hoặc chữ số"
    assert page.locator("#f-code").get_attribute("aria-describedby") == "h-code e-code"
    assert page.locator("#f-name").input_value() == "Phường Mới"  # nothing typed is lost
    # The refusal answers 422, which Chromium reports as a failed load: the page fixture expects that one.
    assert page.console_errors == []
    check_page(page, "unit-new-refused")
    page.fill("#f-code", "VD-P05")
    page.click("#save-unit")
    page.wait_for_url(f"{server}/units/VD-P05")
    assert page.locator(".alert-success").inner_text() == "Đã tạo đơn vị VD-P05."
    assert page.locator("#fact-staff").inner_text() == "24"

    # A merge of two wards into a new one: the preview counts what moves before anything does.
    page.goto(f"{server}/units/VD-P01/split")
    assert page.locator("#split-devices tbody tr").count() == 4
    check_page(page, "unit-split-form")
    page.goto(f"{server}/units/merge")
    check_page(page, "units-merge-form")
    page.select_option("#f-sources", ["VD-P03", "VD-P04"])
    page.check("#into-new")
    page.fill("#f-new_code", "VD-P34")
    page.fill("#f-new_name", "Phường Quang Thống")
    page.select_option("#f-new_kind", "ward")
    page.fill("#f-effective_on", "2026-07-01")
    page.fill("#f-note", "Nghị quyết 12/2026")
    page.click("#preview-merge")
    assert page.locator("#preview-summary").inner_text() == \
        "3 thiết bị và 0 đơn vị trực thuộc được chuyển về VD-P34 Phường Quang Thống."
    assert texts(page, "#preview-moves tbody tr") == ["VD-P03 Phường Quang Trung VD-P34 2 0 —",
                                                      "VD-P04 Phường Thống Nhất VD-P34 1 0 —"]
    assert texts(page, "#preview-targets tbody tr") == ["VD-P34 Phường Quang Thống phường VD Thành phố Ví Dụ (ví dụ) 59 đơn vị mới"]
    check_page(page, "units-merge-preview")
    other = page.context.new_page()  # nothing has happened yet
    other.goto(f"{server}/units/VD-P03")
    assert other.locator("#fact-status").inner_text() == "đang hoạt động"
    other.close()
    page.click("#confirm")
    page.wait_for_url(f"{server}/units/VD-P34")
    assert page.locator(".alert-success").inner_text() == "Đã sáp nhập VD-P03, VD-P04 vào VD-P34."
    assert page.locator("#devices-total").inner_text().split()[0] == "3"
    page.goto(f"{server}/units")
    assert texts(page, "#former-units tbody tr") == [
        "VD-P03 Phường Quang Trung phường sáp nhập 01/07/2026 VD-P34 Phường Quang Thống",
        "VD-P04 Phường Thống Nhất phường sáp nhập 01/07/2026 VD-P34 Phường Quang Thống"]


def test_an_officer_sees_only_their_ward(server, page):
    sign_in(page, server, "officer", "/units")
    assert page.locator("#unit-tree li").evaluate_all("items => items.map(i => i.id)") == ["node-VD-P01"]
    assert page.locator("#new-unit").count() == 0
    response = page.goto(f"{server}/units/VD-P02")
    assert response.status == 404
    assert page.locator("#reason").inner_text() == "đơn vị 'VD-P02' không tồn tại"
    page.goto(f"{server}/units/VD-P01")
    assert page.locator("#unit-actions").count() == 0
    assert texts(page, "#breadcrumbs li") == ["Đơn vị", "Phường Hoà Bình"]
