"""Scanning in a real Chromium: an administrator polls the lab (26 recorded devices served by snmpsim) from the
scans page and watches the run to its counts, follows a run live until it ends, reads a refused scope's reason
next to its field, and stores a credential whose secret no page shows again."""
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from core.encryption import SecretBox
from discovery import lab
from discovery.models import ScanRun, ScanScope
from discovery.scans import ScanSettings, fail_abandoned_runs, start_run
from discovery.scopes import create_scope
from inventory.models import Device
from tests.browser.conftest import check_page, sign_in
from tests.conftest import SECRETS_KEY
from tests.serving import worker_thread

# The lab's own addresses (127.0.1.N, as `make run` serves it) on a port of these tests alone: neither the lab of
# a running service (port 161) nor tests/discovery's (127.0.5.N) is in the way.
LAB_PORT = 16181
ALLOWLIST = "127.0.0.0/8,::1/128"  # the service's default, which browser_app keeps
WAIT_MS = 90_000


@pytest.fixture(scope="module")
def lab_devices(tmp_path_factory):
    """The lab's 26 recordings served by snmpsim, for this module's tests."""
    lab_dir = tmp_path_factory.mktemp("lab")
    devices = lab.lab_devices()
    lab.start(lab_dir, devices, LAB_PORT)
    try:
        # In a thread of its own: Playwright's synchronous API keeps an event loop running in this one.
        with ThreadPoolExecutor(1) as pool:
            ready = pool.submit(lab.wait_ready, devices, LAB_PORT, 120).result()
        assert ready == len(devices) == 26, "the lab did not start"
        yield devices
    finally:
        lab.stop(lab_dir)


@pytest.fixture
def lab_scope(browser_app, sessions, lab_devices):
    """The lab as a scope of the digital transformation centre, as `flask seed` makes it, and a worker that
    carries the scans the test queues through (its schedule is left alone)."""
    with sessions() as session, session.begin():
        assert lab.ensure_lab_scope(session, SecretBox([SECRETS_KEY]), ALLOWLIST, lab.LAB_UNIT, LAB_PORT)
        scope_id = session.scalars(select(ScanScope.id).where(ScanScope.name == lab.LAB_SCOPE)).one()
    with worker_thread(browser_app, schedules=False):
        yield scope_id


def test_an_administrator_polls_the_lab_and_watches_it_to_the_counts(lab_scope, sessions, server, page):
    sign_in(page, server, "admin", "/scans")
    assert page.locator("h1").inner_text() == "Phạm vi quét"
    assert page.locator("#scopes tbody tr").all_inner_texts()[0].startswith(
        "lab\tVD-SKHCN-CDS · Trung tâm Chuyển đổi số\t127.0.1.1-127.0.1.26\tnmap, SNMP\t"
        "every 1h · đang chờ tiến trình quét\t"
        "chưa quét lần nào")
    check_page(page, "scans-scopes")
    page.click("#scopes >> text=lab")
    assert page.locator("h1").inner_text() == "Phạm vi quét lab"
    assert page.locator("#scope-credentials li").all_inner_texts() == ["lab-public"]
    check_page(page, "scans-scope")

    page.click("#scan-snmp")
    page.wait_for_url(re.compile(r".*/scans/runs/\d+$"))
    assert page.locator("h1").inner_text() == "Đọc qua SNMP phạm vi lab"
    # The bar follows the run (live.js), then the page reloads itself with what the run found.
    expect(page.locator("#progress-text")).to_have_text("Đã quét 26 trên 26 địa chỉ", timeout=WAIT_MS)
    expect(page.locator("#count-answered")).to_have_text("26", timeout=WAIT_MS)
    # 26 new devices answered; 28 more were seen in their forwarding and ARP tables (terminals behind the switches).
    assert page.locator("#counts tr").all_inner_texts() == [
        "Địa chỉ đã trả lời\t26", "Thiết bị mới\t54", "Thiết bị có thay đổi\t0", "Thiết bị không đổi\t0",
        "Thiết bị nay bị thất lạc\t0"]
    with sessions() as session:
        assert session.execute(select(Device.source, func.count()).group_by(Device.source).order_by(Device.source)
                               ).all() == [("fdb", 28), ("snmp", 26)]
    assert page.locator(".progress").get_attribute("aria-valuenow") == "26"
    assert page.locator(".progress-bar").evaluate("bar => bar.style.width") == "100%"
    assert page.locator("#count-new a").get_attribute("href") == "/devices?unit=VD-SKHCN-CDS"
    assert page.locator("#run-errors").count() == 0
    check_page(page, "scans-run-finished")

    page.click("#targets-link")
    rows = page.locator("#targets tbody tr")
    expect(rows).to_have_count(26)
    targets = [row.split("\t") for row in rows.all_inner_texts()]
    assert sorted(t[0] for t in targets) == sorted(d.address for d in lab.lab_devices())
    assert {(t[2], t[3], t[4]) for t in targets} == {("lab-public", "đã trả lời", "")}
    assert "Cisco WS-C3560G-48TS-E (dumsys-04)" in [t[1] for t in targets]


def test_a_running_run_follows_itself_until_it_ends(browser_app, sessions, server, page):
    """A run no worker carries (its process stopped): the page follows it each second, and when the run is failed
    as abandoned the page reloads itself to say why."""
    settings = ScanSettings(allowlist=ALLOWLIST)
    with sessions() as session, session.begin():
        scope = create_scope(session, unit_code="VD-P01", name="phường 1", networks="127.0.9.0/29", allowlist=ALLOWLIST)
        run_id = start_run(session, session.get(ScanScope, scope.id), "nmap", settings).id
    sign_in(page, server, "officer", f"/scans/runs/{run_id}")
    assert page.locator("#progress-text").inner_text() == "Đã quét 0 trên 8 địa chỉ"
    assert page.locator(".progress-bar").evaluate("bar => bar.style.width") == "0%"  # drawn by live.js
    with page.expect_response(f"{server}/api/scan-runs/{run_id}") as polled:
        pass
    assert polled.value.json()["status"] == "running"
    check_page(page, "scans-run-running")
    # Progress written (as the worker writes it) shows without a reload: the page keeps what this script set.
    page.evaluate("window.notReloaded = true")
    with sessions() as session, session.begin():
        session.get(ScanRun, run_id).hosts_done = 3
    expect(page.locator("#progress-text")).to_have_text("Đã quét 3 trên 8 địa chỉ", timeout=WAIT_MS)
    assert page.locator(".progress-bar").evaluate("bar => bar.style.width") == "37.5%"
    assert page.locator(".progress").get_attribute("aria-valuenow") == "3"
    assert page.evaluate("window.notReloaded") is True
    with sessions() as session, session.begin():
        assert fail_abandoned_runs(session, stale_after_s=0, scope_id=scope.id) == [run_id]
    expect(page.locator("#problems-title")).to_have_text("Lý do lượt quét thất bại", timeout=WAIT_MS)
    assert page.evaluate("window.notReloaded === undefined")  # the page reloaded itself to show the outcome
    assert page.locator("#run-errors tbody tr").all_inner_texts() == [
        "cả lượt quét\tits worker stopped during the run (no sign of life within RUN_STALE_AFTER_S)"]
    assert page.locator("[data-live-url]").count() == 0
    assert page.console_errors == []


def test_a_scope_outside_the_allowlist_is_refused_next_to_its_networks(server, page):
    sign_in(page, server, "admin", "/scans")
    page.click("#new-scope")
    page.fill("#f-name", "mạng ngoài")
    page.select_option("#f-unit_code", "VD-P01")
    page.fill("#f-networks", "10.0.0.0/24")
    page.click("#save-scope")
    assert page.locator("#e-networks").inner_text() == \
        "10.0.0.0/24 nằm ngoài danh sách mạng được phép quét (127.0.0.0/8, ::1/128)"
    assert page.locator("#f-networks").get_attribute("aria-describedby").split() == ["h-networks", "e-networks"]
    assert page.locator("#f-name").input_value() == "mạng ngoài"
    check_page(page, "scans-scope-refused")  # answered 422, as the API would
    page.fill("#f-networks", "127.0.9.0/29")
    page.click("#save-scope")
    assert page.locator("h1").inner_text() == "Phạm vi quét mạng ngoài"
    assert page.locator("#runs-title + .empty-state").inner_text() == \
        "Chưa quét lần nào: bắt đầu quét bằng các nút phía trên."


def test_a_credential_shows_set_never_its_secret(server, page):
    secret = "bi-mat-cong-dong-7"
    sign_in(page, server, "admin", "/scans/credentials")
    assert page.locator(".empty-state").inner_text().startswith("Chưa có thông tin xác thực SNMP")
    page.click("#new-credential")
    page.fill("#f-name", "phường 1")
    page.select_option("#f-version", "v2c")
    page.fill("#f-community", secret)
    page.click("#save-credential")
    page.wait_for_url(f"{server}/scans/credentials")
    assert page.locator("#credentials tbody tr").all_inner_texts()[0].split("\t")[:8] == [
        "phường 1", "SNMPv2c", "", "không có", "không có", "đã đặt", "chưa đặt", "chưa đặt"]
    assert secret not in page.content()
    check_page(page, "scans-credentials")
    page.click("#credentials >> text=Sửa")
    assert page.locator("#f-community").input_value() == ""
    assert page.locator("#h-community").inner_text() == "Đã đặt: để trống để giữ nguyên."
    assert secret not in page.content()
    check_page(page, "scans-credential-edit")


def test_the_first_page_leads_a_new_administrator_through_the_lab(lab_scope, server, page):
    sign_in(page, server, "admin")
    assert page.locator("#lab-tour h2").inner_text() == "Bắt đầu từ đây: phòng thử nghiệm"
    assert page.locator("#lab-tour p").inner_text().startswith("Phòng thử nghiệm có 26 thiết bị mô phỏng")
    check_page(page, "home-lab-tour")
    page.click("#scan-lab")
    page.wait_for_url(re.compile(r".*/scans/runs/\d+$"))
    expect(page.locator("#count-answered")).to_have_text("26", timeout=WAIT_MS)

    page.goto(server + "/")
    assert page.locator("#lab-tour p").inner_text().startswith("Lần quét phòng thử nghiệm gần nhất (")
    assert "đã kết nối được 26 trên 26 thiết bị và ghi nhận 54 thiết bị mới" in page.locator("#lab-tour p").inner_text()
    page.click("#lab-tour >> text=Xem các thiết bị đã tìm thấy")
    assert page.url == server + "/devices?unit=VD-SKHCN-CDS"
    assert page.locator("#page-summary").inner_text() == "1–50 trên tổng số 54"
    check_page(page, "home-lab-devices")
