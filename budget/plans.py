"""Costed plans: lines (unit, category, approved model, quantity, unit price, reason, priority, norm and its
legal basis), refused when a line breaks its norm; selection under yearly caps; blanket scenarios to compare
the targeted plan with. Pure.

A unit's remaining shortfall (after transfers) is a number of positions its norms require and no usable
device fills. Its best held devices fill them first: below spec (an upgrade is the cheapest fix), then past
service life, end of support, broken; each position so filled gets the fix its device needs (an upgrade when
`upgrades.choose` accepts one, else a replacement), and each position left empty a purchase. Held devices
beyond the positions are not replaced: nothing is bought that the norms do not require.

Priorities: 1 staff without a usable computer (desktop or laptop empty or broken), a network that cannot
work (core switch, router or firewall missing, broken or out of support), a programme deadline (scanners for
archive digitisation, video-conference endpoints of wards and communes); 2 below specification (upgrades and
replacements of below-spec devices) and any other category below its norm; 3 ageing (past service life,
end of support of terminals)."""
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from budget.gaps import HELD, Gap, HeldDevice, UnitNeed, gaps, standing
from budget.upgrades import Part, choose
from core.errors import Conflict, InvalidInput
from core.i18n import Reason

COMPUTERS = frozenset({"desktop", "laptop"})
NETWORK_CORE = frozenset({"core_switch", "router", "firewall"})
# Categories whose shortfall is a programme's deadline, and the unit kinds it holds for (None: every kind).
PROGRAMMES: Mapping[str, frozenset[str] | None] = {"scanner": None, "vc_endpoint": frozenset({"ward", "commune"})}
# Which held devices fill a unit's positions first: the cheapest to fix, then the ones that still work best.
FILL_ORDER = ("below_spec", "past_service_life", "end_of_support", "broken")
REASONS = ("no_device", "broken", "end_of_support", "upgrade", "below_spec", "past_service_life")
DEFAULT_MAX_SHARE = Fraction(1, 2)


@dataclass(frozen=True)
class Offer:
    """What a category is bought as: the approved model and its reference price."""
    model: str | None
    price_vnd: int


@dataclass(frozen=True)
class NormLimit:
    """The two numbers of Decision 50/2017's form for one unit and category: the most it may hold (None: no
    maximum) and the most one item may cost. The loader sums a unit's norms' maxima for the category and
    takes the lowest maximum unit price among them (a line does not say whose desk the device is for)."""
    norm: str
    max_quantity: int | None
    max_unit_price_vnd: int | None
    legal_basis: str = ""


@dataclass(frozen=True)
class PlanLine:
    unit_code: str
    category: str
    model: str | None  # the approved model, the upgrade kit's parts, or None (the category)
    quantity: int
    unit_price_vnd: int
    reason: str  # one of REASONS, "blanket" or "standard_kit"; its parameters are device_ids
    priority: int
    norm: str | None = None
    legal_basis: str = ""
    year: int | None = None
    device_ids: tuple[int, ...] = ()  # the devices replaced or upgraded, one per item; empty for new positions

    @property
    def total_vnd(self) -> int:
        return self.quantity * self.unit_price_vnd


class NormBreach(InvalidInput):
    """A line above its norm's maximum quantity for the unit or maximum unit price."""

    def __init__(self, line: PlanLine, limit: NormLimit, number: str, value: int, maximum: int):
        super().__init__(Reason("%(unit)s, %(category)s (%(reason)s): %(number)s %(value)s is above the maximum "
                                "%(maximum)s of norm %(norm)s", unit=line.unit_code, category=line.category,
                                reason=line.reason, number=number, value=f"{value:,}", maximum=f"{maximum:,}",
                                norm=limit.norm), field=number)
        self.line, self.norm, self.number, self.value, self.maximum = line, limit.norm, number, value, maximum


class PricingError(Conflict):
    """A category to buy without an approved model and price."""


def priority(category: str, reason: str, unit_kind: str | None = None) -> int:
    if reason in ("upgrade", "below_spec"):
        return 2
    if reason == "past_service_life":
        return 3
    if reason == "end_of_support":
        return 1 if category in NETWORK_CORE else 3
    kinds = PROGRAMMES.get(category, frozenset())
    programme = category in PROGRAMMES and (kinds is None or unit_kind in kinds)
    return 1 if category in COMPUTERS | NETWORK_CORE or programme else 2  # no_device, broken


def device_reason(device: HeldDevice) -> str:
    return "broken" if device.device_status == "broken" else device.status


def offer_for(category: str, offers: Mapping[str, Offer]) -> Offer:
    if category not in offers:
        raise PricingError(Reason("no approved model and price for %(category)s", category=category), field="category")
    return offers[category]


def targeted_lines(unit_gaps: Iterable[Gap], devices: Iterable[HeldDevice], offers: Mapping[str, Offer],
                   limits: Mapping[tuple[str, str], NormLimit], unit_kinds: Mapping[str, str] | None = None,
                   parts: Sequence[Part] = (), max_share: Fraction = DEFAULT_MAX_SHARE) -> list[PlanLine]:
    """The lines that fill every remaining shortfall (pass the gaps after transfers), checked against the norms."""
    by_id = {d.id: d for d in devices}
    lines = []
    for gap in sorted(unit_gaps, key=lambda g: (g.unit_code, g.category)):
        if gap.shortfall:
            lines += _gap_lines(gap, by_id, offers, limits.get((gap.unit_code, gap.category)),
                                (unit_kinds or {}).get(gap.unit_code), parts, max_share)
    check_norms(lines, limits)
    return lines


def _gap_lines(gap: Gap, by_id: Mapping[int, HeldDevice], offers: Mapping[str, Offer], limit: NormLimit | None,
               kind: str | None, parts: Sequence[Part], max_share: Fraction) -> list[PlanLine]:
    offer = offer_for(gap.category, offers)
    held = [by_id[i] for i in (*gap.replacement_ids, *gap.upgrade_ids)]
    filling = sorted(held, key=lambda d: (FILL_ORDER.index(device_reason(d)), d.id))[:gap.shortfall]
    fixes: dict[tuple[str, str | None, int], list[int]] = {}  # (reason, model or kit, unit price) -> device ids
    for device in filling:
        reason, model, price = device_reason(device), offer.model, offer.price_vnd
        if reason == "below_spec" and (upgrade := choose(device, parts, offer.price_vnd, max_share)):
            reason, model, price = "upgrade", upgrade.kit, upgrade.cost_vnd
        fixes.setdefault((reason, model, price), []).append(device.id)
    rows = [(reason, model, price, len(ids), tuple(ids)) for (reason, model, price), ids in fixes.items()]
    if empty := gap.shortfall - len(filling):
        rows.append(("no_device", offer.model, offer.price_vnd, empty, ()))
    norm, basis = (limit.norm, limit.legal_basis) if limit else (None, "")
    return [PlanLine(gap.unit_code, gap.category, model, quantity, price, reason,
                     priority(gap.category, reason, kind), norm, basis, device_ids=ids)
            for reason, model, price, quantity, ids in sorted(rows, key=lambda r: (REASONS.index(r[0]), r[1] or "",
                                                                                  r[2]))]


def check_norms(lines: Iterable[PlanLine], limits: Mapping[tuple[str, str], NormLimit]) -> None:
    """NormBreach for the first line above its unit price maximum, or whose devices take the unit and
    category past the maximum quantity. Upgrade lines buy parts, not items the norms count."""
    bought: dict[tuple[str, str], int] = {}
    for line in lines:
        limit = limits.get((line.unit_code, line.category))
        if limit is None or line.reason == "upgrade":
            continue
        if limit.max_unit_price_vnd is not None and line.unit_price_vnd > limit.max_unit_price_vnd:
            raise NormBreach(line, limit, "unit_price_vnd", line.unit_price_vnd, limit.max_unit_price_vnd)
        key = (line.unit_code, line.category)
        bought[key] = bought.get(key, 0) + line.quantity
        if limit.max_quantity is not None and bought[key] > limit.max_quantity:
            raise NormBreach(line, limit, "quantity", bought[key], limit.max_quantity)


# ---- selection under caps -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Phasing:
    funded: tuple[PlanLine, ...]  # each with its year
    unfunded: tuple[PlanLine, ...]

    def spent_vnd(self, year: int) -> int:
        return sum(line.total_vnd for line in self.funded if line.year == year)


def devices_covered(line: PlanLine) -> Fraction:
    """A readiness gain: one position filled per item."""
    return Fraction(line.quantity)


def selection_order(line: PlanLine, readiness_gain: Callable[[PlanLine], Fraction]) -> tuple:
    """By priority, then readiness per VND (free lines first), then unit, category, reason, model, devices."""
    per_vnd = (0, Fraction(0)) if line.total_vnd == 0 else (1, -Fraction(readiness_gain(line)) / line.total_vnd)
    return (line.priority, *per_vnd, line.unit_code, line.category, line.reason, line.model or "", line.device_ids)


def select_under_cap(lines: Iterable[PlanLine], caps_vnd: Sequence[int], first_year: int,
                     readiness_gain: Callable[[PlanLine], Fraction] = devices_covered) -> Phasing:
    """Each year, in selection order, takes what fits under its cap; a line that does not fit whole gives as
    many single items as fit (its devices in id order), and the rest moves to the next year, in the same
    order. A year's leftover money may go to a later, cheaper line. What fits in no year is unfunded."""
    queue = sorted(lines, key=lambda line: selection_order(line, readiness_gain))
    funded = []
    for index, cap in enumerate(caps_vnd):
        left, later = cap, []
        for line in queue:
            fits = line.quantity if line.unit_price_vnd == 0 else min(line.quantity, left // line.unit_price_vnd)
            if fits:
                funded.append(_part(line, 0, fits, year=first_year + index))
                left -= fits * line.unit_price_vnd
            if fits < line.quantity:
                later.append(_part(line, fits, line.quantity, year=None))
        queue = later
    return Phasing(tuple(funded), tuple(queue))


def _part(line: PlanLine, start: int, stop: int, year: int | None) -> PlanLine:
    return replace(line, quantity=stop - start, year=year, device_ids=line.device_ids[start:stop])


# ---- scenarios ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Comparison:
    targeted_vnd: int
    blanket_vnd: int

    @property
    def saving_vnd(self) -> int:
        return self.blanket_vnd - self.targeted_vnd


def total_vnd(lines: Iterable[PlanLine]) -> int:
    return sum(line.total_vnd for line in lines)


def compare(targeted: Iterable[PlanLine], blanket: Iterable[PlanLine]) -> Comparison:
    return Comparison(total_vnd(targeted), total_vnd(blanket))


def blanket_plan(devices: Iterable[HeldDevice], older_than_years: int, offers: Mapping[str, Offer],
                 needs: Iterable[UnitNeed] = ()) -> list[PlanLine]:
    """Replace every held device older than N full years, one for one; with the units' needs, also buy what
    the norms require beyond the devices kept (the same coverage as the targeted plan: every unit at its
    requirement in usable devices). Devices of unknown age are kept. No norm is checked: a counterfactual."""
    devices = list(devices)
    held_by_key: dict[tuple[str, str], list[HeldDevice]] = {}
    for device in devices:
        if device.device_status in HELD:
            held_by_key.setdefault((device.unit_code, device.category), []).append(device)
    lines = []
    for gap in gaps(needs, devices):
        held = held_by_key.get((gap.unit_code, gap.category), [])
        old = sorted(d.id for d in held if d.age_years is not None and d.age_years > older_than_years)
        replaced = set(old)
        kept_usable = sum(1 for d in held if d.id not in replaced and standing(d) == "usable")
        quantity = max(len(old), gap.required - kept_usable)
        if quantity and (gap.category in offers or gap.required):  # what the catalog cannot price, no one buys
            offer = offer_for(gap.category, offers)
            lines.append(PlanLine(gap.unit_code, gap.category, offer.model, quantity, offer.price_vnd, "blanket",
                                  3, device_ids=tuple(old)))
    return lines


def standard_kit(units: Iterable[str], kit: Mapping[str, int], offers: Mapping[str, Offer]) -> list[PlanLine]:
    """The same kit bought for every unit, whatever it holds."""
    return [PlanLine(unit, category, offer_for(category, offers).model, quantity, offers[category].price_vnd,
                     "standard_kit", 3)
            for unit in sorted(set(units)) for category, quantity in sorted(kit.items()) if quantity]
