"""Upgrade or replace: pure, no database."""
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from budget.upgrades import Part, PartUse, Upgrade, choose, plan_upgrade
from tests.budget.test_gaps import device

# The example catalog's parts (catalog/data/parts.csv).
RAM_8 = Part("ram-8gb-desktop", "desktop", {"ram_gb": 8}, True, 750_000)
SSD_256 = Part("ssd-256gb-desktop", "desktop", {"storage_gb": 256, "storage_kind": "ssd"}, False, 850_000)
LAPTOP_RAM = Part("ram-8gb-laptop", "laptop", {"ram_gb": 8}, True, 800_000)
PARTS = (SSD_256, LAPTOP_RAM, RAM_8)
DESKTOP_PRICE = 9_900_000  # Dell OptiPlex, the example's reference price


def below(spec, op, required, found, severity="required"):
    return {"status": "below_spec", "spec": spec, "op": op, "required": required, "found": found,
            "severity": severity}


def pc(*findings, category="desktop"):
    return device(7, "VD-P01", category, status="below_spec", findings=findings)


def test_ram_modules_added_until_the_requirement_is_reached():
    assert plan_upgrade(pc(below("ram_gb", "at_least", 8, 4)), PARTS) == Upgrade(
        7, "VD-P01", "desktop", (PartUse("ram-8gb-desktop", 1, 750_000),), ("ram_gb",))
    upgrade = plan_upgrade(pc(below("ram_gb", "at_least", 16, 4)), PARTS)
    assert (upgrade.parts, upgrade.cost_vnd) == ((PartUse("ram-8gb-desktop", 2, 750_000),), 1_500_000)


def test_one_disk_fixes_its_size_and_kind_and_is_bought_once():
    upgrade = plan_upgrade(pc(below("ram_gb", "at_least", 8, 4), below("storage_gb", "at_least", 256, 128),
                              below("storage_kind", "is", "SSD", "HDD")), PARTS)
    assert upgrade.parts == (PartUse("ram-8gb-desktop", 1, 750_000), PartUse("ssd-256gb-desktop", 1, 850_000))
    assert (upgrade.cost_vnd, upgrade.kit) == (1_600_000, "ram-8gb-desktop x1 + ssd-256gb-desktop x1")
    assert upgrade.fixes == ("ram_gb", "storage_gb", "storage_kind")


def test_a_failing_spec_no_part_fixes_means_no_upgrade():
    assert plan_upgrade(pc(below("ram_gb", "at_least", 8, 4), below("cpu_generation", "at_least", 8, 4)),
                        PARTS) is None
    assert plan_upgrade(pc(below("storage_gb", "at_least", 512, 256)), PARTS) is None  # the disk is too small
    assert plan_upgrade(pc(below("ram_gb", "at_least", 8, 4), category="server"), PARTS) is None  # no parts
    assert plan_upgrade(pc(below("ram_gb", "at_least", 8, None)), PARTS) is None  # from an unknown amount


def test_recommended_findings_and_devices_not_below_spec_get_nothing():
    assert plan_upgrade(pc(below("cpu_generation", "at_least", 8, 4, severity="recommended")), PARTS) is None
    assert plan_upgrade(device(8, findings=(below("ram_gb", "at_least", 8, 4),), status="past_service_life"),
                        PARTS) is None


def test_the_cheapest_modules_win():
    four = Part("ram-4gb-desktop", "desktop", {"ram_gb": 4}, True, 400_000)
    assert plan_upgrade(pc(below("ram_gb", "at_least", 8, 4)), (RAM_8, four)).parts == (
        PartUse("ram-4gb-desktop", 1, 400_000),)
    assert plan_upgrade(pc(below("ram_gb", "at_least", 16, 4)), (RAM_8, four)).cost_vnd == 1_200_000  # 3 x 4 GB
    assert plan_upgrade(pc(below("ram_gb", "at_least", 16, 4)), (RAM_8, four)).parts == (
        PartUse("ram-4gb-desktop", 3, 400_000),)


def test_an_upgrade_only_below_the_share_of_a_replacement():
    fixable = pc(below("ram_gb", "at_least", 8, 4), below("storage_kind", "is", "SSD", "HDD"))
    assert choose(fixable, PARTS, DESKTOP_PRICE, Fraction(1, 2)).cost_vnd == 1_600_000
    assert choose(fixable, PARTS, DESKTOP_PRICE, Fraction(1, 10)) is None  # 1,600,000 >= 990,000
    assert choose(fixable, PARTS, 3_200_000, Fraction(1, 2)) is None  # exactly half: replace
    assert choose(fixable, PARTS, 3_200_001, Fraction(1, 2)) is not None


@given(st.integers(0, 64), st.integers(1, 128), st.integers(1, 32))
def test_the_modules_reach_the_requirement_with_none_to_spare(found, required, module):
    part = Part("ram", "desktop", {"ram_gb": module}, True, 100)
    upgrade = plan_upgrade(pc(below("ram_gb", "at_least", required, found)), (part,))
    [use] = upgrade.parts
    assert found + use.quantity * module >= required
    assert use.quantity == 1 or found + (use.quantity - 1) * module < required
