"""The pages in a real Chromium (Debian's), against the real server on loopback."""
from tests.browser.conftest import check_page
from tests.conftest import PASSWORD


def test_an_officer_signs_in_and_sees_what_to_do_next(server, page):
    response = page.goto(server + "/")
    assert page.url == server + "/sign-in?next=/"
    assert response.headers["content-security-policy"].startswith("default-src 'none'; script-src 'self';")
    assert page.locator("h1").inner_text() == "Đăng nhập"
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", "wrong password!")
    page.click("button[type=submit]")
    assert page.locator(".error").inner_text() == "sai tên đăng nhập hoặc mật khẩu"
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    assert page.url == server + "/"
    assert page.locator("#next-steps h2").inner_text() == "Việc cần làm tiếp theo"
    assert page.locator("#units tbody tr").all_inner_texts() == ["VD-P01\tPhường Hoà Bình\tphường\t28\t0"]
    assert page.locator("#navigation a").all_inner_texts() == [
        "Tổng quan", "Bảng điều khiển", "Đơn vị", "Thiết bị", "Chuyển đơn vị", "Nhập và xuất dữ liệu",
        "Danh mục thiết bị", "Máy trạm báo cáo", "Quét mạng", "Dự toán", "Bộ thu thập"]  # what an officer may open
    check_page(page, "home-vi")
    page.click("text=English")
    assert page.locator("#next-steps h2").inner_text() == "What to do next"
    check_page(page, "home-en")
    page.click("text=Sign out")
    assert page.url.startswith(server + "/sign-in")
    # The stylesheet applied under the policy (the header's background), and nothing was refused.
    assert page.locator("header").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(18, 58, 99)"
    assert page.console_errors == []  # the wrong password's 401 is the page's own answer, no fault


def test_the_api_documentation_runs_under_its_policy(server, page):
    response = page.goto(server + "/api/docs")
    assert "script-src 'self' 'sha256-" in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock-tag", timeout=30_000)  # Swagger UI read /api/openapi.json and drew it
    assert "Devices and their history" in page.locator(".swagger-ui").inner_text()
    assert page.console_errors == []
