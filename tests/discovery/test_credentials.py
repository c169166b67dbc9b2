"""SNMP credentials: encrypted at rest, never returned, never logged; keys rotate."""
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from core.db import make_engine, make_session_factory
from core.encryption import SecretBox, new_key, rotate_all
from discovery.credentials import reveal, save_credential
from discovery.models import Credential
from tests.conftest import SECRETS_KEY, table_contents

V2C = {"name": "ward routers", "version": "v2c", "community": "s3cret-community"}
V3 = {"name": "core v3", "version": "v3", "username": "poller", "auth_protocol": "sha", "auth_key": "auth-pass-123",
      "priv_protocol": "aes128", "priv_key": "priv-pass-456"}


def test_secrets_go_in_encrypted_and_never_come_out(client, engine, sessions, caplog):
    caplog.set_level(logging.DEBUG)
    created = [client.post("/api/credentials", json=body) for body in (V2C, V3)]
    assert [r.status_code for r in created] == [201, 201]
    assert created[1].json | {"created_at": 0, "updated_at": 0, "id": 0} == {
        "id": 0, "name": "core v3", "version": "v3", "username": "poller", "auth_protocol": "sha",
        "priv_protocol": "aes128", "has_community": False, "has_auth_key": True, "has_priv_key": True,
        "created_at": 0, "updated_at": 0}
    everything = str(client.get("/api/credentials").json) + str(client.get("/api/audit").json) + \
        str(table_contents(engine)) + caplog.text
    for secret in ("s3cret-community", "auth-pass-123", "priv-pass-456"):
        assert secret not in everything
    with sessions() as session:
        stored = session.scalars(select(Credential).where(Credential.name == "core v3")).one()
        plain = reveal(stored, SecretBox([SECRETS_KEY]))
    assert (plain.community, plain.auth_key, plain.priv_key) == (None, "auth-pass-123", "priv-pass-456")


def test_an_edit_keeps_secrets_it_does_not_name(client, sessions):
    credential = client.post("/api/credentials", json=V3).json
    edited = client.patch(f"/api/credentials/{credential['id']}", json={"priv_key": "another-priv-789"})
    assert edited.status_code == 200
    with sessions() as session:
        plain = reveal(session.get(Credential, credential["id"]), SecretBox([SECRETS_KEY]))
    assert (plain.auth_key, plain.priv_key) == ("auth-pass-123", "another-priv-789")
    assert client.get("/api/audit").json["items"][0]["detail"] == "secrets replaced: priv_key"


@pytest.mark.parametrize(("body", "status", "field", "message"), [
    ({"name": "x", "version": "v2c"}, 422, "community", "SNMP v2c needs a community"),
    ({"name": "x", "version": "v3"}, 422, "username", "SNMPv3 needs a user name"),
    ({"name": "x", "version": "v3", "username": "u", "priv_protocol": "aes128", "priv_key": "12345678"}, 422,
     "priv_protocol", "SNMPv3 privacy (encryption) needs authentication too"),
    ({"name": "x", "version": "v3", "username": "u", "auth_protocol": "sha"}, 422, "auth_key",
     "SNMPv3 authentication needs an auth_key"),
    ({"name": "x", "version": "v3", "username": "u", "auth_protocol": "sha", "auth_key": "short"}, 422, "auth_key",
     "Length must be between 8 and 128."),
    ({"name": "x", "version": "v4", "community": "c"}, 422, "version", "Must be one of: v1, v2c, v3."),
])
def test_credentials_that_do_not_add_up_are_refused(client, engine, body, status, field, message):
    before = table_contents(engine)
    response = client.post("/api/credentials", json=body)
    assert response.status_code == status
    assert response.json["errors"]["json"][field] == [message]
    assert table_contents(engine) == before


def test_key_rotation_re_encrypts_everything(client, sessions, engine):
    client.post("/api/credentials", json=V2C)
    client.post("/api/credentials", json=V3)
    newer = new_key()
    with sessions() as session, session.begin():
        assert rotate_all(session, SecretBox([newer, SECRETS_KEY])) == 3
    only_new = SecretBox([newer])
    with sessions() as session:
        values = [reveal(c, only_new) for c in session.scalars(select(Credential).order_by(Credential.id))]
    assert [(v.community, v.auth_key, v.priv_key) for v in values] == [
        ("s3cret-community", None, None), (None, "auth-pass-123", "priv-pass-456")]
    with engine.connect() as connection:
        ciphertexts = connection.execute(text("SELECT community_encrypted FROM snmp_credential")).scalars().all()
    assert all(c is None or c.startswith("gAAAA") for c in ciphertexts)


def test_a_wrong_key_is_a_clear_error(client, sessions):
    client.post("/api/credentials", json=V2C)
    with sessions() as session:
        stored = session.scalars(select(Credential)).one()
        with pytest.raises(Exception, match="a stored secret cannot be decrypted with the configured SECRETS_KEYS"):
            reveal(stored, SecretBox([new_key()]))


def test_rotation_from_the_command_line(tmp_path):
    root = Path(__file__).resolve().parents[2]
    old, newer = new_key(), new_key()
    environment = os.environ | {"DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite3'}", "SECRET_KEY": "x",
                                "SECRETS_KEYS": old}

    def flask(*args, keys):
        return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=root, text=True,
                              env=environment | {"SECRETS_KEYS": keys}, capture_output=True, timeout=120)

    flask("db", "upgrade", keys=old)
    engine = make_engine(environment["DATABASE_URL"])
    with make_session_factory(engine)() as session, session.begin():
        save_credential(session, SecretBox([old]), {"name": "c", "version": "v1", "community": "public-ish"})
    rotated = flask("secrets", "rotate", keys=f"{newer},{old}")
    assert rotated.stdout.strip() == "1 secrets re-encrypted with the first key; older keys may now be removed"
    with make_session_factory(engine)() as session:
        assert reveal(session.scalars(select(Credential)).one(), SecretBox([newer])).community == "public-ish"
    engine.dispose()
