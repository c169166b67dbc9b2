"""What changed in the inventory, announced once per commit: the one place later packages (compliance, gaps,
readiness) learn that devices changed, whatever changed them, without any writer calling them.

Writers note their changes in the session's transaction (`note_changes`); when that transaction commits, the
`devices_changed` signal carries everything it changed, once; when it rolls back, nothing is announced.
A reorganisation is also announced inside its transaction (`units_reorganised`), so that records held by
other packages (officers' units, scan scopes) follow it in the same commit or not at all.

    @devices_changed.connect
    def recompute(changes: Changes, **_):  # after the commit: open a new session to read or write
        ...
"""
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from blinker import Namespace
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)
signals = Namespace()
# Sent after a commit that changed devices, with `changes=Changes`. Subscribers run in the committing thread.
devices_changed = signals.signal("inventory.devices-changed")
# Sent inside the transaction of a merge or split, with `successors={old unit id: successor id}`, `kind`
# ("merge" or "split") and `by` (who made it). Subscribers write in `session`, which the sender passes.
units_reorganised = signals.signal("inventory.units-reorganised")

_PENDING = "inventory.pending_changes"


@dataclass
class Change:
    """The changes of one kind in one commit."""
    kind: str  # scan, import, manual, agent, reorganisation
    device_ids: set[int] = field(default_factory=set)
    fields: set[str] = field(default_factory=set)  # device fields, `specs.<name>`, interfaces, unit_id, status
    unit_ids: set[int] = field(default_factory=set)  # units whose equipment changed: both sides of a move

    def absorb(self, other: "Change") -> None:
        self.device_ids |= other.device_ids
        self.fields |= other.fields
        self.unit_ids |= other.unit_ids


@dataclass(frozen=True)
class Changes:
    """Everything one commit changed, by kind."""
    by_kind: Mapping[str, Change]

    @property
    def device_ids(self) -> set[int]:
        return {i for change in self.by_kind.values() for i in change.device_ids}

    @property
    def unit_ids(self) -> set[int]:
        return {i for change in self.by_kind.values() for i in change.unit_ids}


def note_changes(session: Session, change: Change) -> None:
    """Remember changes made in the session's current transaction (a savepoint's, inside one), to announce when
    the outermost transaction commits."""
    if change.device_ids or change.unit_ids:  # a reorganisation of units without devices is a change too
        transaction = session.get_nested_transaction() or session.get_transaction()
        _merge(_notes(session).setdefault(transaction, {}), {change.kind: change})


def _notes(session: Session) -> dict[SessionTransaction, dict[str, Change]]:
    return session.info.setdefault(_PENDING, {})


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    nested = session.get_nested_transaction()
    if nested is not None:  # a savepoint released: its changes are its parent's now, still to be committed
        _merge(_notes(session).setdefault(nested.parent, {}), _notes(session).pop(nested, {}))
        return
    pending: dict[str, Change] = {}
    for changes in session.info.pop(_PENDING, {}).values():
        _merge(pending, changes)
    if pending:
        _announce(session, Changes(pending))


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    """A savepoint rolled back takes its changes with it; the outermost transaction, all of them."""
    if previous_transaction.nested:
        _notes(session).pop(previous_transaction, None)
    else:
        session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed (announced already), rolled back, or closed without either
        session.info.pop(_PENDING, None)


def _merge(target: dict[str, Change], changes: Mapping[str, Change]) -> None:
    for kind, change in changes.items():
        target.setdefault(kind, Change(kind)).absorb(change)


def _announce(session: Session, changes: Changes) -> None:
    for receiver in devices_changed.receivers_for(session):
        try:
            receiver(session, changes=changes)
        except Exception:  # the commit stands: one subscriber's failure must not undo it, nor stop the others
            log.exception("a subscriber to inventory changes failed: %r", receiver)
