"""The catalog's arithmetic, pure: which category and approved model a device is, whether it meets its
category's requirements and dates, its wear, and how many of each category a unit's norms require.
Plain data in, plain data out; no database, no Flask (catalog/compliance.py loads and stores).

A finding is a plain dict, stored as JSON with the judgement and explained in the reader's language by
catalog/explain.py: {"status": "below_spec", "spec": "ram_gb", "op": "at_least", "required": 8, "found": 4,
"severity": "required"}. A device's status is the worst of its findings of required severity."""
import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import cache, lru_cache
from typing import Any

from inventory.versions import version_key

# Worst first; a device with no finding of required severity is compliant.
STATUS_ORDER = ("end_of_support", "past_service_life", "below_spec", "unapproved_model", "end_of_sale", "unknown",
                "compliant")
OPS = ("at_least", "at_most", "is", "one_of")
# Values compared as versions, not numbers: what "at least 22H2" or "firmware at least 15.2" means.
VERSION_SPECS = frozenset({"firmware_version", "os_version"})
# Read from the device beside its registry specs: the version in its firmware, the generation of its CPU.
DERIVED_SPECS = frozenset({"firmware_version", "cpu_generation"})


@dataclass(frozen=True)
class DeviceFacts:
    """What a judgement reads of a device."""
    id: int
    device_class: str
    vendor: str | None = None
    model: str | None = None
    specs: Mapping[str, Any] = field(default_factory=dict)
    firmware_version: str | None = None
    purchase_date: dt.date | None = None
    purchase_price_vnd: int | None = None


@dataclass(frozen=True)
class Check:
    """A requirement, or a condition that puts a device of an ambiguous class in a category."""
    spec: str
    op: str
    value: Any
    severity: str = "required"


@dataclass(frozen=True)
class CategoryRule:
    code: str
    device_classes: frozenset[str]
    conditions: tuple[Check, ...] = ()
    rank: int = 0
    service_life_years: int | None = None
    wear_rate_percent: Decimal | None = None


@dataclass(frozen=True)
class ModelRule:
    id: int
    category: str
    vendor: str
    pattern: str
    price_vnd: int | None = None
    end_of_sale: dt.date | None = None
    end_of_support: dt.date | None = None


@dataclass(frozen=True)
class Rules:
    """One catalog version, ready to judge devices: categories in rank order, models, requirements by category."""
    version_id: int
    categories: tuple[CategoryRule, ...]
    models: tuple[ModelRule, ...] = ()
    requirements: Mapping[str, tuple[Check, ...]] = field(default_factory=dict)
    # Indexes built once, so that judging 50,000 devices looks each model up by vendor, not through the list.
    by_code: Mapping[str, CategoryRule] = field(init=False, repr=False, compare=False)
    with_models: frozenset[str] = field(init=False, repr=False, compare=False)
    models_by_vendor: Mapping[str, tuple[ModelRule, ...]] = field(init=False, repr=False, compare=False)
    # The model each (vendor, model) seen matched: a city's 50,000 devices are a few hundred models.
    matched: dict[tuple[str, str], "ModelRule | None"] = field(default_factory=dict, init=False, repr=False,
                                                               compare=False)

    def __post_init__(self):
        by_vendor: dict[str, list[ModelRule]] = {}
        for model in self.models:
            by_vendor.setdefault(vendor_key(model.vendor), []).append(model)
        object.__setattr__(self, "by_code", {c.code: c for c in self.categories})
        object.__setattr__(self, "with_models", frozenset(m.category for m in self.models))
        object.__setattr__(self, "models_by_vendor", {v: tuple(models) for v, models in by_vendor.items()})

    def category(self, code: str) -> CategoryRule | None:
        return self.by_code.get(code)


@dataclass(frozen=True)
class Judgement:
    category: str | None
    model_id: int | None
    status: str
    findings: tuple[dict[str, Any], ...]


# ---- matching -------------------------------------------------------------------------------------------------

def vendor_key(vendor: str) -> str:
    """'Cisco', 'ciscoSystems' and 'Cisco Systems, Inc.' all start with 'cisco'."""
    return re.sub(r"[^0-9a-z]", "", vendor.casefold())


def model_text(model: str) -> str:
    return " ".join(model.casefold().split())


@cache
def _glob(pattern: str) -> re.Pattern:
    """A model pattern: `*` any text, `?` one character, the rest as written (case and spacing aside)."""
    text = model_text(pattern)
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text))


def matches(model: ModelRule, vendor: str | None, model_name: str | None) -> bool:
    """Whether a device of this vendor and model is the approved model."""
    if not vendor or not model_name:
        return False
    return (vendor_key(vendor).startswith(vendor_key(model.vendor))
            and _glob(model.pattern).fullmatch(model_text(model_name)) is not None)


def match_model(device: DeviceFacts, rules: Rules) -> ModelRule | None:
    """The approved model the device is; a version's patterns never overlap (overlapping_models), so at most one."""
    if not device.vendor or not device.model:
        return None
    seen = (device.vendor, device.model)
    if seen not in rules.matched:
        rules.matched[seen] = _match_model(device.vendor, device.model, rules)
    return rules.matched[seen]


def _match_model(vendor_name: str, model_name: str, rules: Rules) -> ModelRule | None:
    key = vendor_key(vendor_name)
    return next((model for vendor, models in rules.models_by_vendor.items() if key.startswith(vendor)
                 for model in models if matches(model, vendor_name, model_name)), None)


def globs_overlap(first: str, second: str) -> bool:
    """Whether some model name matches both patterns (`*` and `?` as in `matches`)."""
    a, b = model_text(first), model_text(second)

    @cache
    def meet(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] == "*" and (meet(i + 1, j) or (j < len(b) and meet(i, j + 1))):
            return True
        if j < len(b) and b[j] == "*" and (meet(i, j + 1) or (i < len(a) and meet(i + 1, j))):
            return True
        if i < len(a) and j < len(b) and "*" not in (a[i], b[j]):
            return (a[i] == b[j] or "?" in (a[i], b[j])) and meet(i + 1, j + 1)
        return False

    return meet(0, 0)


def overlapping_models(models: Sequence[ModelRule]) -> list[tuple[ModelRule, ModelRule]]:
    """Pairs of models some device would match both of: a vendor that starts with the other's, and patterns
    that overlap."""
    pairs = []
    for i, first in enumerate(models):
        for second in models[i + 1:]:
            one, other = vendor_key(first.vendor), vendor_key(second.vendor)
            if (one.startswith(other) or other.startswith(one)) and globs_overlap(first.pattern, second.pattern):
                pairs.append((first, second))
    return pairs


def categorise(device: DeviceFacts, rules: Rules) -> CategoryRule | None:
    """The first category (by rank) that takes the device's class and whose conditions the device meets; an
    unknown value meets no condition (a switch whose ports are not known is not a core switch)."""
    for category in rules.categories:
        if device.device_class in category.device_classes and all(
                check(condition, device) == "met" for condition in category.conditions):
            return category
    return None


# ---- requirements ---------------------------------------------------------------------------------------------

INTEL_GENERATION = re.compile(r"\bIntel Core i[3579]-(\d{3,5})[A-Z]*\d?$")
AMD_GENERATION = re.compile(r"AMD Ryzen [3579] (?:PRO )?(\d)\d{3}[A-Z0-9]*$")


@lru_cache(maxsize=4096)  # a city buys a few dozen CPU models: each read once
def cpu_generation(cpu_model: str) -> int | None:
    """Intel Core i5-8500 is 8, i7-12700 and i5-1235U are 12, i7-1165G7 is 11, i5-750 is 1; AMD Ryzen 5 3600
    is 3 (the registry's forms). Intel numbers four digits from the 2nd generation to the 9th, and five (or four
    starting with 1, in laptops) from the 10th."""
    if found := INTEL_GENERATION.search(cpu_model):  # Windows says "11th Gen Intel Core i7-1165G7"
        number = found[1]
        if len(number) == 3:
            return 1
        return int(number[:2]) if len(number) == 5 or number.startswith("1") else int(number[0])
    if found := AMD_GENERATION.match(cpu_model):
        return int(found[1])
    return None


def spec_value(device: DeviceFacts, spec: str) -> Any:
    if spec == "firmware_version":
        return device.firmware_version
    if spec == "cpu_generation":
        model = device.specs.get("cpu_model")
        return cpu_generation(model) if isinstance(model, str) else None
    return device.specs.get(spec)


def check(requirement: Check, device: DeviceFacts) -> str:
    """"met", "unmet", or "unknown" when the device's value is not known."""
    found = spec_value(device, requirement.spec)
    if found is None:
        return "unknown"
    return "met" if meets(requirement, found) else "unmet"


@lru_cache(maxsize=4096)  # a city's devices run a few dozen firmware and OS versions: each read once, not 50,000 times
def _version_key(text: str) -> tuple:
    return version_key(text)


def meets(requirement: Check, found: Any) -> bool:
    op, wanted = requirement.op, requirement.value
    if requirement.spec in VERSION_SPECS and op in ("at_least", "at_most"):
        found, wanted = _version_key(str(found)), _version_key(str(wanted))
    elif isinstance(found, str):
        found = found.casefold()
        wanted = [w.casefold() for w in wanted] if op == "one_of" else str(wanted).casefold()
    if op == "at_least":
        return found >= wanted
    if op == "at_most":
        return found <= wanted
    if op == "is":
        return found == wanted
    if op == "one_of":
        return found in wanted
    raise ValueError(f"unknown operator {op!r}")


# ---- dates and wear -------------------------------------------------------------------------------------------

def add_years(day: dt.date, years: int) -> dt.date:
    """The same day `years` later; 29 February becomes 28 February in a year without it."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def full_years(start: dt.date, end: dt.date) -> int:
    years = end.year - start.year - ((end.month, end.day) < (start.month, start.day))
    return max(years, 0)


@dataclass(frozen=True)
class Wear:
    """Public-asset wear: the original price loses its yearly rate for each full year of use, down to nothing."""
    original_vnd: int
    rate_percent: Decimal
    years_used: int
    accumulated_vnd: int
    remaining_vnd: int


def wear(original_vnd: int, purchase_date: dt.date, rate_percent: Decimal, on: dt.date) -> Wear:
    years = full_years(purchase_date, on)
    yearly = Decimal(original_vnd) * Decimal(rate_percent) / 100
    accumulated = min(original_vnd, int((yearly * years).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    return Wear(original_vnd, Decimal(rate_percent), years, accumulated, original_vnd - accumulated)


def service_life_ends(purchase_date: dt.date | None, category: CategoryRule) -> dt.date | None:
    if purchase_date is None or not category.service_life_years:
        return None
    return add_years(purchase_date, category.service_life_years)


# ---- the judgement --------------------------------------------------------------------------------------------

def judge(device: DeviceFacts, rules: Rules, on: dt.date) -> Judgement:
    """The device's category, approved model, status and every finding behind it, on day `on`."""
    model = match_model(device, rules)
    category = rules.category(model.category) if model else categorise(device, rules)
    if category is None:
        finding = {"status": "unknown", "missing": "category", "device_class": device.device_class}
        return Judgement(None, None, "unknown", (finding,))
    findings = [*_model_findings(device, model, category, rules, on), *_life_findings(device, category, on),
                *_requirement_findings(device, rules.requirements.get(category.code, ()))]
    return Judgement(category.code, model.id if model else None, status_of(findings), tuple(findings))


def status_of(findings: Iterable[Mapping[str, Any]]) -> str:
    statuses = [f["status"] for f in findings if f.get("severity", "required") == "required"]
    return min(statuses, key=STATUS_ORDER.index, default="compliant")


def _model_findings(device: DeviceFacts, model: ModelRule | None, category: CategoryRule, rules: Rules,
                    on: dt.date) -> list[dict[str, Any]]:
    if model is None:
        if category.code not in rules.with_models:
            return []  # the catalog approves no particular model of this category: any will do
        if not device.vendor or not device.model:
            return [{"status": "unknown", "missing": "model" if device.vendor else "vendor"}]
        return [{"status": "unapproved_model", "vendor": device.vendor, "model": device.model}]
    findings = []
    if model.end_of_support and on >= model.end_of_support:
        findings.append({"status": "end_of_support", "on": model.end_of_support.isoformat()})
    if model.end_of_sale and on >= model.end_of_sale and not findings:  # out of support says more
        findings.append({"status": "end_of_sale", "on": model.end_of_sale.isoformat()})
    return findings


def _life_findings(device: DeviceFacts, category: CategoryRule, on: dt.date) -> list[dict[str, Any]]:
    ends = service_life_ends(device.purchase_date, category)
    if ends is None or on < ends:
        return []
    return [{"status": "past_service_life", "on": ends.isoformat(), "years": category.service_life_years}]


def _requirement_findings(device: DeviceFacts, requirements: Iterable[Check]) -> list[dict[str, Any]]:
    findings = []
    for requirement in requirements:
        result = check(requirement, device)
        if result == "unknown":
            findings.append({"status": "unknown", "missing": requirement.spec, "severity": requirement.severity})
        elif result == "unmet":
            findings.append({"status": "below_spec", "spec": requirement.spec, "op": requirement.op,
                             "required": requirement.value, "found": spec_value(device, requirement.spec),
                             "severity": requirement.severity})
    return findings


# ---- norms ----------------------------------------------------------------------------------------------------

# What a norm may count: a unit's facts, the unit itself (a fixed quantity), and two figures computed from them.
FACTS = ("staff_count", "leader_count", "specialist_count", "other_staff", "meeting_rooms", "sites",
         "archive_pages", "on_secure_network")
BASES = (*FACTS, "unit", "wired_ports", "archive_pages_per_day")
WORKING_DAYS_WITHOUT_DEADLINE = 250  # archive pages with no deadline: a year of working days to digitise them


@dataclass(frozen=True)
class UnitFacts:
    kind: str
    staff_count: int = 0
    leader_count: int = 0
    specialist_count: int = 0
    meeting_rooms: int = 0
    sites: int = 1
    archive_pages: int = 0
    archive_deadline: dt.date | None = None
    on_secure_network: bool = False

    def basis(self, name: str, on: dt.date) -> Fraction:
        if name == "unit":
            return Fraction(1)
        if name == "other_staff":
            return Fraction(max(self.staff_count - self.leader_count - self.specialist_count, 0))
        if name == "archive_pages_per_day":
            return Fraction(self.archive_pages, working_days(on, self.archive_deadline))
        return Fraction(int(getattr(self, name)))


def working_days(on: dt.date, deadline: dt.date | None) -> int:
    """Weekdays from `on` up to the deadline, at least 1 (a deadline passed leaves the work for now)."""
    if deadline is None:
        return WORKING_DAYS_WITHOUT_DEADLINE
    days = (deadline - on).days
    weeks, rest = divmod(max(days, 0), 7)
    extra = sum(1 for d in range(rest) if (on.weekday() + d) % 7 < 5)
    return max(weeks * 5 + extra, 1)


@dataclass(frozen=True)
class NormRule:
    code: str
    category: str
    basis: str
    unit_kinds: frozenset[str] = frozenset()  # empty: every kind
    every: int = 1
    each: int = 1
    spare_percent: int = 0
    minimum: int = 0
    max_quantity: int | None = None
    max_unit_price_vnd: int | None = None

    def applies_to(self, kind: str) -> bool:
        return not self.unit_kinds or kind in self.unit_kinds


@dataclass(frozen=True)
class NormQuantity:
    """What one norm requires of one unit, the most the law allows it, and what it would require uncapped."""
    norm: str
    category: str
    basis_value: Fraction
    computed: int
    maximum: int | None
    required: int

    @property
    def capped(self) -> bool:
        return self.computed > self.required


def norm_quantity(norm: NormRule, basis_value: Fraction) -> NormQuantity:
    """required = ceil(basis × (100 + spare) / 100 / every) × each, at least the minimum, at most the maximum.

    The maximum is Decision 50/2017's form: `max_quantity` for each person, room or unit counted (each group
    of `every`), so a unit's maximum is that times its groups; spare capacity never takes it past the law."""
    groups = math.ceil(basis_value / norm.every)
    computed = max(math.ceil(basis_value * (100 + norm.spare_percent) / 100 / norm.every) * norm.each,
                   norm.minimum)
    maximum = None if norm.max_quantity is None else groups * norm.max_quantity
    required = computed if maximum is None else min(computed, maximum)
    return NormQuantity(norm.code, norm.category, basis_value, computed, maximum, required)


def required_quantities(norms: Sequence[NormRule], facts: UnitFacts, wired: Iterable[str],
                        on: dt.date) -> list[NormQuantity]:
    """Every norm that applies to the unit's kind, with its quantity; norms on wired ports count, after the
    others, the ports that the categories taking a wired port require."""
    applicable = [n for n in norms if n.applies_to(facts.kind)]
    first = [norm_quantity(n, facts.basis(n.basis, on)) for n in applicable if n.basis != "wired_ports"]
    wired = set(wired)
    ports = Fraction(sum(q.required for q in first if q.category in wired))
    return first + [norm_quantity(n, ports) for n in applicable if n.basis == "wired_ports"]


def totals_by_category(quantities: Iterable[NormQuantity]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for quantity in quantities:
        totals[quantity.category] = totals.get(quantity.category, 0) + quantity.required
    return totals
