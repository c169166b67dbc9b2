"""The dashboards' pages: the overview (leadership and finance: the whole city, or a subtree), a unit's dashboard
(an officer's units only, as every query is cut to the caller's units) and the finance view (plans, scenarios,
approvals); each figure with its table (read when first opened), a CSV of it and a PNG of the figure (plotly's own
export, in the browser). Filters live in the URL. The figures are drawn by static/dashboards.js from JSON the page
carries in each figure's data-figure attribute: the page has no inline script."""
from pathlib import Path
from typing import Any
from urllib.parse import quote

import plotly
import plotly.io
from flask import Blueprint, Response, flash, g, redirect, request, send_file, send_from_directory, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from budget import scores
from catalog.services import get_version, list_versions
from core.caller import caller_scope, current_caller
from core.db import request_session
from core.errors import DomainError, NotFound
from core.i18n import Reason
from core.pages import field_errors, local_path, navigation, render_page
from core.permissions import Permission, requires
from dashboards import plotly_assets, records
from dashboards.board import CHARTS, VIEWS, Board, Filters, Links, root_of
from dashboards.figures import Chart
from dashboards.schemas import DashboardArgs
from dashboards.tables import as_csv
from inventory.unit_pages import organisation
from inventory.units import list_units

blp = Blueprint("dashboard_pages", __name__, template_folder="templates")
SCRIPTS = Path(__file__).resolve().parent / "static"
navigation(blp, "dashboard_pages.overview", _l("Dashboards"), Permission.INVENTORY_READ, order=12)
TITLES = {"overview": _l("Dashboards"), "unit": _l("Dashboard of %(unit)s"), "finance": _l("Finance")}


@blp.get("/dashboards")
@requires(Permission.INVENTORY_READ)
def overview():
    """The city's (or a subtree's, ?unit=) readiness, gaps, plans, lifecycle and scan coverage."""
    return _dashboard("overview", None)


@blp.get("/dashboards/units/<code>")
@requires(Permission.INVENTORY_READ)
def unit(code: str):
    """A unit's dashboard: its subtree within the caller's units."""
    organisation().unit(code)  # another unit's: absent (404), as on the unit's own page
    return _dashboard("unit", code)


@blp.get("/dashboards/finance")
@requires(Permission.INVENTORY_READ)
def finance():
    """The plans: by year, priority, category and unit, the targeted plan beside the blanket ones, the
    scenarios with their approval, and the replacement money ahead."""
    return _dashboard("finance", None)


@blp.get("/dashboards/figures/<name>.csv")
@requires(Permission.INVENTORY_READ)
def figure_csv(name: str):
    """The table behind a figure, as CSV, with the page's filters."""
    try:
        board, chart = figure(name, DashboardArgs().load(request.args.to_dict()))
    except ValidationError as refusal:
        return _refused(refusal)
    filename = f"{chart.name}-{board.root.code}.csv"
    return Response(as_csv(chart.table), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"})


@blp.get("/dashboards/figures/<name>.json")
@requires(Permission.INVENTORY_READ)
def figure_json(name: str):
    """The table behind a figure in the page's language, which the page shows when it is opened (the API's
    /api/dashboards/figures/<name> is the same in English)."""
    try:
        found = table_of(*figure(name, DashboardArgs().load(request.args.to_dict())))
    except ValidationError as refusal:
        return _refused(refusal)
    return found | {"recorded_on": found["recorded_on"].isoformat() if found["recorded_on"] else None}


def _refused(refusal: ValidationError) -> Response:
    by_field = field_errors(refusal)[0]
    return Response("; ".join(f"{k}: {' '.join(v)}" for k, v in by_field.items()), 422, mimetype="text/plain")


def figure(name: str, args: dict[str, Any]) -> tuple[Board, Chart]:
    """A figure of the caller's dashboard at `args`' filters; an unknown name is absent (404)."""
    if name not in CHARTS:
        raise NotFound(Reason("there is no figure %(name)r", name=name), field="name")
    board = board_for(None, args)
    return board, CHARTS[name](board)


def table_of(board: Board, chart: Chart) -> dict[str, Any]:
    """The figure's table as the API and the page read it: plain values, one link per row."""
    return {"name": chart.name, "title": chart.title, "unit": board.root.code,
            "recorded_on": board.recorded[0] if board.recorded else None,
            "columns": [vars(c) for c in chart.table.columns], "rows": chart.table.records(),
            "hrefs": [chart.table.href(i) for i in range(len(chart.table.rows))]}


@blp.post("/dashboards/record")
@requires(Permission.BUDGET_APPROVE)
def record():
    """Record today's readiness, gaps, lifecycle and coverage of every unit now, as the nightly run does."""
    session = request_session()
    count, _figures = scores.record_day(session, by=current_caller().name)
    records.record_day(session, current_caller().name)
    session.commit()
    flash(_("Readiness and gaps recorded for %(count)s units.", count=count), "success")
    return redirect(local_return())


@blp.get("/dashboards/plotly.min.js")
@requires(Permission.PUBLIC)
def plotly_js():
    return send_file(plotly_assets.BUNDLE, mimetype="text/javascript", max_age=7 * 24 * 3600)


@blp.get("/dashboards/assets/<path:filename>")
@requires(Permission.PUBLIC)
def asset(filename: str):
    return send_from_directory(SCRIPTS, filename)


@blp.get("/dashboards/plotly.css")
@requires(Permission.PUBLIC)
def plotly_css():
    return _style_sheet(plotly_assets.style_sheet())


@blp.get("/dashboards/plotly-<any(" + ", ".join(plotly_assets.parts()) + "):part>.css")
@requires(Permission.PUBLIC)
def plotly_part_css(part: str):
    return _style_sheet(plotly_assets.parts()[part])


def _style_sheet(text: str) -> Response:
    response = Response(text, mimetype="text/css")
    response.cache_control.max_age = 7 * 24 * 3600
    return response


@blp.app_template_filter("dict_with")
def dict_with(values: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**values, **changes}


@blp.app_template_filter("dict_without")
def dict_without(values: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in names}


def local_return() -> str:
    return local_path(request.form.get("next", ""), url_for(".overview"))


def _filters() -> tuple[dict[str, Any], dict[str, list[str]]]:
    try:
        return DashboardArgs().load(request.args.to_dict()), {}
    except ValidationError as refusal:
        known = {k: v for k, v in request.args.items() if k in DashboardArgs().fields and k not in refusal.messages}
        return DashboardArgs().load(known), field_errors(refusal)[0]


def board_for(code: str | None, args: dict[str, Any]) -> Board:
    session, scope = request_session(), caller_scope()
    root = root_of(session, code or args.get("unit"), scope)
    # Built once and filled in per row: url_for for each of a nation's 47,000 gaps took a second and a half.
    unit_page = url_for("dashboard_pages.unit", code="UNIT").split("UNIT")
    devices_page = url_for("catalog_pages.unit_compliance", code="UNIT", category="CATEGORY")
    before, after = devices_page.split("UNIT")
    middle, end = after.split("CATEGORY")
    links = Links(unit=lambda c: quote(c, safe="").join(unit_page),
                  devices=lambda c, category: f"{before}{quote(c, safe='')}{middle}{quote(category, safe='')}{end}",
                  collector=lambda i: url_for("collector_pages.collector", collector_id=i),
                  scenario=lambda i: url_for("budget_pages.scenario", scenario_id=i))
    if args.get("version"):
        try:
            get_version(session, args["version"])
        except NotFound as refusal:
            raise NotFound(refusal.reason, field="version") from None
    filters = Filters(args.get("category"), args.get("version"), args.get("year"), args.get("scenario"),
                      args.get("on"))
    board = Board(session, root, scope, filters, links, str(get_locale() or "vi"))
    board.asked_scenario()  # one of other units': refused with the filters, beside its field
    return board


# What plotly.js needs beyond the pages' policy: it clears the colour bars' style attributes (style="") as it
# draws them, and an empty style does nothing: the policy lets that one value through (by its hash), no other
# style attribute; its PNG export draws the figure's SVG through a blob: image of the page's own making.
PLOTLY_POLICY = {"style-src": "'self' 'unsafe-hashes' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
                 "img-src": "'self' data: blob:"}


def _dashboard(view: str, code: str | None):
    g.content_security_policy = PLOTLY_POLICY
    args, errors = _filters()
    try:
        board = board_for(code, args)
    except DomainError as refusal:  # a unit or version of the filters that is not there: said beside the field
        if refusal.field not in args or (refusal.field == "unit" and code is not None):
            raise
        errors = field_errors(refusal)[0]
        args = {k: v for k, v in args.items() if k != refusal.field}  # the links below leave it out
        board = board_for(code, args)
    charts = [CHARTS[name](board) for name in VIEWS[view]]
    return render_page(
        "dashboards/board.html", 422 if errors else 200, view=view, board=board, charts=charts,
        figures={c.name: _figure_json(c) for c in charts if not c.empty}, args=args, errors=errors,
        never_scanned=board.never_scanned() if view != "finance" else [],
        scenarios=board.scenarios if view == "finance" else [],
        title=TITLES[view] if view != "unit" else _("Dashboard of %(unit)s", unit=board.root.name),
        units=[(u.code, f"{u.name} ({u.code})") for u in _reachable_units()],
        versions=[(v.id, v.name) for v in list_versions(request_session())],
        scenario_options=[(s.id, f"{s.name} ({s.unit.code})") for s in board.scenarios],
        may_record=current_caller().may(Permission.BUDGET_APPROVE), plotly_parts=plotly_assets.parts(),
        plotly_version=plotly.__version__)  # in the scripts' addresses: a new plotly is fetched, not a cached one


def _reachable_units():
    return list_units(request_session(), include_inactive=False, scope=caller_scope())


def _figure_json(chart: Chart) -> str:
    """The figure as JSON for its div's data-figure attribute (escaped there by the template as any attribute),
    with no "<", ">" or "&" as such either."""
    text = plotly.io.to_json(chart.figure, validate=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
