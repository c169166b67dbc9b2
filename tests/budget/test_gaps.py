"""Gaps per unit and category, and their roll-ups: pure, no database."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from budget.gaps import HeldDevice, UnitNeed, gaps, roll_up, standing, units_below

# A city's corner: two wards of district VD, one of TD (the tree the examples use).
TREE = {"HCM": None, "VD": "HCM", "VD-P01": "VD", "VD-P02": "VD", "TD": "HCM", "TD-P05": "TD"}
STATUSES = ("end_of_support", "past_service_life", "below_spec", "unapproved_model", "end_of_sale", "unknown",
            "compliant")
DEVICE_STATUSES = ("in_use", "spare", "broken", "retired", "missing")
RAM_4 = {"status": "below_spec", "spec": "ram_gb", "op": "at_least", "required": 8, "found": 4,
         "severity": "required"}


def device(id, unit="VD-P01", category="desktop", status="compliant", device_status="in_use", age=2,
           findings=None):
    if findings is None:
        findings = (RAM_4,) if status == "below_spec" else ()
    return HeldDevice(id, unit, category, device_status, status, tuple(findings), age)


def desktops_of_vd_p01():
    """28 desktops required; 25 usable (one of unknown compliance), and six more that are not usable."""
    usable = [device(i) for i in range(1, 25)] + [device(25, status="unknown")]
    return usable + [device(26, status="past_service_life", age=7), device(27, status="below_spec"),
                     device(28, device_status="broken"), device(29, device_status="retired"),
                     device(30, device_status="missing"), device(31, status="end_of_support"),
                     device(32, status="end_of_sale", device_status="spare")]


NEEDS_VD_P01 = [UnitNeed("VD-P01", "desktop", 1, ("pc-leader",)), UnitNeed("VD-P01", "desktop", 5, ("pc-specialist",)),
                UnitNeed("VD-P01", "desktop", 22, ("pc-staff",))]


def test_vd_p01_lacks_3_desktops_and_each_number_names_its_devices_and_norms():
    devices = desktops_of_vd_p01()
    devices.remove(next(d for d in devices if d.id == 32))
    [gap] = gaps(NEEDS_VD_P01, devices)
    assert (gap.required, gap.usable, gap.shortfall, gap.surplus) == (28, 25, 3, 0)
    assert gap.norms == ("pc-leader", "pc-specialist", "pc-staff")
    assert gap.usable_ids == tuple(range(1, 26))
    assert gap.unknown_ids == (25,)
    assert gap.replacement_ids == (26, 28, 31)  # past service life, broken, end of support
    assert (gap.upgrade_ids, gap.upgrade_candidates, gap.replacements) == ((27,), 1, 3)
    assert gap.units == ("VD-P01",)


def test_a_spare_counts_and_end_of_sale_is_acceptable():
    [gap] = gaps(NEEDS_VD_P01, desktops_of_vd_p01())
    assert (gap.usable, gap.shortfall, 32 in gap.usable_ids) == (26, 2, True)


def test_categories_from_either_side_get_a_gap():
    needs = [UnitNeed("VD-P02", "scanner", 1, ("scanner-archive",))]
    devices = [device(1, "VD-P02", "printer"), device(2, "VD-P02", "printer", device_status="retired"),
               device(3, "VD-P02", "ip_phone", device_status="missing")]
    found = gaps(needs, devices)
    assert [(g.unit_code, g.category, g.required, g.usable, g.shortfall, g.surplus) for g in found] == [
        ("VD-P02", "printer", 0, 1, 0, 1), ("VD-P02", "scanner", 1, 0, 1, 0)]  # missing and retired: nowhere


def test_needs_of_one_category_add_up():
    [gap] = gaps([UnitNeed("TD", "wireless", 2, ("wifi-site",)), UnitNeed("TD", "wireless", 2, ("wifi-site",))], [])
    assert (gap.required, gap.shortfall, gap.norms) == (4, 4, ("wifi-site",))


def test_standing_of_each_state():
    assert [standing(device(1, device_status=s)) for s in DEVICE_STATUSES] == [
        "usable", "usable", "replace", None, None]
    assert [standing(device(1, status=s)) for s in STATUSES] == [
        "replace", "replace", "upgrade", "usable", "usable", "usable", "usable"]
    with pytest.raises(ValueError, match="device 1: unknown compliance status 'fine'"):
        standing(device(1, status="fine"))


def test_units_below_the_tree():
    below = units_below(TREE)
    assert below["VD"] == {"VD", "VD-P01", "VD-P02"}
    assert below["HCM"] == set(TREE)
    assert below["TD-P05"] == {"TD-P05"}


def test_a_roll_up_sums_shortfalls_and_surpluses_without_netting_them():
    needs = [*NEEDS_VD_P01, UnitNeed("VD-P02", "desktop", 10, ("pc-staff",))]
    devices = [*desktops_of_vd_p01(), *(device(100 + i, "VD-P02") for i in range(12))]
    [district] = roll_up(gaps(needs, devices), {"VD": units_below(TREE)["VD"]})
    assert (district.unit_code, district.required, district.usable, district.shortfall, district.surplus) == (
        "VD", 38, 38, 2, 2)
    assert district.units == ("VD-P01", "VD-P02")
    assert district.usable_ids[-12:] == tuple(range(100, 112))
    assert district.norms == ("pc-leader", "pc-specialist", "pc-staff")


def test_a_roll_up_of_a_unit_without_gaps_is_empty():
    assert roll_up([], {"TD": {"TD", "TD-P05"}}) == []


needs_strategy = st.lists(st.builds(UnitNeed, st.sampled_from(sorted(TREE)), st.sampled_from(["desktop", "printer"]),
                                    st.integers(0, 6), st.just(("n",))), max_size=10)
device_rows = st.lists(st.tuples(st.sampled_from(sorted(TREE)), st.sampled_from(["desktop", "printer"]),
                                 st.sampled_from(DEVICE_STATUSES), st.sampled_from(STATUSES),
                                 st.none() | st.integers(0, 12), st.sampled_from([2, 4, 6])), max_size=30)


def devices_from(rows):
    return [device(i, unit, category, status, device_status, age,
                   findings=(dict(RAM_4, found=ram),) if status == "below_spec" else ())
            for i, (unit, category, device_status, status, age, ram) in enumerate(rows, start=1)]


@given(needs_strategy, device_rows)
def test_every_held_device_is_counted_once_and_the_numbers_agree(needs, rows):
    devices = devices_from(rows)
    found = gaps(needs, devices)
    counted = [i for g in found for i in (*g.usable_ids, *g.replacement_ids, *g.upgrade_ids)]
    assert sorted(counted) == sorted(d.id for d in devices if d.device_status in ("in_use", "spare", "broken"))
    for gap in found:
        assert gap.shortfall - gap.surplus == gap.required - gap.usable
        assert min(gap.shortfall, gap.surplus) == 0
    assert sum(g.required for g in found) == sum(n.required for n in needs)
    for whole in roll_up(found, {"HCM": set(TREE)}):
        parts = [g for g in found if g.category == whole.category]
        assert (whole.required, whole.usable, whole.shortfall, whole.surplus) == (
            sum(g.required for g in parts), sum(g.usable for g in parts), sum(g.shortfall for g in parts),
            sum(g.surplus for g in parts))
