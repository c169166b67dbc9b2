"""HTTP of collectors: the routes a collector at a site calls with its token (`collector_endpoint`: its
configuration, its batches, its heartbeat; bearer token only, no session, no CSRF), and the API that issues,
revokes and follows collectors and assigns them scopes (`collectors_blp`), within the caller's units."""
from typing import Any

import orjson
from flask import Blueprint as FlaskBlueprint
from flask import current_app, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy.exc import IntegrityError

from core.caller import caller_scope, current_caller
from core.db import request_session
from core.i18n import Reason
from core.permissions import Permission, requires
from discovery.collectors import service, wire
from discovery.models import BatchStatus, Collector
from inventory.schemas import UtcDateTime

collector_endpoint = FlaskBlueprint("collector_endpoint", __name__, url_prefix="/api/collector")
collectors_blp = Blueprint("collectors", __name__, url_prefix="/api/collectors",
                           description="Collectors at sites: issued, revoked, their scopes and the batches they sent")
_INT32 = 2**31 - 1


def own_credentials(view):
    """A route that checks a collector's token itself: the accounts hook does not read its Authorization
    header as an API token (see accounts.web.authorise)."""
    view.own_credentials = True
    return view


@collector_endpoint.url_value_preprocessor
def allow_large_batches(endpoint: str | None, _values: Any) -> None:
    # Runs before every before_request hook (one reads the JSON body to look for NULs): a batch may be larger
    # than the uploads MAX_CONTENT_LENGTH allows elsewhere, up to MAX_BATCH_BYTES (413 past it).
    if endpoint == "collector_endpoint.batches":
        request.max_content_length = wire.MAX_BATCH_BYTES


def _collector(touch: bool = True) -> Collector:
    """The collector of the request's bearer token (401, 403), its contact and version recorded unless
    `touch` is False (the caller records them after its reads)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    collector = service.authenticate(request_session(), token.strip() if scheme.lower() == "bearer" else None)
    if touch:
        service.touch(collector, request.headers.get(wire.VERSION_HEADER))
    return collector


@collector_endpoint.get("/config")
@requires(Permission.PUBLIC)
@own_credentials
def config():
    """The scopes assigned to the calling collector, with their credentials encrypted for it."""
    session = request_session()
    collector = _collector()
    body = service.config_for(session, current_app.extensions["secret_box"], collector)
    session.commit()
    return jsonify(body)


@collector_endpoint.post("/batches")
@requires(Permission.PUBLIC)
@own_credentials
def batches():
    """A batch of what a collector found: 201 stored, 200 duplicate, 422 rejected (kept), 400 no batch."""
    session = request_session()
    body = _json_body()  # past MAX_BATCH_BYTES, 413 before this
    if body is None:
        _collector()  # 401 or 403 first: an unknown caller learns nothing of the body
        raise service.UnreadableBatch(Reason("the body is not JSON (send the batch as application/json)"))
    for attempt in (1, 2):
        # Its contact is written last: a write first would hold SQLite's one writer's lock while the batch is
        # checked, and the other collectors' batches would wait for that too.
        collector = _collector(touch=False)
        try:
            received = service.receive_batch(session, collector, body,
                                              missing_after_scans=current_app.config["MISSING_AFTER_SCANS"])
            service.touch(collector, request.headers.get(wire.VERSION_HEADER))
            session.commit()
            break
        except IntegrityError:  # the same batch id kept meanwhile by another request: this one is its duplicate
            session.rollback()
            if attempt == 2:
                raise
    return jsonify(received.body), received.status_code


def _json_body() -> Any:
    """The request's JSON, read by orjson (the standard library's decoder took a twentieth of a batch's time);
    None when it is not JSON."""
    if not request.is_json:
        return None
    try:
        return orjson.loads(request.get_data(cache=True))
    except orjson.JSONDecodeError:
        return None


@collector_endpoint.post("/heartbeat")
@requires(Permission.PUBLIC)
@own_credentials
def heartbeat():
    """The collector's sign of life: its backlog, its last error and its clock."""
    session = request_session()
    collector = _collector()
    body = service.heartbeat(session, collector, request.get_json(silent=True))
    session.commit()
    return jsonify(body)


# Management ------------------------------------------------------------------------------------------------------

class CollectorSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    unit_code = fields.String()
    prefix = fields.String(metadata={"description": "the token's first characters"})
    created_by = fields.String()
    created_at = UtcDateTime()
    revoked_at = UtcDateTime(allow_none=True)
    revoked_by = fields.String(allow_none=True)
    last_contact_at = UtcDateTime(allow_none=True)
    version = fields.String()
    backlog = fields.Integer(metadata={"description": "batches waiting on its disk, as it last said"})
    clock_skew_s = fields.Float(allow_none=True, metadata={"description": "its clock minus the server's"})
    last_error = fields.String()
    batches = fields.Integer()
    duplicates = fields.Integer()
    rejected = fields.Integer()
    scope_ids = fields.List(fields.Integer())
    state = fields.String(metadata={"description": "never_seen, ok, silent (no contact for 15 minutes), revoked"})


class IssuedCollectorSchema(CollectorSchema):
    token = fields.String(metadata={"description": "shown this once; only its digest is kept"})
    command = fields.String(metadata={"description": "what to run at the site"})


class CollectorArgs(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    unit_code = fields.String(required=True, validate=validate.Length(min=1, max=32))


class ScopeIdsArgs(Schema):
    scope_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=_INT32)), required=True,
                            validate=validate.Length(max=1000))


class BatchRecordSchema(Schema):
    batch_id = fields.String()
    sequence = fields.Integer()
    scope_id = fields.Integer(allow_none=True)
    run_id = fields.Integer(allow_none=True)
    status = fields.Enum(BatchStatus, by_value=True)
    reason = fields.String()
    observations = fields.Integer()
    collected_at = UtcDateTime(allow_none=True)
    sent_at = UtcDateTime(allow_none=True)
    received_at = UtcDateTime()


class BatchDetailSchema(BatchRecordSchema):
    body = fields.Dict(allow_none=True, metadata={"description": "a rejected batch as it came"})


RECORD_FIELDS = ("id", "name", "prefix", "created_by", "created_at", "revoked_at", "revoked_by", "last_contact_at",
                 "version", "backlog", "clock_skew_s", "last_error", "batches", "duplicates", "rejected")


def collector_view(session, collector: Collector) -> dict[str, Any]:
    """A collector as the API and the pages show it: its record, its scopes and its state."""
    values = {name: getattr(collector, name) for name in RECORD_FIELDS}
    return values | {"unit_code": collector.unit.code, "state": service.state_of(collector),
                     "scope_ids": [s.id for s in service.assigned_scopes(session, collector)]}


def server_command(token: str) -> str:
    return f"COLLECTOR_TOKEN={token} python -m discovery.collectors --server {request.host_url.rstrip('/')}"


@collectors_blp.route("")
class Collectors(MethodView):
    @requires(Permission.SCANS_RUN)
    @collectors_blp.response(200, CollectorSchema(many=True))
    def get(self):
        """The collectors of the caller's units, with their last contact, backlog and state."""
        session = request_session()
        return [collector_view(session, c) for c in service.collectors(session, caller_scope())]

    @requires(Permission.SCANS_MANAGE)
    @collectors_blp.arguments(CollectorArgs)
    @collectors_blp.response(201, IssuedCollectorSchema)
    def post(self, args):
        """Issue a collector for one of your units. Its token is in this answer only, with the command to run at
        the site."""
        session = request_session()
        collector, token = service.issue(session, current_app.extensions["secret_box"], args["unit_code"],
                                         args["name"], current_caller().name, scope=caller_scope())
        session.commit()
        return collector_view(session, collector) | {"token": token, "command": server_command(token)}


@collectors_blp.route("/<int(max=2147483647):collector_id>")
class CollectorView(MethodView):
    @requires(Permission.SCANS_RUN)
    @collectors_blp.response(200, CollectorSchema)
    def get(self, collector_id):
        """One collector of your units: its last contact, version, backlog, clock skew, counts and scopes."""
        session = request_session()
        return collector_view(session, service.collector_in_scope(session, collector_id, caller_scope()))


@collectors_blp.route("/<int(max=2147483647):collector_id>/revoke")
class CollectorRevoke(MethodView):
    @requires(Permission.SCANS_MANAGE)
    @collectors_blp.response(200, CollectorSchema)
    def post(self, collector_id):
        """Revoke: its token is refused (403) from now on and nothing it sends is stored."""
        session = request_session()
        collector = service.revoke(session, collector_id, current_caller().name, scope=caller_scope())
        session.commit()
        return collector_view(session, collector)


@collectors_blp.route("/<int(max=2147483647):collector_id>/scopes")
class CollectorScopes(MethodView):
    @requires(Permission.SCANS_MANAGE)
    @collectors_blp.arguments(ScopeIdsArgs)
    @collectors_blp.response(200, CollectorSchema)
    def put(self, args, collector_id):
        """The scopes this collector scans, exactly: each of its unit or below; others it had go back to the
        server's own scans."""
        session = request_session()
        service.assign_scopes(session, collector_id, args["scope_ids"], current_caller().name, scope=caller_scope())
        session.commit()
        return collector_view(session, service.collector_in_scope(session, collector_id, caller_scope()))


@collectors_blp.route("/<int(max=2147483647):collector_id>/batches")
class CollectorBatches(MethodView):
    @requires(Permission.SCANS_RUN)
    @collectors_blp.response(200, BatchRecordSchema(many=True))
    def get(self, collector_id):
        """Its latest 100 batches, newest first: accepted with their run, rejected with the reason."""
        session = request_session()
        return service.batches(session, service.collector_in_scope(session, collector_id, caller_scope()))


@collectors_blp.route("/<int(max=2147483647):collector_id>/batches/<string:batch_id>")
class CollectorBatchView(MethodView):
    @requires(Permission.SCANS_RUN)
    @collectors_blp.response(200, BatchDetailSchema)
    def get(self, collector_id, batch_id):
        """One batch by its id; a rejected one with its body as it came, for an operator to see what was wrong."""
        session = request_session()
        return service.batch_of(session, service.collector_in_scope(session, collector_id, caller_scope()), batch_id)
