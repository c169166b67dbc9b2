"""Relocations to confirm: a device that a scan saw in another unit moves there only when a person says so.

Scans raise them (`inventory.sightings`); an officer of the unit that saw the device, or an administrator,
confirms (the device moves, with its history) or rejects (it stays, and later sightings are only counted).
Nothing here commits; the caller owns the transaction."""
import enum

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from core.errors import Conflict, NotFound, OutsideScope
from core.time import utcnow
from inventory.devices import Page, record_device
from inventory.models import Device, DeviceEvent, Relocation, RelocationStatus
from inventory.units import subtree_ids, unit_in_scope


class Decision(enum.StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"


def list_relocations(session: Session, *, scope: frozenset[int] | None, status: RelocationStatus | None = None,
                     unit_code: str | None = None, page: int = 1, page_size: int = 50) -> Page:
    """Relocations the caller is a party to (the device's unit or the unit that saw it is theirs), newest
    sighting first; with `unit_code`, those of that unit and the units below it, either way."""
    query = select(Relocation)
    if scope is not None:
        query = query.where(or_(Relocation.to_unit_id.in_(scope), Relocation.from_unit_id.in_(scope)))
    if unit_code:
        ids = subtree_ids(session, unit_in_scope(session, unit_code, scope, field="unit").code)
        query = query.where(or_(Relocation.to_unit_id.in_(ids), Relocation.from_unit_id.in_(ids)))
    if status is not None:
        query = query.where(Relocation.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    items = session.scalars(query.order_by(Relocation.last_seen.desc(), Relocation.id.desc())
                            .offset((page - 1) * page_size).limit(page_size).options(*_loaded())).all()
    return Page(items=list(items), total=total or 0, page=page, page_size=page_size)


def get_relocation(session: Session, relocation_id: int, scope: frozenset[int] | None, *,
                   for_update: bool = False) -> Relocation:
    """The relocation, if the caller is a party to it; otherwise it does not exist for them. `for_update`
    locks its row until the transaction ends (PostgreSQL; SQLite has one writer at a time anyway)."""
    relocation = session.get(Relocation, relocation_id, options=_loaded(), with_for_update=for_update,
                             populate_existing=for_update)
    if relocation is None or (scope is not None and relocation.to_unit_id not in scope
                              and relocation.from_unit_id not in scope):
        raise NotFound(f"relocation {relocation_id} does not exist", field="relocation_id")
    return relocation


def decide_relocation(session: Session, relocation_id: int, decision: Decision, *, by: str,
                      scope: frozenset[int] | None, note: str = "") -> Relocation:
    """Confirm (the device moves to the unit that saw it) or reject (it stays). Only an officer of the
    unit that saw it, or an administrator, decides: the device's own unit cannot keep it by refusing."""
    # Locked, then checked: two officers deciding at once are taken in turn, and the second sees the first.
    relocation = get_relocation(session, relocation_id, scope, for_update=True)
    to_code = relocation.to_unit.code
    if scope is not None and relocation.to_unit_id not in scope:
        raise OutsideScope(f"only an officer of {to_code} or an administrator decides relocation {relocation_id}",
                           field="relocation_id")
    if relocation.status is not RelocationStatus.PENDING:
        raise Conflict(f"relocation {relocation_id} was already {relocation.status.value} by "
                       f"{relocation.decided_by}", field="relocation_id")
    if decision is Decision.CONFIRM and relocation.device.unit_id != relocation.from_unit_id:
        raise Conflict(f"relocation {relocation_id} is out of date: the device has moved from "
                       f"{relocation.from_unit.code} to {relocation.device.unit.code} since; reject it",
                       field="relocation_id")
    if decision is Decision.CONFIRM:
        # The caller's scope was checked on the unit that saw the device, which is where it goes.
        record_device(session, to_code, {}, by=by, device_id=relocation.device_id)
        _close_the_others(session, relocation, by)
    relocation.status = RelocationStatus.CONFIRMED if decision is Decision.CONFIRM else RelocationStatus.REJECTED
    relocation.decided_by, relocation.decided_at, relocation.note = by, utcnow(), note
    session.add(DeviceEvent(device_id=relocation.device_id, at=relocation.decided_at, kind="relocation",
                            method="manual", source=by, detail=_decision_detail(relocation)))
    session.flush()
    return relocation


def _close_the_others(session: Session, confirmed: Relocation, by: str) -> None:
    """Other units' pending sightings of a device that has now moved are answered by the move."""
    others = session.scalars(select(Relocation).where(Relocation.device_id == confirmed.device_id,
                                                      Relocation.status == RelocationStatus.PENDING,
                                                      Relocation.id != confirmed.id))
    for other in others:
        other.status, other.decided_by, other.decided_at = RelocationStatus.REJECTED, by, utcnow()
        other.note = f"the device moved to {confirmed.to_unit.code} (relocation {confirmed.id})"


def _decision_detail(relocation: Relocation) -> str:
    verb = "confirmed: moved to" if relocation.status is RelocationStatus.CONFIRMED else "rejected: not moved to"
    detail = (f"relocation {relocation.id} {verb} {relocation.to_unit.code}, seen there by {relocation.method} "
              f"{relocation.sightings} times since {relocation.first_seen.isoformat(timespec='minutes')}")
    return f"{detail}; {relocation.note}" if relocation.note else detail


def _loaded():
    return [selectinload(Relocation.device).selectinload(Device.unit), selectinload(Relocation.from_unit),
            selectinload(Relocation.to_unit)]
