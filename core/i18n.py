"""Which language a page speaks: Vietnamese unless the user asked for English (?lang=en, then a cookie)."""
from flask import request

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


def select_locale() -> str:
    wanted = request.args.get("lang") or request.cookies.get("lang")
    return wanted if wanted in LANGUAGES else DEFAULT_LANGUAGE
