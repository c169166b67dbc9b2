"""Pages of collectors: those of the caller's units with their state, one issued (its token shown once with the
command to run at the site), one collector with its scopes (changed with a form), its recent batches (rejected
ones with their reasons) and its revocation.

The pages call discovery.collectors.service as the API does (the same checks, the same audit entries), within
the caller's units: another unit's collector is as absent as a missing one (404)."""
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from core.caller import caller_scope, current_caller
from core.db import request_session
from core.errors import DomainError, InvalidInput
from core.i18n import Reason
from core.pages import field_errors, load_form, navigation, refusal_status, render_page
from core.permissions import Permission, requires
from discovery.collectors import service
from discovery.collectors.api import CollectorArgs, collector_view, server_command
from discovery.collectors.labels import STATES
from discovery.models import Collector
from discovery.scopes import list_scopes
from inventory.units import list_units, subtree_ids

blp = Blueprint("collector_pages", __name__, template_folder="../templates")
navigation(blp, "collector_pages.collectors", _l("Collectors"), Permission.SCANS_RUN, order=52)
ISSUE_FIELDS = ("unit_code", "name")


def _common() -> dict[str, Any]:
    return {"may_manage": current_caller().may(Permission.SCANS_MANAGE), "state_labels": STATES}


@blp.get("/collectors")
@requires(Permission.SCANS_RUN)
def collectors():
    return _collectors_page({"unit_code": request.args.get("unit", "")})


def _collectors_page(values: Mapping[str, Any], error: ValidationError | DomainError | None = None):
    session = request_session()
    errors, general = field_errors(error) if error is not None else ({}, [])
    general += [m for name, messages in errors.items() if name not in ISSUE_FIELDS for m in messages]
    units = [(u.code, f"{u.code} · {u.name}") for u in list_units(session, include_inactive=False,
                                                                  scope=caller_scope())]
    return render_page("discovery/collectors.html", 200 if error is None else refusal_status(error),
                       collectors=[collector_view(session, c) for c in service.collectors(session, caller_scope())],
                       values=values, errors=errors, general=general, unit_options=units,
                       breadcrumbs=[(_("Collectors"), None)], **_common())


@blp.route("/collectors/new", methods=["GET", "POST"])
@requires(Permission.SCANS_MANAGE)
def issue():
    """Issue a collector, as POST /api/collectors does; its token is on this answer alone. GET: the form."""
    if request.method == "GET":
        unit = request.args.get("unit", "").strip()
        return redirect(url_for(".collectors", **({"unit": unit} if unit else {}), _anchor="issue"))
    session = request_session()
    shown = {"unit_code": request.form.get("unit_code", ""), "name": request.form.get("name", "")}
    try:
        args = load_form(CollectorArgs())
        collector, token = service.issue(session, current_app.extensions["secret_box"], args["unit_code"],
                                         args["name"], current_caller().name, scope=caller_scope())
    except (ValidationError, DomainError) as error:
        session.rollback()
        return _collectors_page(shown, error)
    session.commit()
    response = render_page("discovery/collector_issued.html", 201, collector=collector, token=token,
                           command=server_command(token),
                           breadcrumbs=[(_("Collectors"), url_for(".collectors")), (collector.name, None)])
    response.headers["Cache-Control"] = "no-store"  # the token: in no cache, shown this once
    return response


@blp.get("/collectors/<int(max=2147483647):collector_id>")
@requires(Permission.SCANS_RUN)
def collector(collector_id: int):
    session = request_session()
    found = service.collector_in_scope(session, collector_id, caller_scope())
    return _collector_page(found)


def _collector_page(found: Collector, status: int = 200, errors: Mapping[str, list[str]] | None = None,
                    chosen: list[int] | None = None):
    session = request_session()
    view = collector_view(session, found)
    site = subtree_ids(session, found.unit.code)
    options = [(s.id, f"{s.name} · {s.unit.code} · {s.networks}")
               for s in list_scopes(session, caller_scope()) if s.unit_id in site]
    return render_page("discovery/collector.html", status, collector=found, view=view,
                       scopes=service.assigned_scopes(session, found), scope_options=options,
                       chosen=view["scope_ids"] if chosen is None else chosen, errors=errors or {},
                       batches=service.batches(session, found),
                       breadcrumbs=[(_("Collectors"), url_for(".collectors")), (found.name, None)], **_common())


@blp.post("/collectors/<int(max=2147483647):collector_id>/scopes")
@requires(Permission.SCANS_MANAGE)
def scopes(collector_id: int):
    """Change the scopes the collector scans, as PUT /api/collectors/<id>/scopes does."""
    session = request_session()
    found = service.collector_in_scope(session, collector_id, caller_scope())
    values = request.form.getlist("scope_ids")
    try:
        if not all(value.isdigit() and 0 < int(value) <= 2**31 - 1 for value in values):
            raise InvalidInput(Reason("choose scopes from the list"), field="scope_ids")
        chosen = [int(value) for value in values]
        service.assign_scopes(session, collector_id, chosen, current_caller().name, scope=caller_scope())
    except DomainError as error:
        session.rollback()
        errors, general = field_errors(error)
        return _collector_page(found, error.status_code, {"scope_ids": [*errors.get("scope_ids", []), *general]},
                               [int(v) for v in values if v.isdigit()])
    session.commit()
    flash(_("Scopes of %(name)s saved: it scans them from its next configuration fetch.", name=found.name),
          "success")
    return redirect(url_for(".collector", collector_id=found.id))


@blp.route("/collectors/<int(max=2147483647):collector_id>/revoke", methods=["GET", "POST"])
@requires(Permission.SCANS_MANAGE)
def revoke(collector_id: int):
    """Revoke after a confirmation, as POST /api/collectors/<id>/revoke does: its token gets 403 from now on."""
    session = request_session()
    found = service.collector_in_scope(session, collector_id, caller_scope())
    if request.method == "GET":
        crumbs = [(_("Collectors"), url_for(".collectors")),
                  (found.name, url_for(".collector", collector_id=found.id)), (_("Revoke"), None)]
        return render_page("discovery/collector_revoke.html", collector=found, breadcrumbs=crumbs)
    service.revoke(session, collector_id, current_caller().name, scope=caller_scope())
    session.commit()
    flash(_("Collector %(name)s revoked: what it sends is refused from now on. Assign its scopes to another "
            "collector, or to none for the server's own scans.", name=found.name), "success")
    return redirect(url_for(".collector", collector_id=found.id))
