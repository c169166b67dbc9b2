"""Gaps per unit and category: what the norms require, what the unit holds that is usable, and the shortfall
or surplus between them, each number traceable to device ids and norm codes. Pure.

The loader counts a merged unit's devices at its successor (it gives them the successor's unit_code); a
device without a catalog category counts nowhere (the loader leaves it out)."""
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# Compliance statuses (catalog.rules.STATUS_ORDER) of a device that can serve: "unknown" counts, flagged.
USABLE_STATUSES = frozenset({"compliant", "end_of_sale", "unapproved_model", "unknown"})
DUE_STATUSES = frozenset({"end_of_support", "past_service_life"})
# Devices the unit still holds; retired and missing ones count nowhere.
HELD = frozenset({"in_use", "spare", "broken"})


@dataclass(frozen=True)
class UnitNeed:
    """How many of a category a unit's norms require (catalog.rules.required_quantities, summed per category)."""
    unit_code: str
    category: str
    required: int
    norms: tuple[str, ...] = ()


@dataclass(frozen=True)
class HeldDevice:
    """A device as the budget sees it: where it is, its state, and its catalog judgement."""
    id: int
    unit_code: str
    category: str
    device_status: str  # inventory's DeviceStatus: in_use, spare, broken, retired, missing
    status: str  # catalog compliance: end_of_support ... compliant
    findings: tuple[Mapping, ...] = ()
    age_years: int | None = None  # full years since purchase; None when the purchase date is not known
    model_id: int | None = None


@dataclass(frozen=True)
class Gap:
    """One unit's (or subtree's) standing in one category. shortfall and surplus are per unit: a roll-up sums
    them, so a subtree's surplus in one ward does not hide another ward's shortfall."""
    unit_code: str
    category: str
    required: int
    shortfall: int
    surplus: int
    norms: tuple[str, ...] = ()
    usable_ids: tuple[int, ...] = ()
    unknown_ids: tuple[int, ...] = ()  # usable, counted, but their compliance could not be judged
    replacement_ids: tuple[int, ...] = ()  # due: end of support, past service life, or broken
    upgrade_ids: tuple[int, ...] = ()  # below specification
    units: tuple[str, ...] = ()  # the units counted: the unit itself, or every unit of the subtree

    @property
    def usable(self) -> int:
        return len(self.usable_ids)

    @property
    def replacements(self) -> int:
        return len(self.replacement_ids)

    @property
    def upgrade_candidates(self) -> int:
        return len(self.upgrade_ids)


def standing(device: HeldDevice) -> str | None:
    """"usable", "replace" (due for replacement), "upgrade" (below spec), or None (counts nowhere)."""
    if device.device_status not in HELD:
        return None
    if device.device_status == "broken" or device.status in DUE_STATUSES:
        return "replace"
    if device.status == "below_spec":
        return "upgrade"
    if device.status in USABLE_STATUSES:
        return "usable"
    raise ValueError(f"device {device.id}: unknown compliance status {device.status!r}")


def gap_for(unit_code: str, category: str, required: int, norms: Iterable[str],
            devices: Iterable[HeldDevice]) -> Gap:
    """The gap of one unit in one category, from its requirement and the devices it holds of that category."""
    by_standing: dict[str | None, list[HeldDevice]] = {"usable": [], "replace": [], "upgrade": []}
    for device in sorted(devices, key=lambda d: d.id):
        by_standing.setdefault(standing(device), []).append(device)
    usable = by_standing["usable"]
    return Gap(unit_code, category, required, shortfall=max(required - len(usable), 0),
               surplus=max(len(usable) - required, 0), norms=tuple(sorted(set(norms))),
               usable_ids=tuple(d.id for d in usable),
               unknown_ids=tuple(d.id for d in usable if d.status == "unknown"),
               replacement_ids=tuple(d.id for d in by_standing["replace"]),
               upgrade_ids=tuple(d.id for d in by_standing["upgrade"]), units=(unit_code,))


def gaps(needs: Iterable[UnitNeed], devices: Iterable[HeldDevice]) -> list[Gap]:
    """A gap for every (unit, category) that a need or a held device names, by unit code then category."""
    required: dict[tuple[str, str], int] = {}
    norms: dict[tuple[str, str], set[str]] = {}
    for need in needs:
        key = (need.unit_code, need.category)
        required[key] = required.get(key, 0) + need.required
        norms.setdefault(key, set()).update(need.norms)
    held: dict[tuple[str, str], list[HeldDevice]] = {}
    for device in devices:
        if device.device_status in HELD:
            held.setdefault((device.unit_code, device.category), []).append(device)
    return [gap_for(unit, category, required.get((unit, category), 0), norms.get((unit, category), ()),
                    held.get((unit, category), ()))
            for unit, category in sorted(required.keys() | held.keys())]


def units_below(tree: Mapping[str, str | None]) -> dict[str, set[str]]:
    """Each unit's subtree, itself included, from each unit's parent."""
    below: dict[str, set[str]] = {unit: {unit} for unit in tree}
    for unit in tree:
        seen = {unit}
        parent = tree.get(unit)
        while parent is not None and parent not in seen:  # a cycle in bad data stops, never loops
            below.setdefault(parent, {parent}).add(unit)
            seen.add(parent)
            parent = tree.get(parent)
    return below


def roll_up(unit_gaps: Sequence[Gap], subtrees: Mapping[str, Iterable[str]]) -> list[Gap]:
    """One gap per subtree root and category: sums of the units' numbers, their ids and norms joined."""
    by_unit: dict[str, list[Gap]] = {}
    for gap in unit_gaps:
        by_unit.setdefault(gap.unit_code, []).append(gap)
    rolled = []
    for root in sorted(subtrees):
        members = sorted({root, *subtrees[root]})
        by_category: dict[str, list[Gap]] = {}
        for unit in members:
            for gap in by_unit.get(unit, ()):
                by_category.setdefault(gap.category, []).append(gap)
        for category, parts in sorted(by_category.items()):
            rolled.append(Gap(
                root, category, sum(g.required for g in parts), sum(g.shortfall for g in parts),
                sum(g.surplus for g in parts), tuple(sorted({n for g in parts for n in g.norms})),
                _joined(parts, "usable_ids"), _joined(parts, "unknown_ids"), _joined(parts, "replacement_ids"),
                _joined(parts, "upgrade_ids"), tuple(g.unit_code for g in parts)))
    return rolled


def _joined(parts: Sequence[Gap], name: str) -> tuple[int, ...]:
    return tuple(sorted(i for g in parts for i in getattr(g, name)))
