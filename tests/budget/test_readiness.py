"""budget/readiness.py: a unit's readiness from its gaps, a subtree's from its units' weighted numbers, and the
city's three headline figures. Pure: the gaps and devices are made by hand."""
from budget.gaps import HeldDevice, UnitNeed, gaps
from budget.readiness import Figure, Readiness, UnitSummary, headline_figures, subtree_readiness, unit_readiness, weight


def devices(unit: str, category: str, count: int, *, first_id: int, device_status: str = "in_use",
            status: str = "compliant") -> list[HeldDevice]:
    return [HeldDevice(first_id + n, unit, category, device_status, status) for n in range(count)]


def test_a_ward_s_score_weighs_computers_three_times_a_printer():
    needs = [UnitNeed("W1", "desktop", 5), UnitNeed("W1", "printer", 1)]
    held = devices("W1", "desktop", 3, first_id=1) + devices("W1", "printer", 1, first_id=10)
    [ward] = unit_readiness(gaps(needs, held), {"W1": "ward"}).values()
    # Desktops are priority 1 (weight 3), printers priority 2 (weight 1): (3*3 + 1) / (5*3 + 1).
    assert (ward.required, ward.covered, ward.score) == (16, 10, 62.5)


def test_devices_that_cannot_serve_cover_nothing():
    needs = [UnitNeed("W1", "desktop", 4)]
    held = (devices("W1", "desktop", 1, first_id=1) + devices("W1", "desktop", 1, first_id=2, device_status="broken")
            + devices("W1", "desktop", 1, first_id=3, status="below_spec")
            + devices("W1", "desktop", 1, first_id=4, status="end_of_support")
            + devices("W1", "desktop", 1, first_id=5, device_status="retired"))
    [ward] = unit_readiness(gaps(needs, held), {"W1": "ward"}).values()
    assert (ward.required, ward.covered, ward.score) == (12, 3, 25.0)  # only the one usable PC: 3 of 4*3


def test_the_score_has_one_decimal():
    [unit] = unit_readiness(gaps([UnitNeed("W1", "printer", 3)], devices("W1", "printer", 1, first_id=1)),
                            {"W1": "ward"}).values()
    assert unit.score == 33.3  # 100/3


def test_a_unit_the_norms_require_nothing_of_has_no_score():
    # W2 has no gap at all, D1 holds a printer no norm asks for: neither is scored (not 0, not 100).
    scores = unit_readiness(gaps([], devices("D1", "printer", 1, first_id=1)), {"W2": "ward", "D1": "department"})
    assert scores == {"D1": Readiness("D1", 0, 0), "W2": Readiness("W2", 0, 0)}
    assert [r.score for r in scores.values()] == [None, None]


def test_a_video_conference_endpoint_weighs_three_in_a_ward_only():
    # The programme's deadline is for wards and communes; an agency's endpoint for its meeting room is not.
    assert [weight("vc_endpoint", kind) for kind in ("ward", "commune", "agency")] == [3, 3, 1]
    assert [weight(category, "agency") for category in ("desktop", "laptop", "core_switch", "router", "firewall",
                                                        "scanner", "printer", "ip_phone", "wireless")] == \
        [3, 3, 3, 3, 3, 3, 1, 1, 1]


def test_a_subtree_sums_weights_and_does_not_average_scores():
    needs = [UnitNeed("W1", "desktop", 5), UnitNeed("D1", "printer", 1)]
    held = devices("W1", "desktop", 3, first_id=1) + devices("D1", "printer", 1, first_id=10)
    scores = unit_readiness(gaps(needs, held), {"C": "city", "W1": "ward", "D1": "department"})
    assert (scores["W1"].score, scores["D1"].score, scores["C"].score) == (60.0, 100.0, None)
    total = subtree_readiness("C", ["C", "W1", "D1"], scores)
    # (9 + 1) / (15 + 1): the ward's 15 weighted positions count for more than the department's one; the
    # average of the two scores would be 80.
    assert total == Readiness("C", 16, 10) and total.score == 62.5


def test_surplus_in_one_unit_never_covers_another():
    needs = [UnitNeed("W1", "desktop", 2), UnitNeed("W2", "desktop", 2)]
    scores = unit_readiness(gaps(needs, devices("W1", "desktop", 4, first_id=1)), {"W1": "ward", "W2": "ward"})
    # W1's two spare PCs count for W1 up to its requirement only: 6 of 12, not 12 of 12.
    assert (scores["W1"], scores["W2"]) == (Readiness("W1", 6, 6), Readiness("W2", 6, 0))
    assert subtree_readiness("C", ["W1", "W2"], scores).score == 50.0


def test_a_subtree_counts_each_member_once_and_ignores_unknown_ones():
    scores = {"W1": Readiness("W1", 6, 3)}
    assert subtree_readiness("C", ["W1", "W1", "X9"], scores) == Readiness("C", 6, 3)


def test_staff_on_the_secure_network_count_at_most_each_unit_s_staff():
    units = [UnitSummary("W1", "ward", 2), UnitSummary("D1", "department", 10)]
    held = (devices("W1", "desktop", 3, first_id=1)  # 3 PCs on the secure network for 2 staff: 2
            + devices("D1", "laptop", 1, first_id=10)  # on the secure network: 1
            + devices("D1", "desktop", 1, first_id=11)  # on the office network: none
            + devices("D1", "desktop", 1, first_id=12, device_status="broken")  # secure but not usable: none
            + devices("D1", "printer", 1, first_id=13))  # secure but not a computer: none
    networks = {1: "secure", 2: "secure", 3: "secure", 10: "secure", 11: "office", 12: "secure", 13: "secure"}
    staff, _, _ = headline_figures(units, [], held, networks)
    assert staff == Figure("secure_network_staff", 3, 12) and staff.percent == 25.0


def test_wards_with_a_usable_video_conference_endpoint():
    units = [UnitSummary("W1", "ward", 5), UnitSummary("W2", "ward", 5), UnitSummary("X1", "commune", 5),
             UnitSummary("A1", "agency", 50)]
    needs = [UnitNeed(code, "vc_endpoint", 1) for code in ("W1", "W2", "X1", "A1")]
    held = (devices("W1", "vc_endpoint", 1, first_id=1)
            + devices("W2", "vc_endpoint", 1, first_id=2, device_status="broken")  # W2's does not count
            + devices("X1", "vc_endpoint", 1, first_id=3)
            + devices("A1", "vc_endpoint", 1, first_id=4))  # an agency is not a ward
    _, wards, _ = headline_figures(units, gaps(needs, held), held, {})
    assert wards == Figure("wards_with_vc", 2, 3) and wards.percent == 66.7


def test_units_with_the_scanners_their_archive_needs():
    units = [UnitSummary("W1", "ward", 5), UnitSummary("W2", "ward", 5), UnitSummary("A1", "agency", 50)]
    # A1's norms require no scanner (nothing left to digitise): it is not counted at all.
    needs = [UnitNeed("W1", "scanner", 1), UnitNeed("W2", "scanner", 2), UnitNeed("A1", "scanner", 0)]
    held = devices("W1", "scanner", 1, first_id=1) + devices("W2", "scanner", 1, first_id=2)
    _, _, scanners = headline_figures(units, gaps(needs, held), held, {})
    assert scanners == Figure("archive_scanners", 1, 2)  # W2 is one short


def test_no_units_no_percentages():
    figures = headline_figures([], [], [], {})
    assert [(f.key, f.count, f.out_of, f.percent) for f in figures] == [
        ("secure_network_staff", 0, 0, None), ("wards_with_vc", 0, 0, None), ("archive_scanners", 0, 0, None)]
