"""The review of issue 11's account fixes, as an attacker would try its holes: user names that fold to
another's, tokens older than their lifetimes, a stolen cookie minting a token, a token revoking its
siblings, tables that only grow, and sessions ended by a short idle timeout while in use."""
import datetime as dt
import hashlib
import re
import threading
import time

import sqlalchemy as sa
from alembic import command
from sqlalchemy import func, insert, select, update

from accounts.models import ApiToken, Role, SignInFailure, UserSession
from accounts.services import create_user
from accounts.throttling import PURGE_BATCH
from core.db import alembic_config, migrate
from core.time import utcnow
from tests.accounts.test_security import (  # noqa: F401 (fixtures)
    THROTTLED,
    app_with,
    from_address,
    last_seen,
    officer_account,
    set_session_times,
    sign_in,
    signed_in_browser,
    token_count,
)
from tests.conftest import PASSWORD, client_as, table_contents

WRONG = "wrong user name or password"


# Finding 9: a user name is compared once normalised in Python, not by the database's lower().

def test_names_that_fold_to_a_users_name_count_against_it(app, sessions):
    with sessions() as session, session.begin():
        create_user(session, "kim", "Kim", PASSWORD, Role.FINANCE)
    guesser = from_address(app, "10.9.9.9")
    for name in ["\u212Aim", " KIM ", "\u212Aim", "Kim", "kim"]:  # U+212A KELVIN SIGN lowers to "k"
        response = sign_in(guesser, name, "wrong password!")
        assert (response.status_code, response.json["message"]) == (401, WRONG)
    throttled = sign_in(guesser, "kim")
    assert (throttled.status_code, throttled.json["message"]) == (429, THROTTLED)
    with sessions() as session:
        assert list(session.scalars(select(SignInFailure.username))) == ["kim"] * 5


def test_a_name_outside_ascii_matches_no_user(app, sessions):
    with sessions() as session, session.begin():
        create_user(session, "kim", "Kim", PASSWORD, Role.FINANCE)
    kelvin = sign_in(app.test_client(), "\u212Aim")  # the right password
    assert (kelvin.status_code, kelvin.json["message"]) == (401, WRONG)
    assert sign_in(app.test_client(), " Kim ").status_code == 200


# Finding 10: tokens made before migration 0010 had no expiry; they get the default maximum.

def test_tokens_made_before_0010_expire_365_days_after_their_creation(app, engine, token_for):
    given = client_as(app, token_for(Role.FINANCE))  # made at head: its expiry is kept
    command.downgrade(alembic_config(engine), "0009")
    now = utcnow().replace(microsecond=0)
    with engine.begin() as connection:  # rows as 0009 wrote them, 400 and 10 days ago (no test waits that long)
        tokens = sa.Table("api_token", sa.MetaData(), autoload_with=connection)
        user_id = connection.scalar(select(tokens.c.user_id))
        given_expiry = connection.scalar(select(tokens.c.expires_at))
        for value, age_days in [("rdy_old", 400), ("rdy_recent", 10)]:
            connection.execute(insert(tokens).values(
                user_id=user_id, name=value, prefix=value, token_hash=hashlib.sha256(value.encode()).hexdigest(),
                permissions=["public", "signed-in"], created_at=now - dt.timedelta(days=age_days), expires_at=None))
    migrate(engine)
    with engine.connect() as connection:
        expiries = dict(connection.execute(select(ApiToken.name, ApiToken.expires_at)).all())
    assert expiries == {"tests": given_expiry, "rdy_old": now - dt.timedelta(days=35),
                        "rdy_recent": now + dt.timedelta(days=355)}
    old = client_as(app, "rdy_old").get("/api/session")
    assert (old.status_code, old.json["message"]) == (401, "the API token is unknown, revoked or expired")
    assert client_as(app, "rdy_recent").get("/api/session").status_code == 200
    assert given.get("/api/session").status_code == 200


# Finding 11: a token made from a session needs the current password (a stolen cookie does not know it).

def test_a_session_creates_a_token_only_with_the_current_password(app, engine, sessions, officer_account):
    browser = signed_in_browser(app, officer_account)
    before, tokens = table_contents(engine), token_count(sessions)
    asked = {"name": "script", "permissions": ["inventory:read"]}
    missing = browser.post("/api/tokens", json=asked)
    assert (missing.status_code, missing.json["errors"]["json"]) == (422, {"password": [
        "creating a token from a signed-in session needs your current password"]})
    assert table_contents(engine) == before
    for _ in range(5):
        wrong = browser.post("/api/tokens", json={**asked, "password": "not my password"})
        assert (wrong.status_code, wrong.json["errors"]["json"]) == (
            422, {"password": ["the current password is wrong"]})
    throttled = browser.post("/api/tokens", json={**asked, "password": PASSWORD})
    assert (throttled.status_code, throttled.json["message"]) == (429, THROTTLED)
    after = table_contents(engine)
    assert len(after.pop("sign_in_failure")) == len(before.pop("sign_in_failure")) + 5
    assert (after, token_count(sessions)) == (before, tokens)


def test_a_session_with_the_password_and_a_token_without_it_create_tokens(app, officer_account, token_for):
    browser = signed_in_browser(app, officer_account)
    made = browser.post("/api/tokens", json={"name": "script", "permissions": ["inventory:read"],
                                             "password": PASSWORD})
    assert (made.status_code, made.json["permissions"]) == (201, ["inventory:read", "public"])
    by_token = client_as(app, token_for(Role.UNIT_OFFICER)).post("/api/tokens", json={
        "name": "collector", "permissions": ["inventory:read"]})
    assert by_token.status_code == 201


# Finding 12: a token lists and revokes only itself and the tokens it created.

def revocations(sessions) -> dict[str, dt.datetime | None]:
    with sessions() as session:
        return dict(session.execute(select(ApiToken.name, ApiToken.revoked_at)).all())


def test_a_token_lists_and_revokes_only_itself_and_what_it_created(app, sessions, officer_account, token_for):
    full = client_as(app, token_for(Role.UNIT_OFFICER))  # named "tests"
    full_id = full.get("/api/tokens").json[0]["id"]
    narrow = full.post("/api/tokens", json={"name": "narrow", "permissions": ["signed-in"]}).json
    sibling = full.post("/api/tokens", json={"name": "sibling", "permissions": ["inventory:write"]}).json
    script = client_as(app, narrow["token"])
    child = script.post("/api/tokens", json={"name": "child", "permissions": ["signed-in"]}).json
    assert [t["name"] for t in script.get("/api/tokens").json] == ["narrow", "child"]
    before = revocations(sessions)
    for target in (sibling["id"], full_id):  # a sibling, and the token that created it
        refused = script.delete(f"/api/tokens/{target}")
        assert (refused.status_code, refused.json["message"]) == (404, f"token {target} does not exist")
    assert revocations(sessions) == before
    assert script.delete(f"/api/tokens/{child['id']}").status_code == 200
    assert script.delete(f"/api/tokens/{narrow['id']}").status_code == 200  # itself
    browser = signed_in_browser(app, officer_account)  # a session keeps its rights over all the user's tokens
    assert [t["name"] for t in browser.get("/api/tokens").json] == ["tests", "narrow", "sibling", "child"]
    assert browser.delete(f"/api/tokens/{sibling['id']}").status_code == 200


# Finding 15: sign-ins purge failures past the window and sessions past any use, a bounded batch at a time.

def test_sign_in_purges_failures_past_the_window_a_batch_at_a_time(app, engine, sessions, officer_account):
    old, recent = utcnow() - dt.timedelta(minutes=16), utcnow() - dt.timedelta(minutes=1)
    with engine.begin() as connection:  # failures as time leaves them (a test cannot wait 15 minutes)
        connection.execute(insert(SignInFailure), [{"username": "nobody", "ip": "10.1.1.1", "at": old}] *
                           (PURGE_BATCH + 3) + [{"username": "nobody", "ip": "10.1.1.1", "at": recent}] * 2)

    def left() -> list[int]:
        with sessions() as session:
            return [session.scalar(select(func.count(SignInFailure.id)).where(SignInFailure.at == at))
                    for at in (old, recent)]
    assert sign_in(app.test_client(), officer_account).status_code == 200
    assert left() == [3, 2]
    assert sign_in(app.test_client(), officer_account, "wrong password!").status_code == 401
    assert left() == [0, 2]


def set_session_created(engine, session_id: int, created_at: dt.datetime) -> None:
    """A session as 30 days leave it: time itself replaced, as no test can wait that long."""
    with engine.begin() as connection:
        connection.execute(update(UserSession).where(UserSession.id == session_id)
                           .values(created_at=created_at, last_seen_at=created_at))


def session_ids(sessions) -> list[int]:
    with sessions() as session:
        return list(session.scalars(select(UserSession.id).order_by(UserSession.id)))


def test_sign_in_purges_sessions_older_than_the_known_address_age(app, engine, sessions, officer_account):
    for _ in range(3):
        sign_in(app.test_client(), officer_account)
    first, second, third = session_ids(sessions)
    set_session_created(engine, first, utcnow() - dt.timedelta(days=31))
    set_session_created(engine, second, utcnow() - dt.timedelta(days=29))  # still marks a known address
    assert sign_in(app.test_client(), officer_account).status_code == 200
    assert session_ids(sessions)[:2] == [second, third] and len(session_ids(sessions)) == 3


def test_a_session_allowed_to_live_longer_is_not_purged(app_with, engine, sessions, officer_account):
    app = app_with(SESSION_ABSOLUTE_LIFETIME_S=40 * 86400)
    browser = app.test_client()
    sign_in(browser, officer_account)
    [kept] = session_ids(sessions)
    set_session_created(engine, kept, utcnow() - dt.timedelta(days=31))
    set_session_times(engine, last_seen_at=utcnow())
    assert sign_in(app.test_client(), officer_account).status_code == 200
    assert browser.get("/api/session").status_code == 200


# Finding 18: the last use is written often enough for a short idle timeout.

def test_a_short_idle_timeout_does_not_end_a_session_in_use(app_with, officer_account):
    app = app_with(SESSION_IDLE_TIMEOUT_S=2)
    browser = app.test_client()
    sign_in(browser, officer_account)
    for _ in range(3):  # a request every 1.2 seconds, shorter than the 2-second idle timeout
        time.sleep(1.2)
        assert browser.get("/api/session").status_code == 200


def test_a_guesser_behind_an_offices_address_does_not_lock_out_its_users(app, officer_account):
    assert sign_in(from_address(app, "10.1.1.1"), officer_account).status_code == 200  # the office's NAT address
    office = from_address(app, "10.1.1.1")
    assert [sign_in(office, f"guess-{n}", "wrong password!").status_code for n in range(21)] == [401] * 20 + [429]
    assert sign_in(from_address(app, "10.1.1.1"), "someone-new").json["message"] == THROTTLED
    assert sign_in(from_address(app, "10.1.1.1"), officer_account).status_code == 200


def test_an_ipv6_guesser_counts_as_its_64(app, officer_account):
    answers = [sign_in(from_address(app, f"2001:db8:7:7::{n:x}"), officer_account, "wrong password!").status_code
               for n in range(1, 8)]
    assert answers == [401] * 5 + [429] * 2
    assert sign_in(from_address(app, "2001:db8:7:8::1"), officer_account).status_code == 200  # another /64


def sign_in_at_once(sign_in_with, clients: list) -> list:
    """Each client signs in from its own thread, all released together; their answers."""
    gate, answers = threading.Barrier(len(clients)), []

    def run(client) -> None:
        gate.wait(timeout=30)
        answers.append(sign_in_with(client))
    threads = [threading.Thread(target=run, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == len(clients)
    return answers


def test_password_checks_beyond_the_slots_are_refused_and_count_as_nothing(app_with, officer_account, engine):
    """Each argon2 check costs 0.3 s and 64 MiB: sign-ins at once beyond the slots are refused, not queued for
    ever. Six real sign-ins released together against one slot that waits 10 ms."""
    app = app_with(PASSWORD_CHECKS_AT_ONCE=1, PASSWORD_CHECK_WAIT_S=0.01)
    answers = sign_in_at_once(lambda client: sign_in(client, officer_account), [app.test_client() for _ in range(6)])
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) == {200, 429}, statuses
    assert {a.json["message"] for a in answers if a.status_code == 429} == {
        "too many sign-ins at once; try again in a moment"}
    with engine.connect() as connection:  # a refusal for want of a slot counts as no failed sign-in
        assert connection.scalar(select(func.count()).select_from(SignInFailure)) == 0
        assert connection.scalar(select(func.count()).select_from(UserSession)) == statuses.count(200)


def test_the_sign_in_page_says_in_vietnamese_that_the_slots_are_busy(app_with, officer_account):
    app = app_with(PASSWORD_CHECKS_AT_ONCE=1, PASSWORD_CHECK_WAIT_S=0.01)
    pages = []
    for _ in range(6):
        page = app.test_client()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get("/sign-in").get_data(as_text=True)).group(1)
        pages.append((page, csrf))
    answers = sign_in_at_once(lambda page: page[0].post("/sign-in", data={
        "username": officer_account, "password": PASSWORD, "csrf_token": page[1]}), pages)
    assert sorted({a.status_code for a in answers}) == [302, 429]
    assert all("có quá nhiều lượt đăng nhập cùng lúc; hãy thử lại sau giây lát" in a.get_data(as_text=True)
               for a in answers if a.status_code == 429)
