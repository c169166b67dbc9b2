"""The collector protocol without a database: the credentials key a token gives, secrets encrypted with it,
observations and poll outcomes to JSON and back, a whole batch, and the exact place and reason of a batch's
first problem."""
import datetime as dt

import orjson
import pytest
from cryptography.fernet import Fernet

from discovery.collectors import wire
from discovery.credentials import SecretValues
from discovery.models import TargetStatus
from discovery.snmp.poll import PollOutcome
from inventory.observations import ObservedDevice, ObservedInterface, ObservedNeighbour

AT = dt.datetime(2026, 12, 6, 8, 30, 15, 250000)
TOKEN = "col_" + "A" * 43
SWITCH = ObservedDevice(
    method="snmp", observed_at=AT, unit_code="W1", source="snmp 127.0.5.4",
    fields={"vendor": "Cisco", "model": "WS-C3560G-48TS-E", "serial": "FOC1408Z61U", "hostname": "dumsys-04",
            "device_class": "switch"},
    specs={"ports": 52},
    interfaces=(ObservedInterface("Gi0/1", "00:1b:2b:aa:bb:01", ("127.0.5.4",), 1000),
                ObservedInterface("SNMP management address", None, ("10.0.0.1",))),
    neighbours=(ObservedNeighbour("lldp", port="Gi0/1", remote_port="ge-0/0/1", remote_mac="00:1b:2b:aa:bb:02"),),
    raw={"address": "127.0.5.4", "sources": {"vendor": "sysObjectID"}, "problems": ["cut short"]})


def batch(**changes) -> dict:
    sent = wire.batch_json("0" * 31 + "1", 7, 3, "snmp", "SNMP, 1 credential(s), port 161", 26, AT,
                           AT + dt.timedelta(seconds=40), [("127.0.5.4", SWITCH)],
                           [PollOutcome("127.0.5.4", True, 12, TargetStatus.OK, "", 9, False)],
                           sent_at=AT + dt.timedelta(minutes=1))
    return orjson.loads(orjson.dumps(sent)) | changes  # as it travels


def test_the_credentials_key_is_the_token_s_own_and_opens_its_secrets_only():
    key = wire.credentials_key(TOKEN)
    assert key == wire.credentials_key(TOKEN) and key != wire.credentials_key(TOKEN + "B")
    Fernet(key.encode())  # a Fernet key: 32 url-safe base64 bytes
    sealed = wire.encrypt_secrets(key, SecretValues("public", None, None))
    assert "public" not in sealed
    assert wire.decrypt_secrets(key, sealed) == {"community": "public", "auth_key": None, "priv_key": None}
    assert wire.decrypt_secrets(key, wire.encrypt_secrets(key, {"auth_key": "authpass1", "priv_key": "privpass1"})) \
        == {"community": None, "auth_key": "authpass1", "priv_key": "privpass1"}
    with pytest.raises(wire.UndecryptableSecrets, match="^the credentials cannot be decrypted with this "
                                                        "collector's token$"):
        wire.decrypt_secrets(wire.credentials_key(TOKEN + "B"), sealed)


def test_the_credentials_key_is_hkdf_sha256_of_the_token():
    """Pinned (RFC 5869 by hand: HMAC-SHA256 extract with the salt, one expand block): the server and every
    collector version derive the same key from a token."""
    assert wire.credentials_key(TOKEN) == "eFOLNLhbu1QoH8a256M_1542YuiWTfKhY9l02Uu4E74="


def test_an_observation_travels_without_unit_or_device_and_comes_back_in_the_scope_s_unit():
    sent = orjson.loads(orjson.dumps(wire.observation_to_json(SWITCH)))
    assert sent["observed_at"] == "2026-12-06T08:30:15.250000+00:00"
    assert "unit_code" not in sent and "device_id" not in sent
    assert sent["interfaces"][0] == {"name": "Gi0/1", "mac": "00:1b:2b:aa:bb:01", "ips": ["127.0.5.4"],
                                     "speed_mbps": 1000}
    loaded = wire.load_batch(batch())["observations"][0]["observation"]
    assert wire.observation_from_json(loaded, "W2") == ObservedDevice(**(vars(SWITCH) | {"unit_code": "W2"}))


def test_an_outcome_travels_with_its_status_as_text():
    outcome = PollOutcome("127.0.5.9", False, None, TargetStatus.FAILED, "lab: timeout", 4, True)
    assert wire.outcome_to_json(outcome) == {"address": "127.0.5.9", "answered": False, "credential_id": None,
                                             "status": "failed", "explanation": "lab: timeout", "requests": 4,
                                             "silent": True}
    assert wire.outcome_from_json(wire.outcome_to_json(outcome)) == outcome


def test_a_batch_loads_with_its_times_in_utc():
    loaded = wire.load_batch(batch(sent_at="2026-12-06T15:31:15+07:00"))
    assert (loaded["batch_id"], loaded["sequence"], loaded["scope_id"], loaded["kind"], loaded["hosts_total"]) == \
        ("0" * 31 + "1", 7, 3, "snmp", 26)
    assert (loaded["started_at"], loaded["finished_at"], loaded["sent_at"]) == \
        (AT, AT + dt.timedelta(seconds=40), dt.datetime(2026, 12, 6, 8, 31, 15))
    assert loaded["observations"][0]["address"] == "127.0.5.4"
    assert loaded["outcomes"] == [{"address": "127.0.5.4", "answered": True, "credential_id": 12, "status": "ok",
                                   "explanation": "", "requests": 9, "silent": False}]


def interface_mac(value) -> dict:
    sent = batch()
    sent["observations"][0]["observation"]["interfaces"][1]["mac"] = value
    return sent


@pytest.mark.parametrize("sent, message", [
    (batch(batch_id="0123"), "batch_id: must be 32 lower-case hexadecimal digits (uuid4().hex)"),
    (batch(sequence=0), "sequence: Must be greater than or equal to 1 and less than or equal to 2147483647."),
    (batch(sequence="7"), "sequence: Not a valid integer."),
    (batch(kind="ping"), "kind: Must be one of: nmap, snmp."),
    (batch(sent_at=None), "sent_at: Field may not be null."),
    (batch(started_at="yesterday"), "started_at: Not a valid datetime."),
    (batch(device_id=4), "device_id: Unknown field."),
    (batch(observations={"0": {}}), "observations: Not a valid list."),
    (batch(observations=[{"address": None, "observation": 5}]), "observations[0].observation: Invalid input type."),
    (batch(observations=[{"address": None}]), "observations[0].observation: Missing data for required field."),
    (interface_mac(42), "observations[0].observation.interfaces[1].mac: Not a valid string."),
    (batch(outcomes=[{"address": "127.0.5.4", "answered": True, "status": "fine"}]),
     "outcomes[0].status: Must be one of: ok, partial, failed."),
])
def test_a_batch_s_first_problem_is_named_by_its_place(sent, message):
    with pytest.raises(wire.InvalidBatch) as refused:
        wire.load_batch(sent)
    assert refused.value.reason == message
    assert refused.value.field == message.split(": ")[0]


def test_a_batch_is_a_json_object():
    with pytest.raises(wire.InvalidBatch, match="^a batch is a JSON object$"):
        wire.load_batch([batch()])


def test_a_refusal_deep_in_the_structure_gives_the_earliest_item():
    messages = {"observations": {7: {"address": ["x"]}, 2: {"observation": {"interfaces": {0: {"mac": ["y"]}}}}}}
    assert wire.first_problem(messages) == ("observations[2].observation.interfaces[0].mac", "y")
