"""The organisation's pages: the unit tree, a unit's page, creating and editing units; and what the reorganisation
pages (inventory.reorganisation_pages: merging and splitting) share with them: the tree, breadcrumbs, form helpers.

Forms are read by the API's own schemas and changed by the same audited services as the API's handlers
(inventory.units). Every unit is read in one query and the devices counted in one GROUP BY, whatever the size of
the organisation."""
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import format_decimal, get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from core.caller import caller_scope, current_caller
from core.db import request_session
from core.errors import Conflict, DomainError, NotFound
from core.i18n import Reason
from core.pages import field_errors, form_values, navigation, refusal_status, render_page
from core.permissions import Permission, requires
from inventory import units as service
from inventory.labels import DEVICE_CLASSES, DEVICE_STATUSES, UNIT_KINDS, label
from inventory.models import DeviceClass, DeviceStatus, Unit, UnitKind
from inventory.schemas import UnitCreateSchema, UnitUpdateSchema

blp = Blueprint("unit_pages", __name__, template_folder="templates")
navigation(blp, "unit_pages.units", _l("Units"), Permission.INVENTORY_READ, order=20)

# The facts the equipment norms count from, beside the staff (inventory.units.UNIT_FACTS), as the form's fields.
FACT_FIELDS = service.UNIT_FACTS
UNIT_FIELDS = ("code", "name", "kind", "parent_code", "staff_count", *FACT_FIELDS)


# The tree: every unit from one query, arranged in memory.

class Organisation:
    """Every unit, arranged as a tree, and which of them the caller may see (their scope)."""

    def __init__(self, units: list[Unit], scope: frozenset[int] | None):
        self.units = units
        self.scope = scope
        self.by_id = {u.id: u for u in units}
        self.by_code = {u.code: u for u in units}
        self.children: dict[int | None, list[Unit]] = {}
        for unit in units:  # in code order (list_units)
            self.children.setdefault(unit.parent_id, []).append(unit)

    def visible(self, unit: Unit | None) -> bool:
        return unit is not None and (self.scope is None or unit.id in self.scope)

    def unit(self, code: str) -> Unit:
        """The unit, if the caller may see it: outside their units, a unit does not exist (404) on a page."""
        unit = self.by_code.get(code)
        if not self.visible(unit):
            raise NotFound(Reason("unit %(code)r does not exist", code=code))  # as the API says it
        return unit

    def ancestors(self, unit: Unit) -> list[Unit]:
        """From the top of the tree down to the unit's parent."""
        chain: list[Unit] = []
        parent = self.by_id.get(unit.parent_id)
        while parent is not None and parent not in chain:
            chain.insert(0, parent)
            parent = self.by_id.get(parent.parent_id)
        return chain

    def subtree(self, unit: Unit) -> list[Unit]:
        found, stack = [], [unit]
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(self.children.get(current.id, ()))
        return found

    def roots(self) -> list[Unit]:
        """The active units the caller sees whose parent they do not see (or that have none), as the API's tree."""
        return [u for u in self.units if u.active and self.visible(u)
                and not (self.visible(self.by_id.get(u.parent_id)) and self.by_id[u.parent_id].active)]

    def totals(self, counts: Mapping[int, int]) -> dict[int, int]:
        """Each unit's devices with those of every unit below it."""
        totals: dict[int, int] = {}

        def total(unit: Unit) -> int:
            if unit.id not in totals:
                totals[unit.id] = 0  # a cycle, were there one, counts once
                totals[unit.id] = counts.get(unit.id, 0) + sum(total(c) for c in self.children.get(unit.id, ()))
            return totals[unit.id]
        for unit in self.units:
            total(unit)
        return totals


def organisation() -> Organisation:
    """Every unit, in the caller's scope."""
    return Organisation(service.list_units(request_session()), caller_scope())


@dataclass
class Node:
    unit: Unit
    children: list["Node"]
    devices: int  # the unit's own
    total: int    # with its sub-units'
    open: bool
    match: bool
    href: str = ""
    kind: str = ""
    counts: str = ""     # "3 devices, 12 with its sub-units"
    sub_units: str = ""  # "4 sub-units", the branch's toggle


class NodeTexts:
    """What each line of the tree says, made once per distinct value: a tree of 300 units repeats a few kinds and
    counts, and formatting them (Babel) for each unit was most of the page's time."""

    def __init__(self):
        self.kinds = {code: str(text) for code, text in UNIT_KINDS.items()}
        self.counts: dict[tuple[int, int | None], str] = {}

    def fill(self, node: Node) -> Node:
        key = (node.devices, node.total if node.children else None)
        if key not in self.counts:
            # Babel's catalogue itself: flask_babel.ngettext would write the count unformatted (30000).
            catalogue = get_translations()
            text = catalogue.ngettext("%(num)s device", "%(num)s devices", node.devices) % {
                "num": format_decimal(node.devices)}
            if node.children:
                text += ", " + catalogue.ngettext("%(num)s with its sub-units", "%(num)s with its sub-units",
                                                  node.total) % {"num": format_decimal(node.total)}
            self.counts[key] = text
        node.href = url_for(".unit", code=node.unit.code)
        node.kind = self.kinds.get(node.unit.kind.value, node.unit.kind.value)
        node.counts = self.counts[key]
        node.sub_units = get_translations().ngettext("%(num)s sub-unit", "%(num)s sub-units", len(node.children)) % {
            "num": format_decimal(len(node.children))}
        return node


def folded(text: str) -> str:
    """Lower case without accents, so that "hoa" finds "Hoà" and "Hòa" ("đ" as "d")."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# The tone mark on the first of two vowels (old style, "Hòa") moved where the new style puts it ("Hoà"), so that
# either spelling finds the other.
TONE_PLACES = {"òa": "oà", "óa": "oá", "ỏa": "oả", "õa": "oã", "ọa": "oạ", "òe": "oè", "óe": "oé", "ỏe": "oẻ",
               "õe": "oẽ", "ọe": "oẹ", "ùy": "uỳ", "úy": "uý", "ủy": "uỷ", "ũy": "uỹ", "ụy": "uỵ"}


def spelled(text: str) -> str:
    """Lower case, accents kept, the tone mark where the new style puts it."""
    text = unicodedata.normalize("NFC", text.casefold())
    for old, new in TONE_PLACES.items():
        text = text.replace(old, new)
    return text


def matcher(query: str):
    """Whether a text holds the query: with its accents if it was typed with them ("Hoà" is not "Khoa"),
    ignoring them otherwise ("hoa" finds both)."""
    if folded(query) == unicodedata.normalize("NFC", query.casefold()):
        wanted = folded(query)
        return lambda text: wanted in folded(text)
    wanted = spelled(query)
    return lambda text: wanted in spelled(text)


def _tree(org: Organisation, counts: Mapping[int, int], query: str, expand_all: bool) -> tuple[list[Node], int]:
    """The tree's nodes from its roots, and how many units match `query` (by code or name); with a query, only
    the matches and their ancestors, opened."""
    totals = org.totals(counts)
    wanted = query.strip()
    holds = matcher(wanted)
    matches = {u.id for u in org.units if wanted and u.active and org.visible(u) and (holds(u.code) or holds(u.name))}
    kept = {a.id for m in matches for a in [*org.ancestors(org.by_id[m]), org.by_id[m]]} if wanted else None

    texts = NodeTexts()

    def nodes(units: Iterable[Unit], depth: int) -> list[Node]:
        return [texts.fill(Node(u, nodes(org.children.get(u.id, ()), depth + 1), counts.get(u.id, 0), totals[u.id],
                                open=expand_all or bool(wanted) or depth == 0, match=u.id in matches))
                for u in units if u.active and org.visible(u) and (kept is None or u.id in kept)]
    return nodes(org.roots(), 0), len(matches)


@blp.get("/units")
@requires(Permission.INVENTORY_READ)
def units():
    """The organisation as a collapsible tree with each unit's devices; the merged and split units apart."""
    session, org = request_session(), organisation()
    query = request.args.get("q", "").strip()[:100]
    counts = service.device_counts_by_unit_id(session, org.scope)
    roots, matched = _tree(org, counts, query, expand_all=request.args.get("expand") == "all")
    holds = matcher(query)
    former = [u for u in org.units if not u.active and org.visible(u) and (not query or holds(u.code) or holds(u.name))]
    return render_page("inventory/unit_tree.html", roots=roots, query=query, matched=matched, former=former,
                       retirements=service.retirements(session, former, {u.id: u.code for u in org.units}),
                       org=org, kinds=UNIT_KINDS, label=label, may_manage=_may_manage(),
                       breadcrumbs=[(_("Units"), None)])


# A unit's page.

@dataclass(frozen=True)
class Cell:
    count: int
    href: str
    label: str  # what the count is of, for a screen reader


@blp.get("/units/<code>")
@requires(Permission.INVENTORY_READ)
def unit(code: str):
    """A unit's facts, its devices by class and status (it and its sub-units), its sub-units, and the
    sections other packages add (scan scopes, last scans)."""
    session, org = request_session(), organisation()
    unit = org.unit(code)
    below = [u for u in org.subtree(unit) if org.visible(u)]
    tally = service.device_tally(session, [u.id for u in below])
    counts: dict[int, int] = {}
    for (unit_id, _class, _status), count in tally.items():
        counts[unit_id] = counts.get(unit_id, 0) + count
    totals = org.totals(counts)
    children = [u for u in org.children.get(unit.id, ()) if org.visible(u)]
    retired = service.retirements(session, [unit, *children], {u.id: u.code for u in org.units})
    return render_page(
        "inventory/unit_page.html", unit=unit, org=org, table=_class_status_table(unit, tally),
        sub_units=[u for u in children if u.active], former_sub_units=[u for u in children if not u.active],
        totals=totals, retirements=retired, kinds=UNIT_KINDS, label=label, may_manage=_may_manage(),
        imports_href=url_for("transfer_pages.imports") if current_caller().may(Permission.INVENTORY_WRITE) else None,
        breadcrumbs=breadcrumbs(org, unit))


def _class_status_table(unit: Unit, tally: Mapping[tuple[int, DeviceClass, DeviceStatus], int]) -> dict[str, Any]:
    """Devices by class (rows, those present) and status (every column), each count a link to those devices."""
    by_cell: dict[tuple[DeviceClass, DeviceStatus], int] = {}
    for (_unit_id, device_class, status), count in tally.items():
        by_cell[device_class, status] = by_cell.get((device_class, status), 0) + count
    classes = [c for c in DeviceClass if any(by_cell.get((c, s)) for s in DeviceStatus)]
    statuses = list(DeviceStatus)

    def cell(count: int, text: str, **args: str) -> Cell:
        return Cell(count, devices_href(unit=unit.code, **args), text)

    rows = []
    for device_class in classes:
        name = label(DEVICE_CLASSES, device_class)
        rows.append((name, [cell(by_cell.get((device_class, s), 0), f"{name}, {label(DEVICE_STATUSES, s)}",
                                 **{"class": device_class.value, "status": s.value}) for s in statuses],
                     cell(sum(by_cell.get((device_class, s), 0) for s in statuses), name,
                          **{"class": device_class.value})))
    column_totals = [cell(sum(by_cell.get((c, s), 0) for c in classes), label(DEVICE_STATUSES, s), status=s.value)
                     for s in statuses]
    return {"statuses": [label(DEVICE_STATUSES, s) for s in statuses], "rows": rows, "totals": column_totals,
            "total": cell(sum(by_cell.values()), _("all devices"))}


def devices_href(**args: str) -> str:
    """The device list (device_pages) filtered by `unit` (with the units below it), `class` and `status`."""
    return url_for("device_pages.devices", **args)


def breadcrumbs(org: Organisation, unit: Unit, *after: str) -> list[tuple[str, str | None]]:
    """Units > the ancestors the caller sees > this unit (> a form of it)."""
    crumbs: list[tuple[str, str | None]] = [(_("Units"), url_for("unit_pages.units"))]
    crumbs += [(a.name, url_for("unit_pages.unit", code=a.code)) for a in org.ancestors(unit) if org.visible(a)]
    crumbs.append((unit.name, url_for("unit_pages.unit", code=unit.code)))
    crumbs += [(text, None) for text in after]
    if not after:
        crumbs[-1] = (unit.name, None)
    return crumbs


def _may_manage() -> bool:
    return current_caller().may(Permission.UNITS_MANAGE)


# Forms. A refusal shows the form again with the API's status and each message next to its field.

def errors(refusal: ValidationError | DomainError, placed: Iterable[str], renames: Mapping[str, str] | None = None
           ) -> tuple[dict[str, list[str]], list[str]]:
    """The refusal's messages by form field (`renames` maps the API's field names to the form's); a message of a
    field the form does not show (`placed` are those it does) goes to the top of the form."""
    by_field, general = field_errors(refusal)
    renames, placed = renames or {}, set(placed)
    fields: dict[str, list[str]] = {}
    for name, messages in by_field.items():
        name = renames.get(name, name)
        if name in placed:
            fields.setdefault(name, []).extend(messages)
        else:
            general.extend(messages)
    return fields, general


def unit_options(org: Organisation, *, leave_out: Iterable[Unit] = ()) -> list[tuple[str, str]]:
    """The active units one may choose (as parent or target), "code — name"."""
    left_out = {u.id for u in leave_out}
    return [(u.code, f"{u.code} — {u.name}") for u in org.units
            if u.active and org.visible(u) and u.id not in left_out]


def kind_options() -> list[tuple[str, str]]:
    """The unit kinds, labelled in the page's language."""
    return [(code, str(text)) for code, text in UNIT_KINDS.items()]


@blp.route("/units/new", methods=["GET", "POST"])
@requires(Permission.UNITS_MANAGE)
def new_unit():
    """Create a unit (under the unit `?parent=` names)."""
    org = organisation()
    if request.method == "GET":
        values = {"parent_code": request.args.get("parent", ""), "kind": request.args.get("kind", "ward"),
                  "staff_count": "0", **_fact_values(service.NewUnit("", "", UnitKind.WARD))}
        return _unit_form(org, None, values)
    session = request_session()
    try:
        unit = service.create_unit_audited(session, _unit_input(UnitCreateSchema()), by=current_caller().name)
    except (ValidationError, DomainError) as refusal:
        session.rollback()
        return _unit_form(org, None, request.form, refusal)
    session.commit()
    flash(_("Unit %(code)s created.", code=unit.code), "success")
    return redirect(url_for(".unit", code=unit.code))


@blp.route("/units/<code>/edit", methods=["GET", "POST"])
@requires(Permission.UNITS_MANAGE)
def edit_unit(code: str):
    """Rename a unit, change its kind or headcount, or move it in the tree."""
    org = organisation()
    unit = active(org.unit(code))
    if request.method == "GET":
        values = {"name": unit.name, "kind": unit.kind.value, "staff_count": str(unit.staff_count),
                  "parent_code": org.by_id[unit.parent_id].code if unit.parent_id else "", **_fact_values(unit)}
        return _unit_form(org, unit, values)
    session = request_session()
    try:
        service.update_unit_audited(session, unit.code, _unit_input(UnitUpdateSchema()), by=current_caller().name)
    except (ValidationError, DomainError) as refusal:
        session.rollback()
        return _unit_form(org, unit, request.form, refusal)
    session.commit()
    flash(_("Unit %(code)s saved.", code=unit.code), "success")
    return redirect(url_for(".unit", code=unit.code))


def _fact_values(unit: Unit | service.NewUnit) -> dict[str, Any]:
    """A unit's facts as the form shows them (a new unit's: NewUnit's defaults)."""
    values: dict[str, Any] = {name: str(getattr(unit, name)) for name in service.COUNTED_FACTS}
    values["archive_deadline"] = unit.archive_deadline.isoformat() if unit.archive_deadline else ""
    values["on_secure_network"] = unit.on_secure_network
    return values


def _unit_input(schema: UnitCreateSchema | UnitUpdateSchema) -> dict[str, Any]:
    """The form loaded by the API's schema. A browser sends nothing for an unticked box: that is "no", not
    "unchanged"; an emptied deadline is "none" (form_values)."""
    values = form_values(schema)
    values["on_secure_network"] = "on_secure_network" in request.form
    return schema.load(values)


def active(unit: Unit) -> Unit:
    """The unit, if it can still be changed: a merged or split unit is inactive (409)."""
    if not unit.active:
        raise Conflict(Reason("unit %(code)s is inactive since %(day)s: it can no longer be changed",
                              code=unit.code, day=unit.dissolved_on.isoformat() if unit.dissolved_on else "?"))
    return unit


def _unit_form(org: Organisation, unit: Unit | None, values: Mapping[str, str],
               refusal: ValidationError | DomainError | None = None):
    placed = UNIT_FIELDS[1:] if unit else UNIT_FIELDS
    by_field, general = errors(refusal, placed) if refusal else ({}, [])
    leave_out = org.subtree(unit) if unit else ()
    crumbs = breadcrumbs(org, unit, _("Edit")) if unit else [(_("Units"), url_for(".units")), (_("New unit"), None)]
    return render_page("inventory/unit_form.html", status=refusal_status(refusal) if refusal else 200, unit=unit,
                       values=values, errors=by_field, general=general, kinds=kind_options(),
                       parents=unit_options(org, leave_out=leave_out), breadcrumbs=crumbs)
