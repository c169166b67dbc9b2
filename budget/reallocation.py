"""Reallocation first: surplus usable devices matched to shortfalls, before anything is bought. Pure.

Pairs of (receiving unit, giving unit) are taken nearest first: units under the same parent, then the whole
organisation by distance in the unit tree (steps up and down), ties by receiver then giver code. A giver
gives only its surplus, so it never falls below its own requirement; the devices it gives are its
best-suited usable ones (compliant before end of sale, unapproved model and unknown; then newest; then id).
Devices below specification or due for replacement never move. A transfer, carried out, is a move in the
inventory (inventory's move service, with its history and audit): not done here."""
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from budget.gaps import Gap, HeldDevice

# Best-suited first among usable devices.
SUITABILITY = ("compliant", "end_of_sale", "unapproved_model", "unknown")


@dataclass(frozen=True)
class Transfer:
    device_id: int
    category: str
    from_unit: str
    to_unit: str
    distance: int  # steps in the unit tree (`distance`)


@dataclass(frozen=True)
class Reallocation:
    transfers: tuple[Transfer, ...]
    gaps: tuple[Gap, ...]  # the gaps once the transfers are carried out: what remains to buy or upgrade

    @property
    def remaining(self) -> tuple[Gap, ...]:
        return tuple(g for g in self.gaps if g.shortfall)


def path_to_root(unit: str, tree: Mapping[str, str | None]) -> list[str]:
    path = [unit]
    while (parent := tree.get(path[-1])) is not None and parent not in path:
        path.append(parent)
    return path


def distance(a: str, b: str, tree: Mapping[str, str | None]) -> int:
    """Steps from a up to the nearest common ancestor and down to b; units in separate trees are joined
    through an imagined organisation root above both."""
    up = path_to_root(a, tree)
    down = path_to_root(b, tree)
    index = {unit: i for i, unit in enumerate(down)}
    for i, unit in enumerate(up):
        if unit in index:
            return i + index[unit]
    return len(up) + len(down)


def suitability(device: HeldDevice) -> tuple:
    age = device.age_years if device.age_years is not None else float("inf")  # unknown age: oldest
    return (SUITABILITY.index(device.status), age, device.id)


def transfers(unit_gaps: Sequence[Gap], devices: Sequence[HeldDevice], tree: Mapping[str, str | None]
              ) -> Reallocation:
    """The transfers that cover shortfalls from surpluses, category by category, and the gaps after them."""
    by_id = {d.id: d for d in devices}
    moved: list[Transfer] = []
    for category in sorted({g.category for g in unit_gaps}):
        in_category = [g for g in unit_gaps if g.category == category]
        moved += _match(in_category, by_id, tree)
    return Reallocation(tuple(moved), tuple(_after(g, moved, by_id) for g in unit_gaps))


def _match(in_category: Sequence[Gap], by_id: Mapping[int, HeldDevice], tree: Mapping[str, str | None]
           ) -> list[Transfer]:
    needing = {g.unit_code: g.shortfall for g in in_category if g.shortfall}
    giving = {g.unit_code: sorted((by_id[i] for i in g.usable_ids), key=suitability)[:g.surplus]
              for g in in_category if g.surplus}
    pairs = sorted(((tree.get(r) is None or tree.get(r) != tree.get(s), distance(r, s, tree), r, s)
                    for r in needing for s in giving), key=lambda p: (p[0], p[1], p[2], p[3]))
    moved = []
    for _not_sibling, steps, receiver, giver in pairs:
        while needing[receiver] and giving[giver]:
            device = giving[giver].pop(0)
            needing[receiver] -= 1
            moved.append(Transfer(device.id, device.category, giver, receiver, steps))
    return moved


def _after(gap: Gap, moved: Sequence[Transfer], by_id: Mapping[int, HeldDevice]) -> Gap:
    gone = {t.device_id for t in moved if t.from_unit == gap.unit_code and t.category == gap.category}
    came = [t.device_id for t in moved if t.to_unit == gap.unit_code and t.category == gap.category]
    if not gone and not came:
        return gap
    usable = tuple(sorted([i for i in gap.usable_ids if i not in gone] + came))
    unknown = tuple(i for i in usable if by_id[i].status == "unknown")
    return replace(gap, usable_ids=usable, unknown_ids=unknown, shortfall=max(gap.required - len(usable), 0),
                   surplus=max(len(usable) - gap.required, 0))
