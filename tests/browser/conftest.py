"""The pages in a real Chromium (Debian's), against the real server on loopback: fixtures shared by the
browser tests. Every page a test opens is checked by axe-core, and the screenshots are kept as artifacts."""
import shutil
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from accounts.models import Role
from accounts.services import create_user
from app import create_app
from inventory.examples import load_example_organisation
from tests.conftest import PASSWORD, SECRETS_KEY
from tests.serving import serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
# The example organisation and one account per role; officer answers for VD-P01 and officer2 for VD-P02.
ACCOUNTS = {"admin": (Role.ADMIN, []), "officer": (Role.UNIT_OFFICER, ["VD-P01"]),
            "officer2": (Role.UNIT_OFFICER, ["VD-P02"]), "finance": (Role.FINANCE, []),
            "auditor": (Role.AUDITOR, [])}
BLOCKING_IMPACTS = {"serious", "critical"}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath) and not Path(CHROMIUM).exists():
            item.add_marker(pytest.mark.skip(reason="Debian's chromium is not installed"))


@pytest.fixture
def browser_app(tmp_path, sessions, engine):
    """The app over a database holding the example organisation and the accounts above (SQLite only: the
    pages are the same on PostgreSQL, whose queries the API and service tests cover)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the pages are the same on PostgreSQL; one browser run is enough")
    with sessions() as session, session.begin():
        load_example_organisation(session)
        for username, (role, units) in ACCOUNTS.items():
            create_user(session, username, username.capitalize(), PASSWORD, role, units)
    return create_app({"DATABASE_URL": engine.url.render_as_string(hide_password=False), "SECRET_KEY": "browser",
                       "SECRETS_KEYS": SECRETS_KEY})


@pytest.fixture
def server(browser_app):
    with serving(browser_app, threads=4) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module. Not per session: Playwright's synchronous API runs an event loop in this
    thread while it is open, and the SNMP tests that follow the browser tests need asyncio.run there."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    # A Content-Security-Policy violation, a failed load or a script error shows as a console error.
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and not _expected(page, message) and
            page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    yield page
    context.close()


def _expected(page, message) -> bool:
    """Console errors that are no fault: there is no icon (its 404), and a page answered with its refusal's
    status (a form shown again with its errors is a 422, like the API's) is reported as a failed load."""
    url = message.location["url"]
    return url.endswith("/favicon.ico") or (
        url == page.url and message.text.startswith("Failed to load resource: the server responded with a status of 4"))


def sign_in(page, server: str, username: str, next_path: str = "/") -> None:
    page.goto(f"{server}/sign-in?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}{next_path}")


def accessibility_violations(page) -> list[str]:
    """axe-core's serious and critical violations of the page as it is now, one line each."""
    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(str(n['target']) for n in v['nodes'][:3])}"
            for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]


def check_page(page, name: str) -> None:
    """What every page must pass: no serious or critical accessibility violation, nothing refused by the
    Content-Security-Policy or failing in a script; and its screenshot kept (tests/browser/screenshots)."""
    assert accessibility_violations(page) == []
    assert page.console_errors == []
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def check_later(page, name: str, problems: list[str]) -> None:
    """check_page, its failure kept for the end of the test so that the rest of the scenario still runs, with every
    serious accessibility violation and every console error of the page; the screenshot is kept either way."""
    try:
        check_page(page, name)
    except AssertionError as failure:
        found = Axe().run(page).response["violations"]
        problems.append(f"{name}: {failure}; " + "; ".join(
            [f"{v['id']} at {node['target']}: {node['failureSummary']}" for v in found
             if v["impact"] in ("serious", "critical") for node in v["nodes"]] +
            [f"console: {error}" for error in page.console_errors]))
        page.console_errors.clear()
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
