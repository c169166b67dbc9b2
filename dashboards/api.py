"""HTTP API of the dashboards: the table behind each figure, with the same filters as the pages, within the
caller's units (another unit: 403, as everywhere)."""
from flask.views import MethodView
from flask_smorest import Blueprint

from core.permissions import Permission, requires
from dashboards.pages import figure, table_of
from dashboards.schemas import DashboardArgs, FigureTableSchema

dashboards_blp = Blueprint("dashboards_api", __name__, url_prefix="/api/dashboards",
                           description="The numbers behind the dashboards' figures")


@dashboards_blp.route("/figures/<string:name>")
class FigureTable(MethodView):
    @requires(Permission.INVENTORY_READ)
    @dashboards_blp.arguments(DashboardArgs, location="query")
    @dashboards_blp.response(200, FigureTableSchema)
    def get(self, args, name):
        """The table behind a figure (readiness-tree, gap-heatmap, readiness-history, headlines, lifecycle,
        device-age, scan-coverage, collectors, budget-by-year, budget-by-category, budget-by-unit,
        plan-comparison) for the subtree of ?unit= (default: the caller's top unit)."""
        return table_of(*figure(name, args))
