"""HTTP API of discovery: SNMP credentials (secrets are accepted, never returned), scan scopes and
scan runs. Scopes and runs are seen only by callers whose units include the scope's unit."""
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from core.audit import audit
from core.caller import caller_scope
from core.db import request_session
from core.encryption import SecretBox
from core.permissions import Permission, requires
from discovery import credentials, scans, scopes
from discovery.schemas import (
    CredentialCreateSchema,
    CredentialSchema,
    CredentialWriteSchema,
    RunSchema,
    RunStartSchema,
    ScopeCreateSchema,
    ScopeSchema,
    ScopeWriteSchema,
    TargetSchema,
)
from inventory.units import unit_in_scope

credentials_blp = Blueprint("credentials", __name__, url_prefix="/api/credentials",
                            description="SNMP credentials, stored encrypted")


def secret_box() -> SecretBox:
    return current_app.extensions["secret_box"]


@credentials_blp.route("")
class Credentials(MethodView):
    @requires(Permission.SCANS_MANAGE)
    @credentials_blp.response(200, CredentialSchema(many=True))
    def get(self):
        """SNMP credentials, without their secrets."""
        return credentials.list_credentials(request_session())

    @requires(Permission.SCANS_MANAGE)
    @credentials_blp.arguments(CredentialCreateSchema)
    @credentials_blp.response(201, CredentialSchema)
    def post(self, args):
        """Store an SNMP credential; its community or keys are encrypted and never shown again."""
        session = request_session()
        credential = credentials.save_credential(session, secret_box(), args)
        audit("credential.create", "credential", credential.id, after=CredentialSchema().dump(credential))
        session.commit()
        return credential


@credentials_blp.route("/<int(max=2147483647):credential_id>")
class CredentialById(MethodView):
    @requires(Permission.SCANS_MANAGE)
    @credentials_blp.response(200, CredentialSchema)
    def get(self, credential_id):
        """One credential, without its secrets."""
        return credentials.get_credential(request_session(), credential_id)

    @requires(Permission.SCANS_MANAGE)
    @credentials_blp.arguments(CredentialWriteSchema)
    @credentials_blp.response(200, CredentialSchema)
    def patch(self, args, credential_id):
        """Change a credential; secrets not given are kept."""
        session = request_session()
        before = CredentialSchema().dump(credentials.get_credential(session, credential_id))
        credential = credentials.save_credential(session, secret_box(), args, credential_id)
        changed = sorted(k for k in args if k in credentials.SECRET_FIELDS)
        audit("credential.update", "credential", credential.id, before=before,
              after=CredentialSchema().dump(credential), detail=f"secrets replaced: {', '.join(changed)}" if changed else "")
        session.commit()
        return credential


scopes_blp = Blueprint("scopes", __name__, url_prefix="/api", description="Scan scopes and their runs")


def scan_settings() -> scans.ScanSettings:
    return scans.settings_from_config(current_app.config)


@scopes_blp.route("/scopes")
class Scopes(MethodView):
    @requires(Permission.SCANS_RUN)
    @scopes_blp.response(200, ScopeSchema(many=True))
    def get(self):
        """The scan scopes of the caller's units."""
        return scopes.list_scopes(request_session(), caller_scope())

    @requires(Permission.SCANS_MANAGE)
    @scopes_blp.arguments(ScopeCreateSchema)
    @scopes_blp.response(201, ScopeSchema)
    def post(self, args):
        """A scope: a unit's networks less exclusions, inside the allowlist, overlapping no other scope."""
        session = request_session()
        unit_in_scope(session, args["unit_code"], caller_scope())
        scope = scopes.save_scope(session, None, scan_settings().allowlist, args)
        audit("scope.create", "scan_scope", scope.id, after=ScopeSchema().dump(scope))
        session.commit()
        return scope


@scopes_blp.route("/scopes/<int(max=2147483647):scope_id>")
class ScopeById(MethodView):
    @requires(Permission.SCANS_RUN)
    @scopes_blp.response(200, ScopeSchema)
    def get(self, scope_id):
        """One scope, if it belongs to one of the caller's units."""
        return scopes.scope_in_reach(request_session(), scope_id, caller_scope())

    @requires(Permission.SCANS_MANAGE)
    @scopes_blp.arguments(ScopeWriteSchema)
    @scopes_blp.response(200, ScopeSchema)
    def patch(self, args, scope_id):
        """Change a scope; what is not given stays."""
        session = request_session()
        before = ScopeSchema().dump(scopes.scope_in_reach(session, scope_id, caller_scope()))
        if "unit_code" in args:
            unit_in_scope(session, args["unit_code"], caller_scope())
        scope = scopes.save_scope(session, scope_id, scan_settings().allowlist, args)
        audit("scope.update", "scan_scope", scope.id, before=before, after=ScopeSchema().dump(scope))
        session.commit()
        return scope


@scopes_blp.route("/scopes/<int(max=2147483647):scope_id>/runs")
class ScopeRuns(MethodView):
    @requires(Permission.SCANS_RUN)
    @scopes_blp.response(200, RunSchema(many=True))
    def get(self, scope_id):
        """The scope's latest runs, newest first; a run whose worker fell silent past the bound shows as failed."""
        session = request_session()
        scope = scopes.scope_in_reach(session, scope_id, caller_scope())
        _fail_abandoned(session, scope.id)
        return scopes.list_runs(session, scope)

    @requires(Permission.SCANS_RUN)
    @scopes_blp.arguments(RunStartSchema)
    @scopes_blp.response(202, RunSchema)
    def post(self, args, scope_id):
        """Start a scan (nmap) or a poll (snmp) of the scope; follow it at /api/scan-runs/{id}."""
        session = request_session()
        settings = scan_settings()
        scope = scopes.scope_in_reach(session, scope_id, caller_scope())
        run = scans.start_run(session, scope, args["kind"], settings)
        audit(f"scan.{args['kind']}", "scan_run", run.id, detail=f"scope {scope.name}")
        session.commit()
        thread = scans.execute_in_background(current_app.extensions["sessions"], run.id,
                                             current_app.extensions["secret_box"], settings)
        running = current_app.extensions.setdefault("scan_threads", [])
        running[:] = [*(t for t in running if t.is_alive()), thread]  # kept so that shutdown can wait for them
        return run


@scopes_blp.route("/scopes/<int(max=2147483647):scope_id>/snmp-targets")
class ScopeTargets(MethodView):
    @requires(Permission.SCANS_RUN)
    @scopes_blp.response(200, TargetSchema(many=True))
    def get(self, scope_id):
        """Each address that answered SNMP once: the device, the credential that worked, and what went
        wrong at the last poll, if anything."""
        session = request_session()
        return scopes.list_targets(session, scopes.scope_in_reach(session, scope_id, caller_scope()))


@scopes_blp.route("/scan-runs/<int(max=2147483647):run_id>")
class RunById(MethodView):
    @requires(Permission.SCANS_RUN)
    @scopes_blp.response(200, RunSchema)
    def get(self, run_id):
        """A run: its progress while it runs, then its counts and errors."""
        session = request_session()
        run = scopes.run_in_reach(session, run_id, caller_scope())
        if _fail_abandoned(session, run.scope_id):
            session.refresh(run)
        return run


def _fail_abandoned(session, scope_id: int) -> bool:
    """Whoever looks at a scope's runs sees a run whose process stopped as failed, not running for ever."""
    failed = scans.fail_abandoned_runs(session, stale_after_s=current_app.config["RUN_STALE_AFTER_S"],
                                       scope_id=scope_id)
    if failed:
        session.commit()
    return bool(failed)
