"""Relocations to confirm: a device that a scan saw in another unit moves there only when a person says so.

Scans raise them (`inventory.sightings`); an officer of the unit that saw the device, or an administrator,
confirms (the device moves, with its history) or rejects (it stays, and later sightings are only counted).
Nothing here commits; the caller owns the transaction."""
import enum

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from core.audit import record
from core.errors import Conflict, NotFound, OutsideScope
from core.i18n import Reason
from core.time import utcnow
from inventory.devices import Page, record_device
from inventory.models import Device, DeviceEvent, Relocation, RelocationStatus
from inventory.units import subtree_ids, unit_in_scope


class Decision(enum.StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"


def list_relocations(session: Session, *, scope: frozenset[int] | None, status: RelocationStatus | None = None,
                     unit_code: str | None = None, page: int = 1, page_size: int = 50,
                     pending_first: bool = False) -> Page:
    """Relocations the caller is a party to (the device's unit or the unit that saw it is theirs), newest
    sighting first (`pending_first`: those still waiting before the decided ones); with `unit_code`, those of
    that unit and the units below it, either way."""
    query = select(Relocation)
    if scope is not None:
        query = query.where(or_(Relocation.to_unit_id.in_(scope), Relocation.from_unit_id.in_(scope)))
    if unit_code:
        ids = subtree_ids(session, unit_in_scope(session, unit_code, scope, field="unit").code)
        query = query.where(or_(Relocation.to_unit_id.in_(ids), Relocation.from_unit_id.in_(ids)))
    if status is not None:
        query = query.where(Relocation.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    order = [Relocation.last_seen.desc(), Relocation.id.desc()]
    if pending_first:
        order.insert(0, case((Relocation.status == RelocationStatus.PENDING, 0), else_=1))
    items = session.scalars(query.order_by(*order)
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
        raise NotFound(Reason("relocation %(id)s does not exist", id=relocation_id), field="relocation_id")
    return relocation


def decide_relocation(session: Session, relocation_id: int, decision: Decision, *, by: str,
                      scope: frozenset[int] | None, note: str = "") -> Relocation:
    """Confirm (the device moves to the unit that saw it) or reject (it stays). Only an officer of the
    unit that saw it, or an administrator, decides: the device's own unit cannot keep it by refusing."""
    # Locked, then checked: two officers deciding at once are taken in turn, and the second sees the first.
    relocation = get_relocation(session, relocation_id, scope, for_update=True)
    to_code = relocation.to_unit.code
    if scope is not None and relocation.to_unit_id not in scope:
        raise OutsideScope(Reason("only an officer of %(code)s or an administrator decides relocation %(id)s",
                                  code=to_code, id=relocation_id), field="relocation_id")
    if relocation.status is not RelocationStatus.PENDING:
        raise Conflict(_already_decided(relocation), field="relocation_id")
    if decision is Decision.CONFIRM and relocation.device.unit_id != relocation.from_unit_id:
        raise Conflict(Reason("relocation %(id)s is out of date: the device has moved from %(before)s to %(after)s "
                              "since; reject it", id=relocation_id, before=relocation.from_unit.code,
                              after=relocation.device.unit.code), field="relocation_id")
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


def _already_decided(relocation: Relocation) -> Reason:
    """Why a decided relocation cannot be decided again: one sentence per outcome, as each is translated."""
    status, by = relocation.status, relocation.decided_by
    if status is RelocationStatus.CONFIRMED:
        return Reason("relocation %(id)s was already confirmed by %(by)s", id=relocation.id, by=by)
    if status is RelocationStatus.REJECTED:
        return Reason("relocation %(id)s was already rejected by %(by)s", id=relocation.id, by=by)
    return Reason("relocation %(id)s was already superseded by %(by)s", id=relocation.id, by=by)


def answer_relocation(session: Session, relocation_id: int, decision: Decision, *, by: str,
                      scope: frozenset[int] | None, note: str = "") -> Relocation:
    """Decide a relocation (`decide_relocation`) and keep the decision in the audit log: the API and the pages,
    one path."""
    relocation = decide_relocation(session, relocation_id, decision, by=by, scope=scope, note=note)
    record(session, by, f"relocation.{decision.value}", "relocation", relocation.id,
           before={"unit": relocation.from_unit.code, "status": "pending"},
           after={"unit": relocation.device.unit.code, "status": relocation.status.value,
                  "device": relocation.device_id}, detail=note)
    return relocation


def pending_relocations(session: Session, device_id: int, scope: frozenset[int] | None) -> list[Relocation]:
    """The device's relocations still waiting for a decision that the caller is party to (as get_relocation
    decides: a device moved by hand keeps relocations between two other units), newest sighting first."""
    query = select(Relocation).where(Relocation.device_id == device_id, Relocation.status == RelocationStatus.PENDING)
    if scope is not None:
        query = query.where(or_(Relocation.to_unit_id.in_(scope), Relocation.from_unit_id.in_(scope)))
    return list(session.scalars(query.order_by(Relocation.last_seen.desc(), Relocation.id.desc())
                                .options(*_loaded())))


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
