"""Costed plans, selection under caps and scenarios: pure, no database."""
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from budget.gaps import UnitNeed, gaps
from budget.plans import (
    NormBreach,
    NormLimit,
    Offer,
    PlanLine,
    PricingError,
    blanket_plan,
    check_norms,
    compare,
    priority,
    select_under_cap,
    standard_kit,
    targeted_lines,
    total_vnd,
)
from budget.reallocation import transfers
from tests.budget.test_gaps import TREE, device, device_rows, devices_from, needs_strategy
from tests.budget.test_upgrades import PARTS, below

OFFERS = {"desktop": Offer("Dell OptiPlex *", 9_900_000), "printer": Offer("Canon LBP*", 5_200_000),
          "vc_endpoint": Offer("Poly Studio X30", 65_000_000)}
PC_STAFF = NormLimit("pc-staff", 28, 10_000_000, "Quyết định 50/2017/QĐ-TTg, Phụ lục I (ví dụ)")
LIMITS = {("VD-P01", "desktop"): PC_STAFF}
KINDS = {"VD-P01": "ward", "VD-P02": "ward", "VD": "agency", "TD": "agency", "TD-P05": "ward", "HCM": "city"}
FIXABLE = (below("ram_gb", "at_least", 8, 4), below("storage_kind", "is", "SSD", "HDD"))
UNFIXABLE = (below("cpu_generation", "at_least", 8, 4),)


def vd_p01(usable=22):
    """28 desktops required; usable ones, and one of each kind a plan fixes."""
    return ([device(i) for i in range(1, usable + 1)]
            + [device(101, status="below_spec", findings=FIXABLE), device(102, status="below_spec", findings=UNFIXABLE),
               device(103, status="past_service_life", age=7), device(104, status="end_of_support"),
               device(105, device_status="broken")])


NEED = [UnitNeed("VD-P01", "desktop", 28, ("pc-staff",))]


def line(reason, quantity, price, priority_, model="Dell OptiPlex *", ids=(), unit="VD-P01", category="desktop",
         norm="pc-staff", basis=PC_STAFF.legal_basis, year=None):
    return PlanLine(unit, category, model, quantity, price, reason, priority_, norm, basis, year, tuple(ids))


def test_every_position_gets_its_fix_and_an_empty_one_a_purchase():
    devices = vd_p01()
    lines = targeted_lines(gaps(NEED, devices), devices, OFFERS, LIMITS, KINDS, PARTS)
    assert lines == [
        line("no_device", 1, 9_900_000, 1),
        line("broken", 1, 9_900_000, 1, ids=(105,)),
        line("end_of_support", 1, 9_900_000, 3, ids=(104,)),
        line("upgrade", 1, 1_600_000, 2, model="ram-8gb-desktop x1 + ssd-256gb-desktop x1", ids=(101,)),
        line("below_spec", 1, 9_900_000, 2, ids=(102,)),
        line("past_service_life", 1, 9_900_000, 3, ids=(103,)),
    ]
    assert total_vnd(lines) == 5 * 9_900_000 + 1_600_000


def test_positions_are_filled_by_the_cheapest_to_fix_first_and_nothing_beyond_them_is_bought():
    devices = vd_p01(usable=26)  # shortfall 2: the two below-spec devices fill the positions
    lines = targeted_lines(gaps(NEED, devices), devices, OFFERS, LIMITS, KINDS, PARTS)
    assert [(x.reason, x.device_ids, x.total_vnd) for x in lines] == [
        ("upgrade", (101,), 1_600_000), ("below_spec", (102,), 9_900_000)]
    assert targeted_lines(gaps(NEED, vd_p01(usable=28)), vd_p01(usable=28), OFFERS, LIMITS, KINDS, PARTS) == []


def test_a_unit_price_above_the_norm_is_refused_naming_the_norm_and_the_number():
    devices = vd_p01()
    dear = {"desktop": Offer("Dell OptiPlex 7020 Plus", 16_000_000)}
    with pytest.raises(NormBreach) as refused:
        targeted_lines(gaps(NEED, devices), devices, dear, LIMITS, KINDS)
    assert str(refused.value) == ("VD-P01, desktop (no_device): unit_price_vnd 16,000,000 is above the maximum "
                                  "10,000,000 of norm pc-staff")
    assert (refused.value.norm, refused.value.number, refused.value.field, refused.value.line.quantity) == (
        "pc-staff", "unit_price_vnd", "unit_price_vnd", 1)


def test_a_quantity_above_the_norm_is_refused():
    lines = [line("no_device", 20, 9_900_000, 1), line("past_service_life", 9, 9_900_000, 3, ids=range(1, 10))]
    with pytest.raises(NormBreach, match=r"^VD-P01, desktop \(past_service_life\): quantity 29 is above the "
                                         r"maximum 28 of norm pc-staff$") as refused:
        check_norms(lines, LIMITS)
    assert refused.value.line is lines[1]
    check_norms(lines[:1] + [line("upgrade", 9, 1_600_000, 2)], LIMITS)  # parts are not items the norm counts


def test_a_category_without_an_approved_price_is_refused():
    needs = [UnitNeed("TD-P05", "scanner", 1, ("scanner-archive",))]
    with pytest.raises(PricingError, match="^no approved model and price for scanner$"):
        targeted_lines(gaps(needs, []), [], OFFERS, {}, KINDS)


@pytest.mark.parametrize("category, reason, kind, expected", [
    ("desktop", "no_device", "ward", 1), ("laptop", "broken", "agency", 1), ("core_switch", "no_device", "agency", 1),
    ("firewall", "end_of_support", "agency", 1), ("router", "past_service_life", "agency", 3),
    ("scanner", "no_device", "agency", 1), ("vc_endpoint", "no_device", "commune", 1),
    ("vc_endpoint", "no_device", "department", 2), ("printer", "no_device", "ward", 2),
    ("desktop", "upgrade", "ward", 2), ("desktop", "below_spec", "ward", 2), ("desktop", "end_of_support", "ward", 3),
    ("desktop", "past_service_life", "ward", 3),
])
def test_priorities(category, reason, kind, expected):
    assert priority(category, reason, kind) == expected


def test_a_vc_endpoint_for_a_ward_is_a_programme_deadline():
    needs = [UnitNeed("VD-P02", "vc_endpoint", 1, ("vc-ward",))]
    [bought] = targeted_lines(gaps(needs, []), [], OFFERS, {}, KINDS)
    assert (bought.priority, bought.total_vnd, bought.norm) == (1, 65_000_000, None)


def test_each_year_takes_what_fits_by_priority_and_the_rest_moves_on():
    p1 = line("no_device", 3, 9_900_000, 1)
    upgrade = line("upgrade", 1, 1_600_000, 2, model="kit", ids=(101,))
    ageing = line("past_service_life", 1, 9_900_000, 3, ids=(103,))
    phased = select_under_cap([ageing, upgrade, p1], [20_000_000, 20_000_000], first_year=2027)
    assert phased.funded == (line("no_device", 2, 9_900_000, 1, year=2027),
                             line("no_device", 1, 9_900_000, 1, year=2028),
                             line("upgrade", 1, 1_600_000, 2, model="kit", ids=(101,), year=2028))
    assert phased.unfunded == (ageing,)
    assert (phased.spent_vnd(2027), phased.spent_vnd(2028)) == (19_800_000, 11_500_000)


def test_within_a_priority_more_readiness_per_dong_comes_first_and_leftover_money_funds_cheaper_lines():
    replace = line("below_spec", 2, 9_900_000, 2, ids=(102, 106))
    upgrade = line("upgrade", 2, 1_600_000, 2, model="kit", ids=(101, 107))
    phone = line("past_service_life", 1, 1_500_000, 3, model="phone", ids=(300,), category="ip_phone", norm=None,
                 basis="")
    phased = select_under_cap([phone, replace, upgrade], [15_000_000], first_year=2027)
    assert [(x.reason, x.device_ids) for x in phased.funded] == [
        ("upgrade", (101, 107)), ("below_spec", (102,)), ("past_service_life", (300,))]
    assert phased.spent_vnd(2027) == 3_200_000 + 9_900_000 + 1_500_000
    assert [(x.reason, x.device_ids, x.year) for x in phased.unfunded] == [("below_spec", (106,), None)]


def test_a_blanket_plan_and_a_standard_kit_beside_the_targeted_plan():
    devices = vd_p01() + [device(200 + i, age=6) for i in range(4)]  # 4 old but usable: 26 usable, 4 too many
    targeted = targeted_lines(gaps(NEED, devices), devices, OFFERS, LIMITS, KINDS, PARTS)
    assert total_vnd(targeted) == 1_600_000 + 9_900_000  # the two below-spec positions
    blanket = blanket_plan(devices, 5, OFFERS, NEED)
    # 5 devices older than 5 years (the four and 103) replaced; 22 young usable kept, so 6 more to reach 28.
    assert [(x.quantity, x.device_ids) for x in blanket] == [(6, (103, 200, 201, 202, 203))]
    assert compare(targeted, blanket).saving_vnd == 6 * 9_900_000 - 11_500_000
    assert [(x.quantity, x.device_ids) for x in blanket_plan(devices, 5, OFFERS)] == [(5, (103, 200, 201, 202, 203))]
    kit = standard_kit(["VD-P01", "VD-P02", "VD-P01"], {"desktop": 2, "printer": 1, "vc_endpoint": 0}, OFFERS)
    assert [(x.unit_code, x.category, x.total_vnd) for x in kit] == [
        ("VD-P01", "desktop", 19_800_000), ("VD-P01", "printer", 5_200_000),
        ("VD-P02", "desktop", 19_800_000), ("VD-P02", "printer", 5_200_000)]
    comparison = compare(targeted, kit)
    assert (comparison.targeted_vnd, comparison.blanket_vnd, comparison.saving_vnd) == (
        11_500_000, 50_000_000, 38_500_000)


# ---- properties over the examples' tree -----------------------------------------------------------------------

def limits_for(needs, slack):
    """Each unit's maximum quantity at least its requirement (norm_quantity caps the requirement at it)."""
    required = {}
    for need in needs:
        required[(need.unit_code, need.category)] = required.get((need.unit_code, need.category), 0) + need.required
    return {key: NormLimit(f"norm-{key[1]}", total + slack, 10_000_000) for key, total in required.items()}


def plan(needs, devices, share=Fraction(1, 2)):
    after = transfers(gaps(needs, devices), devices, TREE)
    return after, targeted_lines(after.gaps, devices, OFFERS, limits_for(needs, 0), KINDS, PARTS, share)


caps = st.lists(st.integers(0, 60_000_000), min_size=1, max_size=4)


@given(needs_strategy, device_rows, caps)
def test_a_plan_never_exceeds_its_cap_in_any_year_and_loses_no_item(needs, rows, caps_vnd):
    _after, lines = plan(needs, devices_from(rows))
    phased = select_under_cap(lines, caps_vnd, first_year=2027)
    for index, cap in enumerate(caps_vnd):
        assert phased.spent_vnd(2027 + index) <= cap
    assert sum(x.quantity for x in phased.funded + phased.unfunded) == sum(x.quantity for x in lines)
    assert sorted(i for x in phased.funded + phased.unfunded for i in x.device_ids) == sorted(
        i for x in lines for i in x.device_ids)


@given(needs_strategy, device_rows)
def test_no_shortfall_remains_when_the_budget_suffices(needs, rows):
    after, lines = plan(needs, devices_from(rows))
    phased = select_under_cap(lines, [total_vnd(lines)], first_year=2027)
    assert phased.unfunded == ()
    for gap in after.gaps:
        filled = sum(x.quantity for x in phased.funded if (x.unit_code, x.category) == (gap.unit_code, gap.category))
        assert gap.usable + filled >= gap.required  # received devices, upgrades and purchases
        assert filled == gap.shortfall  # and not one item more


@given(needs_strategy, device_rows, st.integers(0, 3), st.integers(1, 20_000_000))
def test_no_line_exceeds_its_norm(needs, rows, slack, price):
    devices = devices_from(rows)
    limits = limits_for(needs, slack)
    offers = {category: Offer("model", price) for category in ("desktop", "printer")}
    after = transfers(gaps(needs, devices), devices, TREE)
    try:
        lines = targeted_lines(after.gaps, devices, offers, limits, KINDS, PARTS)
    except NormBreach as refused:
        assert refused.number == "unit_price_vnd" and price > 10_000_000
        return
    for x in lines:
        limit = limits[(x.unit_code, x.category)]
        assert x.reason == "upgrade" or x.unit_price_vnd <= limit.max_unit_price_vnd
        assert x.norm == limit.norm
    for key, limit in limits.items():
        assert sum(x.quantity for x in lines if (x.unit_code, x.category) == key) <= limit.max_quantity


@given(needs_strategy, device_rows, st.integers(0, 12), st.fractions(0, 1))
def test_the_targeted_plan_never_costs_more_than_a_blanket_plan_of_the_same_coverage(needs, rows, years, share):
    """Same coverage: every unit at its requirement in usable devices. The blanket plan reaches it by
    replacing every device older than N years and buying the rest; the targeted one by transfers, upgrades
    (cheaper than a replacement: share at most 1) and purchases of what remains."""
    devices = devices_from(rows)
    _after, lines = plan(needs, devices, share)
    assert total_vnd(lines) <= total_vnd(blanket_plan(devices, years, OFFERS, needs))
