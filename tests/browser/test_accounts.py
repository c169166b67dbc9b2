"""The account pages in a real Chromium: the administrator creates an account, creates a token and sees it
once, changes their own password; the auditor filters the audit log; finance has no accounts page."""
import re

from tests.browser.conftest import check_page, sign_in
from tests.conftest import PASSWORD

NEW_PASSWORD = "a brand new passphrase"


def test_an_administrator_manages_accounts_a_token_and_their_password(server, page):
    sign_in(page, server, "admin", "/users")
    assert page.locator("#users tbody tr td:first-child").all_inner_texts() == [
        "admin", "auditor", "finance", "officer", "officer2"]
    check_page(page, "users")

    page.click("#new-user")
    page.fill("#f-username", "clerk")
    page.fill("#f-display_name", "Nguyễn Văn An")
    page.fill("#f-password", NEW_PASSWORD)
    page.fill("#f-confirm_password", "not the same passphrase")
    page.select_option("#f-role", "unit_officer")
    page.select_option("#f-unit_codes", ["VD-P01"])
    page.click("#save-user")
    assert page.locator("#e-confirm_password").inner_text() == "Hai mật khẩu không khớp nhau."
    check_page(page, "user-form-refused")
    page.fill("#f-password", NEW_PASSWORD)
    page.fill("#f-confirm_password", NEW_PASSWORD)
    page.click("#save-user")
    page.wait_for_url(f"{server}/users")
    assert page.locator(".alert-success").inner_text() == "Đã tạo tài khoản clerk."
    row = page.locator("#users tbody tr", has_text="clerk")
    assert row.locator("td").all_inner_texts()[:5] == ["clerk", "Nguyễn Văn An", "cán bộ đơn vị", "VD-P01", "có"]

    page.click("#signed-in-as")
    page.wait_for_url(f"{server}/account")
    check_page(page, "account")
    page.fill("#f-name", "collector")
    page.check("#new-token-form input[value='inventory:read']")
    page.fill("#f-password", PASSWORD)
    page.click("#create-token")
    page.wait_for_url(f"{server}/account/tokens")  # the form's answer shows the value, and nothing keeps it
    value = page.locator("#new-token-value").inner_text()
    assert re.fullmatch(r"rdy_[A-Za-z0-9_-]{43}", value)
    check_page(page, "account-new-token")
    page.goto(f"{server}/account")
    assert page.locator("#new-token-value").count() == 0 and value not in page.content()
    assert page.locator("#token-list tbody tr td:first-child").all_inner_texts() == ["collector"]

    page.fill("#f-old_password", PASSWORD)
    page.fill("#f-new_password", NEW_PASSWORD)
    page.fill("#f-confirm_password", NEW_PASSWORD)
    page.click("#change-password")
    page.wait_for_url(f"{server}/account")
    assert page.locator(".alert-success").inner_text() == (
        "Đã đổi mật khẩu của bạn. Số phiên khác đã đăng xuất: 0; số mã truy cập API đã thu hồi: 1.")
    assert page.locator("#token-list tr[data-state='revoked']").count() == 1
    page.click("text=Đăng xuất")
    page.goto(f"{server}/sign-in?next=/account")
    page.fill("#username", "admin")
    page.fill("#password", NEW_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/account")


def test_the_auditor_filters_the_audit_log_by_action(server, page, browser):
    admin = browser.new_page()
    sign_in(admin, server, "admin", "/account")  # a sign-in, and a token: two actions in the log
    admin.fill("#f-name", "collector")
    admin.check("#new-token-form input[value='inventory:read']")
    admin.fill("#f-password", PASSWORD)
    admin.click("#create-token")
    admin.wait_for_url(f"{server}/account/tokens")
    admin.close()

    sign_in(page, server, "auditor", "/audit")
    assert page.locator("h1").inner_text() == "Nhật ký thay đổi"
    check_page(page, "audit-log")
    page.select_option("#f-action", "token.create")
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r".*/audit\?.*action=token\.create.*"))
    cells = page.locator("#entries > tbody > tr > td:nth-child(3)").all_inner_texts()
    assert cells == ["đã tạo mã truy cập API"]
    assert page.locator("#entries > tbody > tr > td:nth-child(2)").all_inner_texts() == ["admin"]
    assert page.locator("#audit-csv").get_attribute("href") == "/audit/export.csv?action=token.create"
    check_page(page, "audit-log-filtered")


def test_finance_has_no_users_page(server, page):
    sign_in(page, server, "finance", "/")
    assert "/users" not in page.locator("#navigation a").evaluate_all("links => links.map(l => l.pathname)")
    response = page.goto(f"{server}/users")
    assert response.status == 403
    assert page.locator("#reason").inner_text() == "vai trò finance không được làm việc này (cần quyền accounts:manage)"
    check_page(page, "users-refused")
