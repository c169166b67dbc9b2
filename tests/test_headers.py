"""Security headers on every response, pages and API alike, as a browser receives them."""
import base64
import hashlib
import re

import pytest

from accounts.models import Role
from app import create_app
from tests.conftest import client_as

STRICT_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
                 "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
ALWAYS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def security_headers(response) -> dict[str, str | None]:
    return {name: response.headers.get(name) for name in ["Content-Security-Policy", *ALWAYS]}


@pytest.mark.parametrize(("method", "path", "status"), [
    ("get", "/sign-in", 200), ("get", "/", 302), ("get", "/health", 200), ("get", "/api/units", 401),
    ("get", "/api/openapi.json", 200), ("get", "/api/docs/static/swagger-ui-bundle.js", 200),
    ("get", "/assets/site.css", 200), ("get", "/api/nothing-here", 404), ("post", "/api/session", 422),
    ("post", "/sign-in", 403),  # no CSRF token
])
def test_every_response_carries_the_security_headers(anonymous, method, path, status):
    response = getattr(anonymous, method)(path, json={} if method == "post" and path.startswith("/api") else None)
    assert response.status_code == status
    assert security_headers(response) == {"Content-Security-Policy": STRICT_POLICY, **ALWAYS}


def test_a_signed_in_page_and_an_api_answer_carry_them_too(app, org, token_for):
    client = client_as(app, token_for(Role.ADMIN))
    for path in ("/", "/api/devices"):
        response = client.get(path)
        assert response.status_code == 200
        assert security_headers(response) == {"Content-Security-Policy": STRICT_POLICY, **ALWAYS}


def test_the_unmigrated_database_answer_carries_them(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}", "SECRET_KEY": "x"})
    response = app.test_client().get("/sign-in")
    assert response.status_code == 503
    assert security_headers(response) == {"Content-Security-Policy": STRICT_POLICY, **ALWAYS}


@pytest.mark.parametrize("path", ["/sign-in", "/"])
def test_pages_hold_no_inline_script_or_style(app, org, token_for, path):
    page = client_as(app, token_for(Role.ADMIN)).get(path).get_data(as_text=True)
    assert re.findall(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", page) == []
    assert '<link rel="stylesheet" href="/assets/site.css">' in page


def test_swagger_ui_may_run_its_own_inline_start_script_and_nothing_else(anonymous):
    response = anonymous.get("/api/docs")
    assert response.status_code == 200
    inline = re.findall(r"<script>(.*?)</script>", response.get_data(as_text=True), re.S)
    assert len(inline) == 1 and "SwaggerUIBundle(config)" in inline[0]
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    # Only script-src (that one script, by its hash) differs from every other page's policy.
    assert security_headers(response) == {**ALWAYS, "Content-Security-Policy": STRICT_POLICY.replace(
        "script-src 'self'", f"script-src 'self' 'sha256-{digest}'")}
