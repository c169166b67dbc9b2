"""Gaps and transfers of a unit's subtree, within the caller's units: the pure arithmetic (budget.gaps,
budget.reallocation) over what budget.load reads. Read only: nothing here writes.

Scope: a unit officer sees the units they answer for; the subtree is cut to them, so their transfers move
devices between their own units only."""
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from budget.gaps import Gap, gaps, roll_up
from budget.load import needs_and_devices
from budget.reallocation import Transfer, transfers
from catalog import compliance
from catalog.models import CatalogVersion
from catalog.services import version_or_in_force
from inventory.models import Unit
from inventory.units import subtree_ids, unit_in_scope


@dataclass(frozen=True)
class UnitGaps:
    """The gaps of a unit and of each active unit below it, with the facts they come from, and their totals."""
    unit: Unit
    version: CatalogVersion
    on: dt.date
    units: tuple[Unit, ...]  # the active units counted, by code: their facts are what the norms count
    gaps: tuple[Gap, ...]  # per unit and category, by unit code then category
    totals: tuple[Gap, ...]  # per category over the subtree


@dataclass(frozen=True)
class TransferList:
    """Surplus devices matched to shortfalls within a subtree, and what the transfers leave uncovered."""
    unit: Unit
    version: CatalogVersion
    on: dt.date
    transfers: tuple[Transfer, ...]
    remaining: tuple[Gap, ...]  # per unit and category, the shortfalls left once the transfers are made


def unit_gaps(session: Session, unit_code: str, scope: frozenset[int] | None, *,
              on: dt.date | None = None) -> UnitGaps:
    unit, version, on, units, unit_gaps_, _devices, _tree = _subtree_gaps(session, unit_code, scope, on)
    totals = roll_up(unit_gaps_, {unit.code: [u.code for u in units]})
    return UnitGaps(unit, version, on, units, tuple(unit_gaps_), tuple(totals))


def transfer_list(session: Session, unit_code: str, scope: frozenset[int] | None, *,
                  on: dt.date | None = None) -> TransferList:
    unit, version, on, _units, unit_gaps_, devices, tree = _subtree_gaps(session, unit_code, scope, on)
    found = transfers(unit_gaps_, devices, tree)
    return TransferList(unit, version, on, found.transfers, found.remaining)


def _subtree_gaps(session: Session, unit_code: str, scope: frozenset[int] | None, on: dt.date | None):
    on = on or compliance.today()
    unit = unit_in_scope(session, unit_code, scope, field="unit")
    version = version_or_in_force(session, None, on)
    ids = subtree_ids(session, unit.code)
    if scope is not None:
        ids &= scope
    needs, devices, tree = needs_and_devices(session, ids, on)
    units = tuple(session.scalars(select(Unit).where(Unit.id.in_(ids), Unit.active.is_(True)).order_by(Unit.code)))
    codes = {u.code for u in units}
    # A device of a merged unit whose successor lies outside the subtree counts there, not here.
    devices = [d for d in devices if d.unit_code in codes]
    return unit, version, on, units, gaps(needs, devices), devices, tree
