"""Pages of the inventory agents: the enrolments of the caller's units (issued and revoked here, its secret
shown once, with the command for the unit's PCs), the agents that reported under one with what was refused,
and the upload of inventory files written offline.

The pages call agents.services as the API does (the same checks, the same audit entries), within the caller's
units: another unit's enrolment is as absent as a missing one (404)."""
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from agents import services
from agents.api import server_url
from agents.models import AgentReport, Enrolment
from agents.schemas import EnrolmentArgs
from core.caller import caller_scope, current_caller
from core.db import request_session
from core.errors import DomainError
from core.pages import field_errors, load_form, navigation, refusal_status, render_page
from core.permissions import Permission, requires
from inventory.units import list_units

blp = Blueprint("agent_pages", __name__, template_folder="templates")
navigation(blp, "agent_pages.enrolments", _l("Inventory agents"), Permission.INVENTORY_READ, order=48)

# Why an agent's request was refused (agents.inventory.AgentRefusal.code), as the pages say it.
REFUSALS = {"too_large": _l("too large"), "compression": _l("neither XML nor valid zlib or gzip"),
            "forbidden_xml": _l("XML declaring a DTD or entities"), "malformed": _l("malformed XML"),
            "unsupported": _l("a query other than PROLOG or INVENTORY"),
            "no_identity": _l("no identity: no agent id, serial, host name or network interface")}
IMPORTED = "import"  # the prefix of the enrolment imported files are kept under (services._import_enrolment)
ENROLMENT_FIELDS = ("unit_code", "name", "keep_last_user")


def _labels() -> dict[str, Any]:
    caller = current_caller()
    return {"refusal_labels": REFUSALS, "imported_prefix": IMPORTED, "may_manage": caller.may(Permission.AGENTS_MANAGE),
            "may_import": caller.may(Permission.INVENTORY_WRITE)}


def _unit_options(session) -> list[tuple[str, str]]:
    return [(u.code, f"{u.code} · {u.name}") for u in list_units(session, include_inactive=False, scope=caller_scope())]


# Enrolments --------------------------------------------------------------------------------------------------
@blp.get("/agents")
@requires(Permission.INVENTORY_READ)
def enrolments():
    return _enrolments_page({"unit_code": request.args.get("unit", "")})


def _enrolments_page(values: Mapping[str, Any], error: ValidationError | DomainError | None = None):
    session = request_session()
    errors, general = field_errors(error) if error is not None else ({}, [])
    general += [m for name, messages in errors.items() if name not in ENROLMENT_FIELDS for m in messages]
    status = 200 if error is None else refusal_status(error)
    return render_page("agents/enrolments.html", status, enrolments=services.enrolments(session, caller_scope()),
                       values=values, errors=errors, general=general, unit_options=_unit_options(session),
                       breadcrumbs=[(_("Inventory agents"), None)], **_labels())


@blp.post("/agents")
@requires(Permission.AGENTS_MANAGE)
def issue():
    """Issue an enrolment, as POST /api/agent-enrolments does; its secret is on this answer alone."""
    session = request_session()
    shown = {"unit_code": request.form.get("unit_code", ""), "name": request.form.get("name", ""),
             "keep_last_user": "keep_last_user" in request.form}
    try:
        args = load_form(EnrolmentArgs())
        enrolment, secret = services.issue(session, args["unit_code"], args["name"], by=current_caller().name,
                                           scope=caller_scope(), keep_last_user=args["keep_last_user"])
    except (ValidationError, DomainError) as error:
        session.rollback()
        return _enrolments_page(shown, error)
    session.commit()
    response = render_page("agents/issued.html", 201, enrolment=enrolment, server_url=server_url(secret),
                           breadcrumbs=[(_("Inventory agents"), url_for(".enrolments")), (enrolment.name, None)])
    response.headers["Cache-Control"] = "no-store"  # the secret: in no cache, shown this once
    return response


@blp.get("/agents/<int(max=2147483647):enrolment_id>")
@requires(Permission.INVENTORY_READ)
def enrolment(enrolment_id: int):
    session, scope = request_session(), caller_scope()
    found = services.enrolment_in_scope(session, enrolment_id, scope)
    reports = services.reports(session, found)
    return render_page("agents/enrolment.html", enrolment=found, reports=[_report(r, scope) for r in reports],
                       breadcrumbs=[(_("Inventory agents"), url_for(".enrolments")), (found.name, None)], **_labels())


def _report(report: AgentReport, scope: frozenset[int] | None) -> dict[str, Any]:
    """An agent's row: its device linked only when the device is in the caller's units (a PC whose agent
    reports from another unit's enrolment stays in its own unit until the relocation is decided)."""
    device = report.device
    visible = device is not None and (scope is None or device.unit_id in scope)
    return {"report": report, "device_id": device.id if visible else None,
            "device_name": (device.hostname or device.model or device.serial or _("Device %(id)s", id=device.id))
            if visible else None, "elsewhere": device is not None and not visible}


@blp.route("/agents/<int(max=2147483647):enrolment_id>/revoke", methods=["GET", "POST"])
@requires(Permission.AGENTS_MANAGE)
def revoke(enrolment_id: int):
    """Revoke after a confirmation, as DELETE /api/agent-enrolments/<id> does: its agents get 403 from now on."""
    session = request_session()
    found = services.enrolment_in_scope(session, enrolment_id, caller_scope())
    if request.method == "GET":
        crumbs = [(_("Inventory agents"), url_for(".enrolments")),
                  (found.name, url_for(".enrolment", enrolment_id=found.id)), (_("Revoke"), None)]
        return render_page("agents/revoke.html", enrolment=found, breadcrumbs=crumbs)
    services.revoke(session, enrolment_id, by=current_caller().name, scope=caller_scope())
    session.commit()
    flash(_("Enrolment %(name)s revoked: its agents are refused from now on.", name=found.name), "success")
    return redirect(url_for(".enrolment", enrolment_id=found.id))


# Inventory files written offline ----------------------------------------------------------------------------
@blp.route("/agents/import", methods=["GET", "POST"])
@requires(Permission.INVENTORY_WRITE)
def import_files():
    """Upload inventory files (`fusioninventory-inventory`, `fusioninventory-agent --local DIR`) of a unit's PCs,
    as POST /api/units/<code>/agent-inventories does: each stored or refused with its reason."""
    if request.method == "GET":
        return _import_page({"unit_code": request.args.get("unit", "")})
    session = request_session()
    unit_code = request.form.get("unit_code", "").strip()
    files = [f for f in request.files.getlist("files") if f.filename]  # a browser sends one empty part for none
    if not unit_code:
        return _import_page({"unit_code": unit_code}, 422, {"unit_code": [_("Choose a unit.")]})
    if not files:
        return _import_page({"unit_code": unit_code}, 422, {"files": [_("Choose at least one inventory file.")]})
    try:
        results = services.import_files(session, unit_code, [(f.filename or "", f.read()) for f in files],
                                        by=current_caller().name, scope=caller_scope())
    except DomainError as error:
        session.rollback()
        errors, general = field_errors(error)  # the unit: not one of the caller's, or not there
        general += [m for name, messages in errors.items() if name != "unit_code" for m in messages]
        return _import_page({"unit_code": unit_code}, error.status_code, errors, general)
    session.commit()
    return _import_page({"unit_code": unit_code}, results=results)


def _import_page(values: Mapping[str, Any], status: int = 200, errors: Mapping[str, list[str]] | None = None,
                 general: list[str] | None = None, results: list[services.Imported] | None = None):
    session = request_session()
    return render_page("agents/import.html", status, values=values, errors=errors or {}, general=general or [],
                       results=results, unit_options=_unit_options(session),
                       stored=sum(1 for r in results or [] if r.device_id is not None),
                       breadcrumbs=[(_("Inventory agents"), url_for(".enrolments")),
                                    (_("Import inventory files"), None)], **_labels())


def refusals(enrolment: Enrolment) -> list[tuple[str, int]]:
    """The refusals of an enrolment by reason, in the order of REFUSALS (a reason this page does not know last)."""
    counts = enrolment.refusals or {}
    known = [(str(label), counts[code]) for code, label in REFUSALS.items() if counts.get(code)]
    return known + [(code, count) for code, count in sorted(counts.items()) if code not in REFUSALS and count]


blp.add_app_template_global(refusals, "agent_refusals")
