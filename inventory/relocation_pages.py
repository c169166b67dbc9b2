"""The relocations' page: the devices a scan saw in a unit other than their own, listed pending first, and the
officer's decision on each (confirm: the device moves; reject: it stays). The device's page offers the same
decision form (inventory/templates/inventory/relocation_decision.html) and sends it here.

The list and the decisions go through the API's own schemas and services (inventory.relocations), in the caller's
unit scope: a relocation the caller is no party to does not exist here either (404)."""
import math
from collections.abc import Mapping

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from core.caller import caller_scope, current_caller
from core.db import request_session
from core.errors import DomainError, NotFound
from core.pages import Pagination, field_errors, form_values, local_path, navigation, refusal_status, render_page
from core.permissions import Permission, requires
from inventory import relocations
from inventory.device_pages import device_name, form_errors, may_write, options
from inventory.labels import METHODS, RELOCATION_STATUSES, label
from inventory.models import RelocationStatus
from inventory.schemas import RelocationDecisionSchema, RelocationListArgs

blp = Blueprint("relocation_pages", __name__, template_folder="templates")
navigation(blp, "relocation_pages.relocations", _l("Relocations"), Permission.INVENTORY_READ, order=35)

RELOCATIONS_PAGE_SIZE = 50


@blp.get("/relocations", endpoint="relocations")
@requires(Permission.INVENTORY_READ)
def relocation_list():
    return _relocations_page()


def _relocations_page(*, status: int = 200, errors: Mapping[str, list[str]] | None = None,
                      general: list[str] | None = None, relocation_id: int | None = None, note: str = ""):
    session, scope = request_session(), caller_scope()
    given = {key: value for key in ("status", "page") if (value := request.args.get(key, "").strip())}
    filter_errors: dict[str, list[str]] = {}
    found = None
    try:
        args = RelocationListArgs().load(given)
        found = relocations.list_relocations(session, scope=scope, status=args.get("status"), page=args["page"],
                                             page_size=RELOCATIONS_PAGE_SIZE, pending_first=True)
        last = max(1, math.ceil(found.total / RELOCATIONS_PAGE_SIZE))
        if args["page"] > last:
            found = relocations.list_relocations(session, scope=scope, status=args.get("status"), page=last,
                                                 page_size=RELOCATIONS_PAGE_SIZE, pending_first=True)
    except ValidationError as error:
        filter_errors, status = field_errors(error)[0], 422
    writes = may_write()
    rows = [{"relocation": r, "readable": scope is None or r.device.unit_id in scope,
             "may_decide": writes and r.status is RelocationStatus.PENDING
             and (scope is None or r.to_unit_id in scope)} for r in (found.items if found else [])]
    return render_page(
        "inventory/relocation_list.html", status=status, rows=rows, given=given, filter_errors=filter_errors,
        pagination=Pagination(found.page, RELOCATIONS_PAGE_SIZE, found.total) if found else None,
        statuses=options(RELOCATION_STATUSES, RelocationStatus), errors=errors or {}, general=general or [],
        failed_id=relocation_id, note=note, device_name=device_name,
        status_label=lambda r: label(RELOCATION_STATUSES, r.status), method_label=lambda m: label(METHODS, m),
        breadcrumbs=[(_("Relocations"), None)])


@blp.post("/relocations/<int(max=2147483647):relocation_id>/<any(confirm, reject):decision>",
          endpoint="decide_relocation")
@requires(Permission.INVENTORY_WRITE)
def decide_relocation_page(relocation_id: int, decision: str):
    session, scope = request_session(), caller_scope()
    relocations.get_relocation(session, relocation_id, scope)  # not a party to it: 404, as the API answers
    try:
        args = RelocationDecisionSchema().load(form_values(RelocationDecisionSchema()))
        relocation = relocations.answer_relocation(session, relocation_id, relocations.Decision(decision),
                                                   by=current_caller().name, scope=scope, note=args["note"])
    except (ValidationError, DomainError) as error:
        if isinstance(error, NotFound):
            raise
        session.rollback()
        errors, general = form_errors(error, ["note"])
        status = refusal_status(error)
        return _relocations_page(status=status, errors=errors, general=general, relocation_id=relocation_id,
                                 note=request.form.get("note", ""))
    session.commit()
    if relocation.status is RelocationStatus.CONFIRMED:
        flash(_("Relocation confirmed: the device is now in %(unit)s.", unit=relocation.to_unit.code), "success")
    else:
        flash(_("Relocation rejected: the device stays in %(unit)s.", unit=relocation.device.unit.code), "success")
    return redirect(local_path(request.form.get("next", ""), default=url_for("relocation_pages.relocations")))
