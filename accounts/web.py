"""Who is calling, and may they: run before every request, for pages and API alike.

Each route declares a permission (`requires`); this hook identifies the caller (an API token in
`Authorization: Bearer ...`, or the signed session cookie), refuses what the caller's role does not
allow, and checks the CSRF token of every state-changing request made with a session cookie.
Handlers then read `current_caller()` and pass its unit scope to the services' queries.

The session cookie carries only a random key to a `UserSession` row: signing out ends the row, so a
copied cookie stops working too; a session also ends SESSION_ABSOLUTE_LIFETIME_S after signing in
(default 12 hours) and after SESSION_IDLE_TIMEOUT_S without a request (default 30 minutes, as OWASP
ASVS level 2 asks)."""
import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Iterator

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from accounts import services
from accounts.errors import TooManyAttempts
from accounts.models import User
from accounts.services import SessionLimits, caller_for_session, caller_for_token, end_user_session, open_user_session
from core.audit import record
from core.caller import Caller
from core.db import request_session
from core.errors import Forbidden, Unauthenticated
from core.i18n import Reason
from core.permissions import FRAMEWORK_ENDPOINTS, Permission, declared_permissions

log = logging.getLogger(__name__)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
csrf = CSRFProtect()


def install(app: Flask, *, sign_in_page: str, sign_out_page: str, account_page: str) -> None:
    """Identify and check every request; a page asked for without signing in redirects to `sign_in_page`.
    The pages are named as endpoints in the configuration, so that neither accounts nor the layout (core)
    needs to know which package draws them; `account_page` is one's own account (password, tokens)."""
    app.config["SIGN_IN_PAGE"], app.config["SIGN_OUT_PAGE"] = sign_in_page, sign_out_page
    app.config["ACCOUNT_PAGE"] = account_page
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked below, for cookie sessions only
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)      # valid for the session's life
    csrf.init_app(app)
    app.before_request(authorise)
    app.extensions["password_checks"] = threading.BoundedSemaphore(app.config["PASSWORD_CHECKS_AT_ONCE"])
    if app.config.get("TRUSTED_PROXIES"):
        # Behind N reverse proxies, each appending the address it received from to X-Forwarded-For, the
        # client's is the Nth from the right; values further left are the client's to forge. Off (0) by
        # default: a client reaching the service directly must not choose the address it is throttled as.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(app.config["TRUSTED_PROXIES"]), x_proto=0)

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError):
        # The description is Flask-WTF's own English sentence: a value here (a page's translation puts it aside).
        refusal = Forbidden(Reason("%(description)s Send the token from GET /api/session as the X-CSRFToken header.",
                                   description=str(error.description)), field="csrf_token")
        return app.handle_user_exception(refusal)  # answered like every other refusal


def authorise():
    if request.endpoint is None or request.method == "OPTIONS":
        return None  # no such route (404 follows), or Flask's automatic OPTIONS answer
    if getattr(current_app.view_functions[request.endpoint], "own_credentials", False):
        g.caller = None  # the route checks credentials of its own (a collector's token), not an account's
        return None
    g.caller = identify()
    if request.endpoint in FRAMEWORK_ENDPOINTS:
        return None
    method = "GET" if request.method == "HEAD" else request.method
    declared = declared_permissions(current_app, request.endpoint)
    permission = declared.get(method, declared.get("*"))
    if permission is Permission.PUBLIC:
        return None
    caller = g.caller
    if caller is None:
        if not request.path.startswith("/api/"):
            return redirect(url_for(current_app.config["SIGN_IN_PAGE"], next=request.full_path.rstrip("?")))
        raise Unauthenticated(Reason("sign in first, or send an API token as 'Authorization: Bearer <token>'"))
    if not caller.may(permission):
        raise Forbidden(Reason("a %(role)s may not do this (needs %(permission)s)", role=caller.role.value,
                               permission=permission.value))
    if caller.via == "session" and request.method not in SAFE_METHODS:
        csrf.protect()
    return None


def identify() -> Caller | None:
    header = request.headers.get("Authorization", "")
    db = request_session()
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated(Reason("the Authorization header must be 'Bearer <token>'"))
        caller = caller_for_token(db, value.strip())
        db.commit()  # the token's last use, before the handler's own transaction begins
        return caller
    if "key" not in session:
        return None
    try:
        caller = caller_for_session(db, session["key"], _session_limits())
    except Unauthenticated:
        session.clear()  # signed out, timed out, password reset or account deactivated since
        return None
    db.commit()  # the session's last use, before the handler's own transaction begins
    return caller


def sign_in(username: str, password: str) -> User:
    """Check a user name and password and start a session: one flow for the API and the sign-in page.
    A refusal is raised after its failure is committed, since failures count towards throttling."""
    db = request_session()
    with password_check(Unauthenticated, TooManyAttempts):
        user = services.sign_in(db, username, password, request.remote_addr or "")
    start_session(user.id)
    record(db, user.username, "session.sign_in", "user", user.id)
    db.commit()
    return user


def start_session(user_id: int) -> None:
    """A new session, in the request's transaction (the caller commits). A session the browser had
    before ends: a key planted before sign-in is never the signed-in one."""
    db = request_session()
    if "key" in session:
        end_user_session(db, session["key"])
    session.clear()
    session["key"] = open_user_session(db, user_id, request.remote_addr or "", _session_limits())
    session.permanent = True


def end_session() -> None:
    """Sign out, on the server: a copy of the cookie is refused from now on."""
    if "key" in session:
        db = request_session()
        end_user_session(db, session["key"])
        db.commit()
    session.clear()


def _session_limits() -> SessionLimits:
    return SessionLimits(absolute=dt.timedelta(seconds=current_app.config["SESSION_ABSOLUTE_LIFETIME_S"]),
                         idle=dt.timedelta(seconds=current_app.config["SESSION_IDLE_TIMEOUT_S"]))


BUSY = Reason("too many sign-ins at once; try again in a moment")


@contextlib.contextmanager
def password_check(*counted: type[Exception]) -> Iterator[None]:
    """A slot for checking a password (sign-in, one's own password, a token from a session). Each check costs
    about 0.3 s of CPU and 64 MiB, for an unknown name too (the dummy hash): sign-ins from many addresses at
    once could hold every server thread. One that finds no slot within PASSWORD_CHECK_WAIT_S is refused
    (429) before anything is checked or counted. A refusal of the kinds `counted` is raised after the
    request's session commits: the failure it recorded counts towards throttling."""
    slots = current_app.extensions["password_checks"]
    if not slots.acquire(timeout=current_app.config["PASSWORD_CHECK_WAIT_S"]):
        raise TooManyAttempts(BUSY, field="password")
    try:
        yield
    except counted:
        request_session().commit()
        raise
    finally:
        slots.release()
