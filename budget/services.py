"""Gaps and transfers of a unit's subtree, within the caller's units: the pure arithmetic (budget.gaps,
budget.reallocation) over what budget.load reads; an officer's review of a gap, and a transfer carried out.
Writes run in the caller's transaction and never commit.

Scope: a unit officer sees the units they answer for; the subtree is cut to them, so their transfers move
devices between their own units only."""
import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from budget import reviews
from budget.gaps import Gap, gaps, roll_up
from budget.load import Inputs, needs_and_devices
from budget.models import GapReview
from budget.reallocation import Transfer, transfers
from budget.reviews import for_plans, reviews_of
from catalog import compliance
from catalog.models import CatalogVersion, Category
from catalog.services import version_or_in_force
from core.audit import record
from core.errors import Conflict, NotFound
from core.i18n import Reason
from inventory.devices import reassign_device
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
    reviews: tuple[GapReview, ...] = ()  # the latest review of each reviewed gap, by unit code and category


@dataclass(frozen=True)
class TransferList:
    """Surplus devices matched to shortfalls within a subtree, and what the transfers leave uncovered."""
    unit: Unit
    version: CatalogVersion
    on: dt.date
    transfers: tuple[Transfer, ...]
    remaining: tuple[Gap, ...]  # per unit and category, the shortfalls left once the transfers are made


@dataclass(frozen=True)
class Subtree:
    """A unit's subtree within the caller's units as the budget computes over it, on a day."""
    unit: Unit
    version: CatalogVersion
    on: dt.date
    units: tuple[Unit, ...]  # the active units counted, by code
    inputs: Inputs  # needs, norm limits, devices, the whole unit tree
    gaps: tuple[Gap, ...]  # per unit and category, as the inventory stands (reviews not applied)

    @property
    def kinds(self) -> dict[str, str]:
        return {u.code: u.kind.value for u in self.units}


def unit_gaps(session: Session, unit_code: str, scope: frozenset[int] | None, *,
              on: dt.date | None = None) -> UnitGaps:
    return gaps_of(session, subtree(session, unit_code, scope, on))


def gaps_of(session: Session, found: Subtree) -> UnitGaps:
    totals = roll_up(found.gaps, {found.unit.code: [u.code for u in found.units]})
    reviewed = reviews_of(session, [u.id for u in found.units])
    return UnitGaps(found.unit, found.version, found.on, found.units, found.gaps, tuple(totals),
                    tuple(reviewed[key] for key in sorted(reviewed)))


def transfer_list(session: Session, unit_code: str, scope: frozenset[int] | None, *,
                  on: dt.date | None = None) -> TransferList:
    return transfers_of(session, subtree(session, unit_code, scope, on))


def transfers_of(session: Session, found: Subtree) -> TransferList:
    """The transfers into the gaps plans take: none into a disputed (or withdrawn) shortfall."""
    reviewed, _excluded = for_plans(found.gaps, reviews_of(session, [u.id for u in found.units]))
    moved = transfers(reviewed, found.inputs.devices, found.inputs.tree)
    return TransferList(found.unit, found.version, found.on, moved.transfers, moved.remaining)


def subtree(session: Session, unit_code: str, scope: frozenset[int] | None, on: dt.date | None, *,
            unit_only: bool = False) -> Subtree:
    """The subtree of `unit_code` within `scope` (or the unit alone) as the budget computes over it."""
    on = on or compliance.today()
    unit = unit_in_scope(session, unit_code, scope, field="unit")
    version = version_or_in_force(session, None, on)
    ids = {unit.id} if unit_only else subtree_ids(session, unit.code)
    if scope is not None:
        ids &= scope
    inputs = needs_and_devices(session, ids, on)
    units = tuple(session.scalars(select(Unit).where(Unit.id.in_(ids), Unit.active.is_(True)).order_by(Unit.code)))
    codes = {u.code for u in units}
    # A device of a merged unit whose successor lies outside the subtree counts there, not here.
    inputs = replace(inputs, devices=[d for d in inputs.devices if d.unit_code in codes])
    return Subtree(unit, version, on, units, inputs, tuple(gaps(inputs.needs, inputs.devices)))


def review(session: Session, unit_code: str, category: str, state: str, comment: str, *, by: str,
           scope: frozenset[int] | None) -> GapReview:
    """An officer's review of one of their units' gaps, as the gap stands today (the unit's own, not its
    sub-units')."""
    found = subtree(session, unit_code, scope, None, unit_only=True)
    gap = next((g for g in found.gaps if g.unit_code == found.unit.code and g.category == category), None)
    if gap is None:
        raise NotFound(Reason("unit %(unit)s has no gap in category %(category)r", unit=found.unit.code,
                              category=category), field="category")
    return reviews.review_gap(session, unit_code, category, state, comment, shortfall=gap.shortfall, by=by,
                              scope=scope)


def carry_out_transfer(session: Session, root_code: str, device_id: int, to_unit: str, *, by: str,
                       scope: frozenset[int] | None) -> Transfer:
    """Move a device as the transfer list of `root_code`'s subtree proposes today: a move in the inventory, with
    its history and audit entry. A transfer the list no longer proposes is refused."""
    proposed = transfer_list(session, root_code, scope)
    transfer = next((t for t in proposed.transfers if t.device_id == device_id and t.to_unit == to_unit), None)
    if transfer is None:
        raise Conflict(Reason("the transfers of %(root)s do not propose device %(device)s for %(unit)s", root=root_code,
                              device=device_id, unit=to_unit), field="device_id")
    reassign_device(session, device_id, to_unit, by=by, scope=scope)
    record(session, by, "budget.transfer", "device", device_id, before={"unit": transfer.from_unit},
           after={"unit": to_unit, "category": transfer.category})
    return transfer


def category_names(session: Session, version_id: int, language: str) -> dict[str, str]:
    """Category code -> its name in `language` (vi or en) in the version."""
    rows = session.execute(select(Category.code, Category.name_vi, Category.name_en)
                           .where(Category.version_id == version_id))
    return {code: (vi if language == "vi" else en) for code, vi, en in rows}
