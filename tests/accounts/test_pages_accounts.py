"""The account pages: one's own password and tokens (a token's value shown once), the administrators' accounts
pages, and the audit log with its filters in the URL and its CSV; each refused to the roles that may not."""
import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from accounts.models import ApiToken, Role, SignInFailure, User
from tests.conftest import PASSWORD, client_as, table_contents
from tests.inventory.test_pages_transfer import element_text, flashes, table_rows, text_of

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
NEW_PASSWORD = "a brand new passphrase"
ACCOUNTS = {Role.ADMIN: "admin", Role.UNIT_OFFICER: "unit-officer", Role.FINANCE: "finance", Role.AUDITOR: "auditor"}


def signed_in(app, username: str, password: str = PASSWORD, lang: str = "en"):
    """A browser signed in through the sign-in page, reading the pages in `lang`."""
    browser = app.test_client()
    browser.set_cookie("lang", lang)
    form = browser.get("/sign-in").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = browser.post("/sign-in", data={"username": username, "password": password, "csrf_token": csrf})
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def csrf_of(browser, path: str = "/users") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', browser.get(path).get_data(as_text=True)).group(1)


@pytest.fixture
def accounts(token_for):
    """An account of each role (the officer answers for W1), each with one API token of everything it may."""
    return {role: token_for(role) for role in ACCOUNTS}


# ---- one's own account ---------------------------------------------------------------------------------------

def test_the_account_page_says_who_you_are_and_nothing_secret(app, org, accounts):
    for role, username in ACCOUNTS.items():
        page = signed_in(app, username).get("/account").get_data(as_text=True)
        assert (element_text(page, "profile-username"), element_text(page, "profile-role")) == (
            username, {"admin": "administrator", "unit_officer": "unit officer", "finance": "finance officer",
                       "auditor": "auditor"}[role.value])
        assert "$argon2" not in page and accounts[role] not in page
    assert element_text(signed_in(app, "unit-officer").get("/account").get_data(as_text=True), "profile-units") == "W1"
    assert '<a class="link-light" href="/account" id="signed-in-as">finance</a>' in \
        signed_in(app, "finance").get("/account").get_data(as_text=True)


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"old_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": "another passphrase"},
     "confirm_password", "The two new passwords differ."),
    ({"old_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
     "new_password", "a password needs 12 to 200 characters"),
    ({"old_password": "", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
     "old_password", "Missing data for required field."),
    ({"old_password": PASSWORD, "new_password": PASSWORD, "confirm_password": PASSWORD},
     "new_password", "the new password must differ from the current one"),
])
def test_a_refused_password_change_says_why_next_to_the_field(app, org, accounts, engine, form, field, message):
    browser = signed_in(app, "unit-officer")
    before = table_contents(engine)
    response = browser.post("/account/password", data={**form, "csrf_token": csrf_of(browser, "/account")})
    assert (response.status_code, element_text(response.get_data(as_text=True), f"e-{field}")) == (422, message)
    assert 'value="' + PASSWORD not in response.get_data(as_text=True)  # a password is never written back
    after = table_contents(engine)
    assert {name: rows for name, rows in after.items() if name != "user_session"} == \
        {name: rows for name, rows in before.items() if name != "user_session"}


def test_a_wrong_current_password_counts_as_a_failed_sign_in(app, org, accounts, engine):
    browser = signed_in(app, "unit-officer", lang="vi")
    response = browser.post("/account/password", data={
        "old_password": "not my password", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
        "csrf_token": csrf_of(browser, "/account")})
    assert (response.status_code, element_text(response.get_data(as_text=True), "e-old_password")) == (
        422, "mật khẩu hiện tại không đúng")
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(SignInFailure)) == 1


def test_a_wrong_current_password_is_said_in_vietnamese_by_default(app, org, accounts, engine):
    browser = signed_in(app, "unit-officer")
    browser.delete_cookie("lang")  # no language asked for: the page's own, Vietnamese
    before = table_contents(engine)["user_account"]
    form = {"old_password": "not my password", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    response = browser.post("/account/password", data={**form, "csrf_token": csrf_of(browser, "/account")})
    assert (response.status_code, element_text(response.get_data(as_text=True), "e-old_password")) == (
        422, "mật khẩu hiện tại không đúng")
    response = browser.post("/account/password?lang=en",
                            data={**form, "csrf_token": csrf_of(browser, "/account")})
    assert (response.status_code, element_text(response.get_data(as_text=True), "e-old_password")) == (
        422, "the current password is wrong")
    assert table_contents(engine)["user_account"] == before  # the password is unchanged


def test_ones_own_password_changes_and_the_other_sessions_end(app, org, accounts):
    other = signed_in(app, "unit-officer")
    browser = signed_in(app, "unit-officer")
    response = browser.post("/account/password", data={
        "old_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
        "csrf_token": csrf_of(browser, "/account")})
    assert (response.status_code, response.headers["Location"]) == (302, "/account")
    assert flashes(browser.get("/account").get_data(as_text=True)) == [
        "Your password was changed. Other sessions signed out: 1; API tokens revoked: 1."]
    assert other.get("/account").status_code == 302  # signed out: to the sign-in page
    assert client_as(app, accounts[Role.UNIT_OFFICER]).get("/api/devices").status_code == 401
    assert app.test_client().post("/api/session", json={"username": "unit-officer", "password": PASSWORD}
                                  ).status_code == 401
    assert signed_in(app, "unit-officer", NEW_PASSWORD).get("/account").status_code == 200
    entry = client_as(app, accounts[Role.ADMIN]).get("/api/audit?action=user.password_change").json["items"][0]
    assert (entry["actor"], entry["detail"]) == (
        "unit-officer", "own password changed; 1 other sessions ended, 1 tokens revoked")


# ---- tokens --------------------------------------------------------------------------------------------------

def create_token(browser, **form):
    data = {"name": "collector", "permissions": ["inventory:read"], "password": PASSWORD} | form
    return browser.post("/account/tokens", data={**data, "csrf_token": csrf_of(browser, "/account")})


def test_a_new_token_is_shown_once_then_never(app, org, accounts, sessions):
    browser = signed_in(app, "finance")
    day = dt.datetime.now(HANOI).date() + dt.timedelta(days=30)
    shown = create_token(browser, expires_at=day.isoformat())  # the answer itself shows it, as the API's 201
    assert shown.status_code == 201
    page = shown.get_data(as_text=True)
    value = element_text(page, "new-token-value")
    assert re.fullmatch(r"rdy_[A-Za-z0-9_-]{43}", value)
    assert shown.headers["Cache-Control"] == "no-store"
    assert element_text(page, "new-token-title") == "Token collector created"
    script = client_as(app, value)
    assert script.get("/api/devices").status_code == 200
    assert script.get("/api/audit").status_code == 403
    again = browser.get("/account").get_data(as_text=True)
    assert value not in again and 'id="new-token-value"' not in again
    with sessions() as session:
        token = session.scalars(select(ApiToken).where(ApiToken.name == "collector")).one()
        # The day chosen ends at midnight in Hanoi: 17:00 UTC that day.
        assert token.expires_at == dt.datetime.combine(day, dt.time(17, 0))
        assert token.permissions == ["inventory:read", "public"]
    assert table_rows(again, "token-list")[0][:3] == ["collector", f"{token.prefix}…", "read the inventory"]
    entry = client_as(app, accounts[Role.ADMIN]).get("/api/audit?action=token.create").json["items"][0]
    assert (entry["actor"], entry["target_id"], entry["after"]["name"], entry["after"]["permissions"]) == (
        "finance", str(token.id), "collector", ["inventory:read", "public"])


def test_a_token_revoked_on_the_page_stops_working(app, org, accounts, sessions):
    browser = signed_in(app, "finance")
    value = element_text(create_token(browser).get_data(as_text=True), "new-token-value")
    with sessions() as session:
        token_id = session.scalars(select(ApiToken.id).where(ApiToken.name == "collector")).one()
    response = browser.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(browser, "/account")})
    assert response.status_code == 302
    page = browser.get("/account").get_data(as_text=True)
    assert flashes(page) == ["Token collector revoked: it no longer works."]
    assert re.search(rf'<tr id="token-{token_id}" data-state="revoked">', page)
    assert client_as(app, value).get("/api/devices").status_code == 401
    entry = client_as(app, accounts[Role.ADMIN]).get("/api/audit?action=token.revoke").json["items"][0]
    assert (entry["actor"], entry["target_id"]) == ("finance", str(token_id))
    # Another user's token is not within a user's reach: not found.
    officer = signed_in(app, "unit-officer")
    with sessions() as session:
        admins = session.scalars(select(ApiToken.id).join(User).where(User.username == "admin")).one()
    refused = officer.post(f"/account/tokens/{admins}/revoke", data={"csrf_token": csrf_of(officer, "/account")})
    assert (refused.status_code, element_text(refused.get_data(as_text=True), "reason")) == (
        404, f"token {admins} does not exist")


@pytest.mark.parametrize(("form", "status", "field", "message"), [
    ({"password": ""}, 422, "password", "creating a token from a signed-in session needs your current password"),
    ({"password": "not my password"}, 422, "password", "the current password is wrong"),
    ({"name": ""}, 422, "name", "Missing data for required field."),
    ({"permissions": []}, 422, "permissions", "Missing data for required field."),
    ({"permissions": ["inventory:write"]}, 403, "permissions", "a token cannot do more than its user: inventory:write"),
    ({"expires_at": "tomorrow"}, 422, "expires_at", "Not a valid date."),
    ({"expires_at": "2020-01-01"}, 422, "expires_at", "expires_at must be in the future"),
    ({"expires_at": "2099-01-01"}, 422, "expires_at", "a token may live at most 365 days"),
])
def test_a_refused_token_says_why_next_to_the_field(app, org, accounts, sessions, form, status, field, message):
    browser = signed_in(app, "finance")
    response = create_token(browser, **form)
    page = response.get_data(as_text=True)
    assert (response.status_code, element_text(page, f"e-{field}")) == (status, message)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.name == "collector")) == 0


# ---- accounts (administrators) -------------------------------------------------------------------------------

def test_the_users_page_lists_accounts_with_role_units_and_state(app, org, accounts):
    page = signed_in(app, "admin").get("/users").get_data(as_text=True)
    today = dt.datetime.now(HANOI).strftime("%d/%m/%Y")
    assert table_rows(page, "users") == [
        ["admin", "Admin", "administrator", "—", "yes", today],
        ["auditor", "Auditor", "auditor", "—", "yes", today],
        ["finance", "Finance", "finance officer", "—", "yes", today],
        ["unit-officer", "Unit_Officer", "unit officer", "W1", "yes", today],
    ]
    assert "$argon2" not in page and "password_hash" not in page


@pytest.mark.parametrize(("form", "status", "field", "message"), [
    ({"password": "short", "confirm_password": "short"}, 422, "password", "a password needs 12 to 200 characters"),
    ({"confirm_password": "something else entirely"}, 422, "confirm_password", "The two passwords differ."),
    ({"username": "Clerk!"}, 422, "username", "2 to 64 lower-case letters, digits, '.', '_' or '-'"),
    ({"username": "finance"}, 409, "username", "user finance already exists"),
    ({"unit_codes": []}, 422, "unit_codes", "a unit officer needs at least one unit"),
    ({"role": "finance"}, 422, "unit_codes", "only unit officers are limited to units; a finance sees all of them"),
    ({"unit_codes": ["W9"]}, 404, "unit_codes", "unit 'W9' does not exist"),
])
def test_a_refused_account_says_why_next_to_the_field(app, org, accounts, engine, form, status, field, message):
    admin = signed_in(app, "admin")
    data = {"username": "clerk", "display_name": "Clerk", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
            "role": "unit_officer", "unit_codes": ["W1"]} | form
    before = table_contents(engine)
    response = admin.post("/users/new", data={**data, "csrf_token": csrf_of(admin)})
    assert (response.status_code, element_text(response.get_data(as_text=True), f"e-{field}")) == (status, message)
    assert NEW_PASSWORD not in response.get_data(as_text=True)
    assert table_contents(engine) == before


def test_an_administrator_creates_and_edits_an_account(app, org, accounts):
    admin = signed_in(app, "admin")
    api = client_as(app, accounts[Role.ADMIN])
    response = admin.post("/users/new", data={
        "username": "clerk", "display_name": "Clerk", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
        "role": "unit_officer", "unit_codes": ["W1", "W2"], "csrf_token": csrf_of(admin)})
    assert (response.status_code, response.headers["Location"]) == (302, "/users")
    assert flashes(admin.get("/users").get_data(as_text=True)) == ["Account clerk created."]
    clerk = next(u for u in api.get("/api/users").json if u["username"] == "clerk")
    assert (clerk["role"], clerk["unit_codes"], clerk["active"]) == ("unit_officer", ["W1", "W2"], True)
    created = api.get("/api/audit?action=user.create").json["items"][0]
    assert (created["actor"], created["after"]) == ("admin", clerk)
    assert signed_in(app, "clerk", NEW_PASSWORD).get("/account").status_code == 200

    form = admin.get(f"/users/{clerk['id']}").get_data(as_text=True)
    assert re.findall(r'<option value="(\w+)" selected', form) == ["unit_officer", "W1", "W2"]
    edit = {"display_name": "Clerk Two", "role": "finance", "unit_codes": ["W1"], "active": "true",
            "password": "", "confirm_password": ""}
    refused = admin.post(f"/users/{clerk['id']}", data={**edit, "csrf_token": csrf_of(admin)})
    assert (refused.status_code, element_text(refused.get_data(as_text=True), "e-unit_codes")) == (
        422, "only unit officers are limited to units; a finance sees all of them")
    saved = admin.post(f"/users/{clerk['id']}", data={**edit, "unit_codes": [], "csrf_token": csrf_of(admin)})
    assert saved.status_code == 302
    assert flashes(admin.get("/users").get_data(as_text=True)) == ["Account clerk saved."]
    changed = next(u for u in api.get("/api/users").json if u["username"] == "clerk")
    assert (changed["display_name"], changed["role"], changed["unit_codes"], changed["active"]) == (
        "Clerk Two", "finance", [], True)
    update = api.get("/api/audit?action=user.update").json["items"][0]
    assert (update["before"]["role"], update["after"]["role"], update["detail"]) == ("unit_officer", "finance", "")

    # Deactivated (the box unticked) and given a new password: its sessions end.
    clerk_browser = signed_in(app, "clerk", NEW_PASSWORD)
    reset = admin.post(f"/users/{clerk['id']}", data={
        "display_name": "Clerk Two", "role": "finance", "password": "another long passphrase",
        "confirm_password": "another long passphrase", "csrf_token": csrf_of(admin)})
    assert reset.status_code == 302
    assert flashes(admin.get("/users").get_data(as_text=True)) == [
        "Account clerk saved. Its new password ended its sessions and revoked its API tokens (0)."]
    listed = {row[0]: row for row in table_rows(admin.get("/users").get_data(as_text=True), "users")}
    assert listed["clerk"][2:5] == ["finance officer", "—", "no, deactivated"]
    assert clerk_browser.get("/account").status_code == 302


def test_the_last_administrator_keeps_the_role(app, org, accounts, engine, sessions):
    admin = signed_in(app, "admin")
    with sessions() as session:
        admin_id = session.scalars(select(User.id).where(User.username == "admin")).one()
    before = table_contents(engine)
    response = admin.post(f"/users/{admin_id}", data={"display_name": "Admin", "role": "auditor", "active": "true",
                                                      "csrf_token": csrf_of(admin)})
    assert (response.status_code, element_text(response.get_data(as_text=True), "e-role")) == (
        409, "this would leave no active administrator")
    after = table_contents(engine)
    assert after["user_account"] == before["user_account"] and after["audit_entry"] == before["audit_entry"]


def test_a_user_who_does_not_manage_accounts_has_no_users_page(app, org, accounts, engine):
    for username in ("finance", "auditor", "unit-officer"):
        browser = signed_in(app, username)
        page = browser.get("/account").get_data(as_text=True)
        assert 'href="/users"' not in page
        refused = browser.get("/users")
        assert (refused.status_code, element_text(refused.get_data(as_text=True), "reason")) == (
            403, f"a {'unit_officer' if username == 'unit-officer' else username} may not do this "
                 "(needs accounts:manage)")
        before = table_contents(engine)
        forged = browser.post("/users/new", data={"username": "x1", "display_name": "X", "password": NEW_PASSWORD,
                                                  "confirm_password": NEW_PASSWORD, "role": "admin",
                                                  "csrf_token": csrf_of(browser, "/account")})
        assert forged.status_code == 403
        assert table_contents(engine)["user_account"] == before["user_account"]
    page = signed_in(app, "admin").get("/account").get_data(as_text=True)
    assert re.search(r'<a class="nav-link"\s+href="/users">Users</a>', page)
    assert re.search(r'<a class="nav-link"\s+href="/audit">Audit log</a>', page)


# ---- the audit log -------------------------------------------------------------------------------------------

def test_the_audit_log_filters_by_what_the_url_says_and_exports_the_same(app, org, accounts, client):
    for n in range(3):
        client.post("/api/devices", json={"unit_code": "W1", "serial": f"AUD{n}"})
    device = client.get("/api/devices?q=AUD1").json["items"][0]["id"]
    client.patch(f"/api/devices/{device}", json={"location": "Rack 2"})
    auditor = signed_in(app, "auditor")
    page = auditor.get("/audit").get_data(as_text=True)
    assert element_text(page, "entry-count") == "5 entries"  # the auditor's own sign-in is one
    records = auditor.get("/audit?action=device.record").get_data(as_text=True)
    assert element_text(records, "entry-count") == "3 entries"
    rows = re.findall(r'<tr id="entry-\d+">\s*<td[^>]*>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*'
                      r'<td>(.*?)</td>', records, re.S)
    assert [(actor, action, text_of(target)) for _at, actor, action, target in rows] == [
        ("admin", "device recorded", f"device {device + 1}"), ("admin", "device recorded", f"device {device}"),
        ("admin", "device recorded", f"device {device - 1}")]
    assert re.search(r'<option value="device.record" selected>device recorded \(device.record\)</option>', records)
    one = auditor.get(f"/audit?target_type=device&target_id={device}").get_data(as_text=True)
    assert element_text(one, "entry-count") == "2 entries"
    assert "<td><code>location</code></td><td></td><td>Rack 2</td>" in one

    href = re.search(r'href="([^"]+)" id="audit-csv"', records).group(1).replace("&amp;", "&")
    assert href == "/audit/export.csv?action=device.record"
    lines = auditor.get(href).data.decode("utf-8-sig").splitlines()
    assert [line.split(",")[3] for line in lines] == ["action"] + ["device.record"] * 3
    assert lines == client.get("/api/audit/export?action=device.record").data.decode("utf-8-sig").splitlines()

    today = dt.datetime.now(HANOI).date()
    assert element_text(auditor.get(f"/audit?from={today}&to={today}").get_data(as_text=True),
                        "entry-count") == "5 entries"
    before = auditor.get(f"/audit?to={today - dt.timedelta(days=1)}").get_data(as_text=True)
    assert element_text(before, "entry-count") == "0 entries"
    assert element_text(before, "clear-filters") == "Clear the filters"


def test_a_wrong_filter_is_said_next_to_it(app, org, accounts):
    auditor = signed_in(app, "auditor")
    response = auditor.get("/audit?from=yesterday")
    assert (response.status_code, element_text(response.get_data(as_text=True), "e-from")) == (
        422, "Not a valid date.")
    response = auditor.get("/audit?from=2026-02-02&to=2026-02-01")
    assert (response.status_code, element_text(response.get_data(as_text=True), "e-to")) == (
        422, "The period ends before it starts.")
    assert auditor.get("/audit/export.csv?from=yesterday").headers["Location"] == "/audit?from=yesterday"


def test_the_audit_log_is_paged(app, org, accounts, client):
    for n in range(30):
        client.post("/api/devices", json={"unit_code": "W1", "serial": f"PAGE{n}"})
    page = client_as(app, accounts[Role.AUDITOR]).get("/audit?lang=en&size=25&page=2").get_data(as_text=True)
    assert element_text(page, "page-summary") == "26–30 of 30"
    assert len(re.findall(r'<tr id="entry-', page)) == 5
    past = client_as(app, accounts[Role.AUDITOR]).get("/audit?lang=en&size=25&page=9").get_data(as_text=True)
    assert element_text(past, "page-summary") == "26–30 of 30"


def test_only_administrators_and_auditors_read_the_audit_log(app, org, accounts):
    for role in (Role.FINANCE, Role.UNIT_OFFICER):
        browser = client_as(app, accounts[role])
        assert browser.get("/audit").status_code == 403
        assert browser.get("/audit/export.csv").status_code == 403
    assert client_as(app, accounts[Role.ADMIN]).get("/audit").status_code == 200
