"""Upgrade or replace: a device below specification gets an upgrade when the catalog sells parts of its
category that fix every failing required spec, and the parts cost less than a share of a replacement. Pure.

A part either adds to the device's value (RAM modules: enough of them to reach the requirement,
ceil((required - found) / module)) or sets it (a new disk: one part). For each failing spec the cheapest
part that fixes it alone is taken (ties by part code); a part chosen for several specs is bought once. The
findings hold only the specs a device fails, so a part is assumed never to lower one it meets; memory slots
are not known, so the number of modules is not bounded by them."""
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from numbers import Real
from typing import Any

from budget.gaps import HeldDevice
from catalog.rules import Check, meets


@dataclass(frozen=True)
class Part:
    """An upgrade part; catalog.content.PartRow has these attributes and may be passed as it is."""
    code: str
    category: str
    raises: Mapping[str, Any]
    adds: bool
    price_vnd: int


@dataclass(frozen=True)
class PartUse:
    part: str
    quantity: int
    price_vnd: int

    @property
    def total_vnd(self) -> int:
        return self.quantity * self.price_vnd


@dataclass(frozen=True)
class Upgrade:
    device_id: int
    unit_code: str
    category: str
    parts: tuple[PartUse, ...]  # by part code
    fixes: tuple[str, ...]  # the failing specs, all of them

    @property
    def cost_vnd(self) -> int:
        return sum(p.total_vnd for p in self.parts)

    @property
    def kit(self) -> str:
        """The parts as one text, the same for every device upgraded alike: 'ram-8gb-desktop x1 + ssd-...'."""
        return " + ".join(f"{p.part} x{p.quantity}" for p in self.parts)


def failing(device: HeldDevice) -> list[Mapping[str, Any]]:
    """The device's below-spec findings of required severity."""
    return [f for f in device.findings
            if f.get("status") == "below_spec" and f.get("severity", "required") == "required"]


def fix(finding: Mapping[str, Any], part: Part) -> int | None:
    """How many of the part fix this finding alone, or None when it cannot."""
    spec, op, wanted, found = finding["spec"], finding["op"], finding["required"], finding.get("found")
    if spec not in part.raises:
        return None
    value = part.raises[spec]
    if not part.adds:
        return 1 if meets(Check(spec, op, wanted), value) else None
    numeric = all(isinstance(v, Real) and not isinstance(v, bool) for v in (value, wanted, found))
    if op != "at_least" or not numeric or value <= 0:
        return None  # adding reaches "at least" a number, from a known number, and nothing else
    return max(math.ceil(Fraction(wanted - found) / Fraction(value)), 1)


def plan_upgrade(device: HeldDevice, parts: Iterable[Part]) -> Upgrade | None:
    """The parts that fix all of a below-spec device's failing specs; None when one of them no part fixes."""
    findings = failing(device)
    if device.status != "below_spec" or not findings:
        return None
    own = sorted((p for p in parts if p.category == device.category), key=lambda p: p.code)
    chosen: dict[str, PartUse] = {}
    for finding in findings:
        options = [(n * p.price_vnd, p.code, n, p) for p in own if (n := fix(finding, p)) is not None]
        if not options:
            return None
        _cost, code, quantity, part = min(options, key=lambda o: (o[0], o[1]))
        if code not in chosen or chosen[code].quantity < quantity:
            chosen[code] = PartUse(code, quantity, part.price_vnd)
    return Upgrade(device.id, device.unit_code, device.category, tuple(chosen[c] for c in sorted(chosen)),
                   tuple(f["spec"] for f in findings))


def choose(device: HeldDevice, parts: Iterable[Part], replacement_price_vnd: int, max_share: Fraction
           ) -> Upgrade | None:
    """The upgrade when it costs less than max_share of a replacement; None: replace the device."""
    upgrade = plan_upgrade(device, parts)
    if upgrade is None or not upgrade.cost_vnd < max_share * replacement_price_vnd:
        return None
    return upgrade
