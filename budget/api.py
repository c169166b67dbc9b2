"""HTTP API of the budget: a unit's gaps and the transfers that cover shortfalls from surpluses, read from the
inventory and the catalog's stored compliance. Read only, within the caller's units (outside them: 403)."""
from flask.views import MethodView
from flask_smorest import Blueprint

from budget import services
from budget.schemas import DayArgs, TransferListSchema, UnitGapsSchema
from core.caller import caller_scope
from core.db import request_session
from core.permissions import Permission, requires

budget_blp = Blueprint("budget", __name__, url_prefix="/api/budget",
                       description="Gaps per unit and category, and reallocation of surplus devices")


@budget_blp.route("/units/<string:code>/gaps")
class UnitGaps(MethodView):
    @requires(Permission.INVENTORY_READ)
    @budget_blp.arguments(DayArgs, location="query")
    @budget_blp.response(200, UnitGapsSchema)
    def get(self, args, code):
        """The gaps of the unit and each active unit below it, per category: what the norms require (and which
        norms), the usable devices (their ids), shortfall, surplus, devices due for replacement and upgrade
        candidates; the units' facts; and the totals over the subtree. A merged unit's devices count at its
        successor."""
        return services.unit_gaps(request_session(), code, caller_scope(), on=args.get("on"))


@budget_blp.route("/units/<string:code>/transfers")
class UnitTransfers(MethodView):
    @requires(Permission.INVENTORY_READ)
    @budget_blp.arguments(DayArgs, location="query")
    @budget_blp.response(200, TransferListSchema)
    def get(self, args, code):
        """Surplus usable devices matched to shortfalls within the subtree, nearest units first, best-suited
        devices first, never taking a unit below its own requirement; and the shortfalls left to upgrade or buy."""
        return services.transfer_list(request_session(), code, caller_scope(), on=args.get("on"))
