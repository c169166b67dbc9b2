"""Every route, for every role: a route added later without the right declaration fails here."""
import html
import re

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter

from accounts.models import Role
from accounts.permissions import ROLE_PERMISSIONS
from core.permissions import FRAMEWORK_ENDPOINTS, Permission, declared_permissions
from inventory.ingest import IngestBatch, ingest
from inventory.observations import ObservedDevice
from tests.conftest import T0, client_as

ROLES = [None, *Role]  # None: no account at all


def sample_url(app, rule, ids) -> str:
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            values[name] = ids.get(name, 1)  # an id the walk does not make: the permission check comes first
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif name == "filename":
            values[name] = "swagger-ui.css"
        else:
            values[name] = "W1"
    return rule.build(values)[1]


def refused_for_permission(response) -> bool:
    """Refused by the permission check itself, not by what the route does with a sample request."""
    if response.status_code == 302:
        return "/sign-in?next=" in response.headers["Location"]
    message = refusal_reason(response)
    return (response.status_code, message.split(" (")[0]) in {
        (401, "sign in first, or send an API token as 'Authorization: Bearer <token>'")} or \
        (response.status_code == 403 and " may not do this (needs " in message)


def refusal_reason(response) -> str:
    """The reason of a refusal: the API's JSON message, or the reason paragraph of a page's refusal."""
    if response.mimetype == "text/html":
        found = re.search(r'<p id="reason">(.*?)</p>', response.get_data(as_text=True), re.S)
        return html.unescape(found.group(1)) if found else ""
    body = response.get_json(silent=True)
    return body.get("message", "") if isinstance(body, dict) else ""


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in FRAMEWORK_ENDPOINTS:
            continue
        declared = declared_permissions(app, rule.endpoint)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, declared.get(method, declared.get("*"))


@pytest.fixture
def walk(app, org, client, token_for):
    """Sample ids: a device in W2 (outside the officer's W1), the admin's account, a spare token, a credential,
    a scan scope of W2 and a (failed) run of it, and the relocation raised by W1's scan seeing the device."""
    device = client.post("/api/devices", json={"unit_code": "W2", "serial": "WALK1"}).json["id"]
    spare = client.post("/api/tokens", json={"name": "spare", "permissions": ["inventory:read"]}).json["id"]
    admin = client.get("/api/session").json["user"]["id"]
    credential = client.post("/api/credentials", json={"name": "walk", "version": "v2c", "community": "c"}).json["id"]
    scope = client.post("/api/scopes", json={"name": "walk", "unit_code": "W2", "networks": "127.0.9.9",
                                             "methods": "snmp", "credential_ids": [credential]}).json["id"]
    run = client.post(f"/api/scopes/{scope}/runs", json={"kind": "snmp"}).json["id"]
    with org() as session, session.begin():
        seen = ObservedDevice("snmp", T0, "W1", "walk", fields={"serial": "WALK1"})
        relocation = ingest(session, IngestBatch([seen])).relocations_raised[0]
    return {"device_id": device, "user_id": admin, "token_id": spare, "credential_id": credential,
            "scope_id": scope, "run_id": run, "relocation_id": relocation}


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
def test_every_route_refuses_every_role_that_lacks_its_permission(app, org, walk, token_for, role):
    caller = client_as(app, token_for(role)) if role else app.test_client()
    caller.set_cookie("lang", "en")  # pages speak Vietnamese by default: the refusal's English text is checked
    allowed = ROLE_PERMISSIONS[role.value] if role else {Permission.PUBLIC}
    checked = []
    for rule, method, permission in routes(app):
        url = sample_url(app, rule, walk)
        if method == "DELETE" and rule.endpoint == "tokens.TokenById":
            continue  # revoking the spare token is checked once below, not by every role in turn
        response = caller.open(url, method=method, json={} if method in {"POST", "PUT", "PATCH"} else None)
        refused = refused_for_permission(response)
        assert refused == (permission not in allowed), f"{role} {method} {url}: {response.status_code}"
        if refused and role is None:
            assert response.status_code in (401, 302), f"{method} {url}"
        if refused and role is not None:
            assert response.status_code == 403, f"{role} {method} {url}"
        checked.append(f"{method} {rule.rule}")
    assert len(checked) >= 25


def test_revoking_a_token_needs_to_be_its_owner_or_an_administrator(app, walk, token_for):
    finance = client_as(app, token_for(Role.FINANCE))
    assert finance.delete(f"/api/tokens/{walk['token_id']}").status_code == 404
    admin = client_as(app, token_for(Role.ADMIN))
    assert admin.delete(f"/api/tokens/{walk['token_id']}").json["revoked_at"] is not None
