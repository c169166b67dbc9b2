"""The audit log: every change with who, when, before and after; readable, exportable, never editable."""
import io

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from accounts.models import Role
from tests.conftest import client_as


def test_changes_are_logged_with_before_and_after(client):
    device = client.post("/api/devices", json={"unit_code": "W1", "serial": "AUD1", "location": "Rack 1"}).json
    client.patch(f"/api/devices/{device['id']}", json={"location": "Rack 2"})
    client.put(f"/api/devices/{device['id']}/unit", json={"unit_code": "W2"})
    client.post("/api/units/merge", json={"sources": ["W2"], "into_code": "W1", "effective_on": "2026-07-01"})
    client.post("/api/imports/devices", data={"file": (io.BytesIO(b"unit_code,serial\nW1,AUD2\n"), "a.csv")},
                content_type="multipart/form-data")
    log = client.get("/api/audit").json
    assert [e["action"] for e in log["items"]] == ["import.devices", "units.merge", "device.move", "device.update",
                                                   "device.record"]
    assert {e["actor"] for e in log["items"]} == {"admin"}
    update = log["items"][3]
    assert (update["before"]["location"], update["after"]["location"]) == ("Rack 1", "Rack 2")
    assert (log["items"][2]["before"], log["items"][2]["after"]) == ({"unit": "W1"}, {"unit": "W2"})
    assert log["items"][0]["after"]["created"] == 1 and log["items"][0]["target_id"] == "a.csv"
    assert client.get("/api/audit?action=device.update").json["total"] == 1


def test_refused_changes_leave_no_entry(client):
    client.post("/api/devices", json={"unit_code": "W9", "serial": "X"})
    assert client.get("/api/audit").json["total"] == 0


def test_sign_in_and_accounts_are_logged_without_secrets(app, client):
    client.post("/api/users", json={"username": "clerk", "display_name": "Clerk", "password": "a long passphrase",
                                    "role": "finance"})
    token = client.post("/api/tokens", json={"name": "x", "permissions": ["inventory:read"]}).json["token"]
    app.test_client().post("/api/session", json={"username": "clerk", "password": "a long passphrase"})
    exported = client.get("/api/audit/export").data.decode("utf-8-sig")
    assert [line.split(",")[3] for line in exported.splitlines()[1:]] == ["user.create", "token.create",
                                                                          "session.sign_in"]
    assert "a long passphrase" not in exported and token not in exported and "$argon2" not in exported


@pytest.mark.parametrize("statement", ["UPDATE audit_entry SET actor = 'someone else'", "DELETE FROM audit_entry"])
def test_the_database_refuses_to_edit_the_log(client, engine, statement):
    client.post("/api/devices", json={"unit_code": "W1", "serial": "AUD1"})
    with pytest.raises(DatabaseError, match="audit entries are never edited or deleted"):
        with engine.begin() as connection:
            connection.execute(text(statement))
    assert client.get("/api/audit").json["items"][0]["actor"] == "admin"


def test_only_administrators_and_auditors_read_the_log(app, client, token_for):
    client.post("/api/devices", json={"unit_code": "W1", "serial": "AUD1"})
    assert client_as(app, token_for(Role.AUDITOR)).get("/api/audit").json["total"] == 1
    for role in (Role.FINANCE, Role.UNIT_OFFICER):
        assert client_as(app, token_for(role)).get("/api/audit").status_code == 403
