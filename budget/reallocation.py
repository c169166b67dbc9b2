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
    by_category: dict[str, list[Gap]] = {}
    for gap in unit_gaps:
        by_category.setdefault(gap.category, []).append(gap)
    moved: list[Transfer] = []
    for category in sorted(by_category):
        moved += _match(by_category[category], by_id, tree)
    gone: dict[tuple[str, str], set[int]] = {}
    came: dict[tuple[str, str], list[int]] = {}
    for t in moved:  # indexed once: each gap looks up its own transfers, not every transfer
        gone.setdefault((t.from_unit, t.category), set()).add(t.device_id)
        came.setdefault((t.to_unit, t.category), []).append(t.device_id)
    return Reallocation(tuple(moved), tuple(_after(g, gone.get((g.unit_code, g.category), set()),
                                                   came.get((g.unit_code, g.category), []), by_id)
                                            for g in unit_gaps))


def _match(in_category: Sequence[Gap], by_id: Mapping[int, HeldDevice], tree: Mapping[str, str | None]
           ) -> list[Transfer]:
    """Pairs in the order (not siblings, distance, receiver, giver), without listing every pair: a nation has
    thousands of receivers and hundreds of givers per category. Each step of distance, each receiver in code
    order takes from the givers at exactly that distance (found through its ancestors), in code order."""
    needing = {g.unit_code: g.shortfall for g in in_category if g.shortfall}
    giving = {g.unit_code: sorted((by_id[i] for i in g.usable_ids), key=suitability)[:g.surplus]
              for g in in_category if g.surplus}
    if not needing or not giving:
        return []
    paths = {unit: [*path_to_root(unit, tree), None] for unit in (*needing, *giving)}  # None: above every root
    below = _givers_below(giving, paths)
    longest = max(len(paths[r]) for r in needing) + max(len(paths[s]) for s in giving) - 2
    moved = []
    for siblings, steps in [(True, 2), *((False, d) for d in range(1, longest + 1))]:
        for receiver in sorted(r for r, need in needing.items() if need):
            for giver in _givers_at(receiver, steps, siblings, paths, below, tree):
                take = min(needing[receiver], len(giving[giver]))
                given, giving[giver] = giving[giver][:take], giving[giver][take:]
                needing[receiver] -= take
                moved += [Transfer(device.id, device.category, giver, receiver, steps) for device in given]
                if not giving[giver]:
                    _drop(giver, paths, below)
            if not below:
                return moved
    return moved


Below = dict[tuple[str | None, int], set[str]]  # (ancestor, steps down from it) -> givers with devices left


def _givers_below(giving: Mapping[str, list], paths: Mapping[str, list[str | None]]) -> Below:
    below: Below = {}
    for giver in giving:
        for steps, ancestor in enumerate(paths[giver]):
            below.setdefault((ancestor, steps), set()).add(giver)
    return below


def _drop(giver: str, paths: Mapping[str, list[str | None]], below: Below) -> None:
    for steps, ancestor in enumerate(paths[giver]):
        below[ancestor, steps].discard(giver)
        if not below[ancestor, steps]:
            del below[ancestor, steps]


def _givers_at(receiver: str, steps: int, siblings: bool, paths: Mapping[str, list[str | None]], below: Below,
               tree: Mapping[str, str | None]) -> list[str]:
    """The givers `steps` away from the receiver, siblings (same parent) or not, in code order. A giver is
    that far through the ancestor `up` steps above the receiver when it is `steps - up` below that ancestor
    and not below the ancestor's child on the receiver's side (their common ancestor would be lower)."""
    path, found = paths[receiver], []
    for up, ancestor in enumerate(path[:steps + 1]):
        down = steps - up
        candidates = below.get((ancestor, down), ())
        if up and candidates:
            candidates = candidates - below.get((path[up - 1], down - 1), set())
        is_sibling = up == 1 and down == 1 and tree.get(receiver) is not None
        if candidates and is_sibling == siblings:
            found += candidates
    return sorted(found)


def _after(gap: Gap, gone: set[int], came: Sequence[int], by_id: Mapping[int, HeldDevice]) -> Gap:
    if not gone and not came:
        return gap
    usable = tuple(sorted([i for i in gap.usable_ids if i not in gone] + came))
    unknown = tuple(i for i in usable if by_id[i].status == "unknown")
    return replace(gap, usable_ids=usable, unknown_ids=unknown, shortfall=max(gap.required - len(usable), 0),
                   surplus=max(len(usable) - gap.required, 0))
