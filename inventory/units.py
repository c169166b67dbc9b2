"""Services for the organisation tree: units, their subtrees, and reorganisations (merge, split).

Each function runs in the caller's transaction and never commits; on error nothing is written."""
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from core.errors import Conflict, InvalidInput, NotFound, OutsideScope
from core.time import utcnow
from inventory.changes import Change, note_changes, units_reorganised
from inventory.models import (
    Device,
    DeviceEvent,
    Relocation,
    RelocationStatus,
    Reorganisation,
    ReorganisationKind,
    Unit,
    UnitKind,
)


@dataclass(frozen=True)
class NewUnit:
    code: str
    name: str
    kind: UnitKind
    staff_count: int = 0


def get_unit(session: Session, code: str, *, field: str = "code") -> Unit:
    unit = session.scalars(select(Unit).where(Unit.code == code)).one_or_none()
    if unit is None:
        raise NotFound(f"unit {code!r} does not exist", field=field)
    return unit


def unit_in_scope(session: Session, code: str, scope: frozenset[int] | None, *, field: str = "unit_code") -> Unit:
    """The unit, if the caller may see it. Outside the scope, existing or not, is one answer: 403."""
    unit = session.scalars(select(Unit).where(Unit.code == code)).one_or_none()
    if scope is not None and (unit is None or unit.id not in scope):
        raise OutsideScope(f"unit {code!r} is not one of your units", field=field)
    if unit is None:
        raise NotFound(f"unit {code!r} does not exist", field=field)
    return unit


def list_units(session: Session, *, include_inactive: bool = True, scope: frozenset[int] | None = None
               ) -> list[Unit]:
    query = select(Unit).order_by(Unit.code)
    if not include_inactive:
        query = query.where(Unit.active.is_(True))
    if scope is not None:
        query = query.where(Unit.id.in_(scope))
    return list(session.scalars(query))


def subtree_ids(session: Session, code: str) -> set[int]:
    """The unit and all units below it (active or not), from one query over the small unit table."""
    root = get_unit(session, code, field="unit")
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in session.execute(select(Unit.id, Unit.parent_id)):
        children.setdefault(parent_id, []).append(unit_id)
    found, stack = set(), [root.id]
    while stack:
        unit_id = stack.pop()
        if unit_id not in found:
            found.add(unit_id)
            stack.extend(children.get(unit_id, ()))
    return found


def create_unit(session: Session, new: NewUnit, *, parent_code: str | None = None,
                is_example: bool = False) -> Unit:
    if session.scalars(select(Unit.id).where(Unit.code == new.code)).first() is not None:
        raise Conflict(f"unit {new.code} already exists", field="code")
    parent = _active_parent(session, parent_code)
    unit = Unit(code=new.code, name=new.name, kind=new.kind, staff_count=new.staff_count, parent=parent,
                active=True, is_example=is_example)
    session.add(unit)
    session.flush()
    return unit


def update_unit(session: Session, code: str, changes: Mapping[str, object]) -> Unit:
    """Rename, re-kind, re-count or re-parent an active unit; a unit cannot sit below itself."""
    unit = get_unit(session, code)
    if not unit.active:
        raise Conflict(f"unit {unit.code} is inactive since {unit.dissolved_on}; edit its successor "
                       f"{unit.successor.code if unit.successor else ''}".rstrip(), field="code")
    if "parent_code" in changes:
        parent = _active_parent(session, changes["parent_code"])
        if parent is not None and parent.id in subtree_ids(session, unit.code):
            raise Conflict(f"unit {parent.code} is inside {unit.code}: a unit cannot be its own ancestor",
                           field="parent_code")
        unit.parent = parent
    for name in ("name", "kind", "staff_count"):
        if name in changes:
            setattr(unit, name, changes[name])
    session.flush()
    return unit


def merge_units(session: Session, source_codes: Sequence[str], *, into_code: str | None = None,
                into_new: NewUnit | None = None, parent_code: str | None = None,
                effective_on: dt.date, note: str = "", by: str) -> Reorganisation:
    """Merge units into an existing unit or a new one: devices, sub-units and staff move there.

    The merged units stay, inactive and pointing to their successor, so old reports still read."""
    if (into_code is None) == (into_new is None):
        raise InvalidInput("name either an existing unit to merge into or a new unit, not both", field="into")
    sources = _active_units(session, source_codes, field="sources")
    if into_code is not None:
        target = get_unit(session, into_code, field="into_code")
        if not target.active:
            raise Conflict(f"unit {target.code} is inactive and cannot receive a merge", field="into_code")
        if target.code in source_codes:
            raise InvalidInput(f"unit {target.code} cannot be merged into itself", field="sources")
    else:
        if len(sources) < 2:
            raise InvalidInput("a merge into a new unit needs at least two units", field="sources")
        parent = parent_code if parent_code is not None else _common_parent_code(sources)
        target = create_unit(session, into_new, parent_code=parent)
    if any(target.id in subtree_ids(session, s.code) for s in sources):
        raise Conflict(f"unit {target.code} is inside a unit being merged", field="into_code")
    for source in sources:
        target.staff_count += source.staff_count
    _hand_over(session, sources, {s.id: target for s in sources}, effective_on, "merge", by)
    return _record(session, ReorganisationKind.MERGE, [s.code for s in sources], [target.code], effective_on, note)


def split_unit(session: Session, source_code: str, targets: Sequence[NewUnit], *,
               device_targets: Mapping[int, str] | None = None, effective_on: dt.date,
               note: str = "", by: str) -> Reorganisation:
    """Split a unit into new units under the same parent. Devices go where `device_targets` says;
    the rest, and the sub-units, go to the first target, which becomes the recorded successor."""
    source = _active_units(session, [source_code], field="source")[0]
    if len(targets) < 2:
        raise InvalidInput("a split needs at least two new units", field="targets")
    codes = [t.code for t in targets]
    if len(set(codes)) != len(codes):
        raise InvalidInput("the new units' codes repeat", field="targets")
    device_targets = dict(device_targets or {})
    unknown_targets = sorted(set(device_targets.values()) - set(codes))
    if unknown_targets:
        raise InvalidInput(f"device target {unknown_targets[0]!r} is not one of the new units",
                           field="device_targets")
    own = set(session.scalars(select(Device.id).where(Device.unit_id == source.id)))
    strangers = sorted(set(device_targets) - own)
    if strangers:
        raise InvalidInput(f"device {strangers[0]} is not in unit {source.code}", field="device_targets")
    parent_code = source.parent.code if source.parent else None
    new_units = {t.code: create_unit(session, t, parent_code=parent_code) for t in targets}
    first = new_units[codes[0]]
    device_units = {device_id: new_units[code] for device_id, code in device_targets.items()}
    _hand_over(session, [source], {source.id: first}, effective_on, "split", by, device_units)
    return _record(session, ReorganisationKind.SPLIT, [source.code], codes, effective_on, note)


def _hand_over(session: Session, sources: Sequence[Unit], successor: Mapping[int, Unit], effective_on: dt.date,
               kind: str, by: str, device_units: Mapping[int, Unit] | None = None) -> None:
    """Move the sources' devices and sub-units to their successors and retire the sources; announce it, so that
    other packages' unit-scoped records (officers' units, scan scopes) follow in the same transaction."""
    device_units = device_units or {}
    source_ids = [s.id for s in sources]
    codes = {s.id: s.code for s in sources}
    events = []
    now = utcnow()
    for device in session.scalars(select(Device).where(Device.unit_id.in_(source_ids))):
        target = device_units.get(device.id) or successor[device.unit_id]
        events.append({"device_id": device.id, "at": now, "kind": "moved", "field": "unit_id",
                       "old_value": device.unit_id, "new_value": target.id, "method": "reorganisation",
                       "source": f"{kind} effective {effective_on.isoformat()}",
                       "detail": f"{codes[device.unit_id]} -> {target.code}"})
        device.unit = target
    for child in session.scalars(select(Unit).where(Unit.parent_id.in_(source_ids))):
        if child.id not in successor.values():
            child.parent = successor[child.parent_id]
    for source in sources:
        source.active = False
        source.successor = successor[source.id]
        source.dissolved_on = effective_on
    if events:
        session.execute(insert(DeviceEvent), events)
    session.flush()
    _carry_relocations(session, successor, f"{kind} effective {effective_on.isoformat()}")
    note_changes(session, Change("reorganisation", {e["device_id"] for e in events}, {"unit_id"},
                                 {*source_ids, *(e["new_value"] for e in events)}))
    units_reorganised.send(session, successors={s.id: successor[s.id].id for s in sources}, kind=kind, by=by)


def _carry_relocations(session: Session, successor: Mapping[int, Unit], reorganisation: str) -> None:
    """Pending relocations follow their units: the device's side to where the device went, the side that saw
    it to its successor. One whose two sides became one unit is answered by the reorganisation itself."""
    pending = session.scalars(select(Relocation).where(
        Relocation.status == RelocationStatus.PENDING,
        or_(Relocation.from_unit_id.in_(successor), Relocation.to_unit_id.in_(successor))))
    for relocation in pending:
        relocation.from_unit_id = relocation.device.unit_id
        if relocation.to_unit_id in successor:
            relocation.to_unit_id = successor[relocation.to_unit_id].id
        if relocation.from_unit_id == relocation.to_unit_id:
            relocation.status, relocation.decided_by, relocation.decided_at = \
                RelocationStatus.SUPERSEDED, reorganisation, utcnow()
            relocation.note = "the device's unit and the unit that saw it are one unit now"
    session.flush()


def _record(session: Session, kind: ReorganisationKind, sources: list[str], targets: list[str],
            effective_on: dt.date, note: str) -> Reorganisation:
    record = Reorganisation(kind=kind, effective_on=effective_on, source_codes=sources, target_codes=targets,
                            note=note, recorded_at=utcnow())
    session.add(record)
    session.flush()
    return record


def _active_units(session: Session, codes: Iterable[str], *, field: str) -> list[Unit]:
    codes = list(codes)
    if not codes:
        raise InvalidInput("name at least one unit", field=field)
    if len(set(codes)) != len(codes):
        raise InvalidInput("a unit is named twice", field=field)
    units = [get_unit(session, code, field=field) for code in codes]
    for unit in units:
        if not unit.active:
            raise Conflict(f"unit {unit.code} is already inactive (successor {unit.successor.code})"
                           if unit.successor else f"unit {unit.code} is inactive", field=field)
    return units


def _active_parent(session: Session, parent_code: object) -> Unit | None:
    if parent_code is None:
        return None
    parent = get_unit(session, str(parent_code), field="parent_code")
    if not parent.active:
        raise Conflict(f"unit {parent.code} is inactive and cannot have sub-units", field="parent_code")
    return parent


def _common_parent_code(units: Sequence[Unit]) -> str | None:
    parents = {u.parent.code if u.parent else None for u in units}
    return parents.pop() if len(parents) == 1 else None
