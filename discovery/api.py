"""HTTP API of discovery: SNMP credentials (secrets are accepted, never returned), scan scopes and
scan runs. Scopes and runs are seen only by callers whose units include the scope's unit."""
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from core.caller import caller_scope, current_caller
from core.db import request_session
from core.encryption import SecretBox
from core.permissions import Permission, requires
from discovery import credentials, executors, scans, scopes
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
        credential = credentials.write_credential(session, secret_box(), args, None, current_caller().name)
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
        credential = credentials.write_credential(session, secret_box(), args, credential_id, current_caller().name)
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
        """The scan scopes of the caller's units, each with its schedule's state and next run."""
        session = request_session()
        return scopes.with_schedule(session, scopes.list_scopes(session, caller_scope()))

    @requires(Permission.SCANS_MANAGE)
    @scopes_blp.arguments(ScopeCreateSchema)
    @scopes_blp.response(201, ScopeSchema)
    def post(self, args):
        """A scope: a unit's networks less exclusions, inside the allowlist, overlapping no other scope."""
        session = request_session()
        scope = scopes.write_scope(session, None, args, scan_settings().allowlist, caller_scope(),
                                   current_caller().name)
        session.commit()
        return scopes.with_schedule(session, [scope])[0]


@scopes_blp.route("/scopes/<int(max=2147483647):scope_id>")
class ScopeById(MethodView):
    @requires(Permission.SCANS_RUN)
    @scopes_blp.response(200, ScopeSchema)
    def get(self, scope_id):
        """One scope, if it belongs to one of the caller's units, with its schedule's state and next run."""
        session = request_session()
        return scopes.with_schedule(session, [scopes.scope_in_reach(session, scope_id, caller_scope())])[0]

    @requires(Permission.SCANS_MANAGE)
    @scopes_blp.arguments(ScopeWriteSchema)
    @scopes_blp.response(200, ScopeSchema)
    def patch(self, args, scope_id):
        """Change a scope; what is not given stays."""
        session = request_session()
        scope = scopes.write_scope(session, scope_id, args, scan_settings().allowlist, caller_scope(),
                                   current_caller().name)
        session.commit()
        return scopes.with_schedule(session, [scope])[0]


@scopes_blp.route("/scopes/<int(max=2147483647):scope_id>/<any(pause, resume):action>")
class ScopeSchedule(MethodView):
    @requires(Permission.SCANS_MANAGE)
    @scopes_blp.response(200, ScopeSchema)
    def post(self, scope_id, action):
        """Pause the scope's schedule, or resume it; runs asked for by hand still run while it is paused."""
        session = request_session()
        scope = scopes.set_paused(session, scopes.scope_in_reach(session, scope_id, caller_scope()),
                                  action == "pause", current_caller().name)
        session.commit()
        return scopes.with_schedule(session, [scope])[0]


@scopes_blp.route("/scopes/<int(max=2147483647):scope_id>/runs")
class ScopeRuns(MethodView):
    @requires(Permission.SCANS_RUN)
    @scopes_blp.response(200, RunSchema(many=True))
    def get(self, scope_id):
        """The scope's latest runs, newest first; a run whose worker fell silent past the bound shows as failed."""
        session = request_session()
        scope = scopes.scope_in_reach(session, scope_id, caller_scope())
        fail_abandoned(session, scope.id)
        return scopes.list_runs(session, scope)

    @requires(Permission.SCANS_RUN)
    @scopes_blp.arguments(RunStartSchema)
    @scopes_blp.response(202, RunSchema)
    def post(self, args, scope_id):
        """Scan now: queue a scan (nmap) or a poll (snmp) of the scope for a worker; follow it at
        /api/scan-runs/{id}."""
        session = request_session()
        scope = scopes.scope_in_reach(session, scope_id, caller_scope())
        return start_scan(session, scope, args["kind"])


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
        if fail_abandoned(session, run.scope_id):
            session.refresh(run)
        return run


def start_scan(session, scope, kind: str):
    """Queue a scan of the scope as the caller, for the configured executor (the API and the pages)."""
    return scans.launch_run(session, scan_settings(), scope, kind, current_caller().name,
                            lambda run_id: executors.dispatch(current_app.config, run_id))


def fail_abandoned(session, scope_id: int) -> bool:
    """Whoever looks at a scope's runs sees a run whose process stopped as failed, not running for ever."""
    failed = scans.fail_abandoned_runs(session, stale_after_s=current_app.config["RUN_STALE_AFTER_S"],
                                       scope_id=scope_id)
    if failed:
        session.commit()
    return bool(failed)
