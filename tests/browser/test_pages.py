"""The pages in a real Chromium (Debian's), against the real server on loopback."""
import shutil
from pathlib import Path

import pytest

from accounts.models import Role
from accounts.services import create_user
from app import create_app
from inventory.examples import load_example_organisation
from tests.conftest import PASSWORD, SECRETS_KEY
from tests.serving import serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "tests" / "browser" / "screenshots"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


@pytest.fixture
def server(tmp_path, sessions, engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("the pages are the same on PostgreSQL; one browser run is enough")
    with sessions() as session, session.begin():
        load_example_organisation(session)
        create_user(session, "officer", "Officer", PASSWORD, Role.UNIT_OFFICER, ["VD-P01"])
    app = create_app({"DATABASE_URL": engine.url.render_as_string(hide_password=False), "SECRET_KEY": "browser",
                      "SECRETS_KEYS": SECRETS_KEY})
    with serving(app, threads=2) as base:
        yield base


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        # A Content-Security-Policy violation, a failed load or a script error shows as a console error.
        page.console_errors = []
        page.on("console", lambda message: message.type == "error" and not message.location["url"].endswith(
            "/favicon.ico") and page.console_errors.append(message.text))  # there is no icon: its 404 is no fault
        page.on("pageerror", lambda error: page.console_errors.append(str(error)))
        yield page
        browser.close()


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
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "home-vi.png"), full_page=True)
    page.click("text=English")
    assert page.locator("#next-steps h2").inner_text() == "What to do next"
    page.screenshot(path=str(SCREENSHOTS / "home-en.png"), full_page=True)
    page.click("text=Sign out")
    assert page.url.startswith(server + "/sign-in")
    # The stylesheet applied under the policy (the header's background), and nothing was refused.
    assert page.locator("header").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(18, 58, 99)"
    # The first wrong password answers 401, which Chromium reports as a failed load; nothing else may appear.
    assert page.console_errors == ["Failed to load resource: the server responded with a status of 401 "
                                   "(UNAUTHORIZED)"]


def test_the_api_documentation_runs_under_its_policy(server, page):
    response = page.goto(server + "/api/docs")
    assert "script-src 'self' 'sha256-" in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock-tag", timeout=30_000)  # Swagger UI read /api/openapi.json and drew it
    assert "Devices and their history" in page.locator(".swagger-ui").inner_text()
    assert page.console_errors == []
