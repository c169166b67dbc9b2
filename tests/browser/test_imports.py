"""The imports page in a real Chromium, as the administrator: a devices file with a bad row is reported cell by
cell and nothing is stored; corrected, it is checked again and confirmed without uploading it a third time."""
import pytest
from sqlalchemy import select

from inventory.models import Device
from tests.browser.conftest import check_page, sign_in

BAD = ("unit_code,device_class,serial,hostname\n"
       "VD-P01,workstation,BR-0001,pc-hb-01\n"
       "VD-X99,printer,BR-0002,prn-hb-01\n")


@pytest.fixture
def browser_app(browser_app, tmp_path):
    """Uploads waiting for their confirmation in this test's own folder."""
    browser_app.config["PENDING_IMPORTS_FOLDER"] = str(tmp_path / "pending")
    return browser_app


def serials(sessions) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(Device.serial).order_by(Device.serial)))


def test_a_bad_row_is_reported_then_the_corrected_file_is_imported(server, page, sessions, tmp_path):
    sign_in(page, server, "admin", "/imports")
    assert page.locator("h1").inner_text() == "Nhập và xuất dữ liệu"
    check_page(page, "imports")

    upload = tmp_path / "kiem-ke.csv"
    upload.write_text(BAD, encoding="utf-8")
    page.set_input_files("#devices-file", str(upload))
    page.click("#check-devices")
    assert page.locator("h1").inner_text() == "Kiểm tra tệp kiem-ke.csv"
    assert page.locator("#problems thead th").all_inner_texts() == ["Dòng", "Cột", "Giá trị", "Lý do"]
    assert page.locator("#problems tbody tr").all_inner_texts() == [
        "3\tunit_code\tVD-X99\tđơn vị 'VD-X99' không tồn tại"]
    assert page.locator("#verdict").inner_text() == (
        "Tệp bị từ chối và chưa có gì được lưu. Hãy sửa các ô được liệt kê dưới đây rồi tải tệp lên lại.")
    assert page.locator("#confirm-import").count() == 0
    assert serials(sessions) == []
    check_page(page, "import-refused")

    upload.write_text(BAD.replace("VD-X99", "VD-P02"), encoding="utf-8")
    page.set_input_files("#devices-file", str(upload))  # the report's own form
    page.click("#check-devices")
    assert [page.locator(f"#count-{name}").inner_text() for name in ("rows", "created", "changed", "unchanged")] == \
        ["2", "2", "0", "0"]
    assert page.locator("#rows tbody tr").all_inner_texts() == [
        "2\tthêm mới\tVD-P01\tmáy tính để bàn\tBR-0001\tpc-hb-01",
        "3\tthêm mới\tVD-P02\tmáy in\tBR-0002\tprn-hb-01"]
    assert serials(sessions) == []  # still a dry run
    check_page(page, "import-report")

    page.click("#confirm-import")
    page.wait_for_url(f"{server}/imports")
    assert page.locator(".alert-success").inner_text() == (
        "Đã nhập kiem-ke.csv: 2 dòng, thêm mới 2, cập nhật 0, không thay đổi 0.")
    assert serials(sessions) == ["BR-0001", "BR-0002"]
    with sessions() as session:
        assert [(d.unit.code, d.hostname) for d in session.scalars(select(Device).order_by(Device.serial))] == [
            ("VD-P01", "pc-hb-01"), ("VD-P02", "prn-hb-01")]
    assert list((tmp_path / "pending").iterdir()) == []  # the kept upload is gone
