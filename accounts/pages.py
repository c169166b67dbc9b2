"""The sign-in and sign-out pages."""
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from accounts.errors import TooManyAttempts
from accounts.web import csrf, end_session, sign_in
from core.errors import Unauthenticated
from core.pages import page_response
from core.permissions import Permission, requires

blp = Blueprint("accounts_pages", __name__, template_folder="templates")


@blp.route("/sign-in", methods=["GET", "POST"])
@requires(Permission.PUBLIC)
def sign_in_page():
    next_page = _local_path(request.args.get("next", "/"))
    if request.method == "GET":
        return page_response(render_template("sign_in.html", next=next_page, username="", error=None))
    csrf.protect()  # no session yet, so the general check does not apply: a forged sign-in is refused here
    username = request.form.get("username", "")
    try:
        sign_in(username, request.form.get("password", ""))
    except (Unauthenticated, TooManyAttempts) as refusal:
        return render_template("sign_in.html", next=next_page, username=username,
                               error=_sign_in_refusal(refusal)), refusal.status_code
    return redirect(next_page)


@blp.post("/sign-out")
@requires(Permission.SIGNED_IN)
def sign_out_page():
    end_session()
    return redirect(url_for("accounts_pages.sign_in_page"))


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
