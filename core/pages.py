"""What every page shares: the layout (templates/base.html), its style sheet and the page's language."""
from pathlib import Path

from flask import Blueprint, make_response, request, send_from_directory
from flask_babel import get_locale

from core.i18n import LANGUAGES
from core.permissions import Permission, requires

blp = Blueprint("core", __name__, template_folder="templates")
# Style and scripts of the pages, as files: the Content-Security-Policy refuses them inline.
ASSETS = Path(__file__).resolve().parent / "static"


@blp.app_context_processor
def locale_in_templates():
    return {"get_locale": get_locale}


@blp.get("/assets/<path:filename>")
@requires(Permission.PUBLIC)
def asset(filename: str):
    return send_from_directory(ASSETS, filename)


def page_response(page: str):
    """A rendered page; English asked for by ?lang=en is remembered (a cookie) for the next pages."""
    response = make_response(page)
    if request.args.get("lang") in LANGUAGES:
        response.set_cookie("lang", request.args["lang"], max_age=365 * 24 * 3600, samesite="Lax")
    return response
