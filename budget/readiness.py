"""Readiness: how much of what the norms require a unit holds in usable devices, 0-100, weighted by what a gap
there would cost the unit's work; and the three figures the city reports. Pure.

score = 100 × Σ weight × min(usable, required) / Σ weight × required, over the unit's categories, where the
weight is 3 for a category whose shortfall is priority 1 for the unit (computers, core network, a programme's
deadline: budget.plans.priority) and 1 for any other. A subtree's score sums its units' weighted numbers (it
is not an average of scores, so a big ward counts for more than a small one), and surplus in one unit never
covers another's shortfall. A unit the norms require nothing of has no score (None)."""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from budget.gaps import Gap, HeldDevice, standing
from budget.plans import COMPUTERS, priority

PRIORITY_WEIGHT = {1: 3, 2: 1, 3: 1}
WARD_KINDS = frozenset({"ward", "commune"})


@dataclass(frozen=True)
class Readiness:
    unit_code: str
    required: int  # Σ weight × required
    covered: int  # Σ weight × min(usable, required)

    @property
    def score(self) -> float | None:
        """0-100 with one decimal, or None when nothing is required."""
        if not self.required:
            return None
        return round(float(Fraction(100 * self.covered, self.required)), 1)


def weight(category: str, unit_kind: str | None) -> int:
    return PRIORITY_WEIGHT[priority(category, "no_device", unit_kind)]


def unit_readiness(unit_gaps: Iterable[Gap], unit_kinds: Mapping[str, str]) -> dict[str, Readiness]:
    """Per unit, from its own gaps (not roll-ups); every unit of `unit_kinds` gets one, gaps or not."""
    sums = {code: [0, 0] for code in unit_kinds}
    for gap in unit_gaps:
        w = weight(gap.category, unit_kinds.get(gap.unit_code))
        pair = sums.setdefault(gap.unit_code, [0, 0])
        pair[0] += w * gap.required
        pair[1] += w * min(gap.usable, gap.required)
    return {code: Readiness(code, required, covered) for code, (required, covered) in sorted(sums.items())}


def subtree_readiness(root: str, members: Iterable[str], scores: Mapping[str, Readiness]) -> Readiness:
    found = [scores[m] for m in set(members) if m in scores]
    return Readiness(root, sum(r.required for r in found), sum(r.covered for r in found))


# ---- the city's headline figures ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    """`count` of `out_of`: staff, or units."""
    key: str
    count: int
    out_of: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.count / self.out_of, 1) if self.out_of else None


@dataclass(frozen=True)
class UnitSummary:
    """What the headline figures need to know of a unit besides its gaps and devices."""
    code: str
    kind: str
    staff: int


@dataclass(frozen=True)
class FigureParts:
    """A unit's part of the headline figures: any set of units' figures are the sums of their parts."""
    unit_code: str
    staff: int = 0
    secure_staff: int = 0  # staff with a usable computer on the secure network (at most `staff`)
    ward: int = 0  # 1 for a ward or commune
    ward_vc: int = 0  # 1 for a ward or commune holding a usable video-conference endpoint
    needs_scanners: int = 0  # 1 when its norms require scanners (archive digitisation)
    scanners_ok: int = 0  # 1 when they do and it has no scanner shortfall


def figure_parts(units: Iterable[UnitSummary], unit_gaps: Iterable[Gap], devices: Iterable[HeldDevice],
                 networks: Mapping[int, str | None]) -> dict[str, FigureParts]:
    """Per unit, its part of the headline figures (`networks` maps device id to the network a scan last saw it
    on)."""
    on_secure: dict[str, int] = {}
    for device in devices:
        if device.category in COMPUTERS and standing(device) == "usable" and networks.get(device.id) == "secure":
            on_secure[device.unit_code] = on_secure.get(device.unit_code, 0) + 1
    with_vc = {g.unit_code for g in unit_gaps if g.category == "vc_endpoint" and g.usable}
    scanners = {g.unit_code: not g.shortfall for g in unit_gaps if g.category == "scanner" and g.required}
    found = {}
    for unit in units:
        ward = unit.kind in WARD_KINDS
        found[unit.code] = FigureParts(
            unit.code, unit.staff, min(on_secure.get(unit.code, 0), unit.staff), int(ward),
            int(ward and unit.code in with_vc), int(unit.code in scanners), int(scanners.get(unit.code, False)))
    return found


def figures_of(parts: Iterable[FigureParts]) -> tuple[Figure, Figure, Figure]:
    """- secure_network_staff: staff with a usable computer on the dedicated secure network (each unit counts at
      most its staff);
    - wards_with_vc: wards and communes holding at least one usable video-conference endpoint;
    - archive_scanners: units whose norms require scanners (archive digitisation) with no scanner shortfall."""
    parts = list(parts)
    return (Figure("secure_network_staff", sum(p.secure_staff for p in parts), sum(p.staff for p in parts)),
            Figure("wards_with_vc", sum(p.ward_vc for p in parts), sum(p.ward for p in parts)),
            Figure("archive_scanners", sum(p.scanners_ok for p in parts), sum(p.needs_scanners for p in parts)))


def headline_figures(units: Iterable[UnitSummary], unit_gaps: Iterable[Gap], devices: Iterable[HeldDevice],
                     networks: Mapping[int, str | None]) -> tuple[Figure, Figure, Figure]:
    """The city's three figures over `units` (figures_of their parts)."""
    return figures_of(figure_parts(units, unit_gaps, devices, networks).values())
