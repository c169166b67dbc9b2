"""The devices' pages: the filtered list, a device with where each value came from and its history, and the
changes an officer makes to it. How the device's page draws its values and history is in inventory.device_views;
the relocations to confirm or reject are in inventory.relocation_pages.

Forms are read by the API's own schemas and act through the API's own services (with its audit entries), in
the caller's unit scope: a device of another unit does not exist here either (404)."""
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import select

from core.caller import caller_scope, current_caller
from core.db import request_session
from core.errors import DomainError
from core.pages import Pagination, field_errors, form_values, navigation, page_number, refusal_status, render_page
from core.permissions import Permission, requires
from inventory import device_views as views
from inventory import devices, relocations
from inventory.labels import DEVICE_CLASSES, DEVICE_STATUSES, METHODS, label
from inventory.models import Device, DeviceClass, DeviceStatus, Observation, Unit
from inventory.schemas import DeviceListArgs, DeviceWriteSchema, MoveDeviceSchema
from inventory.specs import SPECS, SpecKind
from inventory.units import list_units

blp = Blueprint("device_pages", __name__, template_folder="templates")
navigation(blp, "device_pages.devices", _l("Devices"), Permission.INVENTORY_READ, order=30)

PAGE_SIZE = 50
HISTORY_PAGE_SIZE = 50
SHOWN_BEHIND_PORTS = 200  # a core switch can have thousands of terminals behind it: the first ones, and a count
FILTERS = ("unit", "class", "status", "vendor", "q")
LIST_ARGS = (*FILTERS, "sort", "page")  # DeviceListArgs' keys a page takes (its page size is the page's own)
# Statuses an officer sets from the device's page; "missing" is the scans' to say.
SETTABLE_STATUSES = (DeviceStatus.IN_USE, DeviceStatus.SPARE, DeviceStatus.BROKEN, DeviceStatus.RETIRED)
STATUS_ACTIONS = {"in_use": _l("Mark as in use"), "spare": _l("Mark as spare"), "broken": _l("Mark as broken"),
                  "retired": _l("Mark as retired")}
STATUS_DONE = {"in_use": _l("Marked as in use."), "spare": _l("Marked as spare."), "broken": _l("Marked as broken."),
               "retired": _l("Marked as retired.")}
# The edit form's fields, in order: DeviceWriteSchema's, less the unit (moving is its own action) and the specs.
EDITED = ("device_class", "status", "vendor", "model", "serial", "hostname", "firmware", "os", "location",
          "purchase_date", "purchase_price_vnd", "warranty_end")
# A price as people type it: 15500000, 15.500.000 or 15 500 000 (VND has no minor unit).
WHOLE_DONG = re.compile(r"\d{1,3}(?:[. ]\d{3})+|\d+")


def may_write() -> bool:
    """Whether the caller may change devices (and decide relocations)."""
    return current_caller().may(Permission.INVENTORY_WRITE)


# ---- the list ------------------------------------------------------------------------------------------------

@blp.get("/devices", endpoint="devices")
@requires(Permission.INVENTORY_READ)
def device_list():
    session, scope = request_session(), caller_scope()
    given = {key: value for key in LIST_ARGS if (value := request.args.get(key, "").strip())}
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    status, found, sort = 200, None, given.get("sort", "id")
    try:
        args = DeviceListArgs().load(given)
        sort = args["sort"]
        wanted = devices.DeviceFilter(unit_code=args.get("unit"), device_class=args.get("device_class"),
                                      status=args.get("status"), vendor=args.get("vendor"), text=args.get("q"),
                                      unit_ids=scope)
        found = _listed(session, wanted, sort, args["page"])
    except ValidationError as error:
        errors, general = _filter_errors(error)
        status = 422
    except DomainError as error:  # a unit that does not exist or is not the caller's: next to the unit filter
        if error.field != "unit":
            raise
        errors, general = _filter_errors(error)
        status = error.status_code
    filtered = any(key in given for key in FILTERS)
    units = list_units(session, include_inactive=False, scope=scope)
    return render_page(
        "inventory/device_list.html", status=status, devices=found.items if found else [], errors=errors,
        general=general, pagination=Pagination(found.page, PAGE_SIZE, found.total) if found else None,
        given=given, sort=sort, kept_sort=sort if "sort" in given and sort.lstrip("-") in devices.SORTABLE else None,
        filtered=filtered, export_unit=given.get("unit"),
        unit_options=[(u.code, f"{u.code} · {u.name}") for u in units],
        classes=options(DEVICE_CLASSES, DeviceClass), statuses=options(DEVICE_STATUSES, DeviceStatus),
        device_name=device_name, class_label=lambda d: label(DEVICE_CLASSES, d.device_class),
        status_label=lambda d: label(DEVICE_STATUSES, d.status),
        breadcrumbs=[(_("Devices"), None)])


def _filter_errors(error: ValidationError | DomainError) -> tuple[dict[str, list[str]], list[str]]:
    """Messages next to the filters; those about the sorting or the page number, which have no control of
    their own, on top, named."""
    errors, general = field_errors(error)
    for name in [name for name in errors if name not in FILTERS]:
        general.extend(f"{name}: {message}" for message in errors.pop(name))
    return errors, general


def _listed(session, wanted: devices.DeviceFilter, sort: str, page: int) -> devices.Page:
    """One page of the list, in SQL; a page past the end shows the last one."""
    found = devices.list_devices(session, wanted, sort=sort.lstrip("-"), descending=sort.startswith("-"),
                                 page=page, page_size=PAGE_SIZE)
    last = max(1, math.ceil(found.total / PAGE_SIZE))
    if page > last:
        found = devices.list_devices(session, wanted, sort=sort.lstrip("-"), descending=sort.startswith("-"),
                                     page=last, page_size=PAGE_SIZE)
    return found


def options(labels: Mapping[str, Any], codes: Iterable) -> list[tuple[str, str]]:
    """A select's options: each code's value, labelled in the page's language."""
    return [(code.value, label(labels, code)) for code in codes]


def device_name(device: Device) -> str:
    """What people call the device: its host name, else its model, else its serial, else its number."""
    return device.hostname or device.model or device.serial or _("Device %(id)s", id=device.id)


# ---- one device ----------------------------------------------------------------------------------------------

@blp.get("/devices/<int(max=2147483647):device_id>", endpoint="device")
@requires(Permission.INVENTORY_READ)
def device_page(device_id: int):
    return _device_page(device_id)


def _device_page(device_id: int, *, status: int = 200, errors: Mapping[str, list[str]] | None = None,
                 general: list[str] | None = None, chosen_unit: str = ""):
    session, scope = request_session(), caller_scope()
    device = devices.get_device(session, device_id, scope)
    history = devices.device_history(session, device_id, scope=scope, page=page_number(),
                                     page_size=HISTORY_PAGE_SIZE)
    pages = max(1, math.ceil(history.total / HISTORY_PAGE_SIZE))
    if history.page > pages:
        history = devices.device_history(session, device_id, scope=scope, page=pages, page_size=HISTORY_PAGE_SIZE)
    links = devices.device_links(session, device_id, scope)
    neighbours = [link for link in links if link.protocol != "fdb"]
    behind = [link for link in links if link.protocol == "fdb" and link.device_id == device_id]
    terminals = [link for link in links if link.protocol == "fdb" and link.device_id != device_id]
    shown = [*neighbours, *behind, *terminals[:SHOWN_BEHIND_PORTS]]
    names = _names_of(session, {end for link in shown for end in (link.device_id, link.remote_device_id)
                                if end is not None and end != device_id})
    unit_codes = _unit_codes(session, history.items)
    pending = relocations.pending_relocations(session, device_id, scope)
    writes = may_write()
    units = [u for u in list_units(session, include_inactive=False, scope=scope) if u.id != device.unit_id] \
        if writes else []
    return render_page(
        "inventory/device_page.html", status=status, device=device, name=device_name(device),
        identity=views.identity(device), specs=views.specs(device), interfaces=device.interfaces,
        agent=views.agent_inventory(_latest_agent_observation(session, device_id)),
        neighbours=[views.neighbour(link, device_id, names) for link in neighbours],
        behind=[views.neighbour(link, device_id, names) for link in behind],
        terminals=[views.neighbour(link, device_id, names) for link in terminals[:SHOWN_BEHIND_PORTS]],
        terminal_count=len(terminals),
        timeline=[views.event(event, unit_codes) for event in history.items],
        history=Pagination(history.page, HISTORY_PAGE_SIZE, history.total),
        pending=[(r, writes and (scope is None or r.to_unit_id in scope)) for r in pending],
        may_write=writes, units=units, units_options=[(u.code, f"{u.code} · {u.name}") for u in units],
        chosen_unit=chosen_unit, relocation_method=lambda r: label(METHODS, r.method), errors=errors or {},
        general=general or [],
        statuses=[(s.value, STATUS_ACTIONS[s.value]) for s in SETTABLE_STATUSES if s is not device.status],
        status_label=label(DEVICE_STATUSES, device.status),
        breadcrumbs=[(_("Devices"), url_for("device_pages.devices")),
                     (device.unit.code, url_for("device_pages.devices", unit=device.unit.code)),
                     (device_name(device), None)])


def _latest_agent_observation(session, device_id: int) -> Observation | None:
    """The device's latest inventory by an agent (method `agent`), if an agent ever reported it: read from the
    observations, which every package writes through ingest, so that inventory knows nothing of agents."""
    return session.scalars(select(Observation).where(Observation.device_id == device_id,
                                                     Observation.method == "agent")
                           .order_by(Observation.observed_at.desc(), Observation.id.desc()).limit(1)).first()


def _names_of(session, device_ids: set[int]) -> dict[int, str]:
    """The names of the devices at the other ends of the links, in one query (the caller may read them all:
    device_links hides the ids of those it may not)."""
    if not device_ids:
        return {}
    rows = session.execute(select(Device.id, Device.hostname, Device.model, Device.serial)
                           .where(Device.id.in_(device_ids)))
    return {row.id: row.hostname or row.model or row.serial or _("Device %(id)s", id=row.id) for row in rows}


def _unit_codes(session, events: Iterable) -> dict[int, str]:
    """The codes of the units a page of history names (moves and sightings keep unit ids), in one query."""
    ids = set()
    for event in events:
        if event.field == "unit_id":
            ids.update(v for v in (event.old_value, event.new_value) if isinstance(v, int))
        elif event.kind == "created" and isinstance(event.new_value, dict):
            ids.update(v for v in [event.new_value.get("unit_id")] if isinstance(v, int))
    if not ids:
        return {}
    return dict(session.execute(select(Unit.id, Unit.code).where(Unit.id.in_(ids))).all())


# ---- changes to a device -------------------------------------------------------------------------------------

@blp.route("/devices/<int(max=2147483647):device_id>/edit", methods=["GET", "POST"], endpoint="edit_device")
@requires(Permission.INVENTORY_WRITE)
def edit_device_page(device_id: int):
    session, scope = request_session(), caller_scope()
    device = devices.get_device(session, device_id, scope)
    shown = _shown_values(device)
    if request.method == "GET":
        return _edit_form(device, shown)
    # A field the form did not send is left as it is (not emptied).
    submitted = {name: request.form.get(name, value) for name, value in shown.items()}
    try:
        changes = _changes(device, shown, submitted)
        if not changes:
            flash(_("Nothing was changed: every value is as it was."), "info")
            return redirect(url_for("device_pages.device", device_id=device_id))
        devices.edit_device(session, device_id, changes, by=current_caller().name, scope=scope)
    except (ValidationError, DomainError) as error:
        session.rollback()  # nothing of a refused edit stays, even in this request
        errors, general = form_errors(error, submitted)
        status = refusal_status(error)
        return _edit_form(devices.get_device(session, device_id, scope), submitted, errors, general, status)
    session.commit()
    flash(_("The device's record was saved; the change is in its history."), "success")
    return redirect(url_for("device_pages.device", device_id=device_id))


def _edit_form(device: Device, values: Mapping[str, str], errors: Mapping[str, list[str]] | None = None,
               general: list[str] | None = None, status: int = 200):
    return render_page(
        "inventory/device_edit.html", status=status, device=device, name=device_name(device), values=values,
        errors=errors or {}, general=general or [], classes=options(DEVICE_CLASSES, DeviceClass),
        statuses=options(DEVICE_STATUSES, DeviceStatus),
        specs=[(name, views.spec_label(spec), spec) for name, spec in SPECS.items()],
        choice_options={name: [(choice, str(views.CHOICES.get(choice, choice))) for choice in spec.choices]
                        for name, spec in SPECS.items() if spec.kind is SpecKind.CHOICE},
        breadcrumbs=[(_("Devices"), url_for("device_pages.devices")),
                     (device.unit.code, url_for("device_pages.devices", unit=device.unit.code)),
                     (device_name(device), url_for("device_pages.device", device_id=device.id)),
                     (_("Edit"), None)])


def _shown_values(device: Device) -> dict[str, str]:
    """The form's values for the device as it is: text as typed, so that a value left alone is not restated."""
    shown = {name: _as_text(getattr(device, name)) for name in EDITED}
    for name, spec in SPECS.items():
        value = (device.specs or {}).get(name)
        shown[f"specs.{name}"] = "" if value is None else ("yes" if value else "no") \
            if spec.kind is SpecKind.BOOLEAN else str(value)
    return shown


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    return str(getattr(value, "value", value)) if not hasattr(value, "isoformat") else value.isoformat()


def _changes(device: Device, shown: Mapping[str, str], submitted: Mapping[str, str]) -> dict[str, Any]:
    """What the person changed, read by the API's DeviceWriteSchema: only the values that differ from the
    device's, so that a value left alone keeps who said it (a scan's serial stays the scan's)."""
    form = {name: value for name, value in submitted.items() if name in EDITED}
    price = form.get("purchase_price_vnd", "").strip()
    values: dict[str, Any] = form_values(DeviceWriteSchema(), form)
    if WHOLE_DONG.fullmatch(price):
        values["purchase_price_vnd"] = int(re.sub(r"[. ]", "", price))
    specs, emptied = {}, {}
    for name in SPECS:
        key = f"specs.{name}"
        given = submitted[key].strip()
        if given != shown[key]:
            if given:
                specs[name] = given
            else:
                emptied[key] = [_("A specification cannot be emptied here; correct its value instead.")]
    if emptied:
        raise ValidationError(emptied)
    loaded = DeviceWriteSchema().load(values | ({"specs": specs} if specs else {}))
    return {name: value for name, value in loaded.items() if name == "specs" or getattr(device, name) != value}


def form_errors(error: ValidationError | DomainError, form_fields: Iterable[str]
                 ) -> tuple[dict[str, list[str]], list[str]]:
    """The refusal next to the form's fields; what names no field of the form goes on top."""
    errors, general = field_errors(error)
    known = set(form_fields)
    for name in [name for name in errors if name not in known]:
        general.extend(errors.pop(name))
    return errors, general


@blp.post("/devices/<int(max=2147483647):device_id>/unit", endpoint="move_device")
@requires(Permission.INVENTORY_WRITE)
def move_device_page(device_id: int):
    session, scope = request_session(), caller_scope()
    devices.get_device(session, device_id, scope)  # another unit's device: 404 before the form is read
    try:
        args = MoveDeviceSchema().load(form_values(MoveDeviceSchema()))
        device = devices.reassign_device(session, device_id, args["unit_code"], by=current_caller().name,
                                         scope=scope)
    except (ValidationError, DomainError) as error:
        session.rollback()
        errors, general = form_errors(error, ["unit_code"])
        status = refusal_status(error)
        return _device_page(device_id, status=status, errors=errors, general=general,
                            chosen_unit=request.form.get("unit_code", ""))
    session.commit()
    flash(_("The device was moved to %(unit)s; the move is in its history.", unit=device.unit.code), "success")
    return redirect(url_for("device_pages.device", device_id=device_id))


@blp.post("/devices/<int(max=2147483647):device_id>/status", endpoint="set_status")
@requires(Permission.INVENTORY_WRITE)
def set_status_page(device_id: int):
    session, scope = request_session(), caller_scope()
    device = devices.get_device(session, device_id, scope)
    schema = DeviceWriteSchema(only=("status",))
    try:
        wanted = schema.load(form_values(schema)).get("status")
        if wanted not in SETTABLE_STATUSES:
            raise ValidationError({"status": [_("Choose one of: %(statuses)s.", statuses=", ".join(
                label(DEVICE_STATUSES, s) for s in SETTABLE_STATUSES))]})
        if wanted is device.status:
            flash(_("Nothing was changed: the device is already %(status)s.",
                    status=label(DEVICE_STATUSES, wanted)), "info")
            return redirect(url_for("device_pages.device", device_id=device_id))
        devices.edit_device(session, device_id, {"status": wanted}, by=current_caller().name, scope=scope)
    except (ValidationError, DomainError) as error:
        session.rollback()
        errors, general = form_errors(error, ["status"])
        status = refusal_status(error)
        return _device_page(device_id, status=status, errors=errors, general=general)
    session.commit()
    flash(str(STATUS_DONE[wanted.value]), "success")
    return redirect(url_for("device_pages.device", device_id=device_id))
