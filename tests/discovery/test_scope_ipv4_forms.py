"""A scope in an IPv6 form of IPv4 is refused through the API even under an allowlist of every IPv6
address: it would reach IPv4 that the allowlist leaves out."""
import pytest

from app import create_app
from tests.conftest import SECRETS_KEY, table_contents

SCOPE = {"name": "ward one", "unit_code": "W1"}


@pytest.fixture
def app(engine):
    # An operator who allowlisted every IPv6 address (and IPv4 loopback only).
    app = create_app({"DATABASE_URL": engine.url.render_as_string(hide_password=False), "SECRET_KEY": "test",
                      "SECRETS_KEYS": SECRETS_KEY, "TESTING": True, "SCAN_ALLOWLIST": "127.0.0.0/8,::/0"})
    yield app
    app.extensions["engine"].dispose()


def test_a_scope_of_ipv4_mapped_addresses_is_refused_and_nothing_stored(client, engine):
    before = table_contents(engine)
    refused = client.post("/api/scopes", json=SCOPE | {"networks": "2001:db8::/64, ::ffff:10.0.0.0/120"})
    message = ("::ffff:10.0.0.0/120 is an IPv4-mapped address (::ffff:0:0/96), which reaches IPv4 around the "
               "scan allowlist: name the IPv4 address or network itself")
    assert (refused.status_code, refused.json["message"]) == (422, message)
    assert refused.json["errors"] == {"json": {"networks": [message]}}
    assert table_contents(engine) == before


def test_a_scope_may_not_be_changed_into_a_nat64_form(client, engine):
    created = client.post("/api/scopes", json=SCOPE | {"networks": "2001:db8::/120"})
    assert created.status_code == 201, created.json
    before = table_contents(engine)
    refused = client.patch(f"/api/scopes/{created.json['id']}", json={"networks": "64:ff9b::a00:0/120"})
    assert (refused.status_code, refused.json["errors"]) == (422, {"json": {"networks": [
        "64:ff9b::a00:0/120 is a NAT64 address (64:ff9b::/96), which reaches IPv4 around the scan allowlist: "
        "name the IPv4 address or network itself"]}})
    assert table_contents(engine) == before
