"""The collector protocol, both sides of it (see the brief "wire"): the key a collector's token gives for its
SNMP credentials, observations and poll outcomes as JSON and back, a batch as the collector sends it, and the
schema the server checks a batch with.

Pure: no database, no Flask. The collector builds batches with `batch_json`; the server loads them with
`load_batch`, which names the place of the first problem ("observations[3].observation.interfaces[0].mac: ...")."""
import base64
import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from core.errors import InvalidInput
from core.i18n import Reason
from core.jsonable import json_value
from core.time import as_utc
from discovery.models import TargetStatus
from discovery.snmp.poll import PollOutcome
from inventory.observations import ObservedDevice, ObservedInterface, ObservedNeighbour
from inventory.schemas import UtcDateTime
from inventory.specs import placed

TOKEN_PREFIX = "col_"
VERSION_HEADER = "X-Collector-Version"
CONFIG_PATH = "/api/collector/config"
BATCHES_PATH = "/api/collector/batches"
HEARTBEAT_PATH = "/api/collector/heartbeat"
MAX_BATCH_BYTES = 32 * 1024 * 1024  # a larger body is refused with 413 before it is read
SECRET_FIELDS = ("community", "auth_key", "priv_key")
WIRE_METHODS = ("nmap", "snmp", "fdb", "arp")  # what a collector's scans make; never "manual" or "agent"
KINDS = ("nmap", "snmp")
_HKDF_SALT = b"readiness collector"
_HKDF_INFO = b"snmp credentials"
_INT32 = 2**31 - 1


class InvalidBatch(InvalidInput):
    """A batch refused: `path` (where in it, e.g. `observations[3].observation.interfaces[0].mac`) and `problem`."""

    def __init__(self, path: str, problem: str):
        super().__init__(placed(path, problem) if path else problem, field=path or None)
        self.path, self.problem = path, problem


class UndecryptableSecrets(InvalidInput):
    """Credentials that the key of this collector's token does not open (the token was reissued?)."""


def credentials_key(token: str) -> str:
    """The Fernet key both sides derive from a collector's token (HKDF-SHA256): the server keeps it encrypted,
    the collector never writes it down, so its cached configuration is useless without the token."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(token.encode())
    return base64.urlsafe_b64encode(derived).decode()


def encrypt_secrets(key: str, secrets: Any) -> str:
    """A credential's secrets (discovery.credentials.SecretValues or a dict) as one Fernet token."""
    values = secrets if isinstance(secrets, Mapping) else {name: getattr(secrets, name) for name in SECRET_FIELDS}
    return Fernet(key.encode()).encrypt(orjson.dumps({name: values.get(name) for name in SECRET_FIELDS})).decode()


def decrypt_secrets(key: str, text: str) -> dict[str, str | None]:
    """{"community", "auth_key", "priv_key"}: kept in memory only, never written or logged."""
    try:
        values = orjson.loads(Fernet(key.encode()).decrypt(text.encode()))
    except (InvalidToken, ValueError, TypeError):
        raise UndecryptableSecrets(Reason("the credentials cannot be decrypted with this collector's token")) \
            from None
    return {name: values.get(name) for name in SECRET_FIELDS}


def iso(moment: dt.datetime) -> str:
    """A time as ISO-8601 with its UTC offset (naive times are UTC, as stored)."""
    return as_utc(moment).replace(tzinfo=dt.UTC).isoformat()


def observation_to_json(observation: ObservedDevice) -> dict[str, Any]:
    """What a collector sends of an observation: no unit (the scope's own is used) and no device id (a
    collector cannot name a record)."""
    return {
        "method": observation.method, "observed_at": iso(observation.observed_at), "source": observation.source,
        "fields": json_value(dict(observation.fields)), "specs": json_value(dict(observation.specs)),
        "interfaces": [{"name": i.name, "mac": i.mac, "ips": list(i.ips), "speed_mbps": i.speed_mbps}
                       for i in observation.interfaces],
        "neighbours": [dataclasses.asdict(n) for n in observation.neighbours],
        "raw": json_value(dict(observation.raw)),
    }


def observation_from_json(data: Mapping[str, Any], unit_code: str) -> ObservedDevice:
    """An observation as sent (checked by ObservationSchema first), in the unit given."""
    observed_at = data["observed_at"]
    return ObservedDevice(
        method=data["method"], observed_at=as_utc(observed_at) if isinstance(observed_at, str | dt.datetime)
        else observed_at, unit_code=unit_code, source=data.get("source") or "",
        fields=dict(data.get("fields") or {}), specs=dict(data.get("specs") or {}),
        interfaces=tuple(ObservedInterface(name=i.get("name"), mac=i.get("mac"), ips=tuple(i.get("ips") or ()),
                                           speed_mbps=i.get("speed_mbps")) for i in data.get("interfaces") or ()),
        neighbours=tuple(ObservedNeighbour(**n) for n in data.get("neighbours") or ()),
        raw=dict(data.get("raw") or {}))


def outcome_to_json(outcome: PollOutcome) -> dict[str, Any]:
    return dataclasses.asdict(outcome) | {"status": TargetStatus(outcome.status).value}


def outcome_from_json(data: Mapping[str, Any]) -> PollOutcome:
    return PollOutcome(address=data["address"], answered=data["answered"], credential_id=data.get("credential_id"),
                       status=TargetStatus(data["status"]), explanation=data.get("explanation") or "",
                       requests=data.get("requests") or 0, silent=data.get("silent", False))


def batch_json(batch_id: str, sequence: int, scope_id: int, kind: str, mode: str, hosts_total: int,
               started_at: dt.datetime, finished_at: dt.datetime,
               observed: Sequence[tuple[str | None, ObservedDevice]], outcomes: Sequence[PollOutcome] = (),
               sent_at: dt.datetime | None = None) -> dict[str, Any]:
    """A whole batch as the collector keeps it on disk and sends it. `sent_at` is set (`with_sent_at`) at each
    POST: the server measures the collector's clock by it."""
    batch = {"batch_id": batch_id, "sequence": sequence, "scope_id": scope_id, "kind": kind, "mode": mode,
             "hosts_total": hosts_total, "started_at": iso(started_at), "finished_at": iso(finished_at),
             "observations": [{"address": address, "observation": observation_to_json(observation)}
                              for address, observation in observed],
             "outcomes": [outcome_to_json(outcome) for outcome in outcomes]}
    return with_sent_at(batch, sent_at) if sent_at is not None else batch


def with_sent_at(batch: Mapping[str, Any], sent_at: dt.datetime) -> dict[str, Any]:
    return dict(batch) | {"sent_at": iso(sent_at)}


# Schemas of what a collector sends. Unknown keys are refused: a batch says exactly what ingestion will use.

class InterfaceSchema(Schema):
    name = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    mac = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=64))
    ips = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list)
    speed_mbps = fields.Integer(allow_none=True, load_default=None, strict=True,
                                validate=validate.Range(min=0, max=10**9))


class NeighbourSchema(Schema):
    protocol = fields.String(required=True, validate=validate.Length(min=1, max=32))
    port = fields.String(load_default="", validate=validate.Length(max=200))
    remote_port = fields.String(load_default="", validate=validate.Length(max=200))
    remote_serial = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    remote_mac = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=64))
    remote_hostname = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=300))


class ObservationSchema(Schema):
    method = fields.String(required=True, validate=validate.OneOf(WIRE_METHODS))
    observed_at = UtcDateTime(required=True)
    source = fields.String(load_default="", validate=validate.Length(max=1000))
    fields_ = fields.Dict(keys=fields.String(), data_key="fields", attribute="fields", load_default=dict)
    specs = fields.Dict(keys=fields.String(), load_default=dict)
    interfaces = fields.List(fields.Nested(InterfaceSchema), load_default=list)
    neighbours = fields.List(fields.Nested(NeighbourSchema), load_default=list)
    raw = fields.Dict(keys=fields.String(), load_default=dict)


class ObservedSchema(Schema):
    address = fields.String(required=True, allow_none=True, validate=validate.Length(min=1, max=45))
    observation = fields.Nested(ObservationSchema, required=True)


class OutcomeSchema(Schema):
    address = fields.String(required=True, validate=validate.Length(min=1, max=45))
    answered = fields.Boolean(required=True)
    credential_id = fields.Integer(allow_none=True, load_default=None, strict=True,
                                   validate=validate.Range(min=1, max=_INT32))
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in TargetStatus]))
    explanation = fields.String(load_default="", validate=validate.Length(max=10_000))
    requests = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=_INT32))
    silent = fields.Boolean(load_default=False)


class BatchSchema(Schema):
    batch_id = fields.String(required=True, validate=validate.Regexp(
        r"^[0-9a-f]{32}$", error="must be 32 lower-case hexadecimal digits (uuid4().hex)"))
    sequence = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=_INT32))
    scope_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=_INT32))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    mode = fields.String(load_default="", validate=validate.Length(max=100))
    hosts_total = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=_INT32))
    started_at = UtcDateTime(required=True)
    finished_at = UtcDateTime(required=True)
    sent_at = UtcDateTime(required=True)
    observations = fields.List(fields.Nested(ObservedSchema), required=True)
    outcomes = fields.List(fields.Nested(OutcomeSchema), load_default=list)


class HeartbeatSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # a newer collector may say more; a heartbeat is only a sign of life

    version = fields.String(load_default="", validate=validate.Length(max=50))
    backlog = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=_INT32))
    backlog_full = fields.Boolean(load_default=False)
    last_error = fields.String(load_default="", validate=validate.Length(max=10_000))
    sent_at = UtcDateTime(load_default=None, allow_none=True)


def load_batch(body: Any) -> dict[str, Any]:
    """A batch as sent, checked: times as naive UTC, or InvalidBatch naming the first problem's place.

    Loading a batch's observations through the nested schemas took a third of the server's time for a batch;
    an observation of the plain shape scans make is loaded by `_plain_observed` instead, which gives what the
    schema gives. Anything else (an error, an unusual value) goes through BatchSchema, which has the last word
    and says what is wrong."""
    if not isinstance(body, Mapping):
        raise InvalidBatch("", Reason("a batch is a JSON object"))
    observations = body.get("observations")
    plain = [_plain_observed(item) for item in observations] if type(observations) is list else [None]
    try:
        if None in plain:
            return BatchSchema().load(body)
        try:
            envelope = _EnvelopeSchema().load(body)
        except ValidationError:
            return BatchSchema().load(body)  # the whole schema names the problem
        return envelope | {"observations": plain}
    except ValidationError as error:
        path, problem = first_problem(error.messages)
        raise InvalidBatch(path, problem) from None


class _EnvelopeSchema(BatchSchema):
    observations = fields.Raw(required=True)  # loaded one by one by _plain_observed


_OBSERVATION_KEYS = frozenset({"method", "observed_at", "source", "fields", "specs", "interfaces", "neighbours",
                               "raw"})
_INTERFACE_KEYS = frozenset({"name", "mac", "ips", "speed_mbps"})
_TIME = UtcDateTime()


def _plain_observed(item: Any) -> dict[str, Any] | None:
    """An item of `observations` as ObservedSchema loads it, when it has the plain shape (no neighbours, every
    value of its type and within its length); None for anything else, which the schema then judges."""
    if type(item) is not dict or item.keys() != {"address", "observation"}:
        return None
    address, observation = item["address"], item["observation"]
    if not (address is None or _text(address, 45, 1)) or type(observation) is not dict \
            or not observation.keys() <= _OBSERVATION_KEYS or observation.get("neighbours"):
        return None
    method, source = observation.get("method"), observation.get("source", "")
    if method not in WIRE_METHODS or not _text(source, 1000):
        return None
    documents = {name: observation.get(name, {}) for name in ("fields", "specs", "raw")}
    if not all(type(d) is dict and all(type(key) is str for key in d) for d in documents.values()):
        return None
    interfaces = observation.get("interfaces", [])
    if type(interfaces) is not list:
        return None
    interfaces = [_plain_interface(i) for i in interfaces]
    if None in interfaces:
        return None
    try:
        observed_at = _TIME.deserialize(observation.get("observed_at"))
    except ValidationError:
        return None
    return {"address": address, "observation": {
        "method": method, "observed_at": observed_at, "source": source, **documents, "interfaces": interfaces,
        "neighbours": []}}


def _plain_interface(item: Any) -> dict[str, Any] | None:
    if type(item) is not dict or not item.keys() <= _INTERFACE_KEYS:
        return None
    name, mac, ips, speed = item.get("name"), item.get("mac"), item.get("ips", []), item.get("speed_mbps")
    if not ((name is None or _text(name, 200)) and (mac is None or _text(mac, 64)) and type(ips) is list
            and all(_text(ip, 64) for ip in ips) and (speed is None or type(speed) is int and 0 <= speed <= 10**9)):
        return None
    return {"name": name, "mac": mac, "ips": list(ips), "speed_mbps": speed}


def _text(value: Any, longest: int, shortest: int = 0) -> bool:
    return type(value) is str and shortest <= len(value) <= longest


def first_problem(messages: Any, path: str = "") -> tuple[str, str]:
    """The first of marshmallow's nested messages, as (path, message): {"observations": {3: {"observation":
    {"interfaces": {0: {"mac": [...]}}}}}} -> ("observations[3].observation.interfaces[0].mac", "...")."""
    if isinstance(messages, list):
        return path, str(messages[0]) if messages else ""
    if isinstance(messages, str):
        return path, messages
    numbered = [key for key in messages if isinstance(key, int)]
    key = min(numbered) if numbered else next(iter(messages))  # the earliest item; fields in the schema's order
    if isinstance(key, int):
        where = f"{path}[{key}]"
    elif key == "_schema":  # the value at `path` as a whole (not an object, say)
        where = path
    else:
        where = f"{path}.{key}" if path else str(key)
    return first_problem(messages[key], where)
