"""Pages. The home page says what the service holds and what to do next."""
from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

from core.caller import caller_scope, current_caller
from core.db import request_session
from core.pages import page_response
from core.permissions import Permission, requires
from discovery.scopes import list_scopes
from inventory.devices import device_counts_by_unit
from inventory.units import list_units

blp = Blueprint("dashboards", __name__, template_folder="templates")

UNIT_KIND_NAMES = {"city": _l("city"), "agency": _l("agency"), "ward": _l("ward"), "commune": _l("commune"),
                   "department": _l("department"), "other": _l("other")}


@blp.get("/")
@requires(Permission.INVENTORY_READ)
def home():
    session = request_session()
    units = list_units(session, include_inactive=False, scope=caller_scope())
    counts = device_counts_by_unit(session, scope=caller_scope())
    may_scan = current_caller().may(Permission.SCANS_RUN)
    scopes = list_scopes(session, caller_scope())[:3] if may_scan else []
    return page_response(render_template(
        "home.html", units=units, counts=counts, device_total=sum(counts.values()), scopes=scopes,
        example=any(u.is_example for u in units), kind_names=UNIT_KIND_NAMES,
        may_manage_units=current_caller().may(Permission.UNITS_MANAGE)))
