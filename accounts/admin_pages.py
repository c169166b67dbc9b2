"""The administrators' pages: accounts with their roles and units, and the audit log (administrators and
auditors), with its filters in the URL and a CSV of what they match."""
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from accounts import audit as audit_log
from accounts import services
from accounts.models import User
from accounts.pages import form_errors, local_day_start, parse_day, role_label, user_roles
from accounts.schemas import AuditExportArgs, UserCreateSchema, UserUpdateSchema
from core.caller import current_caller
from core.db import request_session
from core.errors import DomainError
from core.pages import form_values, navigation, page_number, pagination_from_request, refusal_status, render_page
from core.permissions import Permission, requires
from inventory.units import list_units

blp = Blueprint("admin_pages", __name__, template_folder="templates")
navigation(blp, "admin_pages.users", _l("Users"), Permission.ACCOUNTS_MANAGE, order=70)
navigation(blp, "admin_pages.audit_log", _l("Audit log"), Permission.AUDIT_READ, order=80)

# What the log's codes mean, in the page's language (a code not listed is shown as it is: the log and its CSV
# keep the codes).
ACTIONS = {"session.sign_in": _l("signed in"), "user.create": _l("account created"),
           "user.update": _l("account changed"), "user.password_change": _l("own password changed"),
           "user.follow_reorganisation": _l("account follows a reorganised unit"),
           "token.create": _l("API token created"), "token.revoke": _l("API token revoked"),
           "device.record": _l("device recorded"), "device.update": _l("device changed"),
           "device.move": _l("device moved to another unit"), "import.devices": _l("devices imported"),
           "import.units": _l("units imported"), "unit.create": _l("unit created"), "unit.update": _l("unit changed"),
           "units.merge": _l("units merged"), "unit.split": _l("unit split"),
           "relocation.raise": _l("relocation raised by a scan"), "relocation.confirm": _l("relocation confirmed"),
           "relocation.reject": _l("relocation rejected"), "scope.create": _l("scan scope created"),
           "scope.update": _l("scan scope changed"),
           "scope.follow_reorganisation": _l("scan scope follows a reorganised unit"),
           "credential.create": _l("SNMP credential created"), "credential.update": _l("SNMP credential changed"),
           "scan.nmap": _l("nmap sweep started"), "scan.snmp": _l("SNMP poll started"),
           "catalog.version.create": _l("catalog version created"),
           "catalog.version.update": _l("catalog version changed"),
           "catalog.version.delete": _l("catalog version deleted"),
           "catalog.version.publish": _l("catalog version published"),
           "catalog.version.import": _l("catalog version imported"),
           "catalog.version.edit": _l("catalog version's rows changed"),
           "catalog.version.seed": _l("example catalog loaded"),
           "budget.gap.review": _l("gap confirmed or disputed"), "budget.gap.resolve": _l("disputed gap resolved"),
           "budget.scenario.create": _l("budget scenario saved"),
           "budget.scenario.delete": _l("budget scenario deleted"),
           "budget.scenario.approve": _l("budget plan approved"),
           "budget.transfer": _l("transfer carried out"), "budget.readiness": _l("readiness recorded")}
TARGET_TYPES = {"user": _l("account"), "token": _l("API token"), "device": _l("device"), "unit": _l("unit"),
                "file": _l("file"), "reorganisation": _l("reorganisation"), "relocation": _l("relocation"),
                "scan_scope": _l("scan scope"), "credential": _l("SNMP credential"), "scan_run": _l("scan run"),
                "catalog_version": _l("catalog version"), "gap_review": _l("gap review"),
                "budget_scenario": _l("budget scenario"), "readiness": _l("readiness")}
NEW_USER_FIELDS = ("username", "display_name", "password", "confirm_password", "role", "unit_codes")
EDIT_USER_FIELDS = ("display_name", "role", "unit_codes", "active", "password", "confirm_password")


# ---- accounts ------------------------------------------------------------------------------------------------

@blp.get("/users")
@requires(Permission.ACCOUNTS_MANAGE)
def users():
    return render_page("accounts/users.html", users=services.list_users(request_session()), role_label=role_label,
                       breadcrumbs=[(_("Users"), None)])


@blp.route("/users/new", methods=["GET", "POST"])
@requires(Permission.ACCOUNTS_MANAGE)
def new_user():
    if request.method == "GET":
        return _user_form(None, {"role": "unit_officer", "unit_codes": []})
    db = request_session()
    shown = _shown(NEW_USER_FIELDS)
    try:
        values = form_values(UserCreateSchema())
        values["unit_codes"] = shown["unit_codes"]
        args = UserCreateSchema().load(values)
        _same_twice(args["password"])
        user = services.create_user_audited(db, current_caller().name, args["username"], args["display_name"],
                                            args["password"], args["role"], args["unit_codes"])
    except (ValidationError, DomainError) as error:
        db.rollback()
        return _user_form(None, shown, error)
    db.commit()
    flash(_("Account %(name)s created.", name=user.username), "success")
    return redirect(url_for("admin_pages.users"))


@blp.route("/users/<int(max=2147483647):user_id>", methods=["GET", "POST"])
@requires(Permission.ACCOUNTS_MANAGE)
def edit_user(user_id: int):
    db = request_session()
    user = services.get_user(db, user_id)
    if request.method == "GET":
        return _user_form(user, {"display_name": user.display_name, "role": user.role.value, "active": user.active,
                                 "unit_codes": [u.code for u in user.units]})
    shown = _shown(EDIT_USER_FIELDS) | {"active": "active" in request.form}
    try:
        values = form_values(UserUpdateSchema())
        values |= {"unit_codes": shown["unit_codes"], "active": shown["active"]}
        changes = UserUpdateSchema().load(values)
        if "password" in changes:
            _same_twice(changes["password"])
        changed = services.update_user_audited(db, current_caller().name, user_id, changes)
    except (ValidationError, DomainError) as error:
        db.rollback()
        return _user_form(services.get_user(db, user_id), shown, error)
    db.commit()
    message = _("Account %(name)s saved.", name=changed.username)
    if "password" in changes:
        message += " " + _("Its new password ended its sessions and revoked its API tokens (%(tokens)s).",
                           tokens=changed.tokens_revoked)
    flash(message, "success")
    return redirect(url_for("admin_pages.users"))


def _shown(fields: tuple[str, ...]) -> dict[str, Any]:
    """The form as typed, to show again (never a password)."""
    return {name: request.form.get(name, "") for name in fields if "password" not in name} | {
        "unit_codes": request.form.getlist("unit_codes")}


def _same_twice(password: str) -> None:
    if request.form.get("confirm_password", "") != password:
        raise ValidationError({"confirm_password": [_("The two passwords differ.")]})


def _user_form(user: User | None, values: Mapping[str, Any], error: ValidationError | DomainError | None = None):
    errors, general = form_errors(error, NEW_USER_FIELDS if user is None else EDIT_USER_FIELDS) \
        if error is not None else ({}, [])
    units = list_units(request_session(), include_inactive=False)
    return render_page(
        "accounts/user_form.html", status=200 if error is None else refusal_status(error), user=user, values=values,
        title=_("New account") if user is None else _("Account %(name)s", name=user.username),
        errors=errors, general=general, roles=user_roles(),
        unit_options=[(u.code, f"{u.code} · {u.name}") for u in units],
        breadcrumbs=[(_("Users"), url_for("admin_pages.users")),
                     (_("New account") if user is None else user.username, None)])


# ---- the audit log -------------------------------------------------------------------------------------------

AUDIT_FILTERS = ("actor", "action", "target_type", "target_id", "from", "to")


@blp.get("/audit", endpoint="audit_log")
@requires(Permission.AUDIT_READ)
def audit_log_page():
    db = request_session()
    given = {name: value for name in AUDIT_FILTERS if (value := request.args.get(name, "").strip())}
    entries, pagination, errors, status = [], None, {}, 200
    try:
        wanted = _audit_filter(given)
    except ValidationError as error:
        errors, general = form_errors(error, AUDIT_FILTERS)
        errors.setdefault("from", []).extend(general)  # a period's end before its start: said at the start
        status = 422
    else:
        size = pagination_from_request(0).size  # the page's size, as asked (the total is not known yet)
        entries, total = audit_log.list_entries(db, wanted, page=page_number(), page_size=size)
        pagination = pagination_from_request(total)
        if pagination.number != page_number():  # past the last page: the last one
            entries, _total = audit_log.list_entries(db, wanted, page=pagination.number, page_size=size)
    return render_page(
        "accounts/audit_log.html", status=status, audit_entries=entries, pagination=pagination, given=given,
        errors=errors, changes=_changes, action_label=lambda code: str(ACTIONS.get(code, code)),
        target_label=lambda code: str(TARGET_TYPES.get(code, code)), recorded=_filter_options(db),
        csv_href=url_for("admin_pages.audit_export", **given), filtered=bool(given),
        breadcrumbs=[(_("Audit log"), None)])


@blp.get("/audit/export.csv")
@requires(Permission.AUDIT_READ)
def audit_export():
    """The entries the audit page's filters match, as the API's /api/audit/export writes them."""
    given = {name: value for name in AUDIT_FILTERS if (value := request.args.get(name, "").strip())}
    try:
        wanted = _audit_filter(given)
    except ValidationError:
        return redirect(url_for("admin_pages.audit_log", **given))  # the page says what is wrong, and where
    return Response(audit_log.export_csv(request_session(), wanted), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=audit.csv"})


def _audit_filter(given: Mapping[str, str]) -> audit_log.AuditFilter:
    """The page's filters as the API's: read by its schema; days (in the service's time zone) as a period."""
    args = AuditExportArgs().load({name: given[name] for name in ("actor", "action", "target_type", "target_id")
                                   if name in given})
    since = local_day_start(parse_day(given["from"], "from")) if "from" in given else None
    until = local_day_start(parse_day(given["to"], "to") + dt.timedelta(days=1)) if "to" in given else None
    if since and until and until <= since:
        raise ValidationError({"to": [_("The period ends before it starts.")]})
    return audit_log.AuditFilter(actor=args.get("actor"), action=args.get("action"),
                                 target_type=args.get("target_type"), target_id=args.get("target_id"),
                                 since=since, until=until)


def _filter_options(db) -> dict[str, list[tuple[str, str]]]:
    """The choices of the log's filters: what it holds, labelled."""
    recorded = audit_log.recorded_values(db)
    return {"actor": [(actor, actor) for actor in recorded["actor"]],
            "action": sorted(((code, f"{ACTIONS[code]} ({code})" if code in ACTIONS else code)
                              for code in recorded["action"]), key=lambda option: option[1].lower()),
            "target_type": sorted(((code, str(TARGET_TYPES.get(code, code))) for code in recorded["target_type"]),
                                  key=lambda option: option[1].lower())}


def _changes(entry) -> list[tuple[str, str, str]]:
    """An entry's before and after, key by key (a key both hold unchanged is left out)."""
    before = entry.before if isinstance(entry.before, dict) else ({} if entry.before is None else {"": entry.before})
    after = entry.after if isinstance(entry.after, dict) else ({} if entry.after is None else {"": entry.after})
    return [(key, _json(before.get(key)), _json(after.get(key))) for key in sorted({*before, *after}, key=str)
            if before.get(key) != after.get(key)]


def _json(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
