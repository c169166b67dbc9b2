"""Pages. The home page says what the service holds and what to do next."""
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, make_response, redirect, render_template, request, send_from_directory, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import lazy_gettext as _l

from accounts import audit, services
from accounts.errors import TooManyAttempts, Unauthenticated
from accounts.permissions import Permission, requires
from accounts.web import caller_scope, csrf, current_caller, end_session, password_check_slot, start_session
from dashboards.i18n import LANGUAGES
from discovery.scopes import list_scopes
from inventory.db import request_session
from inventory.devices import device_counts_by_unit
from inventory.units import list_units

blp = Blueprint("dashboards", __name__, template_folder="templates")
# Style and (to come) scripts of the pages, as files: the Content-Security-Policy refuses them inline.
ASSETS = Path(__file__).resolve().parent / "static"

UNIT_KIND_NAMES = {"city": _l("city"), "agency": _l("agency"), "ward": _l("ward"), "commune": _l("commune"),
                   "department": _l("department"), "other": _l("other")}


@blp.app_context_processor
def locale_in_templates():
    return {"get_locale": get_locale}


@blp.get("/assets/<path:filename>")
@requires(Permission.PUBLIC)
def asset(filename: str):
    return send_from_directory(ASSETS, filename)


@blp.get("/")
@requires(Permission.INVENTORY_READ)
def home():
    session = request_session()
    units = list_units(session, include_inactive=False, scope=caller_scope())
    counts = device_counts_by_unit(session, scope=caller_scope())
    may_scan = current_caller().may(Permission.SCANS_RUN)
    scopes = list_scopes(session, caller_scope())[:3] if may_scan else []
    page = render_template("home.html", units=units, counts=counts, device_total=sum(counts.values()), scopes=scopes,
                           example=any(u.is_example for u in units), kind_names=UNIT_KIND_NAMES,
                           may_manage_units=current_caller().may(Permission.UNITS_MANAGE))
    response = make_response(page)
    if request.args.get("lang") in LANGUAGES:  # English on request, remembered for the next pages
        response.set_cookie("lang", request.args["lang"], max_age=365 * 24 * 3600, samesite="Lax")
    return response


@blp.route("/sign-in", methods=["GET", "POST"])
@requires(Permission.PUBLIC)
def sign_in_page():
    next_page = _local_path(request.args.get("next", "/"))
    if request.method == "GET":
        return render_template("sign_in.html", next=next_page, username="", error=None)
    csrf.protect()  # no session yet, so the general check does not apply: a forged sign-in is refused here
    db = request_session()
    username = request.form.get("username", "")
    try:
        with password_check_slot():
            user = services.sign_in(db, username, request.form.get("password", ""), request.remote_addr or "")
    except (Unauthenticated, TooManyAttempts) as refusal:
        db.commit()  # keep the failure: it counts towards throttling
        status = 429 if isinstance(refusal, TooManyAttempts) else 401
        return render_template("sign_in.html", next=next_page, username=username,
                               error=_sign_in_refusal(refusal)), status
    start_session(user.id)
    audit.record(db, user.username, "session.sign_in", "user", user.id)
    db.commit()
    return redirect(next_page)


@blp.post("/sign-out")
@requires(Permission.SIGNED_IN)
def sign_out_page():
    end_session()
    return redirect(url_for("dashboards.sign_in_page"))


def _sign_in_refusal(refusal: Unauthenticated | TooManyAttempts) -> str:
    """The refusal in the page's language; a delay's text holds its number of seconds."""
    wait_s = (refusal.details or {}).get("retry_after_s")
    if wait_s is None:
        return _(refusal.reason)
    return ngettext("too many failed sign-ins for this account; try again in %(num)d second",
                    "too many failed sign-ins for this account; try again in %(num)d seconds", wait_s)


def _local_path(target: str) -> str:
    """Only a path on this site: an open redirect would let a link send a user elsewhere after sign-in."""
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else "/"
