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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from blinker import Namespace
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
signals = Namespace()
# Sent after a commit that changed devices, with `changes=Changes`. Subscribers run in the committing thread.
devices_changed = signals.signal("inventory.devices-changed")
# Sent inside the transaction of a merge or split, with `successors={old unit id: successor id}`, `kind`
# ("merge" or "split") and `by` (who made it). Subscribers write in `session`, which the sender passes.
units_reorganised = signals.signal("inventory.units-reorganised")

_PENDING = "inventory.pending_changes"
# The kind of change each observation method makes; reorganisations note "reorganisation" themselves.
KIND_OF_METHOD: Mapping[str, str] = {"manual": "manual", "import": "import", "agent": "agent",
                                     "snmp": "scan", "nmap": "scan", "fdb": "scan", "arp": "scan",
                                     "collector": "scan"}


@dataclass
class Change:
    """The changes of one kind in one commit."""
    kind: str  # scan, import, manual, agent, reorganisation
    device_ids: set[int] = field(default_factory=set)
    fields: set[str] = field(default_factory=set)  # device fields, `specs.<name>`, interfaces, unit_id, status
    unit_ids: set[int] = field(default_factory=set)  # units whose equipment changed: both sides of a move


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


def note_changes(session: Session, kind: str, *, device_ids: Iterable[int], fields: Iterable[str],
                 unit_ids: Iterable[int]) -> None:
    """Remember changes made in the session's current transaction, to announce when it commits."""
    pending: dict[str, Change] = session.info.setdefault(_PENDING, {})
    change = pending.setdefault(kind, Change(kind))
    change.device_ids.update(device_ids)
    change.fields.update(fields)
    change.unit_ids.update(unit_ids)


@event.listens_for(Session, "after_commit")
def _announce(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    changes = Changes(pending)
    for receiver in devices_changed.receivers_for(session):
        try:
            receiver(session, changes=changes)
        except Exception:  # the commit stands: one subscriber's failure must not undo it, nor stop the others
            log.exception("a subscriber to inventory changes failed: %r", receiver)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
