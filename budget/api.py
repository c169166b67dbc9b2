"""HTTP API of the budget: gaps and their review, transfers (proposed and carried out), plans computed and saved
as scenarios, finance's approval and the difference since, exports, and readiness. Every read is within the
caller's units (outside them: 403 for a unit, 404 for a scenario); every write is audited."""
from flask import Response
from flask.views import MethodView
from flask_babel import get_locale
from flask_smorest import Blueprint

from budget import scenarios, scores, services
from budget.reviews import resolve_gap
from budget.schemas import (
    ApprovalArgs,
    DayArgs,
    DifferenceSchema,
    GapReviewSchema,
    PlanArgs,
    PlanSchema,
    ResolutionArgs,
    ReviewArgs,
    ScenarioArgs,
    ScenarioDetailSchema,
    ScenarioSchema,
    SubtreeReadinessSchema,
    TransferArgs,
    TransferListSchema,
    TransferSchema,
    UnitGapsSchema,
)
from core.caller import caller_scope, current_caller
from core.db import request_session
from core.permissions import Permission, requires

budget_blp = Blueprint("budget", __name__, url_prefix="/api/budget",
                       description="Gaps, reallocation, plans and their approval, readiness")


@budget_blp.route("/units/<string:code>/gaps")
class UnitGaps(MethodView):
    @requires(Permission.INVENTORY_READ)
    @budget_blp.arguments(DayArgs, location="query")
    @budget_blp.response(200, UnitGapsSchema)
    def get(self, args, code):
        """The gaps of the unit and each active unit below it, per category: what the norms require (and which
        norms), the usable devices (their ids), shortfall, surplus, devices due for replacement and upgrade
        candidates; the units' facts; the totals over the subtree; and the reviews. A merged unit's devices
        count at its successor."""
        return services.unit_gaps(request_session(), code, caller_scope(), on=args.get("on"))


@budget_blp.route("/units/<string:code>/gaps/<string:category>/review")
class GapReview(MethodView):
    @requires(Permission.BUDGET_REVIEW)
    @budget_blp.arguments(ReviewArgs)
    @budget_blp.response(200, GapReviewSchema)
    def put(self, args, code, category):
        """Confirm or dispute one of your units' gaps (a dispute says why). A disputed gap leaves every plan
        until an administrator resolves it."""
        session = request_session()
        review = services.review(session, code, category, args["state"], args["comment"],
                                 by=current_caller().name, scope=caller_scope())
        session.commit()
        return review


@budget_blp.route("/units/<string:code>/gaps/<string:category>/resolution")
class GapResolution(MethodView):
    @requires(Permission.BUDGET_RESOLVE)
    @budget_blp.arguments(ResolutionArgs)
    @budget_blp.response(200, GapReviewSchema)
    def put(self, args, code, category):
        """Resolve a disputed gap: upheld (it returns to the plans) or withdrawn (it stays out)."""
        session = request_session()
        review = resolve_gap(session, code, category, args["state"], args["resolution"], by=current_caller().name,
                             scope=caller_scope())
        session.commit()
        return review


@budget_blp.route("/units/<string:code>/transfers")
class UnitTransfers(MethodView):
    @requires(Permission.INVENTORY_READ)
    @budget_blp.arguments(DayArgs, location="query")
    @budget_blp.response(200, TransferListSchema)
    def get(self, args, code):
        """Surplus usable devices matched to shortfalls within the subtree, nearest units first, best-suited
        devices first, never taking a unit below its own requirement; and the shortfalls left to upgrade or buy."""
        return services.transfer_list(request_session(), code, caller_scope(), on=args.get("on"))


@budget_blp.route("/transfers")
class Transfers(MethodView):
    @requires(Permission.BUDGET_REVIEW)
    @budget_blp.arguments(TransferArgs)
    @budget_blp.response(200, TransferSchema)
    def post(self, args):
        """Carry out a proposed transfer: the device moves to the receiving unit in the inventory (its history
        and the audit log say so). Both units must be yours; a transfer no longer proposed is refused (409)."""
        session = request_session()
        transfer = services.carry_out_transfer(session, args["unit"], args["device_id"], args["to_unit"],
                                               by=current_caller().name, scope=caller_scope())
        session.commit()
        return transfer


@budget_blp.route("/units/<string:code>/plan")
class UnitPlan(MethodView):
    @requires(Permission.INVENTORY_READ)
    @budget_blp.arguments(PlanArgs, location="query")
    @budget_blp.response(200, PlanSchema)
    def get(self, args, code):
        """The plan for the subtree, computed and not saved (caps_vnd repeats, one per year). A standard kit is
        saved as a scenario (POST /scenarios), whose JSON carries the kit."""
        args = dict(args)
        kind, on = args.pop("kind"), args.pop("on", None)
        return scenarios.compute(request_session(), code, caller_scope(), kind, args, on)


@budget_blp.route("/units/<string:code>/readiness")
class UnitReadiness(MethodView):
    @requires(Permission.INVENTORY_READ)
    @budget_blp.arguments(DayArgs, location="query")
    @budget_blp.response(200, SubtreeReadinessSchema)
    def get(self, args, code):
        """Readiness of the subtree and each unit (0-100, defined in the README), the city's three headline
        figures over the subtree, and the subtree's recorded daily scores."""
        return scores.readiness(request_session(), code, caller_scope(), args.get("on"))


@budget_blp.route("/scenarios")
class Scenarios(MethodView):
    @requires(Permission.INVENTORY_READ)
    @budget_blp.response(200, ScenarioSchema(many=True))
    def get(self):
        """Saved scenarios of your units, newest first."""
        return scenarios.list_for(request_session(), caller_scope())

    @requires(Permission.BUDGET_APPROVE)
    @budget_blp.arguments(ScenarioArgs)
    @budget_blp.response(201, ScenarioDetailSchema)
    def post(self, args):
        """Compute and save a plan for a unit's subtree: targeted (reviews applied, transfers first, upgrades,
        purchases under the yearly caps), blanket_age or standard_kit (to compare with)."""
        session = request_session()
        args = dict(args)
        unit, name, kind, on = args.pop("unit"), args.pop("name"), args.pop("kind"), args.pop("on", None)
        scenario = scenarios.save(session, unit, caller_scope(), name, kind, args, by=current_caller().name, on=on)
        session.commit()
        return scenario


@budget_blp.route("/scenarios/<int(max=2147483647):scenario_id>")
class ScenarioDetail(MethodView):
    @requires(Permission.INVENTORY_READ)
    @budget_blp.response(200, ScenarioDetailSchema)
    def get(self, scenario_id):
        """A saved scenario with its lines, transfers and the gaps its reviews left out."""
        return scenarios.get(request_session(), scenario_id, caller_scope())

    @requires(Permission.BUDGET_APPROVE)
    @budget_blp.response(204)
    def delete(self, scenario_id):
        """Delete a scenario that is not an approved plan."""
        session = request_session()
        scenarios.delete(session, scenario_id, caller_scope(), by=current_caller().name)
        session.commit()


@budget_blp.route("/scenarios/<int(max=2147483647):scenario_id>/approval")
class ScenarioApproval(MethodView):
    @requires(Permission.BUDGET_APPROVE)
    @budget_blp.arguments(ApprovalArgs)
    @budget_blp.response(200, ScenarioDetailSchema)
    def post(self, args, scenario_id):
        """Approve a targeted plan: it is frozen as a version, with who approved it and when."""
        session = request_session()
        scenario = scenarios.approve(session, scenario_id, caller_scope(), args["comment"], by=current_caller().name)
        session.commit()
        return scenario


@budget_blp.route("/scenarios/<int(max=2147483647):scenario_id>/difference")
class ScenarioDifference(MethodView):
    @requires(Permission.INVENTORY_READ)
    @budget_blp.arguments(DayArgs, location="query")
    @budget_blp.response(200, DifferenceSchema(many=True))
    def get(self, args, scenario_id):
        """Where the plan the inventory calls for today (same parameters) differs from the saved one, per unit,
        category and reason."""
        session = request_session()
        scenario = scenarios.get(session, scenario_id, caller_scope())
        return scenarios.difference(session, scenario, caller_scope(), args.get("on"))


@budget_blp.route("/scenarios/<int(max=2147483647):scenario_id>/export.<any(xlsx, pdf):kind>")
class ScenarioExport(MethodView):
    @requires(Permission.INVENTORY_READ)
    @budget_blp.response(200, content_type=scenarios.XLSX)
    def get(self, scenario_id, kind):
        """The plan for finance: XLSX (one sheet per view, totals as formulas) or a PDF summary, in your
        language."""
        return export_response(scenario_id, kind)


def export_response(scenario_id: int, kind: str) -> Response:
    body, mimetype, name = scenarios.export(request_session(), scenario_id, caller_scope(), kind,
                                            str(get_locale() or "vi"))
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})
