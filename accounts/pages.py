"""The sign-in and sign-out pages, and one's own account: password and API tokens. The administrators'
pages (accounts, the audit log) are in admin_pages.

Forms are read by the API's own schemas and act through the API's own services, with the same audit
entries (services.*_audited). A token's value is shown once, in the answer to the form that created it (201,
not cached), as the API's POST /api/tokens answers with it: it is kept nowhere else, the session cookie
included."""
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup
from marshmallow import ValidationError

from accounts import services
from accounts.api import token_lifetimes
from accounts.errors import TooManyAttempts, WrongPassword
from accounts.models import ApiToken, Role
from accounts.permissions import ROLE_PERMISSIONS
from accounts.schemas import PasswordChangeSchema, TokenCreateSchema
from accounts.web import csrf, end_session, password_check, sign_in
from core.caller import current_caller
from core.db import request_session
from core.errors import DomainError, Unauthenticated
from core.i18n import shown
from core.pages import field_errors, form_values, local_path, page_response, refusal_status, render_page, section
from core.permissions import Permission, requires
from core.time import utcnow

blp = Blueprint("accounts_pages", __name__, template_folder="templates")

ROLES = {"admin": _l("administrator"), "unit_officer": _l("unit officer"), "finance": _l("finance officer"),
         "auditor": _l("auditor")}
PERMISSIONS = {"signed-in": _l("see and revoke your own tokens"), "inventory:read": _l("read the inventory"),
               "inventory:write": _l("record and change devices, import devices"),
               "units:manage": _l("manage units: create, edit, import, merge, split"),
               "accounts:manage": _l("manage accounts"), "audit:read": _l("read the audit log"),
               "scans:manage": _l("manage SNMP credentials and scan scopes"), "scans:run": _l("run scans"),
               "catalog:manage": _l("manage the equipment catalog and its norms"),
               "budget:review": _l("confirm or dispute your units' gaps, carry out transfers"),
               "budget:resolve": _l("resolve disputed gaps"),
               "budget:approve": _l("save budget scenarios and approve plans")}
def form_errors(error: ValidationError | DomainError, fields: Iterable[str]
                ) -> tuple[dict[str, list[str]], list[str]]:
    """A refusal next to the form's fields, in the page's language; what names none of them goes on top."""
    if isinstance(error, TooManyAttempts):
        return {}, [_refusal_text(error)]
    by_field, general = field_errors(error)
    known = set(fields)
    errors: dict[str, list[str]] = {}
    for name, messages in by_field.items():
        (errors.setdefault(name, []) if name in known else general).extend(messages)
    return errors, general


def role_label(role: Any) -> str:
    value = getattr(role, "value", role)
    return str(ROLES.get(value, value))


def local_day_start(day: dt.date) -> dt.datetime:
    """The start of a day in the service's time zone, as stored times are: naive UTC."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC).replace(tzinfo=None)


def parse_day(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError({field: [_("Not a valid date.")]}) from None


# ---- signing in and out --------------------------------------------------------------------------------------

@blp.route("/sign-in", methods=["GET", "POST"])
@requires(Permission.PUBLIC)
def sign_in_page():
    next_page = local_path(request.args.get("next", "/"))
    if request.method == "GET":
        return page_response(render_template("sign_in.html", next=next_page, username="", error=None))
    csrf.protect()  # no session yet, so the general check does not apply: a forged sign-in is refused here
    username = request.form.get("username", "")
    try:
        sign_in(username, request.form.get("password", ""))
    except (Unauthenticated, TooManyAttempts) as refusal:
        return render_template("sign_in.html", next=next_page, username=username,
                               error=_refusal_text(refusal)), refusal.status_code
    return redirect(next_page)


@blp.post("/sign-out")
@requires(Permission.SIGNED_IN)
def sign_out_page():
    end_session()
    return redirect(url_for("accounts_pages.sign_in_page"))


def _refusal_text(refusal: DomainError) -> str:
    """The refusal in the page's language; a delay's text holds its number of seconds."""
    wait_s = (refusal.details or {}).get("retry_after_s") if isinstance(refusal.details, dict) else None
    if wait_s is None:
        return shown(refusal.reason)
    return ngettext("too many failed sign-ins for this account; try again in %(num)d second",
                    "too many failed sign-ins for this account; try again in %(num)d seconds", wait_s)


# ---- one's own account ---------------------------------------------------------------------------------------

PASSWORD_FIELDS = ("old_password", "new_password", "confirm_password")
TOKEN_FIELDS = ("name", "permissions", "expires_at", "password")


@blp.get("/account")
@requires(Permission.SIGNED_IN)
def account_page():
    return _account_page()


def _account_page(status: int = 200, created: Mapping[str, Any] | None = None, **forms: Any):
    """One's account; `created` is a token just made, with its value: shown on this answer alone."""
    caller = current_caller()
    db = request_session()
    user = services.get_user(db, caller.user_id)
    response = render_page(
        "accounts/account.html", status=status, user=user, role=role_label(user.role),
        tokens=services.own_tokens(db, user.id), token_state=_token_state, created=created,
        permission_options=[(p.value, PERMISSIONS[p.value]) for p in Permission
                            if p in ROLE_PERMISSIONS[user.role.value] and p.value in PERMISSIONS],
        permissions_text=_permissions_text,
        lifetimes=token_lifetimes(), password_errors=forms.get("password_errors", {}),
        password_general=forms.get("password_general", []), token_errors=forms.get("token_errors", {}),
        token_general=forms.get("token_general", []), token_values=forms.get("token_values", {}),
        breadcrumbs=[(_("Your account"), None)])
    if created is not None:
        response.headers["Cache-Control"] = "no-store"  # the token's value: in no cache, shown this once
    return response


def _permissions_text(token: ApiToken) -> str:
    return "; ".join(str(PERMISSIONS.get(p, p)) for p in token.permissions if p != Permission.PUBLIC.value)


def _token_state(token: ApiToken) -> tuple[str, str]:
    """The token's state: a code (for the page's styling and tests) and its label."""
    if token.revoked_at is not None:
        return "revoked", _("revoked")
    if token.expires_at is not None and token.expires_at <= utcnow():
        return "expired", _("expired")
    return "active", _("active")


@blp.post("/account/password")
@requires(Permission.SIGNED_IN)
def change_password():
    """Change one's own password, as PUT /api/session/password does; the form asks for the new one twice."""
    db, caller = request_session(), current_caller()
    try:
        args = PasswordChangeSchema().load(form_values(PasswordChangeSchema()))
        if request.form.get("confirm_password", "") != args["new_password"]:
            raise ValidationError({"confirm_password": [_("The two new passwords differ.")]})
        with password_check(WrongPassword):
            change = services.change_own_password_audited(db, caller, args["old_password"], args["new_password"],
                                                          request.remote_addr or "")
    except (ValidationError, DomainError) as error:
        db.rollback()  # a wrong password's failure is committed already (password_check): it counts
        errors, general = form_errors(error, PASSWORD_FIELDS)
        return _account_page(refusal_status(error), password_errors=errors, password_general=general)
    db.commit()
    flash(_("Your password was changed. Other sessions signed out: %(sessions)s; API tokens revoked: %(tokens)s.",
            sessions=change.sessions_ended, tokens=change.tokens_revoked), "success")
    return redirect(url_for("accounts_pages.account_page"))


@blp.post("/account/tokens")
@requires(Permission.SIGNED_IN)
def create_token():
    """A token of one's own, as POST /api/tokens makes it; its value is shown on the page this answers with."""
    db, caller = request_session(), current_caller()
    shown = {"name": request.form.get("name", ""), "permissions": request.form.getlist("permissions"),
             "expires_at": request.form.get("expires_at", "")}
    try:
        args = TokenCreateSchema().load(_token_input(shown))
        with password_check(WrongPassword):
            services.confirm_token_creator(db, caller, args.get("password"), request.remote_addr or "")
        token, value = services.create_token_audited(db, caller, args["name"], args["permissions"],
                                                     args["expires_at"], token_lifetimes())
    except (ValidationError, DomainError) as error:
        db.rollback()
        errors, general = form_errors(error, TOKEN_FIELDS)
        return _account_page(refusal_status(error), token_errors=errors, token_general=general, token_values=shown)
    db.commit()
    # The value is in this answer only (not kept for a next page, nor in the session cookie): as the API's 201.
    return _account_page(201, created={"token": token, "value": value})


def _token_input(shown: Mapping[str, Any]) -> dict[str, Any]:
    """The form as the API's input: the expiry day ends at midnight in the service's time zone."""
    values = form_values(TokenCreateSchema())
    values.pop("permissions", None)
    if shown["permissions"]:  # none ticked: missing, as in the API
        values["permissions"] = shown["permissions"]
    if shown["expires_at"].strip():
        day = parse_day(shown["expires_at"].strip(), "expires_at")
        values["expires_at"] = (local_day_start(day + dt.timedelta(days=1))).isoformat() + "+00:00"
    else:
        values.pop("expires_at", None)
    return values


@blp.post("/account/tokens/<int(max=2147483647):token_id>/revoke")
@requires(Permission.SIGNED_IN)
def revoke_token(token_id: int):
    """Revoke one of one's tokens (and those it created), as DELETE /api/tokens/<id> does."""
    db = request_session()
    token = services.revoke_token_audited(db, token_id, current_caller())
    db.commit()
    flash(_("Token %(name)s revoked: it no longer works.", name=token.name), "success")
    return redirect(url_for("accounts_pages.account_page"))


def unit_officers(unit, **_objects) -> Markup:
    """Who answers for a unit, among the facts of its page (which inventory draws)."""
    officers = services.officers_of(request_session(), unit.id)
    return Markup(render_template("accounts/unit_officers.html", officers=officers))


section(blp, "unit_facts", unit_officers, order=10)


def user_roles() -> list[tuple[str, str]]:
    return [(role.value, role_label(role)) for role in Role]

