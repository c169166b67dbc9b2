"""Pages of the budget: a unit's gaps with their reviews (officers confirm or dispute, administrators resolve),
readiness and the transfer list (carried out with a button); saved scenarios, one plan by priority and year
with finance's approval and the difference since, several scenarios side by side, and the exports.

The pages call the services the API calls (budget/services.py, scenarios.py, scores.py), within the caller's
units: outside them a unit and a scenario are absent (404), as on the unit's own page."""
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from marshmallow import ValidationError

from budget import reviews, scenarios, scores, services
from budget.labels import KINDS, PRIORITIES, REASONS
from budget.models import ScenarioKind
from budget.schemas import ApprovalArgs, ResolutionArgs, ReviewArgs, ScenarioArgs, TransferArgs
from catalog.compliance import today
from catalog.services import version_in_force
from core.caller import caller_scope, current_caller
from core.db import request_session
from core.errors import DomainError
from core.i18n import shown
from core.pages import field_errors, load_form, navigation, refusal_status, render_page, section
from core.permissions import Permission, requires
from inventory.models import Unit
from inventory.unit_pages import breadcrumbs as unit_breadcrumbs
from inventory.unit_pages import organisation
from inventory.units import subtree_ids

blp = Blueprint("budget_pages", __name__, template_folder="templates")
navigation(blp, "budget_pages.overview", _l("Budget"), Permission.INVENTORY_READ, order=50)

REVIEW_STATES = {"confirmed": _l("confirmed"), "disputed": _l("disputed: out of the plans until resolved"),
                 "upheld": _l("dispute resolved: the gap stands"), "withdrawn": _l("dispute resolved: not a gap")}
SCENARIO_FIELDS = ("unit", "name", "kind", "first_year", "caps_vnd", "older_than_years", "max_share_percent", "kit")


def _language() -> str:
    return str(get_locale() or "vi")


def _labels() -> dict[str, Any]:
    caller = current_caller()
    return {"reasons": REASONS, "kinds": KINDS, "review_states": REVIEW_STATES, "priorities": PRIORITIES,
            "may_review": caller.may(Permission.BUDGET_REVIEW), "may_resolve": caller.may(Permission.BUDGET_RESOLVE),
            "may_approve": caller.may(Permission.BUDGET_APPROVE)}


def _render(template: str, status: int = 200, **context: Any):
    return render_page(template, status, **_labels(), **context)


# ---- overview -------------------------------------------------------------------------------------------------

@blp.get("/budget")
@requires(Permission.INVENTORY_READ)
def overview():
    """Saved scenarios, disputes waiting for an administrator, and a new scenario's form."""
    return _overview_page()


def _overview_page(status: int = 200, values: Mapping[str, Any] | None = None, errors=None, general=None):
    session, scope = request_session(), caller_scope()
    units = [u for u in organisation().units if u.active and (scope is None or u.id in scope)]
    waiting = reviews.disputed(session, scope)
    in_force = version_in_force(session, today())
    return _render("budget/overview.html", status, scenarios=scenarios.list_for(session, scope), waiting=waiting,
                   units=units, in_force=in_force, values=values or {"first_year": today().year + 1,
                                                                     "max_share_percent": 50},
                   errors=errors or {}, general=general or [], breadcrumbs=[(_("Budget"), None)])


@blp.post("/budget/scenarios")
@requires(Permission.BUDGET_APPROVE)
def new_scenario():
    session = request_session()
    submitted = {name: request.form.get(name, "") for name in SCENARIO_FIELDS}
    form = {key: value for key, value in submitted.items() if value != "" and key not in ("caps_vnd", "kit")}
    form["caps_vnd"] = [cap.replace(".", "").replace(",", "").strip() for cap in submitted["caps_vnd"].split(";")
                        if cap.strip()]
    if submitted["kit"].strip():  # "desktop=1; printer=1"
        form["kit"] = dict(part.partition("=")[::2] for part in submitted["kit"].replace(" ", "").split(";") if part)
    try:
        args = ScenarioArgs().load(form)
        unit, name, kind = args.pop("unit"), args.pop("name"), args.pop("kind")
        scenario = scenarios.save(session, unit, caller_scope(), name, kind, args, by=current_caller().name,
                                  on=args.pop("on", None))
    except (ValidationError, DomainError) as refusal:
        session.rollback()
        errors, general = field_errors(refusal)
        return _overview_page(refusal_status(refusal), submitted, errors, general)
    session.commit()
    flash(_("Scenario %(name)s saved: review its lines, compare it, or approve it.", name=scenario.name), "success")
    return redirect(url_for(".scenario", scenario_id=scenario.id))


# ---- a unit's gaps, readiness and transfers -------------------------------------------------------------------

@blp.get("/budget/units/<code>")
@requires(Permission.INVENTORY_READ)
def unit_gaps(code: str):
    """The gaps of the unit and each unit below it, with their reviews; readiness; the transfer list."""
    session, scope = request_session(), caller_scope()
    org = organisation()
    org.unit(code)  # another unit's: absent (404), as on the unit's own page
    found = services.subtree(session, code, scope, None)  # computed once for the three sections
    gaps = services.gaps_of(session, found)
    moved = services.transfers_of(session, found)
    ready = scores.readiness_of(session, found)
    names = services.category_names(session, gaps.version.id, _language())
    reviewed = {(r.unit.code, r.category_code): r for r in gaps.reviews}
    return _render("budget/unit_gaps.html", unit=gaps.unit, gaps=gaps, moved=moved, ready=ready, names=names,
                   reviewed=reviewed,
                   breadcrumbs=unit_breadcrumbs(org, gaps.unit, _("Gaps and transfers")))


@blp.post("/budget/units/<code>/gaps/<category>/review")
@requires(Permission.BUDGET_REVIEW)
def review(code: str, category: str):
    session = request_session()
    organisation().unit(code)  # another unit's: absent (404)
    try:
        args = load_form(ReviewArgs())
        services.review(session, code, category, args["state"], args["comment"], by=current_caller().name,
                        scope=caller_scope())
    except (ValidationError, DomainError) as refusal:
        return _refused(session, refusal, code)
    session.commit()
    flash(_("Review of the %(category)s gap of %(unit)s saved.", category=category, unit=code), "success")
    return redirect(url_for(".unit_gaps", code=request.form.get("back") or code, _anchor=f"gap-{code}-{category}"))


@blp.post("/budget/units/<code>/gaps/<category>/resolution")
@requires(Permission.BUDGET_RESOLVE)
def resolve(code: str, category: str):
    session = request_session()
    organisation().unit(code)
    try:
        args = load_form(ResolutionArgs())
        reviews.resolve_gap(session, code, category, args["state"], args["resolution"], by=current_caller().name,
                            scope=caller_scope())
    except (ValidationError, DomainError) as refusal:
        return _refused(session, refusal, code)
    session.commit()
    flash(_("Dispute over the %(category)s gap of %(unit)s resolved.", category=category, unit=code), "success")
    return redirect(request.form.get("next") if request.form.get("next") == url_for(".overview")
                    else url_for(".unit_gaps", code=code, _anchor=f"gap-{code}-{category}"))


@blp.post("/budget/transfers")
@requires(Permission.BUDGET_REVIEW)
def carry_out():
    session = request_session()
    root = request.form.get("unit", "")
    try:
        args = load_form(TransferArgs())
        transfer = services.carry_out_transfer(session, args["unit"], args["device_id"], args["to_unit"],
                                               by=current_caller().name, scope=caller_scope())
    except (ValidationError, DomainError) as refusal:
        return _refused(session, refusal, root)
    session.commit()
    flash(_("Device %(device)s moved from %(from)s to %(to)s.", device=transfer.device_id,
            **{"from": transfer.from_unit, "to": transfer.to_unit}), "success")
    return redirect(url_for(".unit_gaps", code=root, _anchor="transfers"))


def _refused(session, refusal: ValidationError | DomainError, code: str):
    """A refused action on the gaps page: the reason shown above the page, nothing stored."""
    session.rollback()
    if isinstance(refusal, DomainError) and refusal.status_code in (403, 404):
        raise refusal  # outside the caller's units: the page's refusal, as the API's
    errors, general = field_errors(refusal)
    flash(" ".join([*general, *(p for problems in errors.values() for p in problems)]), "danger")
    return redirect(url_for(".unit_gaps", code=code) if code else url_for(".overview"))


def unit_section(unit: Unit, **_objects: Any) -> Markup | None:
    """The unit page's section: the recorded readiness of the unit and its sub-units, and a link to the gaps."""
    session, scope = request_session(), caller_scope()
    if version_in_force(session, today()) is None:
        return None
    # The recorded score (flask budget readiness), not a fresh computation: the city's page would judge the city.
    ids = subtree_ids(session, unit.code)
    recorded = scores.recorded(session, list(ids if scope is None else ids & scope))
    return Markup(render_template("budget/_unit_section.html", unit=unit, recorded=recorded))


section(blp, "unit", unit_section, order=35)


# ---- scenarios ------------------------------------------------------------------------------------------------

@blp.get("/budget/scenarios/<int(max=2147483647):scenario_id>")
@requires(Permission.INVENTORY_READ)
def scenario(scenario_id: int):
    """One plan: its lines by priority and year, what its reviews left out, its approval and what changed since."""
    session, scope = request_session(), caller_scope()
    found = scenarios.get(session, scenario_id, scope)
    report = scenarios.report(session, found, services.category_names(session, found.version_id, _language()))
    approved = scenarios.last_approved(session, found.unit_id)
    difference = None
    if found.approved_at is not None:  # what the inventory calls for since
        difference = scenarios.difference(session, found, scope)
    elif found.kind == ScenarioKind.TARGETED and approved is not None:  # a draft against the plan in force
        difference = scenarios.compare_lines(scenarios.lines_of(approved), scenarios.lines_of(found))
    years = sorted({line.year for line in report.lines if line.year is not None})
    by_priority: dict[int, list] = {}
    for line in sorted(report.lines, key=lambda li: (li.priority, li.year is None, li.year or 0, li.unit_code,
                                                      li.category)):
        by_priority.setdefault(line.priority, []).append(line)
    return _render("budget/scenario.html", scenario=found, report=report, approved=approved, difference=difference,
                   years=years, by_priority=by_priority,
                   breadcrumbs=[(_("Budget"), url_for(".overview")), (found.name, None)])


@blp.post("/budget/scenarios/<int(max=2147483647):scenario_id>/approval")
@requires(Permission.BUDGET_APPROVE)
def approve(scenario_id: int):
    session = request_session()
    try:
        args = load_form(ApprovalArgs())
        found = scenarios.approve(session, scenario_id, caller_scope(), args["comment"], by=current_caller().name)
    except (ValidationError, DomainError) as refusal:
        session.rollback()
        if isinstance(refusal, DomainError) and refusal.status_code == 404:
            raise
        flash(shown(refusal.reason) if isinstance(refusal, DomainError) else str(refusal), "danger")
        return redirect(url_for(".scenario", scenario_id=scenario_id))
    session.commit()
    flash(_("Plan %(name)s approved: it is frozen; export it for the budget file.", name=found.name), "success")
    return redirect(url_for(".scenario", scenario_id=scenario_id))


@blp.post("/budget/scenarios/<int(max=2147483647):scenario_id>/delete")
@requires(Permission.BUDGET_APPROVE)
def delete(scenario_id: int):
    session = request_session()
    try:
        scenarios.delete(session, scenario_id, caller_scope(), by=current_caller().name)
    except DomainError as refusal:
        session.rollback()
        if refusal.status_code == 404:
            raise
        flash(shown(refusal.reason), "danger")
        return redirect(url_for(".scenario", scenario_id=scenario_id))
    session.commit()
    flash(_("Scenario deleted."), "success")
    return redirect(url_for(".overview"))


@blp.get("/budget/compare")
@requires(Permission.INVENTORY_READ)
def compare():
    """Several saved scenarios side by side: their money per priority and year, and the saving of each."""
    session, scope = request_session(), caller_scope()
    ids = [int(i) for i in request.args.getlist("ids") if i.isdigit() and len(i) < 10][:6]
    chosen = [scenarios.get(session, i, scope) for i in ids]
    return _render("budget/compare.html", chosen=chosen, priorities_of=_by_priority,
                   breadcrumbs=[(_("Budget"), url_for(".overview")), (_("Comparison"), None)])


def _by_priority(found) -> dict[int, int]:
    sums: dict[int, int] = {}
    for line in found.lines:
        sums[line.priority] = sums.get(line.priority, 0) + line.quantity * line.unit_price_vnd
    return sums


@blp.get("/budget/scenarios/<int(max=2147483647):scenario_id>/export.<any(xlsx, pdf):kind>")
@requires(Permission.INVENTORY_READ)
def export(scenario_id: int, kind: str):
    body, mimetype, name = scenarios.export(request_session(), scenario_id, caller_scope(), kind, _language())
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})
