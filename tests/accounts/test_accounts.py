"""Signing in, sessions, CSRF, throttling, tokens and unit scope, as users and scripts meet them."""
import re

import pytest
from sqlalchemy import select

from accounts.models import ApiToken, Role, User
from accounts.services import create_token
from core.permissions import Permission
from tests.conftest import PASSWORD, client_as, table_contents


def sign_in(client, username, password=PASSWORD):
    return client.post("/api/session", json={"username": username, "password": password})


@pytest.fixture
def officer_account(token_for):
    token_for(Role.UNIT_OFFICER)
    return "unit-officer"


def test_a_session_signs_in_reads_and_needs_csrf_to_write(app, officer_account):
    browser = app.test_client()
    signed = sign_in(browser, officer_account)
    assert signed.status_code == 200
    assert (signed.json["user"]["role"], signed.json["user"]["unit_codes"]) == ("unit_officer", ["W1"])
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert browser.get("/api/devices").status_code == 200
    refused = browser.post("/api/devices", json={"unit_code": "W1", "serial": "S1"})
    assert (refused.status_code, refused.json["message"]) == (
        403, "The CSRF token is missing. Send the token from GET /api/session as the X-CSRFToken header.")
    accepted = browser.post("/api/devices", json={"unit_code": "W1", "serial": "S1"},
                            headers={"X-CSRFToken": signed.json["csrf_token"]})
    assert accepted.status_code == 201
    assert browser.delete("/api/session", headers={"X-CSRFToken": signed.json["csrf_token"]}).status_code == 204
    assert browser.get("/api/devices").status_code == 401


def test_wrong_passwords_are_one_message_and_are_throttled(app, officer_account, engine):
    browser = app.test_client()
    for username in ["unit-officer", "nobody"]:
        response = sign_in(browser, username, "wrong password!")
        assert (response.status_code, response.json["message"]) == (401, "wrong user name or password")
    for _ in range(4):
        sign_in(browser, "unit-officer", "wrong password!")
    throttled = sign_in(browser, "unit-officer")
    assert (throttled.status_code, throttled.json["message"]) == (
        429, "too many failed sign-ins; wait 15 minutes and try again")
    assert sign_in(browser, "Unit-Officer").status_code == 429  # names compare without case


def test_passwords_are_argon2_hashes_and_tokens_are_kept_only_as_hashes(client, sessions):
    created = client.post("/api/tokens", json={"name": "collector", "permissions": ["inventory:read"]}).json
    assert re.fullmatch(r"rdy_[A-Za-z0-9_-]{43}", created["token"])
    with sessions() as session:
        user = session.scalars(select(User).where(User.username == "admin")).one()
        assert user.password_hash.startswith("$argon2id$")
        stored = session.get(ApiToken, created["id"])
        assert created["token"] not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    listed = client.get("/api/tokens").json
    assert all("token" not in t for t in listed) and created["prefix"] in {t["prefix"] for t in listed}
    assert "password" not in str(client.get("/api/users").json)


def test_a_token_does_only_what_it_lists_and_stops_when_revoked(app, client):
    created = client.post("/api/tokens", json={"name": "read only", "permissions": ["inventory:read"]}).json
    script = client_as(app, created["token"])
    assert script.get("/api/devices").status_code == 200
    refused = script.post("/api/devices", json={"unit_code": "W1"})
    assert (refused.status_code, refused.json["message"]) == (
        403, "a admin may not do this (needs inventory:write)")
    client.delete(f"/api/tokens/{created['id']}")
    gone = script.get("/api/devices")
    assert (gone.status_code, gone.json["message"]) == (401, "the API token is unknown, revoked or expired")


def test_a_token_cannot_do_more_than_its_user(app, token_for):
    finance = client_as(app, token_for(Role.FINANCE))
    response = finance.post("/api/tokens", json={"name": "x", "permissions": ["inventory:write"]})
    assert (response.status_code, response.json["message"]) == (
        403, "a token cannot do more than its user: inventory:write")


def test_a_malformed_authorization_header_is_refused(app):
    response = app.test_client().get("/api/devices", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert (response.status_code, response.json["message"]) == (
        401, "the Authorization header must be 'Bearer <token>'")


def test_an_officer_sees_and_touches_only_their_units(app, client, officer, engine):
    client.post("/api/units", json={"code": "W1-T1", "name": "Team", "kind": "department", "parent_code": "W1"})
    mine = client.post("/api/devices", json={"unit_code": "W1-T1", "serial": "MINE1"}).json
    theirs = client.post("/api/devices", json={"unit_code": "W2", "serial": "THEIRS1",
                                               "interfaces": [{"mac": "00:1b:00:00:00:99"}]}).json
    assert [d["serial"] for d in officer.get("/api/devices").json["items"]] == ["MINE1"]
    assert [u["code"] for u in officer.get("/api/units").json] == ["W1", "W1-T1"]
    assert [u["code"] for u in officer.get("/api/units/tree").json] == ["W1"]
    assert officer.get(f"/api/devices/{theirs['id']}").status_code == 404
    assert officer.get(f"/api/devices/{mine['id']}").status_code == 200
    assert officer.get("/api/devices?unit=W2").json["message"] == "unit 'W2' is not one of your units"
    assert officer.get("/api/units/W2").status_code == 403
    before = table_contents(engine)
    for response, message in [
        (officer.post("/api/devices", json={"unit_code": "W2", "serial": "X"}), "unit 'W2' is not one of your units"),
        (officer.put(f"/api/devices/{mine['id']}/unit", json={"unit_code": "W2"}), "unit 'W2' is not one of your units"),
        (officer.post("/api/devices", json={"unit_code": "W1", "serial": "theirs1"}),
         "this serial or MAC address is already recorded for a device of a unit that is not yours"),
        (officer.post("/api/devices", json={"unit_code": "W1", "interfaces": [{"mac": "001B.0000.0099"}]}),
         "this serial or MAC address is already recorded for a device of a unit that is not yours"),
    ]:
        assert (response.status_code, response.json["message"]) == (403, message)
    assert officer.patch(f"/api/devices/{theirs['id']}", json={"location": "x"}).status_code == 404
    assert table_contents(engine) == before
    exported = officer.get("/api/exports/devices").data.decode("utf-8-sig")
    assert "MINE1" in exported and "THEIRS1" not in exported


def test_an_officer_import_may_not_name_other_units_or_their_devices(app, client, officer, engine):
    client.post("/api/devices", json={"unit_code": "W2", "serial": "THEIRS1"})
    before = table_contents(engine)
    content = b"unit_code,serial\nW1,OK1\nW2,X2\nW1,THEIRS1\n"
    response = officer.post("/api/imports/devices", data={"file": (__import__("io").BytesIO(content), "a.csv")},
                            content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.json["details"] == [
        {"row": 3, "column": "unit_code", "reason": "unit 'W2' is not one of your units"},
        {"row": 4, "column": "serial", "reason": "THEIRS1 is a device of a unit that is not yours"},
    ]
    assert table_contents(engine) == before


def test_an_officer_follows_their_unit_through_a_merge(app, client, officer):
    client.post("/api/units/merge", json={"sources": ["W1", "W2"], "into_new": {
        "code": "W12", "name": "Ward One-Two", "kind": "ward"}, "effective_on": "2026-07-01"})
    assert [u["code"] for u in officer.get("/api/units").json] == ["W12"]
    assert client.get("/api/users").json[-1]["unit_codes"] == ["W12"]


def test_a_password_change_ends_sessions_and_deactivation_ends_tokens(app, client, officer_account, token_for,
                                                                       sessions):
    browser = app.test_client()
    sign_in(browser, officer_account)
    officer_id = next(u["id"] for u in client.get("/api/users").json if u["username"] == officer_account)
    client.patch(f"/api/users/{officer_id}", json={"password": "a brand new passphrase"})
    assert browser.get("/api/devices").status_code == 401
    assert client_as(app, token_for(Role.UNIT_OFFICER)).get("/api/devices").status_code == 401  # revoked by the reset
    with sessions() as session, session.begin():
        _, value = create_token(session, session.get(User, officer_id), "after the reset", [Permission.INVENTORY_READ])
    officer_token = client_as(app, value)
    client.patch(f"/api/users/{officer_id}", json={"active": False})
    response = officer_token.get("/api/devices")
    assert (response.status_code, response.json["message"]) == (401, "the API token's user is deactivated")


@pytest.mark.parametrize(("body", "status", "field", "message"), [
    ({"username": "clerk", "display_name": "C", "password": "short", "role": "finance"}, 422, "password",
     "a password needs 12 to 200 characters"),
    ({"username": "Clerk!", "display_name": "C", "password": PASSWORD, "role": "finance"}, 422, "username",
     "2 to 64 lower-case letters, digits, '.', '_' or '-'"),
    ({"username": "clerk", "display_name": "C", "password": PASSWORD, "role": "unit_officer"}, 422, "unit_codes",
     "a unit officer needs at least one unit"),
    ({"username": "clerk", "display_name": "C", "password": PASSWORD, "role": "finance", "unit_codes": ["W1"]}, 422,
     "unit_codes", "only unit officers are limited to units; a finance sees all of them"),
    ({"username": "admin", "display_name": "C", "password": PASSWORD, "role": "finance"}, 409, "username",
     "user admin already exists"),
])
def test_account_errors_name_the_field(client, engine, body, status, field, message):
    before = table_contents(engine)
    response = client.post("/api/users", json=body)
    assert response.status_code == status
    assert response.json["errors"]["json"][field] == [message]
    assert table_contents(engine) == before


def test_the_last_administrator_cannot_be_removed(client):
    admin = client.get("/api/session").json["user"]["id"]
    response = client.patch(f"/api/users/{admin}", json={"role": "auditor"})
    assert (response.status_code, response.json["message"]) == (409, "this would leave no active administrator")


def test_the_sign_in_page_redirects_back_but_never_elsewhere(app, officer_account):
    browser = app.test_client()
    assert browser.get("/").headers["Location"] == "/sign-in?next=/"
    form = browser.get("/sign-in?next=/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    forged = browser.post("/sign-in?next=/", data={"username": officer_account, "password": PASSWORD})
    assert forged.status_code == 403
    signed = browser.post("/sign-in?next=https://evil.example/", data={
        "username": officer_account, "password": PASSWORD, "csrf_token": csrf})
    assert (signed.status_code, signed.headers["Location"]) == (302, "/")
    assert browser.get("/").status_code == 200
    wrong = app.test_client()
    wrong.get("/sign-in")
    page = wrong.post("/sign-in", data={"username": "x", "password": "y", "csrf_token": csrf})
    assert page.status_code in (401, 403)
