"""HTTP API for signing in, accounts, API tokens and the audit log."""
import datetime as dt

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf

from accounts import audit as audit_log
from accounts import services, web
from accounts.errors import WrongPassword
from accounts.permissions import ROLE_PERMISSIONS
from accounts.schemas import (
    AuditArgs,
    AuditExportArgs,
    AuditPageSchema,
    NewTokenSchema,
    PasswordChangedSchema,
    PasswordChangeSchema,
    SessionSchema,
    SignInSchema,
    TokenCreateSchema,
    TokenSchema,
    UserCreateSchema,
    UserSchema,
    UserUpdatedSchema,
    UserUpdateSchema,
)
from accounts.web import end_session, password_check
from core.caller import current_caller
from core.db import request_session
from core.permissions import Permission, requires
from core.time import as_utc

session_blp = Blueprint("session", __name__, url_prefix="/api/session", description="Signing in and out")
users_blp = Blueprint("users", __name__, url_prefix="/api/users", description="Accounts and roles")
tokens_blp = Blueprint("tokens", __name__, url_prefix="/api/tokens", description="API tokens for scripts")
audit_blp = Blueprint("audit", __name__, url_prefix="/api/audit", description="The audit log, read-only")


def session_body(user) -> dict:
    return {"user": user, "permissions": sorted(ROLE_PERMISSIONS[user.role.value]), "csrf_token": generate_csrf()}


@session_blp.route("")
class SignIn(MethodView):
    @requires(Permission.PUBLIC)
    @session_blp.arguments(SignInSchema)
    @session_blp.response(200, SessionSchema)
    def post(self, args):
        """Sign in with a user name and password; the answer carries the CSRF token for later writes."""
        return session_body(web.sign_in(args["username"], args["password"]))

    @requires(Permission.SIGNED_IN)
    @session_blp.response(200, SessionSchema)
    def get(self):
        """Who is signed in, with what permissions, and the CSRF token for writes."""
        return session_body(services.get_user(request_session(), current_caller().user_id))

    @requires(Permission.SIGNED_IN)
    @session_blp.response(204)
    def delete(self):
        """Sign out: the session ends on the server, so a copy of its cookie stops working too."""
        end_session()


@session_blp.route("/password")
class OwnPassword(MethodView):
    @requires(Permission.SIGNED_IN)
    @session_blp.arguments(PasswordChangeSchema)
    @session_blp.response(200, PasswordChangedSchema)
    def put(self, args):
        """Change your own password, giving the current one. Your other sessions end and all your API
        tokens are revoked; this session stays signed in. From a signed-in session only, not a token."""
        db = request_session()
        caller = current_caller()
        with password_check(WrongPassword):
            change = services.change_own_password_audited(db, caller, args["old_password"], args["new_password"],
                                                          request.remote_addr or "")
        db.commit()
        return change


@users_blp.route("")
class Users(MethodView):
    @requires(Permission.ACCOUNTS_MANAGE)
    @users_blp.response(200, UserSchema(many=True))
    def get(self):
        """All accounts."""
        return services.list_users(request_session())

    @requires(Permission.ACCOUNTS_MANAGE)
    @users_blp.arguments(UserCreateSchema)
    @users_blp.response(201, UserSchema)
    def post(self, args):
        """Create an account; a unit officer needs the units they answer for."""
        db = request_session()
        user = services.create_user_audited(db, current_caller().name, args["username"], args["display_name"],
                                            args["password"], args["role"], args["unit_codes"])
        db.commit()
        return user


@users_blp.route("/<int(max=2147483647):user_id>")
class UserById(MethodView):
    @requires(Permission.ACCOUNTS_MANAGE)
    @users_blp.response(200, UserSchema)
    def get(self, user_id):
        """One account."""
        return services.get_user(request_session(), user_id)

    @requires(Permission.ACCOUNTS_MANAGE)
    @users_blp.arguments(UserUpdateSchema)
    @users_blp.response(200, UserUpdatedSchema)
    def patch(self, args, user_id):
        """Change an account's name, password, role, units or whether it may sign in. A new password ends
        the user's sessions and revokes their API tokens (`tokens_revoked` says how many)."""
        db = request_session()
        user = services.update_user_audited(db, current_caller().name, user_id, args)
        db.commit()
        return user


@tokens_blp.route("")
class Tokens(MethodView):
    @requires(Permission.SIGNED_IN)
    @tokens_blp.response(200, TokenSchema(many=True))
    def get(self):
        """From a session, your tokens (an administrator's session: everyone's); from a token, that token and
        the tokens it created. Token values are never shown again."""
        return services.list_tokens(request_session(), current_caller())

    @requires(Permission.SIGNED_IN)
    @tokens_blp.arguments(TokenCreateSchema)
    @tokens_blp.response(201, NewTokenSchema)
    def post(self, args):
        """Create a token that acts as you, limited to the permissions you list. Copy it now.

        From a session, give your current password (`password`; a wrong one counts as a failed sign-in).
        A token needs none, but may create tokens only within its own permissions and expiry; revoking it
        revokes them."""
        db = request_session()
        caller = current_caller()
        with password_check(WrongPassword):
            services.confirm_token_creator(db, caller, args.get("password"), request.remote_addr or "")
        token, value = services.create_token_audited(db, caller, args["name"], args["permissions"],
                                                     args["expires_at"], token_lifetimes())
        db.commit()
        token.value_shown_once = value  # not a column: answered now, kept nowhere
        return token


@tokens_blp.route("/<int(max=2147483647):token_id>")
class TokenById(MethodView):
    @requires(Permission.SIGNED_IN)
    @tokens_blp.response(200, TokenSchema)
    def delete(self, token_id):
        """Revoke a token, and the tokens it created: they stop working at once. A token may revoke only
        itself and the tokens it created; a session its user's tokens (an administrator's: anyone's)."""
        db = request_session()
        token = services.revoke_token_audited(db, token_id, current_caller())
        db.commit()
        return token


@audit_blp.route("")
class AuditLog(MethodView):
    @requires(Permission.AUDIT_READ)
    @audit_blp.arguments(AuditArgs, location="query")
    @audit_blp.response(200, AuditPageSchema)
    def get(self, args):
        """Changes, newest first, by actor, action and period."""
        entries, total = audit_log.list_entries(request_session(), _audit_filter(args), page=args["page"],
                                                page_size=args["page_size"])
        return {"items": entries, "total": total, "page": args["page"], "page_size": args["page_size"]}


@audit_blp.route("/export")
class AuditExport(MethodView):
    @requires(Permission.AUDIT_READ)
    @audit_blp.arguments(AuditExportArgs, location="query")
    @audit_blp.response(200, description="The matching entries as CSV.")
    def get(self, args):
        """Export the matching entries as CSV, oldest first."""
        return Response(audit_log.export_csv(request_session(), _audit_filter(args)),
                        mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": "attachment; filename=audit.csv"})


def token_lifetimes() -> services.TokenLifetimes:
    return services.TokenLifetimes(default=dt.timedelta(days=current_app.config["TOKEN_DEFAULT_LIFETIME_DAYS"]),
                                   maximum=dt.timedelta(days=current_app.config["TOKEN_MAX_LIFETIME_DAYS"]))


def _audit_filter(args) -> audit_log.AuditFilter:
    return audit_log.AuditFilter(actor=args.get("actor"), action=args.get("action"),
                                 target_type=args.get("target_type"), target_id=args.get("target_id"),
                                 since=_utc(args.get("since")), until=_utc(args.get("until")))


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    """Times are stored as naive UTC; a time given with its zone is converted first."""
    return as_utc(moment) if moment else moment
