"""What the discovery API accepts and returns: credentials (secrets go in; only whether they are set
comes out), scan scopes and scan runs."""
from marshmallow import Schema, fields, validate

from core.i18n import SchemaMessage
from discovery.models import AuthProtocol, PrivProtocol, RunStatus, RunTrigger, ScopeNetwork, SnmpVersion, TargetStatus
from inventory.schemas import UtcDateTime

SECRET = validate.Length(min=1, max=128)


class CredentialSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    version = fields.Enum(SnmpVersion, by_value=True)
    username = fields.String(allow_none=True)
    auth_protocol = fields.Enum(AuthProtocol, by_value=True)
    priv_protocol = fields.Enum(PrivProtocol, by_value=True)
    has_community = fields.Function(lambda c: c.community_encrypted is not None)
    has_auth_key = fields.Function(lambda c: c.auth_key_encrypted is not None)
    has_priv_key = fields.Function(lambda c: c.priv_key_encrypted is not None)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class CredentialWriteSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    version = fields.Enum(SnmpVersion, by_value=True)
    community = fields.String(load_only=True, allow_none=True, validate=SECRET)
    username = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    auth_protocol = fields.Enum(AuthProtocol, by_value=True)
    auth_key = fields.String(load_only=True, allow_none=True, validate=validate.Length(min=8, max=128))
    priv_protocol = fields.Enum(PrivProtocol, by_value=True)
    priv_key = fields.String(load_only=True, allow_none=True, validate=validate.Length(min=8, max=128))


class CredentialCreateSchema(CredentialWriteSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    version = fields.Enum(SnmpVersion, by_value=True, required=True)


class ScopeSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    unit_code = fields.Function(lambda s: s.unit.code)
    networks = fields.String()
    exclusions = fields.String()
    snmp_port = fields.Integer()
    methods = fields.String()
    schedule = fields.String(allow_none=True)
    paused = fields.Boolean(metadata={"description": "The schedule is paused: no scheduled run until resumed."})
    schedule_status = fields.String(metadata={
        "description": "by_hand (no schedule), scheduled, paused, collector (a collector at the site scans it on "
                       "its own schedule) or waiting_for_worker (no worker has taken up the schedule yet: start "
                       "`flask --app app worker`)."})
    next_run_at = UtcDateTime(allow_none=True, metadata={"description": "When the schedule runs next (UTC)."})
    collector_id = fields.Integer(allow_none=True)
    network = fields.Enum(ScopeNetwork, by_value=True)
    credential_ids = fields.Function(lambda s: [link.credential_id for link in s.credentials])
    created_at = UtcDateTime()


class ScopeWriteSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    unit_code = fields.String(validate=validate.Length(min=1, max=32))
    networks = fields.String(validate=validate.Length(min=1, max=4000))
    exclusions = fields.String(validate=validate.Length(max=4000))
    snmp_port = fields.Integer(validate=validate.Range(min=1, max=65535))
    methods = fields.String(validate=validate.Regexp(r"^(nmap|snmp)(,(nmap|snmp))?$",
                                                     error=SchemaMessage("nmap, snmp or nmap,snmp")))
    schedule = fields.String(allow_none=True, validate=validate.Length(max=100), metadata={
        "description": "A cron expression in the city's time (minute hour day month weekday, e.g. '0 2 * * *') or "
                       "an interval ('every 30m', 'every 6h', 'every 1d'); null: by hand only."})
    network = fields.Enum(ScopeNetwork, by_value=True, metadata={
        "description": "Which network the scope covers: secure (the dedicated secure network, mạng chuyên dùng), "
                       "internet (the office network on the Internet) or other (the default). Each device its "
                       "scans see records it (the device's network)."})
    credential_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1)),
                                 validate=validate.Length(max=20))


class ScopeCreateSchema(ScopeWriteSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    unit_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    networks = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class RunStartSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["nmap", "snmp"]))


class RunSchema(Schema):
    id = fields.Integer()
    scope_id = fields.Integer()
    kind = fields.String()
    status = fields.Enum(RunStatus, by_value=True)
    mode = fields.String()
    trigger = fields.Enum(RunTrigger, by_value=True, metadata={
        "description": "manual, schedule, retry (again after a run whose worker stopped) or collector."})
    attempt = fields.Integer()
    retry_of = fields.Integer(allow_none=True)
    worker = fields.String(metadata={"description": "The process carrying the run through (host:pid)."})
    queued_at = UtcDateTime()
    started_at = UtcDateTime(metadata={"description": "When a worker took the run."})
    finished_at = UtcDateTime(allow_none=True)
    heartbeat_at = UtcDateTime(metadata={"description": "The worker's last sign of life; a running run silent for "
                                                        "RUN_STALE_AFTER_S is failed."})
    duration_s = fields.Function(lambda r: round((r.finished_at - r.started_at).total_seconds(), 1)
                                 if r.finished_at else None)
    hosts_total = fields.Integer()
    hosts_done = fields.Integer()
    hosts_answered = fields.Integer()
    requests = fields.Integer()
    created = fields.Integer()
    changed = fields.Integer()
    unchanged = fields.Integer()
    missing = fields.Integer()
    relocations = fields.Integer(metadata={"description": "Devices of other units this run saw: relocations "
                                                          "raised for their officers to confirm."})
    errors = fields.List(fields.Dict())


class TargetSchema(Schema):
    """The last poll of one address: never the credential's secrets, only its name."""
    address = fields.String()
    device_id = fields.Integer(allow_none=True)
    credential = fields.Function(lambda t: t.credential.name if t.credential else None)
    status = fields.Enum(TargetStatus, by_value=True)
    reason = fields.String()
    requests = fields.Integer()
    polled_at = UtcDateTime()
