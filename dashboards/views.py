"""Pages. The home page says what the service holds and what to do next."""
from flask import Blueprint, make_response, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from accounts.permissions import Permission, requires
from dashboards.i18n import LANGUAGES
from inventory.db import request_session
from inventory.devices import device_counts_by_unit
from inventory.units import list_units

blp = Blueprint("dashboards", __name__, template_folder="templates")

UNIT_KIND_NAMES = {"city": _l("city"), "agency": _l("agency"), "ward": _l("ward"), "commune": _l("commune"),
                   "department": _l("department"), "other": _l("other")}


@blp.app_context_processor
def locale_in_templates():
    return {"get_locale": get_locale}


@blp.get("/")
@requires(Permission.PUBLIC)
def home():
    session = request_session()
    units = list_units(session, include_inactive=False)
    counts = device_counts_by_unit(session)
    page = render_template("home.html", units=units, counts=counts, device_total=sum(counts.values()),
                           example=any(u.is_example for u in units), kind_names=UNIT_KIND_NAMES)
    response = make_response(page)
    if request.args.get("lang") in LANGUAGES:  # English on request, remembered for the next pages
        response.set_cookie("lang", request.args["lang"], max_age=365 * 24 * 3600, samesite="Lax")
    return response
