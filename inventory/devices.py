"""Services for devices: finding them, reading their history, and a person's own records.

A person's records and edits go through `ingest` like every other source, as method `manual`,
so they carry provenance and history the same way. Nothing here commits."""
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from core.audit import record
from core.errors import Conflict, InvalidInput, NotFound, OutsideScope
from core.i18n import Reason
from core.jsonable import json_value
from core.time import utcnow
from inventory.ingest import IngestBatch, chunks, ingest
from inventory.models import (
    Device,
    DeviceClass,
    DeviceEvent,
    DeviceStatus,
    Interface,
    Link,
    Observation,
    SearchTerm,
    Unit,
)
from inventory.observations import (
    DEVICE_FIELDS,
    InvalidObservation,
    ObservedDevice,
    ObservedInterface,
    normalise_mac,
    normalise_serial,
)
from inventory.units import subtree_ids, unit_in_scope

SORTABLE = {"id": Device.id, "vendor": Device.vendor, "model": Device.model, "hostname": Device.hostname,
            "serial": Device.serial, "class": Device.device_class, "status": Device.status,
            "last_seen": Device.last_seen, "first_seen": Device.first_seen, "unit": Unit.code,
            "price": Device.purchase_price_vnd}


@dataclass(frozen=True)
class DeviceFilter:
    unit_code: str | None = None  # the unit and every unit below it
    device_class: DeviceClass | None = None
    status: DeviceStatus | None = None
    vendor: str | None = None
    text: str | None = None  # any of serial, model, vendor, hostname, location, MAC, IP
    unit_ids: frozenset[int] | None = None  # the caller's scope; None: every unit


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    page: int
    page_size: int


def get_device(session: Session, device_id: int, scope: frozenset[int] | None = None) -> Device:
    """The device, if it exists and the caller may see it; outside the scope it does not exist."""
    query = select(Device).where(Device.id == device_id).options(selectinload(Device.interfaces),
                                                                 selectinload(Device.unit))
    if scope is not None:
        query = query.where(Device.unit_id.in_(scope))
    device = session.scalars(query).one_or_none()
    if device is None:
        raise NotFound(Reason("device %(id)s does not exist", id=device_id), field="device_id")
    return device


def list_devices(session: Session, wanted: DeviceFilter, *, sort: str = "id", descending: bool = False,
                 page: int = 1, page_size: int = 50) -> Page:
    query = _filtered(session, select(Device).join(Device.unit), wanted)
    # No join in the count: no filter needs the unit row, and the join made SQLite read every device row.
    total = session.scalar(_filtered(session, select(func.count()).select_from(Device), wanted))
    column = SORTABLE[sort]
    order = [column.desc() if descending else column.asc(), Device.id.desc() if descending else Device.id]
    items = session.scalars(query.order_by(*order).offset((page - 1) * page_size).limit(page_size)
                            .options(contains_eager(Device.unit), selectinload(Device.interfaces))).all()
    return Page(items=list(items), total=total or 0, page=page, page_size=page_size)


def _filtered(session: Session, query: Select, wanted: DeviceFilter) -> Select:
    if wanted.unit_ids is not None:
        query = query.where(Device.unit_id.in_(wanted.unit_ids))
    if wanted.unit_code:
        unit_in_scope(session, wanted.unit_code, wanted.unit_ids, field="unit")
        query = query.where(Device.unit_id.in_(subtree_ids(session, wanted.unit_code)))
    if wanted.device_class:
        query = query.where(Device.device_class == wanted.device_class)
    if wanted.status:
        query = query.where(Device.status == wanted.status)
    if wanted.vendor:
        query = query.where(func.lower(Device.vendor) == wanted.vendor.lower())
    # White space as the stored values have it (one space), which also rules out U+001F, the separator of a
    # search term's values: no match spans two fields. Nothing left (only spaces): no text to look for.
    text = " ".join((wanted.text or "").split()).lower()
    if text:
        query = query.where(_matches_text(session, text))
    return query


def _matches_text(session: Session, text: str):
    """Any of serial, model, vendor, hostname, location, an interface's MAC or addresses holds `text`,
    ignoring case: one of the device's search terms does (kept by triggers, migration 0009)."""
    like = f"%{_escape_like(text)}%"
    if session.get_bind().dialect.name == "sqlite":
        # SQLite's LIKE ignores ASCII case, all that its lower() folds.
        matched = SearchTerm.value.like(like, escape="\\")
    else:
        matched = SearchTerm.value.ilike(like, escape="\\")  # a pg_trgm index from 3 characters on
    return Device.id.in_(select(SearchTerm.device_id).where(matched))


def device_history(session: Session, device_id: int, *, scope: frozenset[int] | None = None, page: int = 1,
                   page_size: int = 100) -> Page:
    get_device(session, device_id, scope)
    where = DeviceEvent.device_id == device_id
    total = session.scalar(select(func.count(DeviceEvent.id)).where(where))
    events = session.scalars(select(DeviceEvent).where(where).order_by(DeviceEvent.at.desc(), DeviceEvent.id.desc())
                             .offset((page - 1) * page_size).limit(page_size)).all()
    return Page(items=list(events), total=total or 0, page=page, page_size=page_size)


@dataclass(frozen=True)
class LinkAsSeen:
    """A link as the caller may see it: an end the caller may not read keeps its port, not its device's id."""
    id: int
    device_id: int | None
    port: str
    remote_device_id: int | None
    remote_port: str
    protocol: str
    first_seen: dt.datetime
    last_seen: dt.datetime


def device_links(session: Session, device_id: int, scope: frozenset[int] | None = None) -> list[LinkAsSeen]:
    """The device's links, either end. A device at the other end in a unit outside `scope` shows no id:
    to the caller it does not exist (get_device), and its id would name it."""
    get_device(session, device_id, scope)
    links = session.scalars(select(Link).where(
        or_(Link.device_id == device_id, Link.remote_device_id == device_id)).order_by(Link.id)).all()
    readable = _readable_ids(session, {end for l in links for end in (l.device_id, l.remote_device_id)}, scope)
    return [LinkAsSeen(id=l.id, device_id=l.device_id if l.device_id in readable else None, port=l.port,
                       remote_device_id=l.remote_device_id if l.remote_device_id in readable else None,
                       remote_port=l.remote_port, protocol=l.protocol, first_seen=l.first_seen,
                       last_seen=l.last_seen) for l in links]


def _readable_ids(session: Session, device_ids: set[int], scope: frozenset[int] | None) -> set[int]:
    if scope is None:
        return device_ids
    return set(session.scalars(select(Device.id).where(Device.id.in_(device_ids), Device.unit_id.in_(scope))))


def record_device(session: Session, unit_code: str, values: Mapping[str, Any], *, by: str,
                  scope: frozenset[int] | None = None, specs: Mapping[str, Any] | None = None,
                  interfaces: Sequence[ObservedInterface] = (), device_id: int | None = None) -> Device:
    """A person's record of a device: new, or (with `device_id`) a correction of a known one.

    If the serial or a MAC is already known, the record merges into that device instead of
    creating a second one."""
    unit = unit_in_scope(session, unit_code, scope)
    if not unit.active:
        raise Conflict(Reason("unit %(code)s is inactive; its successor is %(successor)s", code=unit.code,
                              successor=unit.successor.code)
                       if unit.successor else Reason("unit %(code)s is inactive", code=unit.code), field="unit_code")
    if scope is not None and device_id is None:
        _refuse_devices_of_other_units(session, values, interfaces, scope)
    observation = ObservedDevice(method="manual", observed_at=utcnow(), unit_code=unit_code, source=by,
                                 fields=dict(values), specs=dict(specs or {}), interfaces=tuple(interfaces),
                                 device_id=device_id)
    try:
        result = ingest(session, IngestBatch([observation]))
    except InvalidObservation as error:
        raise error.at(None) from None  # a person sent one record, not a batch: no batch position
    except Conflict as error:
        raise _as_seen_by(session, error, values, scope) from None
    return get_device(session, result.device_ids[0])


def _as_seen_by(session: Session, conflict: Conflict, values: Mapping[str, Any],
                scope: frozenset[int] | None) -> Conflict:
    """The serial conflict names the device that holds the serial: a caller who may not read that device
    learns only that the serial is taken, not which device (its id) has it."""
    if conflict.field != "serial" or scope is None or not values.get("serial"):
        return conflict
    serial = normalise_serial(values["serial"])
    holders = set(session.scalars(select(Device.unit_id).where(Device.serial == serial)))
    if holders <= scope:
        return conflict
    return Conflict(Reason("serial %(serial)s is already recorded for another device", serial=serial), field="serial")


def _refuse_devices_of_other_units(session: Session, values: Mapping[str, Any],
                                   interfaces: Sequence[ObservedInterface], scope: frozenset[int]) -> None:
    """A record whose serial or MAC is a device of a unit the caller does not answer for would merge
    into that device and move it: refuse it instead."""
    serial = normalise_serial(values["serial"]) if values.get("serial") else None
    macs = {m for m in (_valid_mac(i.mac) for i in interfaces if i.mac) if m}
    clashes = identities_outside(session, scope, serials={serial} - {None}, macs=macs)
    if clashes:
        raise OutsideScope(Reason("this serial or MAC address is already recorded for a device of a unit that is "
                                  "not yours"), field="serial" if ("serial", serial) in clashes else "mac")


def identities_outside(session: Session, scope: frozenset[int], *, ids: Iterable[int] = (),
                       serials: Iterable[str] = (), macs: Iterable[str] = ()) -> set[tuple[str, Any]]:
    """Which of these device ids, serials and MACs belong to devices of units outside `scope`, as ("id", 7),
    ("serial", "ABC"), ("mac", "aa:..."). The one check behind every refusal to touch another unit's device
    through a record that names it (a manual record, an import row)."""
    found: set[tuple[str, Any]] = set()
    for chunk in chunks(set(ids)):
        found |= {("id", i) for i in session.scalars(select(Device.id).where(
            Device.id.in_(chunk), Device.unit_id.not_in(scope)))}
    for chunk in chunks(set(serials)):
        found |= {("serial", s) for s in session.scalars(select(Device.serial).where(
            Device.serial.in_(chunk), Device.unit_id.not_in(scope)))}
    for chunk in chunks(set(macs)):
        found |= {("mac", m) for m in session.scalars(select(Interface.mac).join(Device).where(
            Interface.mac.in_(chunk), Device.unit_id.not_in(scope)))}
    return found


def _valid_mac(value: str) -> str | None:
    try:
        return normalise_mac(value)
    except InvalidInput:
        return None  # ingestion refuses it with the field's name


def update_device(session: Session, device_id: int, changes: Mapping[str, Any], *, by: str,
                  scope: frozenset[int] | None = None) -> Device:
    device = get_device(session, device_id, scope)
    changes = dict(changes)
    unit_code = changes.pop("unit_code", None) or device.unit.code
    specs = changes.pop("specs", None)
    return record_device(session, unit_code, changes, by=by, scope=scope, specs=specs, device_id=device_id)


def move_device(session: Session, device_id: int, to_unit_code: str, *, by: str,
                scope: frozenset[int] | None = None) -> Device:
    """Move a device to another unit; the move appears in its history."""
    get_device(session, device_id, scope)
    return record_device(session, to_unit_code, {}, by=by, scope=scope, device_id=device_id)


def device_summary(device: Device) -> dict[str, Any]:
    """A device's fields as the audit log keeps them, before and after a change."""
    return {"unit": device.unit.code, **{name: json_value(getattr(device, name)) for name in DEVICE_FIELDS}}


def edit_device(session: Session, device_id: int, changes: Mapping[str, Any], *, by: str,
                scope: frozenset[int] | None = None) -> Device:
    """A person's correction of a device's fields, in its history and in the audit log: the API's edit and the
    edit page, one path."""
    before = device_summary(get_device(session, device_id, scope))
    device = update_device(session, device_id, changes, by=by, scope=scope)
    record(session, by, "device.update", "device", device.id, before=before, after=device_summary(device))
    return device


def reassign_device(session: Session, device_id: int, to_unit_code: str, *, by: str,
                    scope: frozenset[int] | None = None) -> Device:
    """Move a device to another unit as a person decided, in its history and in the audit log (API and page)."""
    before = get_device(session, device_id, scope).unit.code
    device = move_device(session, device_id, to_unit_code, by=by, scope=scope)
    record(session, by, "device.move", "device", device.id, before={"unit": before}, after={"unit": device.unit.code})
    return device


def device_counts_by_unit(session: Session, scope: frozenset[int] | None = None) -> dict[str, int]:
    query = select(Unit.code, func.count(Device.id)).join(Device.unit).group_by(Unit.code)
    if scope is not None:
        query = query.where(Device.unit_id.in_(scope))
    return dict(session.execute(query).all())


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def last_observed(session: Session, unit_ids: Iterable[int] | None, *, until: dt.datetime | None = None
                  ) -> dict[tuple[str, str], dt.datetime]:
    """(unit code, method) -> when a device of the unit was last observed by that method (nmap, snmp, agent,
    import, manual ...), up to `until`: how long each unit has gone unseen by each. `unit_ids` None: every unit."""
    query = (select(Device.unit_id, Observation.method, func.max(Observation.observed_at))
             .join(Device, Device.id == Observation.device_id).group_by(Device.unit_id, Observation.method))
    if unit_ids is not None:
        query = query.where(Device.unit_id.in_(list(unit_ids)))
    if until is not None:
        query = query.where(Observation.observed_at <= until)
    found = session.execute(query).all()
    codes = dict(session.execute(select(Unit.id, Unit.code)).all())
    return {(codes[unit_id], method): at for unit_id, method, at in found}
