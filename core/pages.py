"""What every page shares: the layout (templates/base.html and the macros in templates/ui.html), Bootstrap's
style served by the app, the navigation each package adds to, forms checked by the API's own schemas,
numbers, money and dates for the page's language, and refusals drawn as pages."""
import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    make_response,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import LazyString, format_currency, format_datetime, format_decimal, get_locale
from flask_bootstrap import Bootstrap5
from markupsafe import Markup
from marshmallow import Schema, ValidationError, fields

from core.errors import DomainError
from core.i18n import LANGUAGES, shown
from core.permissions import Permission, requires

blp = Blueprint("core", __name__, template_folder="templates")
# Style and scripts of the pages, as files: the Content-Security-Policy refuses them inline.
ASSETS = Path(__file__).resolve().parent / "static"
PAGE_SIZES = (25, 50, 100)


def install(app: Flask, pages: Iterable[Blueprint]) -> None:
    """Bootstrap 5 from the Bootstrap-Flask package (its files, served locally: no CDN), the layout, and the
    packages' pages, in the order of their navigation. A refusal on one of these is drawn as a page."""
    app.config.setdefault("BOOTSTRAP_SERVE_LOCAL", True)
    Bootstrap5(app)
    app.extensions["page_blueprints"] = {blp.name}
    for blueprint in (blp, *pages):
        app.register_blueprint(blueprint)  # pages stay out of the API document
        app.extensions["page_blueprints"].add(blueprint.name)


@dataclass(frozen=True)
class NavigationEntry:
    endpoint: str
    label: LazyString
    permission: Permission
    order: int


def navigation(pages: Blueprint, endpoint: str, label: LazyString, permission: Permission, order: int) -> None:
    """Add a link to the layout's navigation; it shows only to callers whose role may open it."""
    entry = NavigationEntry(endpoint, label, permission, order)
    pages.record_once(lambda state: state.app.extensions.setdefault("navigation", []).append(entry))


def section(pages: Blueprint, page: str, render: Callable[..., Markup | None], order: int) -> None:
    """Add a section to a page another package draws: discovery adds a unit's scans to the unit's page (and
    the catalog and budget will add compliance and gaps), without the unit's package knowing of them.
    `render(**objects)` returns the section's markup, or None when it has nothing to show."""
    pages.record_once(lambda state: state.app.extensions.setdefault("sections", {}).setdefault(page, []).append(
        (order, render)))


def _sections(page: str, **objects: Any) -> list[Markup]:
    renders = sorted(current_app.extensions.get("sections", {}).get(page, []), key=lambda entry: entry[0])
    return [markup for _order, render in renders if (markup := render(**objects)) is not None]


@blp.app_context_processor
def layout_context() -> dict[str, Any]:
    return {"get_locale": get_locale, "navigation_entries": _navigation_entries, "sections": _sections}


def _navigation_entries() -> list[NavigationEntry]:
    caller = g.get("caller")
    if caller is None:
        return []
    entries = current_app.extensions.get("navigation", [])
    return sorted((e for e in entries if caller.may(e.permission)), key=lambda e: e.order)


@blp.app_template_global("url_with")
def url_with(**changes: Any) -> str:
    """This page's address with some query arguments changed (None removes one): filters, sorting and the
    page number all live in the URL, so a view can be bookmarked and shared."""
    view_args = request.view_args or {}
    # Query arguments url_for would take as its own (endpoint, _anchor, _external...) or as the route's: dropped.
    args = {name: values for name, values in request.args.to_dict(flat=False).items()
            if name not in view_args and name != "endpoint" and not name.startswith("_")}
    for name, value in changes.items():
        if value is None or value == "":
            args.pop(name, None)
        else:
            args[name] = [str(value)]
    query = "?" + urlencode(args, doseq=True) if args else ""
    if request.endpoint is None:  # no such route: the error page links to this same path, on this site
        return local_path("/" + quote(request.path.lstrip("/\\"))) + query
    return url_for(request.endpoint, **view_args, **args)


def local_path(target: str, default: str = "/") -> str:
    """`target` if it is a path on this site, else `default`: a link or redirect built from the request (a
    `next` argument, a form's return address) must never send the user to another site."""
    parts = urlsplit(target)
    local = not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//")
    return target if local and "\\" not in target else default


@blp.get("/assets/<path:filename>")
@requires(Permission.PUBLIC)
def asset(filename: str):
    return send_from_directory(ASSETS, filename)


def page_response(page: str, status: int = 200):
    """A rendered page; English asked for by ?lang=en is remembered (a cookie) for the next pages."""
    response = make_response(page, status)
    if request.args.get("lang") in LANGUAGES:
        response.set_cookie("lang", request.args["lang"], max_age=365 * 24 * 3600, samesite="Lax")
    return response


def render_page(template: str, status: int = 200, **context: Any):
    return page_response(render_template(template, **context), status)


# Numbers, money and dates in the page's language: "15.000.000 ₫" and 05/12/2026 in Vietnamese.
@blp.app_template_filter("number")
def number(value: float | int | None) -> str:
    return "" if value is None else format_decimal(value)


@blp.app_template_filter("vnd")
def vnd(value: int | None) -> str:
    return "" if value is None else format_currency(value, "VND")


@blp.app_template_filter("day")
def day(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
        return format_datetime(value, "dd/MM/yyyy", rebase=False)
    return format_datetime(value, "dd/MM/yyyy")


@blp.app_template_filter("moment")
def moment(value: dt.datetime | None) -> str:
    """A time of day in the service's time zone (BABEL_DEFAULT_TIMEZONE); stored times are UTC."""
    return "" if value is None else format_datetime(value, "dd/MM/yyyy HH:mm")


@blp.app_template_filter("shown")
def shown_filter(message: Any) -> str:
    """A service's message (a core.i18n.Reason) in the page's language."""
    return shown(message)


# Forms: read by the API's own marshmallow schemas, so that a page and the API accept and refuse the same.
def form_values(schema: Schema, form: Mapping | None = None) -> dict[str, Any]:
    """The submitted form as the schema's input: the CSRF token dropped, an empty optional field left out
    (a browser sends "" for it), a list field from its repeated values or its lines."""
    form = request.form if form is None else form
    values: dict[str, Any] = {}
    for name, field in schema.fields.items():
        key = field.data_key or name
        if field.dump_only or key not in form:
            continue
        if isinstance(field, fields.List):
            raw = form.getlist(key) if hasattr(form, "getlist") else [form[key]]
            items = [line.strip() for value in raw for line in str(value).splitlines() if line.strip()]
            values[key] = items
        elif str(form[key]).strip() != "":
            values[key] = str(form[key]).strip()
        elif field.allow_none and not field.required:
            values[key] = None
    return values


def field_errors(error: ValidationError | DomainError) -> tuple[dict[str, list[str]], list[str]]:
    """A refusal as messages next to the fields it names, and the rest for the top of the form."""
    if isinstance(error, DomainError):
        reason = shown(error.reason)
        return ({error.field: [reason]}, []) if error.field else ({}, [reason])
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    for name, messages in _flat_messages(error.messages).items():
        (general if name == "_schema" else by_field.setdefault(name, [])).extend(shown(m) for m in messages)
    return by_field, general


def _flat_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": list(messages)}  # as they are: Reasons stay Reasons until shown
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = str(key) if not prefix else prefix  # an item of a list field counts for the field
            for field, found in _flat_messages(value, name).items():
                flat.setdefault(field, []).extend(found)
        return flat
    return {prefix or "_schema": [str(messages)]}


def load_form(schema: Schema, form: Mapping | None = None) -> dict[str, Any]:
    """The form loaded by `schema`; a ValidationError names the fields at fault, as the API's 422 does."""
    return schema.load(form_values(schema, form))


@dataclass(frozen=True)
class Pagination:
    """One page of a long list: its number (from 1), its size and the count of everything that matched."""
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first_item(self) -> int:
        return min(self.total, self.offset + 1)

    @property
    def last_item(self) -> int:
        return min(self.total, self.offset + self.size)


def pagination_from_request(total: int, default_size: int = 50) -> Pagination:
    size = _int_arg("size", default_size)
    size = size if size in PAGE_SIZES else default_size
    pages = max(1, math.ceil(total / size))
    return Pagination(number=min(max(1, _int_arg("page", 1)), pages), size=size, total=total)


def page_number() -> int:
    """The page of a list asked for (?page=N, from 1); 1 when absent or not a page number."""
    return max(1, _int_arg("page", 1))


def refusal_status(refusal: ValidationError | DomainError) -> int:
    """The status the API answers a refusal with: a schema's 422, or the domain error's own."""
    return refusal.status_code if isinstance(refusal, DomainError) else 422


def _int_arg(name: str, default: int) -> int:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else default


def page_error(error: DomainError) -> Any:
    """A refusal on a page: the same reason as the API gives, as a page with a way back."""
    return render_page("error.html", status=error.status_code, status_code=error.status_code,
                       reason=shown(error.reason))


def is_page_request() -> bool:
    """A request for a page (or for no route at all, outside the API), answered in HTML."""
    if request.endpoint is None:
        return not request.path.startswith("/api/")
    return request.blueprint in current_app.extensions.get("page_blueprints", ())
