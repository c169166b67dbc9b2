"""Services for the organisation tree: units, their subtrees, and reorganisations (merge, split).

Each function runs in the caller's transaction and never commits; on error nothing is written."""
import contextlib
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from core.audit import record
from core.errors import Conflict, InvalidInput, NotFound, OutsideScope
from core.i18n import Reason
from core.time import utcnow
from inventory.changes import Change, note_changes, units_reorganised
from inventory.models import (
    Device,
    DeviceClass,
    DeviceEvent,
    DeviceStatus,
    Relocation,
    RelocationStatus,
    Reorganisation,
    ReorganisationKind,
    Unit,
    UnitKind,
)

# The unit's facts beside its staff, which the catalog's norms count from (inventory.models.Unit): the counts,
# which a merge adds up, then the archive's deadline and the secure network.
COUNTED_FACTS = ("leader_count", "specialist_count", "meeting_rooms", "sites", "archive_pages")
UNIT_FACTS = (*COUNTED_FACTS, "archive_deadline", "on_secure_network")


@dataclass(frozen=True)
class NewUnit:
    code: str
    name: str
    kind: UnitKind
    staff_count: int = 0
    leader_count: int = 0
    specialist_count: int = 0
    meeting_rooms: int = 0
    sites: int = 1
    archive_pages: int = 0
    archive_deadline: dt.date | None = None
    on_secure_network: bool = False


def get_unit(session: Session, code: str, *, field: str = "code") -> Unit:
    unit = session.scalars(select(Unit).where(Unit.code == code)).one_or_none()
    if unit is None:
        raise NotFound(Reason("unit %(code)r does not exist", code=code), field=field)
    return unit


def unit_in_scope(session: Session, code: str, scope: frozenset[int] | None, *, field: str = "unit_code") -> Unit:
    """The unit, if the caller may see it. Outside the scope, existing or not, is one answer: 403."""
    unit = session.scalars(select(Unit).where(Unit.code == code)).one_or_none()
    if scope is not None and (unit is None or unit.id not in scope):
        raise OutsideScope(Reason("unit %(code)r is not one of your units", code=code), field=field)
    if unit is None:
        raise NotFound(Reason("unit %(code)r does not exist", code=code), field=field)
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


def count_units(session: Session) -> int:
    """Every unit, active or not."""
    return session.scalar(select(func.count()).select_from(Unit))


def ancestor_ids(session: Session, unit: Unit) -> list[int]:
    """The ids of the unit's parent, its parent's parent ... up to the top, nearest first."""
    parents = dict(session.execute(select(Unit.id, Unit.parent_id)).all())
    found, parent = [], parents.get(unit.id)
    while parent is not None and parent not in found:
        found.append(parent)
        parent = parents.get(parent)
    return found


def create_unit(session: Session, new: NewUnit, *, parent_code: str | None = None,
                is_example: bool = False) -> Unit:
    if session.scalars(select(Unit.id).where(Unit.code == new.code)).first() is not None:
        raise Conflict(Reason("unit %(code)s already exists", code=new.code), field="code")
    _check_positions(new.staff_count, new.leader_count, new.specialist_count,
                     changed=[name for name in ("leader_count", "specialist_count") if getattr(new, name)])
    parent = _active_parent(session, parent_code)
    unit = Unit(code=new.code, name=new.name, kind=new.kind, staff_count=new.staff_count, parent=parent,
                active=True, is_example=is_example, **{name: getattr(new, name) for name in UNIT_FACTS})
    session.add(unit)
    session.flush()
    return unit


def update_unit(session: Session, code: str, changes: Mapping[str, object]) -> Unit:
    """Rename, re-kind, re-count or re-parent an active unit, or change its facts; a unit cannot sit below itself."""
    unit = get_unit(session, code)
    if not unit.active:
        raise Conflict(Reason("unit %(code)s is inactive since %(day)s; edit its successor %(successor)s",
                              code=unit.code, day=unit.dissolved_on, successor=unit.successor.code)
                       if unit.successor else Reason("unit %(code)s is inactive since %(day)s; edit its successor",
                                                     code=unit.code, day=unit.dissolved_on), field="code")
    _check_positions(*(changes.get(name, getattr(unit, name)) for name in ("staff_count", "leader_count",
                                                                           "specialist_count")), changed=changes)
    if "parent_code" in changes:
        parent = _active_parent(session, changes["parent_code"])
        if parent is not None and parent.id in subtree_ids(session, unit.code):
            raise Conflict(Reason("unit %(code)s is inside %(other)s: a unit cannot be its own ancestor",
                                  code=parent.code, other=unit.code), field="parent_code")
        unit.parent = parent
    for name in ("name", "kind", "staff_count", *UNIT_FACTS):
        if name in changes:
            setattr(unit, name, changes[name])
    session.flush()
    return unit


def _check_positions(staff: int, leaders: int, specialists: int, *, changed: Iterable[str]) -> None:
    overrun = staff_overrun(staff, leaders, specialists)
    if overrun is not None:
        raise InvalidInput(overrun, field=overrun_field(changed))


def staff_overrun(staff: int, leaders: int, specialists: int) -> Reason | None:
    """Leaders and specialists are members of the staff, so together no more than the staff: why not, or None."""
    if leaders + specialists <= staff:
        return None
    return Reason("leader_count and specialist_count together (%(total)s) exceed the unit's staff (%(staff)s)",
                  total=leaders + specialists, staff=staff)


def overrun_field(changed: Iterable[str]) -> str:
    """The field a staff overrun is refused at: the first of the three that was given (a lowered headcount is at
    fault when only it changed)."""
    changed = set(changed)
    return next((name for name in ("leader_count", "specialist_count", "staff_count") if name in changed),
                "leader_count")


def merge_units(session: Session, source_codes: Sequence[str], *, into_code: str | None = None,
                into_new: NewUnit | None = None, parent_code: str | None = None,
                effective_on: dt.date, note: str = "", by: str) -> Reorganisation:
    """Merge units into an existing unit or a new one: devices, sub-units and staff move there.

    The merged units stay, inactive and pointing to their successor, so old reports still read."""
    if (into_code is None) == (into_new is None):
        raise InvalidInput(Reason("name either an existing unit to merge into or a new unit, not both"), field="into")
    sources = _active_units(session, source_codes, field="sources")
    if into_code is not None:
        target = get_unit(session, into_code, field="into_code")
        if not target.active:
            raise Conflict(Reason("unit %(code)s is inactive and cannot receive a merge", code=target.code),
                           field="into_code")
        if target.code in source_codes:
            raise InvalidInput(Reason("unit %(code)s cannot be merged into itself", code=target.code), field="sources")
    else:
        if len(sources) < 2:
            raise InvalidInput(Reason("a merge into a new unit needs at least two units"), field="sources")
        parent = parent_code if parent_code is not None else _common_parent_code(sources)
        target = create_unit(session, into_new, parent_code=parent)
    if any(target.id in subtree_ids(session, s.code) for s in sources):
        raise Conflict(Reason("unit %(code)s is inside a unit being merged", code=target.code), field="into_code")
    for source in sources:
        _take_facts(target, source)
    _hand_over(session, sources, {s.id: target for s in sources}, effective_on, "merge", by)
    return _record(session, ReorganisationKind.MERGE, [s.code for s in sources], [target.code], effective_on, note)


def _take_facts(target: Unit, source: Unit) -> None:
    """A merged unit's staff and facts go to the unit it is merged into: the counts add up, the secure network
    is needed if either unit needed it, and the earlier of the two digitisation deadlines holds."""
    for name in ("staff_count", *COUNTED_FACTS):
        setattr(target, name, getattr(target, name) + getattr(source, name))
    target.on_secure_network = target.on_secure_network or source.on_secure_network
    target.archive_deadline = min((d for d in (target.archive_deadline, source.archive_deadline) if d is not None),
                                  default=None)


def split_unit(session: Session, source_code: str, targets: Sequence[NewUnit], *,
               device_targets: Mapping[int, str] | None = None, effective_on: dt.date,
               note: str = "", by: str) -> Reorganisation:
    """Split a unit into new units under the same parent. Devices go where `device_targets` says;
    the rest, and the sub-units, go to the first target, which becomes the recorded successor."""
    source = _active_units(session, [source_code], field="source")[0]
    if len(targets) < 2:
        raise InvalidInput(Reason("a split needs at least two new units"), field="targets")
    codes = [t.code for t in targets]
    if len(set(codes)) != len(codes):
        raise InvalidInput(Reason("the new units' codes repeat"), field="targets")
    device_targets = dict(device_targets or {})
    unknown_targets = sorted(set(device_targets.values()) - set(codes))
    if unknown_targets:
        raise InvalidInput(Reason("device target %(code)r is not one of the new units", code=unknown_targets[0]),
                           field="device_targets")
    own = set(session.scalars(select(Device.id).where(Device.unit_id == source.id)))
    strangers = sorted(set(device_targets) - own)
    if strangers:
        raise InvalidInput(Reason("device %(id)s is not in unit %(code)s", id=strangers[0], code=source.code),
                           field="device_targets")
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
        raise InvalidInput(Reason("name at least one unit"), field=field)
    if len(set(codes)) != len(codes):
        raise InvalidInput(Reason("a unit is named twice"), field=field)
    units = [get_unit(session, code, field=field) for code in codes]
    for unit in units:
        if not unit.active:
            raise Conflict(Reason("unit %(code)s is already inactive (successor %(successor)s)", code=unit.code,
                                  successor=unit.successor.code)
                           if unit.successor else Reason("unit %(code)s is inactive", code=unit.code), field=field)
    return units


def _active_parent(session: Session, parent_code: object) -> Unit | None:
    if parent_code is None:
        return None
    parent = get_unit(session, str(parent_code), field="parent_code")
    if not parent.active:
        raise Conflict(Reason("unit %(code)s is inactive and cannot have sub-units", code=parent.code),
                       field="parent_code")
    return parent


def _common_parent_code(units: Sequence[Unit]) -> str | None:
    parents = {u.parent.code if u.parent else None for u in units}
    return parents.pop() if len(parents) == 1 else None


# What the API's handlers and the pages share: a change as its schema (inventory.schemas) loaded it, made and
# audited in one place, and a preview of a merge or split before it is confirmed.

def create_unit_audited(session: Session, args: Mapping[str, Any], *, by: str) -> Unit:
    """Create a unit from UnitCreateSchema's fields, and audit it."""
    unit = create_unit(session, NewUnit(**{name: value for name, value in args.items() if name != "parent_code"}),
                       parent_code=args["parent_code"])
    record(session, by, "unit.create", "unit", unit.code, after=_unit_record(unit))
    return unit


def update_unit_audited(session: Session, code: str, args: Mapping[str, Any], *, by: str) -> Unit:
    """Change a unit as UnitUpdateSchema's fields say, and audit it with before and after."""
    before = _unit_record(get_unit(session, code))
    unit = update_unit(session, code, args)
    record(session, by, "unit.update", "unit", unit.code, before=before, after=_unit_record(unit))
    return unit


def merge_units_audited(session: Session, args: Mapping[str, Any], *, by: str) -> Reorganisation:
    """Merge units as MergeSchema's fields say, and audit it."""
    reorganisation = _merge(session, args, by=by)
    record(session, by, "units.merge", "reorganisation", reorganisation.id,
           after=_reorganisation_record(reorganisation))
    return reorganisation


def split_unit_audited(session: Session, code: str, args: Mapping[str, Any], *, by: str) -> Reorganisation:
    """Split a unit as SplitSchema's fields say, and audit it."""
    reorganisation = _split(session, code, args, by=by)
    record(session, by, "unit.split", "reorganisation", reorganisation.id,
           after=_reorganisation_record(reorganisation))
    return reorganisation


def _merge(session: Session, args: Mapping[str, Any], *, by: str) -> Reorganisation:
    into_new = NewUnit(**args["into_new"]) if "into_new" in args else None
    return merge_units(session, args["sources"], into_code=args.get("into_code"), into_new=into_new,
                       parent_code=args.get("parent_code"), effective_on=args["effective_on"], note=args["note"],
                       by=by)


def _split(session: Session, code: str, args: Mapping[str, Any], *, by: str) -> Reorganisation:
    return split_unit(session, code, [NewUnit(**t) for t in args["targets"]],
                      device_targets={int(k): v for k, v in args["device_targets"].items()},
                      effective_on=args["effective_on"], note=args["note"], by=by)


def _unit_record(unit: Unit) -> dict[str, Any]:
    # inventory.schemas imports inventory.devices, which imports this module: imported when first used.
    from inventory.schemas import UnitSchema
    return UnitSchema().dump(unit)


def _reorganisation_record(reorganisation: Reorganisation) -> dict[str, Any]:
    from inventory.schemas import ReorganisationSchema
    return ReorganisationSchema().dump(reorganisation)


@dataclass(frozen=True)
class Handover:
    """What one unit hands to another in a merge or split: how many devices, which sub-units."""
    from_code: str
    to_code: str
    devices: int
    sub_units: tuple[str, ...]


@dataclass(frozen=True)
class TargetUnit:
    """A unit receiving a merge or split, as it will be afterwards."""
    code: str
    name: str
    kind: UnitKind
    staff_count: int
    parent_code: str | None
    new: bool


@dataclass(frozen=True)
class ReorganisationPreview:
    kind: ReorganisationKind
    effective_on: dt.date
    handovers: tuple[Handover, ...]
    targets: tuple[TargetUnit, ...]

    @property
    def devices(self) -> int:
        return sum(h.devices for h in self.handovers)

    @property
    def sub_units(self) -> int:
        return sum(len(h.sub_units) for h in self.handovers)


def preview_merge(session: Session, args: Mapping[str, Any], *, by: str) -> ReorganisationPreview:
    """What merge_units_audited would move where, without changing anything. The merge itself runs in a savepoint
    that is rolled back, so that the preview refuses exactly what the merge would."""
    codes = list(args["sources"])
    ids = dict(session.execute(select(Unit.code, Unit.id).where(Unit.code.in_(codes))).all())
    devices = _device_counts(session, ids.values())
    children = _children_codes(session, ids.values())
    with _undone(session):
        reorganisation = _merge(session, args, by=by)
        target = _target_unit(get_unit(session, reorganisation.target_codes[0]), new="into_new" in args)
    handovers = tuple(Handover(code, target.code, devices.get(ids[code], 0), children.get(ids[code], ()))
                      for code in codes)
    return ReorganisationPreview(ReorganisationKind.MERGE, args["effective_on"], handovers, (target,))


def preview_split(session: Session, code: str, args: Mapping[str, Any], *, by: str) -> ReorganisationPreview:
    """What split_unit_audited would move where, without changing anything (a savepoint, rolled back)."""
    source = get_unit(session, code, field="source")
    codes = [t["code"] for t in args["targets"]]
    told = {int(k): v for k, v in args["device_targets"].items()}
    own = session.scalars(select(Device.id).where(Device.unit_id == source.id)).all()
    devices = Counter(told.get(device_id, codes[0]) for device_id in own)
    children = _children_codes(session, [source.id]).get(source.id, ())
    with _undone(session):
        _split(session, code, args, by=by)
        targets = tuple(_target_unit(get_unit(session, c), new=True) for c in codes)
    handovers = tuple(Handover(source.code, c, devices.get(c, 0), children if i == 0 else ())
                      for i, c in enumerate(codes))
    return ReorganisationPreview(ReorganisationKind.SPLIT, args["effective_on"], handovers, targets)


@contextlib.contextmanager
def _undone(session: Session) -> Iterator[None]:
    """Run a change in a savepoint and roll it back, whatever happens (its announcements and the other
    packages' changes that follow it are rolled back with it)."""
    savepoint = session.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()


def _target_unit(unit: Unit, *, new: bool) -> TargetUnit:
    return TargetUnit(unit.code, unit.name, unit.kind, unit.staff_count, unit.parent.code if unit.parent else None,
                      new)


def _device_counts(session: Session, unit_ids: Iterable[int]) -> dict[int, int]:
    return dict(session.execute(select(Device.unit_id, func.count()).where(Device.unit_id.in_(list(unit_ids)))
                                .group_by(Device.unit_id)).all())


def _children_codes(session: Session, unit_ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {}
    for child_code, parent_id in session.execute(select(Unit.code, Unit.parent_id).where(
            Unit.parent_id.in_(list(unit_ids))).order_by(Unit.code)):
        found.setdefault(parent_id, []).append(child_code)
    return {parent_id: tuple(codes) for parent_id, codes in found.items()}


# What the organisation's pages read: counts by GROUP BY, never a query per unit.

def device_counts_by_unit_id(session: Session, scope: frozenset[int] | None = None) -> dict[int, int]:
    """How many devices each unit holds itself (not counting its sub-units)."""
    query = select(Device.unit_id, func.count()).group_by(Device.unit_id)
    if scope is not None:
        query = query.where(Device.unit_id.in_(scope))
    return dict(session.execute(query).all())


def device_tally(session: Session, unit_ids: Iterable[int]) -> dict[tuple[int, DeviceClass, DeviceStatus], int]:
    """How many devices of each class and status each of these units holds: one GROUP BY."""
    query = (select(Device.unit_id, Device.device_class, Device.status, func.count())
             .where(Device.unit_id.in_(list(unit_ids)))
             .group_by(Device.unit_id, Device.device_class, Device.status))
    return {(unit_id, device_class, status): count for unit_id, device_class, status, count in session.execute(query)}


def own_devices(session: Session, unit_id: int, *, limit: int) -> list[Device]:
    """The devices a unit holds itself (not its sub-units'), by class then id: at most `limit`."""
    return list(session.scalars(select(Device).where(Device.unit_id == unit_id)
                                .order_by(Device.device_class, Device.id).limit(limit)))


@dataclass(frozen=True)
class Retirement:
    """How an inactive unit ended: merged or split (None: no record says), when, and into which units."""
    kind: ReorganisationKind | None
    on: dt.date | None
    successor_codes: tuple[str, ...]


def retirements(session: Session, units: Iterable[Unit], codes_by_id: Mapping[int, str]) -> dict[str, Retirement]:
    """For each inactive unit, the reorganisation that retired it, from one query: a split names several new
    units, where Unit.successor keeps the first. `codes_by_id` names the successors without loading them."""
    retired = {u.code: u for u in units if not u.active}
    if not retired:
        return {}
    found: dict[str, Retirement] = {}
    dates = {u.dissolved_on for u in retired.values() if u.dissolved_on is not None}
    query = select(Reorganisation).where(Reorganisation.effective_on.in_(dates)).order_by(Reorganisation.id)
    for reorganisation in session.scalars(query) if dates else ():
        for code in reorganisation.source_codes:
            if code in retired and retired[code].dissolved_on == reorganisation.effective_on:
                found[code] = Retirement(reorganisation.kind, reorganisation.effective_on,
                                         tuple(reorganisation.target_codes))
    for code, unit in retired.items():
        if code not in found:
            successor = codes_by_id.get(unit.successor_id) if unit.successor_id else None
            found[code] = Retirement(None, unit.dissolved_on, (successor,) if successor else ())
    return found
