"""Pages of the catalog: its versions, a version's content beside what changed since the one before it, and, for
the office that issues it, creating a draft, importing a workbook into it and publishing it; a unit's compliance
(a section of the unit's page, and the devices behind each count) and what the norms require of it; a device's
judgement (a section of the device's page).

The pages read through catalog/services.py and catalog/reports.py, as the API does, within the caller's units:
outside them, a unit is as absent on these pages as on the unit's own (404)."""
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import func, select

from catalog import reports, services, transfer
from catalog.compliance import publish_and_judge, today
from catalog.content import SHEETS, CatalogRejected, differences
from catalog.explain import STATUS_LABELS, explain, explain_all, shown_value, spec_label
from catalog.models import CatalogVersion, Category, ComplianceStatus
from catalog.schemas import VersionCreateSchema
from core.caller import caller_scope, current_caller
from core.db import request_session
from core.errors import Conflict, DomainError
from core.i18n import Reason, shown
from core.pages import (
    field_errors,
    load_form,
    navigation,
    number,
    page_error,
    page_number,
    pagination_from_request,
    refusal_status,
    render_page,
    section,
)
from core.permissions import Permission, requires
from inventory.api import MEDIA_TYPES
from inventory.device_pages import device_name
from inventory.labels import DEVICE_CLASSES, UNIT_KINDS, label
from inventory.models import Device, Unit
from inventory.tables import table_limits
from inventory.transfer import one_import_at_a_time
from inventory.unit_pages import breadcrumbs as unit_breadcrumbs
from inventory.unit_pages import organisation

blp = Blueprint("catalog_pages", __name__, template_folder="templates")
navigation(blp, "catalog_pages.versions", _l("Equipment catalog"), Permission.INVENTORY_READ, order=45)

# What the pages call the catalog's coded values, in the page's language.
VERSION_STATUSES = {"draft": _l("draft"), "scheduled": _l("scheduled"), "in_force": _l("in force"),
                    "superseded": _l("superseded")}
VERSION_BADGES = {"draft": "text-bg-secondary", "scheduled": "text-bg-info", "in_force": "text-bg-success",
                  "superseded": "text-bg-light border"}
STATUS_BADGES = {"compliant": "text-bg-success", "below_spec": "text-bg-warning", "unapproved_model": "text-bg-warning",
                 "end_of_support": "text-bg-danger", "past_service_life": "text-bg-danger",
                 "end_of_sale": "text-bg-secondary", "unknown": "text-bg-secondary"}
# The columns of a unit's counts: the good news first, then what to replace, then what is not known.
STATUS_COLUMNS = ("compliant", "below_spec", "unapproved_model", "end_of_sale", "end_of_support", "past_service_life",
                  "unknown")
GROUPS = {"terminal": _l("terminal equipment"), "network": _l("network equipment")}
OPERATORS = {"at_least": "≥", "at_most": "≤", "is": "=", "one_of": _l("one of")}
SEVERITIES = {"required": _l("required"), "recommended": _l("recommended")}
SHEET_NAMES = {"categories": _l("Categories"), "models": _l("Approved models"), "requirements": _l("Requirements"),
               "parts": _l("Upgrade parts"), "norms": _l("Norms")}
# What a norm counts (catalog.rules.BASES), in words.
BASES = {"staff_count": _l("staff"), "leader_count": _l("leaders"), "specialist_count": _l("specialists"),
         "other_staff": _l("other staff (neither leaders nor specialists)"), "meeting_rooms": _l("meeting rooms"),
         "sites": _l("sites (buildings)"), "archive_pages": _l("pages of records to digitise"),
         "on_secure_network": _l("on the dedicated secure network (1 if the unit must be)"),
         "unit": _l("the unit itself"), "wired_ports": _l("wired ports the unit's terminals need"),
         "archive_pages_per_day": _l("pages to digitise per working day until the deadline")}
NO_CATEGORY = "none"  # the filter's value for devices no category takes (catalog.reports.compliance_devices)
SHOWN_PROBLEMS = 1000  # an import's report lists this many problems, and counts the rest


def _may_manage() -> bool:
    return current_caller().may(Permission.CATALOG_MANAGE)


def category_name(category: Category | None) -> str:
    """A category's name in the page's language; none: "no category"."""
    if category is None:
        return _("no category")
    locale = get_locale()
    return category.name_vi if locale is not None and locale.language == "vi" else category.name_en


def _labels() -> dict[str, Any]:
    """What every catalog template reads: the labels above and the helpers that format a version's values."""
    return {"version_statuses": VERSION_STATUSES, "version_badges": VERSION_BADGES, "status_labels": STATUS_LABELS,
            "status_badges": STATUS_BADGES, "groups": GROUPS, "operators": OPERATORS, "severities": SEVERITIES,
            "sheet_names": SHEET_NAMES, "bases": BASES, "category_name": category_name, "spec_label": spec_label,
            "value_shown": value_shown, "cell_shown": cell_shown, "norm_rule": norm_rule, "fraction": fraction,
            "unit_kind": lambda kind: label(UNIT_KINDS, kind), "device_class": lambda name: label(DEVICE_CLASSES, name),
            "today": today(), "may_manage": _may_manage()}


def _render(template: str, status: int = 200, **context: Any):
    return render_page(template, status, **_labels(), **context)


# ---- how values read ------------------------------------------------------------------------------------------

def value_shown(spec: str, value: Any) -> str:
    """A requirement's value as people read it: "8 GB", "SSD", yes and no in the page's language."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(value_shown(spec, v) for v in value)
    return shown_value(spec, value)


def cell_shown(value: Any) -> str:
    """A cell of a version's sheets (catalog.content.content_rows) as a change shows it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def norm_rule(norm: Any) -> str:
    """How a norm counts, in words: "1 for every 5" and its spare share."""
    text = _("%(each)s for each", each=number(norm.each)) if norm.every == 1 else \
        _("%(each)s for every %(every)s", each=number(norm.each), every=number(norm.every))
    if norm.spare_percent:
        text += " · " + _("%(percent)s%% spare", percent=number(norm.spare_percent))
    if norm.minimum:
        text += " · " + _("at least %(minimum)s", minimum=number(norm.minimum))
    return text


def fraction(value: Fraction | int | Decimal) -> float | int:
    """A norm's basis (pages a day can be a fraction) as a number to show, to two decimals."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    return round(float(value), 2)


# ---- the versions -----------------------------------------------------------------------------------------------

VERSION_FIELDS = ("name", "effective_on", "legal_basis", "note", "copy_of")


@dataclass(frozen=True)
class VersionRow:
    version: CatalogVersion
    status: str
    counts: dict[str, int]


@blp.get("/catalog")
@requires(Permission.INVENTORY_READ)
def versions():
    """Every version, the one in force first; for the office that issues the catalog, a new version."""
    return _versions_page()


def _versions_page(status: int = 200, values: Mapping[str, Any] | None = None,
                   refusal: ValidationError | DomainError | None = None):
    session = request_session()
    found = services.list_versions(session)
    in_force = services.version_in_force(session, today())
    rows = [VersionRow(v, services.version_status(v, today(), in_force.id if in_force else None),
                       {sheet: len(getattr(v, sheet)) for sheet in SHEETS}) for v in found]
    rows.sort(key=lambda row: row.status != "in_force")  # stable: the rest stay newest first
    errors, general = _placed(refusal, VERSION_FIELDS) if refusal else ({}, [])
    values = dict(values) if values is not None else {"copy_of": str(in_force.id) if in_force else ""}
    return _render("catalog/versions.html", status, rows=rows, in_force=in_force, values=values, errors=errors,
                   general=general, copy_options=[(str(v.id), v.name) for v in found],
                   breadcrumbs=[(_("Equipment catalog"), None)])


def _placed(refusal: ValidationError | DomainError, placed: Iterable[str]) -> tuple[dict[str, list[str]], list[str]]:
    """A refusal's messages next to the form's fields, the others on top of it."""
    by_field, general = field_errors(refusal)
    placed = set(placed)
    errors = {name: messages for name, messages in by_field.items() if name in placed}
    general += [m for name, messages in by_field.items() if name not in placed for m in messages]
    return errors, general


@blp.post("/catalog/versions")
@requires(Permission.CATALOG_MANAGE)
def new_version():
    """A draft, empty or a copy of another version."""
    session = request_session()
    submitted = {name: request.form.get(name, "") for name in VERSION_FIELDS}
    try:
        args = load_form(VersionCreateSchema())
        version = services.create_version(session, args, by=current_caller().name)
    except (ValidationError, DomainError) as refusal:
        session.rollback()
        return _versions_page(refusal_status(refusal), submitted, refusal)
    session.commit()
    flash(_("Draft %(name)s created: import its workbook or change it, then publish it.", name=version.name),
          "success")
    return redirect(url_for(".version", version_id=version.id))


# ---- one version ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CategoryContent:
    category: Category
    models: list[Any]
    requirements: list[Any]
    parts: list[Any]


@blp.get("/catalog/<int(max=2147483647):version_id>")
@requires(Permission.INVENTORY_READ)
def version(version_id: int):
    """A version's categories with their models, requirements, service life and parts; its norms; what changed
    since the version before it; its workbook."""
    return _version_page(version_id)


def _version_page(version_id: int, status: int = 200, problems: list | None = None,
                  upload_errors: list[str] | None = None):
    session = request_session()
    version = services.loaded_version(session, version_id)
    in_force = services.version_in_force(session, today())
    state = services.version_status(version, today(), in_force.id if in_force else None)
    content = [CategoryContent(c, [m for m in version.models if m.category_id == c.id],
                               [r for r in version.requirements if r.category_id == c.id],
                               [p for p in version.parts if p.category_id == c.id]) for c in version.categories]
    previous = _previous(session, version)
    changes = differences(services.load_content(previous), services.load_content(version)) if previous else None
    problems = problems or []
    return _render(
        "catalog/version.html", status, version=version, state=state, content=content, previous=previous,
        changes=changes, columns=SHEETS, problems=problems[:SHOWN_PROBLEMS],
        more_problems=max(0, len(problems) - SHOWN_PROBLEMS), upload_errors=upload_errors or [],
        breadcrumbs=[(_("Equipment catalog"), url_for(".versions")), (version.name, None)])


def _previous(session, version: CatalogVersion) -> CatalogVersion | None:
    """What a version is compared with: the version it was copied from, else the published version that took
    effect last before it."""
    if version.based_on_id is not None:
        return services.loaded_version(session, version.based_on_id)
    earlier = [v for v in services.list_versions(session) if v.published_at is not None and v.id != version.id
               and v.effective_on < version.effective_on]
    return services.loaded_version(session, earlier[0].id) if earlier else None


@blp.route("/catalog/<int(max=2147483647):version_id>/publish", methods=["GET", "POST"])
@requires(Permission.CATALOG_MANAGE)
def publish(version_id: int):
    """What publishing does, then publishing: the version is frozen and, once in force, judges every device."""
    session = request_session()
    version = services.get_version(session, version_id)
    if version.published_at is not None:
        return page_error(_published(version))
    if request.method == "GET":
        return _confirm_page(version, "publish")
    try:
        publish_and_judge(session, version.id, by=current_caller().name)
    except DomainError as refusal:
        session.rollback()
        return _confirm_page(services.get_version(session, version_id), "publish", refusal_status(refusal),
                             [shown(refusal.reason)])
    session.commit()
    flash(_("%(name)s is published: it is in force from %(day)s.", name=version.name,
            day=version.effective_on.strftime("%d/%m/%Y")), "success")
    return redirect(url_for(".version", version_id=version.id))


@blp.route("/catalog/<int(max=2147483647):version_id>/delete", methods=["GET", "POST"])
@requires(Permission.CATALOG_MANAGE)
def delete(version_id: int):
    """Delete a draft, after a confirmation; a published version is kept for ever."""
    session = request_session()
    version = services.get_version(session, version_id)
    if version.published_at is not None:
        return page_error(_published(version))
    if request.method == "GET":
        return _confirm_page(version, "delete")
    name = version.name
    services.delete_version(session, version.id, by=current_caller().name)
    session.commit()
    flash(_("Draft %(name)s deleted.", name=name), "success")
    return redirect(url_for(".versions"))


def _published(version: CatalogVersion) -> Conflict:
    return Conflict(Reason("%(name)s is published and can no longer change; create a new version from it",
                           name=version.name))


def _confirm_page(version: CatalogVersion, action: str, status: int = 200, problems: list[str] | None = None):
    session = request_session()
    in_force = services.version_in_force(session, today())
    if version.effective_on > today():
        effect = "later"
    elif in_force is None or in_force.effective_on <= version.effective_on:
        effect = "now"
    else:
        effect = "between"  # a version taking effect after it is in force already
    return _render("catalog/confirm.html", status, version=version, action=action, problems=problems or [],
                   in_force=in_force, effect=effect,
                   devices=session.scalar(select(func.count()).select_from(Device)) if action == "publish" else 0,
                   breadcrumbs=[(_("Equipment catalog"), url_for(".versions")),
                                (version.name, url_for(".version", version_id=version.id)),
                                (_("Publish") if action == "publish" else _("Delete"), None)])


# ---- the workbook ---------------------------------------------------------------------------------------------

@blp.get("/catalog/<int(max=2147483647):version_id>/workbook.xlsx")
@requires(Permission.INVENTORY_READ)
def workbook(version_id: int):
    """The version's content as an XLSX workbook, one sheet per part: what the import reads back."""
    session = request_session()
    version = services.loaded_version(session, version_id)
    content = transfer.export_version(version, "xlsx")
    return Response(content, mimetype=MEDIA_TYPES["xlsx"],
                    headers={"Content-Disposition": f"attachment; filename=catalog-{version.id}.xlsx"})


@blp.post("/catalog/<int(max=2147483647):version_id>/workbook")
@requires(Permission.CATALOG_MANAGE)
def import_workbook(version_id: int):
    """Replace a draft's content with an uploaded workbook: all of it, or, with a problem, nothing."""
    session = request_session()
    version = services.get_version(session, version_id)
    if version.published_at is not None:
        return page_error(_published(version))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _version_page(version_id, 422, upload_errors=[_("Choose an Excel (XLSX) workbook to upload.")])
    try:
        with one_import_at_a_time(current_app.extensions["import_slots"]):
            transfer.import_workbook(session, version.id, upload.filename, upload.read(), by=current_caller().name,
                                     limits=table_limits(current_app.config))
    except CatalogRejected as rejected:
        session.rollback()
        return _version_page(version_id, 422, problems=rejected.problems)
    except DomainError as refusal:  # not a workbook, too large...
        session.rollback()
        return _version_page(version_id, refusal_status(refusal), upload_errors=[shown(refusal.reason)])
    session.commit()
    flash(_("%(file)s imported into %(name)s.", file=upload.filename, name=version.name), "success")
    return redirect(url_for(".version", version_id=version.id))


# ---- a unit's compliance ----------------------------------------------------------------------------------------

class ComplianceFilter(Schema):
    """The filters of a unit's judged devices, from the page's address."""
    class Meta:
        unknown = EXCLUDE

    status = fields.String(validate=validate.OneOf([s.value for s in ComplianceStatus]))
    category = fields.String(validate=validate.Length(min=1, max=32))
    version = fields.Integer(strict=False, validate=validate.Range(min=1, max=2147483647))


def _filters(session, names: Iterable[str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The filters asked for, and the refusal of each one that cannot be (next to it on the page)."""
    given = {name: value for name in names if (value := request.args.get(name, "").strip())}
    try:
        args = ComplianceFilter().load(given)
    except ValidationError as error:
        return {}, field_errors(error)[0]
    if "version" in args and args["version"] not in {v.id for v in services.list_versions(session)}:
        return {}, {"version": [shown(Reason("catalog version %(id)s does not exist", id=args["version"]))]}
    return args, {}


def _unit_and_version(code: str, names: Iterable[str]):
    """The unit (404 outside the caller's units), the filters asked for and their refusals, and the version the
    page is about (the one asked for, else the one in force; None when there is none)."""
    session, org = request_session(), organisation()
    unit = org.unit(code)
    args, errors = _filters(session, names)
    version = services.get_version(session, args["version"]) if "version" in args else \
        services.version_in_force(session, today())
    return session, org, unit, args, errors, version


@blp.get("/units/<code>/compliance")
@requires(Permission.INVENTORY_READ)
def unit_compliance(code: str):
    """The devices of the unit and the units below it with their judgement, filtered by status, category and
    version, a page at a time."""
    session, org, unit, args, errors, version = _unit_and_version(code, ("status", "category", "version"))
    items, pagination = [], pagination_from_request(0)
    if version is not None and not errors:
        size, wanted = pagination.size, page_number()
        query = {"status": args.get("status"), "category": args.get("category"), "version_id": version.id}
        items, total = reports.compliance_devices(session, unit.code, caller_scope(), page=wanted, per_page=size,
                                                  **query)
        pagination = pagination_from_request(total)
        if pagination.number != wanted:  # past the last page: the last one
            items, total = reports.compliance_devices(session, unit.code, caller_scope(),
                                                      page=pagination.number, per_page=size, **query)
    categories = {c.code: c for c in version.categories} if version else {}
    return _render(
        "catalog/unit_compliance.html", 422 if errors else 200, unit=unit, version=version, args=args,
        errors=errors, items=[_judged_row(item, categories) for item in items], pagination=pagination,
        version_options=[(str(v.id), v.name) for v in services.list_versions(session)],
        category_options=[(c.code, category_name(c)) for c in categories.values()] + [(NO_CATEGORY, _("no category"))],
        status_options=[(s, STATUS_LABELS[s]) for s in STATUS_COLUMNS],
        breadcrumbs=unit_breadcrumbs(org, unit, _("Compliance")))


@dataclass(frozen=True)
class JudgedRow:
    device: Device
    name: str
    device_class: str
    category: str
    status: str
    reason: str


def _judged_row(item: reports.JudgedDevice, categories: Mapping[str, Category]) -> JudgedRow:
    """A device of the list with what decides its status: the first finding of that status (the others are on
    the device's page)."""
    deciding = next((f for f in item.findings if f["status"] == item.status), None) or \
        next(iter(item.findings), None)
    reason = explain(deciding) if deciding else explain_all([], approved=item.model_id is not None)[0]
    return JudgedRow(item.device, device_name(item.device), label(DEVICE_CLASSES, item.device.device_class),
                     category_name(categories.get(item.category)) if item.category else _("no category"),
                     item.status, shown(reason))


@blp.get("/units/<code>/norms")
@requires(Permission.INVENTORY_READ)
def unit_norms(code: str):
    """What each norm of the version in force (or ?version=) requires of the unit, capped by its legal maximum,
    and the totals per category."""
    session, org, unit, args, errors, version = _unit_and_version(code, ("version",))
    norms = rows = totals = None
    if version is not None and not errors:
        norms = reports.unit_norms(session, unit.code, caller_scope(), version_id=version.id)
        by_code, categories = reports.norms_by_code(norms.version), reports.categories_by_code(norms.version)
        rows = [(quantity, by_code[quantity.norm], categories[quantity.category]) for quantity in norms.quantities]
        totals = [(categories[code], required) for code, required in norms.totals().items()]
    return _render("catalog/unit_norms.html", 422 if errors else 200, unit=unit, version=version, args=args,
                   errors=errors, norms=norms, rows=rows, totals=totals,
                   version_options=[(str(v.id), v.name) for v in services.list_versions(session)],
                   breadcrumbs=unit_breadcrumbs(org, unit, _("Equipment norms")))


# ---- sections of the unit's and the device's pages ------------------------------------------------------------

@dataclass(frozen=True)
class Count:
    count: int
    href: str
    label: str  # what the count is of, for a screen reader


def unit_section(unit: Unit, **_objects: Any) -> Markup | None:
    """The unit page's section: its devices (with its sub-units') by category and status under the version in
    force, each count a link to those devices; nothing when no version is in force."""
    session = request_session()
    if services.version_in_force(session, today()) is None:
        return None
    counts = reports.unit_compliance(session, unit.code, caller_scope())
    categories = {c.code: c for c in counts.version.categories}

    def cell(count: int, text: str, **filters: str) -> Count:
        return Count(count, url_for("catalog_pages.unit_compliance", code=unit.code, **filters), text)

    rank = {c.code: i for i, c in enumerate(counts.version.categories)}
    rows = []
    for code in sorted(counts.categories(), key=lambda c: (c is None, rank.get(c, len(rank)), c or "")):
        name = category_name(categories.get(code)) if code else _("no category")
        key = code or NO_CATEGORY
        rows.append((name, [cell(counts.counts.get((code, s), 0), f"{name}, {STATUS_LABELS[s]}", category=key,
                                 status=s) for s in STATUS_COLUMNS],
                     cell(sum(n for (c, _s), n in counts.counts.items() if c == code), name, category=key)))
    by_status = counts.by_status()
    totals = [cell(by_status.get(s, 0), str(STATUS_LABELS[s]), status=s) for s in STATUS_COLUMNS]
    return Markup(render_template("catalog/_unit_section.html", **_labels(), unit=unit, version=counts.version,
                                  rows=rows, totals=totals, statuses=STATUS_COLUMNS,
                                  total=cell(sum(by_status.values()), _("all devices"))))


def device_section(device: Device, **_objects: Any) -> Markup | None:
    """The device page's section: its category, approved model, status and every reason for it, the version and
    day of the judgement, and its value as a public asset; nothing when no version is in force."""
    session = request_session()
    if services.version_in_force(session, today()) is None:
        return None
    judged = reports.device_compliance(session, device.id, caller_scope())
    reasons = explain_all(list(judged.findings), approved=judged.model is not None)
    return Markup(render_template(
        "catalog/_device_section.html", **_labels(), judged=judged, reasons=[shown(r) for r in reasons],
        severities_of=[f.get("severity", "required") for f in judged.findings] or ["required"],
        may_write=current_caller().may(Permission.INVENTORY_WRITE)))


section(blp, "unit", unit_section, order=30)
section(blp, "device", device_section, order=30)
