"""Reallocation before any purchase: pure, no database."""
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from budget.gaps import UnitNeed, gaps
from budget.reallocation import Transfer, distance, suitability, transfers
from tests.budget.test_gaps import TREE, device, device_rows, devices_from, needs_strategy


def desktops(unit, first_id, count, **kwargs):
    return [device(first_id + i, unit, **kwargs) for i in range(count)]


def test_a_neighbour_ward_gives_its_surplus_and_the_rest_is_bought():
    needs = [UnitNeed("VD-P01", "desktop", 28, ("pc-staff",)), UnitNeed("VD-P02", "desktop", 10, ("pc-staff",))]
    devices = desktops("VD-P01", 1, 25) + desktops("VD-P02", 101, 12)
    result = transfers(gaps(needs, devices), devices, TREE)
    assert result.transfers == (Transfer(101, "desktop", "VD-P02", "VD-P01", 2),
                                Transfer(102, "desktop", "VD-P02", "VD-P01", 2))
    [short] = result.remaining
    assert (short.unit_code, short.usable, short.shortfall) == ("VD-P01", 27, 1)
    giver = next(g for g in result.gaps if g.unit_code == "VD-P02")
    assert (giver.usable, giver.required, giver.surplus) == (10, 10, 0)


def test_the_same_parent_first_then_the_nearest_in_the_organisation():
    """The district office VD (the receiver's parent, 1 step) has surplus too; the sibling ward gives first."""
    needs = [UnitNeed("VD-P01", "desktop", 5), UnitNeed("VD-P02", "desktop", 1), UnitNeed("VD", "desktop", 1),
             UnitNeed("TD-P05", "desktop", 0)]
    devices = (desktops("VD-P01", 1, 1) + desktops("VD-P02", 101, 2) + desktops("VD", 201, 2)
               + desktops("TD-P05", 301, 3))
    result = transfers(gaps(needs, devices), devices, TREE)
    assert [(t.device_id, t.from_unit, t.distance) for t in result.transfers] == [
        (101, "VD-P02", 2), (201, "VD", 1), (301, "TD-P05", 4), (302, "TD-P05", 4)]
    assert result.remaining == ()


def test_the_best_suited_surplus_moves_and_devices_below_spec_or_due_never_move():
    needs = [UnitNeed("VD-P01", "desktop", 3), UnitNeed("VD-P02", "desktop", 1)]
    devices = [device(1, "VD-P02", status="unknown", age=1), device(2, "VD-P02", status="end_of_sale", age=1),
               device(3, "VD-P02", age=6), device(4, "VD-P02", age=2, device_status="spare"),
               device(5, "VD-P02", status="below_spec"), device(6, "VD-P02", status="past_service_life"),
               device(7, "VD-P02", device_status="broken")]
    result = transfers(gaps(needs, devices), devices, TREE)
    # Compliant first (newest first), then end of sale; the unknown one stays as the giver's own.
    assert [t.device_id for t in result.transfers] == [4, 3, 2]
    giver = next(g for g in result.gaps if g.unit_code == "VD-P02")
    assert (giver.usable_ids, giver.unknown_ids, giver.upgrade_ids, giver.replacement_ids) == ((1,), (1,), (5,), (6, 7))


def test_an_unknown_device_carries_its_flag_to_the_receiver():
    needs = [UnitNeed("VD-P01", "desktop", 1)]
    devices = [device(9, "TD-P05", status="unknown")]
    result = transfers(gaps(needs, devices), devices, TREE)
    receiver = next(g for g in result.gaps if g.unit_code == "VD-P01")
    assert (receiver.usable_ids, receiver.unknown_ids, result.transfers[0].distance) == ((9,), (9,), 4)


def test_distance_in_the_tree_and_across_separate_trees():
    assert [distance("VD-P01", other, TREE) for other in ("VD-P01", "VD", "VD-P02", "HCM", "TD-P05")] == [
        0, 1, 2, 2, 4]
    assert distance("VD-P01", "NOWHERE", TREE) == 4  # three steps up to HCM, one to the imagined root above both


@given(needs_strategy, device_rows)
def test_transfers_keep_givers_at_their_requirement_and_leave_no_match_undone(needs, rows):
    devices = devices_from(rows)
    before = gaps(needs, devices)
    result = transfers(before, devices, TREE)
    by_id = {d.id: d for d in devices}
    assert len({t.device_id for t in result.transfers}) == len(result.transfers)  # a device moves once
    for transfer in result.transfers:
        moved = by_id[transfer.device_id]
        assert (moved.unit_code, moved.category) == (transfer.from_unit, transfer.category)
        assert moved.device_status in ("in_use", "spare") and moved.status not in (
            "below_spec", "end_of_support", "past_service_life")
    for old, new in zip(before, result.gaps, strict=True):
        if any(t.from_unit == old.unit_code and t.category == old.category for t in result.transfers):
            assert new.usable >= new.required  # a giver never goes below its requirement
        assert new.usable <= max(old.usable, old.required)  # a receiver never gets more than its shortfall
    for category in {g.category for g in result.gaps}:
        after = [g for g in result.gaps if g.category == category]
        assert sum(g.shortfall for g in after) == 0 or sum(g.surplus for g in after) == 0
    assert sum(g.shortfall for g in result.gaps) == sum(g.shortfall for g in before) - len(result.transfers)
    shuffled = devices[:]
    random.Random(0).shuffle(shuffled)
    assert transfers(gaps(needs, shuffled), shuffled, TREE) == result  # the order of the input never matters


def plain_order(unit_gaps, devices, tree):
    """The reallocation's definition, written plainly: every (receiver, giver) pair of a category sorted by (not
    siblings, distance, receiver, giver), each taking what it can. Quadratic: budget.reallocation finds the same
    transfers without listing the pairs."""
    by_id = {d.id: d for d in devices}
    moved = []
    for category in sorted({g.category for g in unit_gaps}):
        in_category = [g for g in unit_gaps if g.category == category]
        needing = {g.unit_code: g.shortfall for g in in_category if g.shortfall}
        giving = {g.unit_code: sorted((by_id[i] for i in g.usable_ids), key=suitability)[:g.surplus]
                  for g in in_category if g.surplus}
        for _flag, steps, receiver, giver in sorted((tree.get(r) is None or tree.get(r) != tree.get(s),
                                                     distance(r, s, tree), r, s) for r in needing for s in giving):
            while needing[receiver] and giving[giver]:
                device_ = giving[giver].pop(0)
                needing[receiver] -= 1
                moved.append(Transfer(device_.id, category, giver, receiver, steps))
    return moved


# Forests of up to 14 units: each unit's parent is an earlier unit or none (several roots, any depth).
forests = st.lists(st.integers(-1, 13), min_size=1, max_size=14).map(
    lambda parents: {f"U{i:02}": (f"U{p:02}" if 0 <= p < i else None) for i, p in enumerate(parents)})


@settings(max_examples=300)
@given(forests, st.lists(st.tuples(st.integers(0, 13), st.sampled_from(["desktop", "printer"]), st.integers(0, 4),
                                   st.integers(0, 4)), max_size=20))
def test_the_transfers_follow_the_plain_definition_on_any_forest(tree, rows):
    units = sorted(tree)
    needs = [UnitNeed(units[i % len(units)], category, required, ("n",)) for i, category, required, _ in rows]
    devices = [device(100 * n + k, units[i % len(units)], category, "compliant")
               for n, (i, category, _, held) in enumerate(rows) for k in range(held)]
    unit_gaps = gaps(needs, devices)
    assert list(transfers(unit_gaps, devices, tree).transfers) == plain_order(unit_gaps, devices, tree)
