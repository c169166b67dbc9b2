"""catalog/rules.py: the catalog's pure arithmetic. Plain data in, exact values out; no database, no Flask.

Property tests are derandomised (the same examples every run), as in tests/inventory/test_properties.py."""
import datetime as dt
import itertools
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import rules
from catalog.rules import (
    STATUS_ORDER,
    CategoryRule,
    Check,
    DeviceFacts,
    Judgement,
    ModelRule,
    NormQuantity,
    NormRule,
    Rules,
    UnitFacts,
    Wear,
    add_years,
    categorise,
    check,
    cpu_generation,
    globs_overlap,
    judge,
    match_model,
    matches,
    meets,
    norm_quantity,
    overlapping_models,
    required_quantities,
    totals_by_category,
    wear,
    working_days,
)
from inventory.specs import SPECS

PROPERTIES = settings(derandomize=True, max_examples=200, deadline=None)

# ---- a small catalog version ------------------------------------------------------------------------------------

CORE = CategoryRule("core_switch", frozenset({"switch"}), (Check("port_count", "at_least", 48),), rank=1)
ACCESS = CategoryRule("access_switch", frozenset({"switch"}), rank=2)
DESKTOP = CategoryRule("desktop", frozenset({"workstation"}), rank=3, service_life_years=5,
                       wear_rate_percent=Decimal("20"))
PRINTER = CategoryRule("printer", frozenset({"printer"}), rank=4)
C2960 = ModelRule(1, "access_switch", "Cisco", "WS-C2960*", end_of_sale=dt.date(2022, 10, 31),
                  end_of_support=dt.date(2027, 10, 31))
OPTIPLEX = ModelRule(2, "desktop", "Dell", "OptiPlex 70?0", price_vnd=18_500_000)
DESKTOP_NEEDS = (Check("ram_gb", "at_least", 8), Check("os_version", "at_least", "21H2"),
                 Check("cpu_generation", "at_least", 8), Check("ssd_gb", "at_least", 256, "recommended"))
RULES = Rules(1, (CORE, ACCESS, DESKTOP, PRINTER), (C2960, OPTIPLEX), {"desktop": DESKTOP_NEEDS})
ON = dt.date(2026, 3, 2)


def desktop(**changes) -> DeviceFacts:
    """A Dell OptiPlex 7010 that meets every desktop requirement; `changes` replace fields or specs."""
    specs = {"ram_gb": 16, "os_version": "22H2", "cpu_model": "Intel Core i7-12700", "ssd_gb": 512}
    specs.update(changes.pop("specs", {}))
    fields = {"vendor": "Dell Inc.", "model": "OptiPlex 7010", "purchase_date": dt.date(2023, 1, 10)} | changes
    return DeviceFacts(1, "workstation", specs=specs, **fields)


def switch(**changes) -> DeviceFacts:
    fields = {"vendor": "Cisco Systems, Inc.", "model": "WS-C2960X-24PS-L", "specs": {"port_count": 24}} | changes
    return DeviceFacts(2, "switch", **fields)


# ---- matching -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("vendor", ["Cisco", "Cisco Systems, Inc.", "ciscoSystems", "CISCO"])
def test_vendor_prefix_matches(vendor):
    assert matches(C2960, vendor, "WS-C2960X-24PS-L")


@pytest.mark.parametrize("model", ["ws-c2960x-24ps-l", "WS-C2960X-24PS-L", "  WS-C2960X-24PS-L ", "WS-C2960"])
def test_pattern_ignores_case_and_surrounding_space(model):
    assert matches(C2960, "Cisco", model)


def test_pattern_refuses_another_vendor_or_model():
    assert not matches(C2960, "HP", "WS-C2960X-24PS-L")
    assert not matches(C2960, "Cisco", "WS-C3750X-24")
    assert not matches(C2960, None, "WS-C2960X-24PS-L")
    assert not matches(C2960, "Cisco", None)


def test_question_mark_is_one_character():
    assert matches(OPTIPLEX, "Dell", "OptiPlex 7010")
    assert matches(OPTIPLEX, "Dell", "optiplex   7090")  # runs of spaces count as one
    assert not matches(OPTIPLEX, "Dell", "OptiPlex 700")
    assert not matches(OPTIPLEX, "Dell", "OptiPlex 70100")


def test_match_model():
    assert match_model(switch(), RULES) == C2960
    assert match_model(switch(vendor="ciscoSystems", model="ws-c2960x-24ps-l"), RULES) == C2960
    assert match_model(desktop(), RULES) == OPTIPLEX
    assert match_model(desktop(model="OptiPlex 3080"), RULES) is None
    assert match_model(switch(vendor=None), RULES) is None
    assert match_model(switch(model=None), RULES) is None
    assert match_model(switch(vendor=""), RULES) is None


def test_categorise_by_rank():
    core_first = Rules(1, (CORE, ACCESS))
    assert categorise(switch(specs={"port_count": 48}), core_first) == CORE
    assert categorise(switch(specs={"port_count": 24}), core_first) == ACCESS
    assert categorise(switch(specs={}), core_first) == ACCESS  # ports unknown: not a core switch
    access_first = Rules(1, (ACCESS, CORE))
    assert categorise(switch(specs={"port_count": 48}), access_first) == ACCESS
    assert categorise(DeviceFacts(3, "other"), core_first) is None


# ---- pattern overlap --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("first", "second", "overlap"), [
    ("WS-C2960*", "WS-C2960X-*", True),
    ("WS-C2960*", "WS-C3750*", False),
    ("OptiPlex 70?0", "OptiPlex 7*", True),
    ("OptiPlex 7000", "optiplex  7000", True),
    ("a?c", "ab", False),
    ("*", "", True),
    ("*X", "Y*", True),  # "YX"
    ("X*", "Y*", False),
    ("a*b", "*c*", True),  # "acb"
    ("a*b", "*c", False),
])
def test_globs_overlap(first, second, overlap):
    assert globs_overlap(first, second) is overlap
    assert globs_overlap(second, first) is overlap


def both_match(first: str, second: str, text: str) -> bool:
    return rules._glob(first).fullmatch(text) is not None and rules._glob(second).fullmatch(text) is not None


def strings(length: int) -> list[str]:
    return ["".join(chars) for chars in itertools.product("ab", repeat=length)]


PATTERNS = st.text(alphabet="ab*?", max_size=4)


@PROPERTIES
@given(PATTERNS, PATTERNS, st.text(alphabet="ab", max_size=8))
def test_a_common_match_means_overlap(first, second, text):
    if both_match(first, second, text):
        assert globs_overlap(first, second)


@PROPERTIES
@given(st.text(alphabet="ab?", max_size=5), st.text(alphabet="ab?", max_size=5))
def test_overlap_without_stars_is_a_witness_of_the_same_length(first, second):
    witness = len(first) == len(second) and any(both_match(first, second, s) for s in strings(len(first)))
    assert globs_overlap(first, second) is witness


@PROPERTIES
@given(PATTERNS, PATTERNS)
def test_overlap_is_exactly_a_witness(first, second):
    # Bound: in a shortest common match, every character is taken by a literal or "?" of one pattern (one
    # that both stars take can be dropped, and both still match), so its length <= len(first) + len(second).
    # A character outside {a, b} is taken by "?" or "*" in both, so "a" would do as well: {a, b} suffices.
    witness = any(both_match(first, second, s)
                  for length in range(len(first) + len(second) + 1) for s in strings(length))
    assert globs_overlap(first, second) is witness


def test_overlapping_models_pairs_prefix_vendors():
    cisco = ModelRule(1, "access_switch", "Cisco", "WS-C2960*")
    cisco_systems = ModelRule(2, "access_switch", "ciscoSystems", "WS-C2960X*")
    other_family = ModelRule(3, "access_switch", "Cisco", "WS-C3750*")
    other_vendor = ModelRule(4, "access_switch", "HP", "WS-C2960*")
    assert overlapping_models([cisco, cisco_systems, other_family, other_vendor]) == [(cisco, cisco_systems)]
    assert overlapping_models([other_family, other_vendor]) == []


# ---- requirements -------------------------------------------------------------------------------------------

def test_numbers():
    assert meets(Check("ram_gb", "at_least", 8), 8)
    assert not meets(Check("ram_gb", "at_least", 8), 4)
    assert meets(Check("weight_kg", "at_most", 2.5), 1.9)
    assert not meets(Check("weight_kg", "at_most", 2.5), 2.6)


def test_is_and_one_of():
    assert meets(Check("tpm", "is", True), True)
    assert not meets(Check("tpm", "is", True), False)
    assert meets(Check("disk_type", "is", "SSD"), "ssd")
    assert meets(Check("form_factor", "is", "Mini Tower"), "MINI TOWER")
    assert not meets(Check("disk_type", "is", "SSD"), "HDD")
    assert meets(Check("disk_type", "one_of", ["SSD", "NVMe"]), "nvme")
    assert not meets(Check("disk_type", "one_of", ["SSD", "NVMe"]), "HDD")
    assert meets(Check("cores", "one_of", [4, 6, 8]), 6)


def test_versions():
    assert meets(Check("os_version", "at_least", "21H2"), "22H2")
    assert not meets(Check("os_version", "at_least", "22H2"), "21H2")
    assert meets(Check("firmware_version", "at_least", "15.0(2)SE11"), "15.2(7)E4")
    assert not meets(Check("firmware_version", "at_least", "15.2(7)E4"), "15.0(2)SE11")
    assert meets(Check("firmware_version", "at_most", "15.2(7)E4"), "15.0(2)SE11")


def test_firmware_is_read_from_the_device():
    requirement = Check("firmware_version", "at_least", "15.0(2)SE11")
    assert check(requirement, switch(firmware_version="15.2(7)E4")) == "met"
    assert check(requirement, switch(firmware_version="12.2(55)SE3")) == "unmet"
    assert check(requirement, switch()) == "unknown"


@pytest.mark.parametrize(("cpu_model", "generation"), [
    ("Intel Core i7-12700", 12), ("Intel Core i5-8500", 8), ("Intel Core i5-1235U", 12),
    ("Intel Core i7-1165G7", 11), ("Intel Core i3-10100", 10), ("Intel Core i5-750", 1),
    ("AMD Ryzen 5 3600", 3), ("AMD Ryzen 7 PRO 4750G", 4),
    ("Intel Pentium G4560", None), ("i7-12700", None), ("", None),
])
def test_cpu_generation(cpu_model, generation):
    assert cpu_generation(cpu_model) == generation


def test_cpu_generation_of_a_windows_cpu_name():
    # Windows names 11th-generation and later Intel CPUs "11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz": the
    # registry now stores "Intel Core i7-1165G7", and a value stored before with the prefix still reads.
    assert SPECS["cpu_model"].parse("11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz") == "Intel Core i7-1165G7"
    assert cpu_generation("11th Gen Intel Core i7-1165G7") == 11


def test_cpu_generation_is_derived_from_cpu_model():
    requirement = Check("cpu_generation", "at_least", 8)
    assert check(requirement, desktop(specs={"cpu_model": "Intel Core i5-8500"})) == "met"
    assert check(requirement, desktop(specs={"cpu_model": "Intel Core i5-6500"})) == "unmet"
    assert check(requirement, desktop(specs={"cpu_model": "Intel Pentium G4560"})) == "unknown"
    assert check(requirement, desktop(specs={"cpu_model": None})) == "unknown"


def test_missing_value_is_unknown():
    assert check(Check("ram_gb", "at_least", 8), desktop(specs={"ram_gb": None})) == "unknown"
    assert check(Check("port_count", "at_least", 48), switch(specs={})) == "unknown"


# ---- the judgement, one status at a time --------------------------------------------------------------------

def test_compliant():
    assert judge(desktop(), RULES, ON) == Judgement("desktop", 2, "compliant", ())


def test_below_spec():
    judgement = judge(desktop(specs={"ram_gb": 4}), RULES, ON)
    assert judgement == Judgement("desktop", 2, "below_spec", ({
        "status": "below_spec", "spec": "ram_gb", "op": "at_least", "required": 8, "found": 4,
        "severity": "required"},))


def test_below_spec_on_a_derived_value():
    judgement = judge(desktop(specs={"cpu_model": "Intel Core i5-6500"}), RULES, ON)
    assert judgement.findings == ({"status": "below_spec", "spec": "cpu_generation", "op": "at_least",
                                   "required": 8, "found": 6, "severity": "required"},)


def test_recommended_failure_is_listed_but_compliant():
    judgement = judge(desktop(specs={"ssd_gb": 128}), RULES, ON)
    assert judgement == Judgement("desktop", 2, "compliant", ({
        "status": "below_spec", "spec": "ssd_gb", "op": "at_least", "required": 256, "found": 128,
        "severity": "recommended"},))


def test_end_of_sale_and_support_count_from_the_day_itself():
    assert judge(switch(), RULES, dt.date(2022, 10, 30)) == Judgement("access_switch", 1, "compliant", ())
    assert judge(switch(), RULES, dt.date(2022, 10, 31)) == Judgement(
        "access_switch", 1, "end_of_sale", ({"status": "end_of_sale", "on": "2022-10-31"},))
    assert judge(switch(), RULES, dt.date(2027, 10, 30)).status == "end_of_sale"
    # Out of support says more than no longer sold: the end of sale is not repeated beside it.
    assert judge(switch(), RULES, dt.date(2027, 10, 31)) == Judgement("access_switch", 1, "end_of_support", (
        {"status": "end_of_support", "on": "2027-10-31"},))


def test_a_matched_model_decides_the_category():
    # 48 ports would make it a core switch, but the approved model is an access switch.
    assert judge(switch(specs={"port_count": 48}), RULES, ON).category == "access_switch"


def test_past_service_life():
    device = desktop(purchase_date=dt.date(2019, 3, 1))
    assert judge(device, RULES, dt.date(2024, 2, 29)) == Judgement("desktop", 2, "compliant", ())
    assert judge(device, RULES, dt.date(2024, 3, 1)) == Judgement("desktop", 2, "past_service_life", (
        {"status": "past_service_life", "on": "2024-03-01", "years": 5},))
    assert judge(desktop(purchase_date=None), RULES, dt.date(2040, 1, 1)).status == "compliant"


def test_unapproved_model():
    assert judge(desktop(model="OptiPlex 3080"), RULES, ON) == Judgement("desktop", None, "unapproved_model", (
        {"status": "unapproved_model", "vendor": "Dell Inc.", "model": "OptiPlex 3080"},))


def test_any_model_will_do_where_the_category_approves_none():
    printer = DeviceFacts(3, "printer", "HP", "LaserJet Pro M404dn")
    assert judge(printer, RULES, ON) == Judgement("printer", None, "compliant", ())
    assert judge(DeviceFacts(3, "printer"), RULES, ON) == Judgement("printer", None, "compliant", ())


def test_unknown_vendor_model_and_spec():
    assert judge(desktop(vendor=None), RULES, ON) == Judgement(
        "desktop", None, "unknown", ({"status": "unknown", "missing": "vendor"},))
    assert judge(desktop(model=None), RULES, ON) == Judgement(
        "desktop", None, "unknown", ({"status": "unknown", "missing": "model"},))
    assert judge(desktop(specs={"ram_gb": None}), RULES, ON) == Judgement(
        "desktop", 2, "unknown", ({"status": "unknown", "missing": "ram_gb", "severity": "required"},))


def test_unknown_category():
    assert judge(DeviceFacts(4, "other", "Acme", "Box"), RULES, ON) == Judgement(
        None, None, "unknown", ({"status": "unknown", "missing": "category", "device_class": "other"},))


def test_status_is_the_worst_finding():
    device = desktop(model="OptiPlex 3080", purchase_date=dt.date(2019, 3, 1),
                     specs={"ram_gb": 4, "os_version": None})
    judgement = judge(device, RULES, ON)
    assert [f["status"] for f in judgement.findings] == ["unapproved_model", "past_service_life", "below_spec",
                                                         "unknown"]
    assert judgement.status == "past_service_life"
    assert STATUS_ORDER.index("past_service_life") < STATUS_ORDER.index("below_spec")


def test_the_same_device_under_two_catalog_versions():
    raised = Rules(2, RULES.categories, RULES.models,
                   {"desktop": (Check("ram_gb", "at_least", 32), *DESKTOP_NEEDS[1:])})
    device = desktop()
    assert judge(device, RULES, ON).status == "compliant"
    assert judge(device, raised, ON) == Judgement("desktop", 2, "below_spec", ({
        "status": "below_spec", "spec": "ram_gb", "op": "at_least", "required": 32, "found": 16,
        "severity": "required"},))


# ---- judgement properties -----------------------------------------------------------------------------------

@st.composite
def met_requirements(draw) -> tuple[tuple[Check, ...], dict]:
    """Requirements on distinct specs, and specs that meet each of them."""
    checks, specs = [], {}
    for spec in draw(st.lists(st.sampled_from(["ram_gb", "ssd_gb", "cores", "disk_type", "tpm"]), unique=True)):
        op = draw(st.sampled_from(rules.OPS))
        if op == "one_of":
            wanted = draw(st.lists(st.sampled_from(["SSD", "HDD", "NVMe"]), min_size=1, unique=True))
            found = draw(st.sampled_from(wanted)).swapcase()
        elif op == "is":
            wanted = draw(st.sampled_from([True, False, "SSD", "Mini Tower"]))
            found = wanted.upper() if isinstance(wanted, str) else wanted
        else:
            wanted = draw(st.integers(0, 64))
            margin = draw(st.integers(0, 64))
            found = wanted + margin if op == "at_least" else wanted - margin
        checks.append(Check(spec, op, wanted, draw(st.sampled_from(["required", "recommended"]))))
        specs[spec] = found
    return tuple(checks), specs


@PROPERTIES
@given(met_requirements())
def test_a_device_meeting_every_requirement_is_compliant(requirements_and_specs):
    requirements, specs = requirements_and_specs
    catalog = Rules(1, (DESKTOP,), requirements={"desktop": requirements})
    judgement = judge(DeviceFacts(1, "workstation", "Lenovo", "ThinkCentre", specs), catalog, ON)
    assert judgement == Judgement("desktop", None, "compliant", ())


@PROPERTIES
@given(ram_gb=st.one_of(st.none(), st.integers(0, 64)), required=st.integers(0, 64), raise_by=st.integers(0, 64),
       model=st.sampled_from([None, "OptiPlex 7010", "OptiPlex 3080"]),
       os_version=st.sampled_from([None, "20H2", "21H2", "22H2"]),
       purchase_year=st.sampled_from([None, 2018, 2024]))
def test_raising_a_minimum_never_improves_a_status(ram_gb, required, raise_by, model, os_version, purchase_year):
    device = desktop(model=model, purchase_date=purchase_year and dt.date(purchase_year, 1, 1),
                     specs={"ram_gb": ram_gb, "os_version": os_version})

    def status(minimum: int) -> str:
        catalog = Rules(1, RULES.categories, RULES.models,
                        {"desktop": (Check("ram_gb", "at_least", minimum), *DESKTOP_NEEDS[1:])})
        return judge(device, catalog, ON).status

    before, after = status(required), status(required + raise_by)
    assert STATUS_ORDER.index(after) <= STATUS_ORDER.index(before)
    if before == "below_spec":
        assert after == "below_spec"


# ---- norm properties ----------------------------------------------------------------------------------------

NORMS = st.builds(NormRule, code=st.just("n"), category=st.just("desktop"), basis=st.just("staff_count"),
                  every=st.integers(1, 30), each=st.integers(1, 5), spare_percent=st.integers(0, 50),
                  minimum=st.integers(0, 10), max_quantity=st.one_of(st.none(), st.integers(0, 200)))
BASIS_VALUES = st.fractions(min_value=0, max_value=10_000, max_denominator=300)


@PROPERTIES
@given(NORMS, BASIS_VALUES)
def test_norm_quantity_bounds(norm, basis_value):
    # The law's maximum is max_quantity for each group of `every` counted, so a unit's maximum grows with it.
    quantity = norm_quantity(norm, basis_value)
    if norm.max_quantity is None:
        assert quantity.maximum is None
    else:
        assert quantity.maximum == math.ceil(basis_value / norm.every) * norm.max_quantity
        assert quantity.required <= quantity.maximum
    if quantity.maximum is None or quantity.maximum >= norm.minimum:
        assert quantity.required >= norm.minimum
    assert quantity.capped is (quantity.computed > quantity.required)


@PROPERTIES
@given(NORMS, BASIS_VALUES, BASIS_VALUES)
def test_norm_quantity_is_monotone_in_its_basis(norm, one, other):
    low, high = sorted((one, other))
    assert norm_quantity(norm, low).required <= norm_quantity(norm, high).required


# ---- norms: what a unit requires ----------------------------------------------------------------------------

# max_quantity is the law's form (Decision 50/2017): at most that many for each group of `every` counted.
UNIT_NORMS = [
    NormRule("desktop_per_staff", "desktop", "staff_count", max_quantity=1),
    NormRule("laptop_per_leader", "laptop", "leader_count"),
    NormRule("printer_per_5_staff", "printer", "staff_count", every=5),
    NormRule("vc_per_unit", "vc_endpoint", "unit", unit_kinds=frozenset({"ward", "commune"})),
    NormRule("display_per_room", "meeting_display", "meeting_rooms"),
    NormRule("router_per_site", "router", "sites"),
    NormRule("switch_per_24_ports", "access_switch", "wired_ports", every=24, spare_percent=20, max_quantity=1),
    NormRule("scanner_per_2000_pages", "scanner", "archive_pages_per_day", every=2000),
]
WIRED = {"desktop", "printer"}
# Monday 2 March 2026 to Monday 30 March: four weeks, 20 working days.
WARD = UnitFacts("ward", staff_count=22, leader_count=2, archive_pages=100_000,
                 archive_deadline=dt.date(2026, 3, 30))
AGENCY = UnitFacts("agency", staff_count=120, leader_count=6, meeting_rooms=4, sites=3, archive_pages=900_000)


def test_ward_quantities():
    quantities = required_quantities(UNIT_NORMS, WARD, WIRED, ON)
    assert [(q.norm, q.required) for q in quantities] == [
        ("desktop_per_staff", 22), ("laptop_per_leader", 2), ("printer_per_5_staff", 5), ("vc_per_unit", 1),
        ("display_per_room", 0), ("router_per_site", 1), ("scanner_per_2000_pages", 3),
        ("switch_per_24_ports", 2)]
    # 100,000 pages over 20 days is 5,000 a day: 3 scanners.
    assert quantities[6] == NormQuantity("scanner_per_2000_pages", "scanner", Fraction(5000), 3, None, 3)
    # (22 + 5) ports x 1.2 / 24 = 1.35: 2 switches, and 2 groups of 24 ports allow 2.
    assert quantities[7] == NormQuantity("switch_per_24_ports", "access_switch", Fraction(27), 2, 2, 2)
    assert not any(q.capped for q in quantities)


def test_agency_quantities():
    quantities = required_quantities(UNIT_NORMS, AGENCY, WIRED, ON)
    assert [(q.norm, q.required) for q in quantities] == [
        ("desktop_per_staff", 120), ("laptop_per_leader", 6), ("printer_per_5_staff", 24),
        ("display_per_room", 4), ("router_per_site", 3), ("scanner_per_2000_pages", 2),
        ("switch_per_24_ports", 6)]  # no VC endpoint for an agency
    # No deadline: 900,000 pages over 250 days is 3,600 a day, 2 scanners.
    assert quantities[5] == NormQuantity("scanner_per_2000_pages", "scanner", Fraction(3600), 2, None, 2)
    # (120 + 24) ports x 1.2 / 24 = 7.2 would be 8 switches; 6 groups of 24 ports allow 6: the spare is capped.
    switches = quantities[6]
    assert switches == NormQuantity("switch_per_24_ports", "access_switch", Fraction(144), 8, 6, 6)
    assert switches.capped and switches.required == switches.maximum
    assert totals_by_category(quantities) == {"desktop": 120, "laptop": 6, "printer": 24, "meeting_display": 4,
                                              "router": 3, "scanner": 2, "access_switch": 6}


def test_maximum_is_per_group_counted():
    two_per_5_staff = NormRule("p", "printer", "staff_count", every=5, each=2, max_quantity=1)
    assert norm_quantity(two_per_5_staff, Fraction(22)) == NormQuantity("p", "printer", Fraction(22), 10, 5, 5)
    assert norm_quantity(UNIT_NORMS[0], Fraction(160)) == NormQuantity(
        "desktop_per_staff", "desktop", Fraction(160), 160, 160, 160)


def test_totals_add_norms_of_one_category():
    quantities = [NormQuantity("a", "desktop", Fraction(3), 3, None, 3),
                  NormQuantity("b", "desktop", Fraction(2), 2, None, 2),
                  NormQuantity("c", "printer", Fraction(1), 1, None, 1)]
    assert totals_by_category(quantities) == {"desktop": 5, "printer": 1}


def test_working_days():
    friday, saturday, monday = dt.date(2026, 3, 6), dt.date(2026, 3, 7), dt.date(2026, 3, 2)
    assert working_days(friday, dt.date(2026, 3, 10)) == 2  # Friday and Monday
    assert working_days(saturday, dt.date(2026, 3, 9)) == 1  # only a weekend left: at least 1
    assert working_days(monday, dt.date(2026, 3, 30)) == 20
    assert working_days(monday, None) == 250
    assert working_days(monday, dt.date(2026, 1, 1)) == 1  # deadline passed


# ---- wear and dates -----------------------------------------------------------------------------------------

def test_wear_counts_full_years():
    bought = dt.date(2021, 6, 15)
    assert wear(15_000_000, bought, Decimal("20"), dt.date(2026, 6, 14)) == Wear(
        15_000_000, Decimal("20"), 4, 12_000_000, 3_000_000)
    assert wear(15_000_000, bought, Decimal("20"), dt.date(2026, 6, 15)) == Wear(
        15_000_000, Decimal("20"), 5, 15_000_000, 0)
    assert wear(15_000_000, bought, Decimal("20"), dt.date(2028, 6, 15)) == Wear(
        15_000_000, Decimal("20"), 7, 15_000_000, 0)  # fully worn, never negative
    assert wear(15_000_000, bought, Decimal("20"), dt.date(2021, 1, 1)).years_used == 0


def test_add_years():
    assert add_years(dt.date(2020, 2, 29), 5) == dt.date(2025, 2, 28)
    assert add_years(dt.date(2020, 2, 29), 4) == dt.date(2024, 2, 29)
    assert add_years(dt.date(2019, 3, 1), 5) == dt.date(2024, 3, 1)
