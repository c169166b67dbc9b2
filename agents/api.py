"""HTTP of the inventory agents: the endpoint agents report to (`fusioninventory-agent --server
https://HOST/agents/SECRET`), speaking the OCS/GLPI XML exchange, and the API that issues and revokes
enrolments, lists the agents that reported and imports inventory files. Everything about enrolments is within
the caller's units; every change is audited."""
from dataclasses import dataclass

from flask import Blueprint as FlaskBlueprint
from flask import Response, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from agents import services
from agents.inventory import AgentRefusal
from agents.models import Enrolment
from agents.schemas import (
    AgentReportSchema,
    EnrolmentArgs,
    EnrolmentSchema,
    ImportedSchema,
    InventoryFilesSchema,
    IssuedEnrolmentSchema,
)
from core.caller import caller_scope, current_caller
from core.db import request_session
from core.permissions import Permission, requires

agent_endpoint = FlaskBlueprint("agent_endpoint", __name__)
enrolments_blp = Blueprint("agent_enrolments", __name__, url_prefix="/api/agent-enrolments",
                           description="Inventory agents' enrolments and the agents that reported")
imports_blp = Blueprint("agent_imports", __name__, url_prefix="/api/units",
                        description="Inventory files of a unit's PCs written offline")
REPLY_TYPE = "application/x-compress-zlib"
REFUSAL_STATUS = {"too_large": 413}  # anything else refused is the agent's request at fault: 400


@agent_endpoint.route("/agents/<string:secret>", methods=["POST"], strict_slashes=False)
@requires(Permission.PUBLIC)  # the secret in the path is the agent's credential
def report(secret: str):
    """An agent's PROLOG (answered SEND) or INVENTORY (stored in the enrolment's unit). An unknown secret is
    401, a revoked one 403; a request refused stores nothing, answers why, and is counted on the enrolment."""
    session = request_session()
    enrolment = services.authenticate(session, secret)
    try:
        answer = services.receive(session, enrolment, request.get_data(cache=False))
    except AgentRefusal as refusal:
        session.rollback()
        services.count_refusal(session, enrolment.id, refusal)
        session.commit()
        return Response(refusal.reason + "\n", status=REFUSAL_STATUS.get(refusal.code, 400), mimetype="text/plain")
    session.commit()
    return Response(answer, mimetype=REPLY_TYPE)


@enrolments_blp.route("")
class Enrolments(MethodView):
    @requires(Permission.INVENTORY_READ)
    @enrolments_blp.response(200, EnrolmentSchema(many=True))
    def get(self):
        """The enrolments of the caller's units, with their last contact and what was accepted and refused."""
        return services.enrolments(request_session(), caller_scope())

    @requires(Permission.AGENTS_MANAGE)
    @enrolments_blp.arguments(EnrolmentArgs)
    @enrolments_blp.response(201, IssuedEnrolmentSchema)
    def post(self, args):
        """Issue an enrolment for one of your units. Its secret is in this answer only: give agents
        `server_url`."""
        session = request_session()
        enrolment, secret = services.issue(session, args["unit_code"], args["name"], by=current_caller().name,
                                           scope=caller_scope(), keep_last_user=args["keep_last_user"])
        session.commit()
        return Issued(enrolment, secret, server_url(secret))


@enrolments_blp.route("/<int(max=2147483647):enrolment_id>")
class EnrolmentView(MethodView):
    @requires(Permission.INVENTORY_READ)
    @enrolments_blp.response(200, EnrolmentSchema)
    def get(self, enrolment_id):
        """One enrolment of your units: its last contact, the inventories accepted and the refusals by reason."""
        return services.enrolment_in_scope(request_session(), enrolment_id, caller_scope())

    @requires(Permission.AGENTS_MANAGE)
    @enrolments_blp.response(200, EnrolmentSchema)
    def delete(self, enrolment_id):
        """Revoke: its agents are refused (403) from now on. The record and its agents stay."""
        session = request_session()
        enrolment = services.revoke(session, enrolment_id, by=current_caller().name, scope=caller_scope())
        session.commit()
        return enrolment


@enrolments_blp.route("/<int(max=2147483647):enrolment_id>/agents")
class EnrolmentAgents(MethodView):
    @requires(Permission.INVENTORY_READ)
    @enrolments_blp.response(200, AgentReportSchema(many=True))
    def get(self, enrolment_id):
        """The agents that reported under the enrolment, the latest first."""
        session = request_session()
        return services.reports(session, services.enrolment_in_scope(session, enrolment_id, caller_scope()))


@imports_blp.route("/<string:code>/agent-inventories")
class InventoryImport(MethodView):
    @requires(Permission.INVENTORY_WRITE)
    @imports_blp.arguments(InventoryFilesSchema, location="files")
    @imports_blp.response(200, ImportedSchema(many=True))
    def post(self, files, code):
        """Inventory files (`fusioninventory-agent --local DIR`, `fusioninventory-inventory`; XML, zlib or gzip)
        of the unit's PCs, stored as their agents' reports would be. Each file is stored or refused with its
        reason."""
        session = request_session()
        results = services.import_files(session, code, [(f.filename or "", f.read()) for f in files["files"]],
                                        by=current_caller().name, scope=caller_scope())
        session.commit()
        return results


@dataclass(frozen=True)
class Issued:
    """An enrolment as issued: the enrolment's fields, and the secret this once."""
    enrolment: Enrolment
    secret: str
    server_url: str

    def __getattr__(self, name: str):
        return getattr(self.enrolment, name)


def server_url(secret: str) -> str:
    return url_for("agent_endpoint.report", secret=secret, _external=True)
