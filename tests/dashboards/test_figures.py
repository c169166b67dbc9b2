"""dashboards/figures/ and tables.py: plain data in, the exact numbers of each figure and the rows of its table
out. No database: an application of the project's catalogue gives the translations (English, the msgids, unless
a test asks for Vietnamese)."""
import datetime as dt
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import Babel, force_locale

from budget.readiness import Figure, Readiness
from budget.scenarios import PlanSum
from budget.scores import RecordedDay, RecordedGap
from catalog.reports import LifecycleCount
from dashboards.figures import UnitRow, coverage, lifecycle, plans, readiness, separators
from dashboards.figures.coverage import CollectorRow
from dashboards.figures.plans import PlanTotal
from dashboards.tables import Column, as_csv, table

TRANSLATIONS = Path(__file__).resolve().parent.parent.parent / "translations"
ON = dt.date(2026, 11, 15)
NOW = dt.datetime(2026, 11, 15, 12, 0)
# C, the city; A1, an agency with a department A1-D1; two wards W1, W2.
UNITS = [UnitRow("C", "City", None, "city", 0), UnitRow("A1", "Agency One", "C", "agency", 40),
         UnitRow("A1-D1", "Department", "A1", "department", 12), UnitRow("W1", "Ward One", "C", "ward", 20),
         UnitRow("W2", "Ward Two", "C", "ward", 15)]
KINDS = {"city": "City", "agency": "Agency", "department": "Department", "ward": "Ward"}
CATEGORY_NAMES = {"desktop": "Desktop computer", "printer": "Printer"}
UNIT_NAMES = {"A1": "Agency One", "W1": "Ward One"}
NOTHING_RECORDED = "Nothing is recorded yet: record readiness (the button above, or flask budget readiness)."
NO_PLAN = "No targeted plan is saved for these units: save one on the budget page."


def unit_href(code: str) -> str:
    return f"/dashboards/units/{code}"


def devices_href(code: str, category: str) -> str:
    return f"/units/{code}/compliance?category={category}"


@pytest.fixture(autouse=True)
def context():
    app = Flask(__name__)
    app.config.update(BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS))
    Babel(app)
    with app.test_request_context("/"):
        yield


def test_plotly_separators_follow_the_language():
    assert (separators("vi"), separators("en")) == (",.", ".,")
    chart = plans.budget_by_year([], {}, "vi")
    assert chart.figure.layout.separators == ",."


# ---- readiness over the organisation ---------------------------------------------------------------------------

SCORES = {"A1": Readiness("A1", 12, 5), "A1-D1": Readiness("A1-D1", 6, 6), "W1": Readiness("W1", 9, 0)}


def test_subtree_scores_sum_the_weighted_numbers_below_each_unit():
    totals = readiness.subtree_scores(UNITS, SCORES)
    assert {code: (r.required, r.covered) for code, r in totals.items()} == {
        "C": (27, 11), "A1": (18, 11), "A1-D1": (6, 6), "W1": (9, 0), "W2": (0, 0)}
    # Not an average of scores (41.7, 100 and 0 would average 47.2): 1100 / 27.
    assert (totals["C"].score, totals["A1"].score, totals["W2"].score) == (40.7, 61.1, None)


def test_a_unit_whose_parent_is_outside_the_list_is_a_root():
    totals = readiness.subtree_scores(UNITS[1:3], SCORES)  # an officer's A1 subtree: C is not theirs
    assert {code: (r.required, r.covered) for code, r in totals.items()} == {"A1": (18, 11), "A1-D1": (6, 6)}


def test_the_readiness_tree_colours_each_unit_by_its_subtree_and_leaves_out_units_without_a_score():
    chart = readiness.readiness_tree(UNITS, SCORES, KINDS, unit_href, "en")
    tree = chart.figure.data[0]
    # W2 (the norms require nothing of it) is left out of the figure, not of the table.
    assert list(tree.ids) == ["C", "A1", "A1-D1", "W1"]
    assert list(tree.parents) == ["", "C", "A1", "C"]
    assert list(tree.marker.colors) == [40.7, 61.1, 100.0, 0.0]
    assert [list(c) for c in tree.customdata] == [
        ["C", "40.7%", "/dashboards/units/C"], ["A1", "61.1%", "/dashboards/units/A1"],
        ["A1-D1", "100.0%", "/dashboards/units/A1-D1"], ["W1", "0.0%", "/dashboards/units/W1"]]
    assert chart.table.rows == (("C", "City", "City", 40.7, None, 0), ("A1", "Agency One", "Agency", 61.1, 41.7, 40),
                                ("A1-D1", "Department", "Department", 100.0, 100.0, 12),
                                ("W1", "Ward One", "Ward", 0.0, 0.0, 20), ("W2", "Ward Two", "Ward", None, None, 15))
    assert chart.table.hrefs == tuple(unit_href(u.code) for u in UNITS)
    assert [c.key for c in chart.table.columns] == ["unit", "name", "kind", "score", "own_score", "staff"]


# ---- gaps ------------------------------------------------------------------------------------------------------

GAPS = (RecordedGap("A1", "laptop", 2, 0, 2, 0, 0, 0), RecordedGap("A1", "printer", 4, 1, 3, 0, 0, 0),
        RecordedGap("W1", "desktop", 10, 4, 6, 0, 1, 0), RecordedGap("W1", "printer", 2, 3, 0, 1, 0, 0),
        RecordedGap("W2", "desktop", 5, 5, 0, 0, 0, 2))


def test_the_gap_heatmap_puts_the_largest_shortfall_first_with_usable_less_required():
    chart = readiness.gap_heatmap(GAPS, CATEGORY_NAMES, UNIT_NAMES, devices_href, "en")
    cells = chart.figure.data[0]
    # W1 is 6 short, A1 5, W2 none; a cell of a category the unit has no gap in is blank.
    assert list(cells.y) == ["Ward One (W1)", "Agency One (A1)", "W2 (W2)"]
    assert list(cells.x) == ["Desktop computer", "laptop", "Printer"]
    assert [list(row) for row in cells.z] == [[-6, None, 1], [None, -2, -3], [0, None, None]]
    assert (cells.zmin, cells.zmax, cells.zmid) == (-6, 6, 0)
    assert list(cells.text[0]) == ["required 10, usable 4", "", "required 2, usable 3"]
    assert [list(row) for row in cells.customdata] == [
        [devices_href(u, c) for c in ("desktop", "laptop", "printer")] for u in ("W1", "A1", "W2")]
    assert chart.table.rows[2] == ("W1", "Ward One", "Desktop computer", "desktop", 10, 4, 6, 0, 1, 0)
    assert chart.table.rows[4] == ("W2", "", "Desktop computer", "desktop", 5, 5, 0, 0, 0, 2)
    assert chart.table.hrefs == tuple(devices_href(g.unit_code, g.category) for g in GAPS)
    assert chart.note.startswith("The 3 units with the largest shortfall;")


def test_the_heatmap_shows_thirty_units_and_its_table_all_of_them():
    gaps = [RecordedGap(f"U{n:02}", "desktop", n, 0, n, 0, 0, 0) for n in range(1, 33)]
    chart = readiness.gap_heatmap(gaps, {}, {}, devices_href, "en")
    assert list(chart.figure.data[0].y) == [f"U{n:02} (U{n:02})" for n in range(32, 2, -1)]
    assert (len(chart.table.rows), chart.figure.data[0].zmin) == (32, -32)
    assert chart.note.startswith("The 30 units with the largest shortfall;")


# ---- readiness and the headline figures over time --------------------------------------------------------------

def day(on: dt.date, required: int, covered: int, secure: tuple[int, int], vc: tuple[int, int],
        scanners: tuple[int, int]) -> RecordedDay:
    return RecordedDay(on, Readiness("", required, covered),
                       (Figure("secure_network_staff", *secure), Figure("wards_with_vc", *vc),
                        Figure("archive_scanners", *scanners)))


DAYS = [day(dt.date(2026, 10, 1), 40, 10, (10, 100), (0, 4), (1, 3)),
        day(dt.date(2026, 10, 17), 40, 20, (30, 100), (1, 4), (1, 3)),
        day(dt.date(2026, 11, 15), 40, 30, (45, 100), (2, 4), (2, 3))]


def test_the_headlines_compare_the_last_day_with_the_one_thirty_days_before():
    # 17/10 is 29 days before 15/11: the change is since the day before it.
    chart = readiness.headline_indicators(DAYS, 30, "en")
    assert [(i.value, i.delta.reference, i.mode) for i in chart.figure.data] == [
        (45.0, 10.0, "number+delta"), (50.0, 0.0, "number+delta"), (66.7, 33.3, "number+delta")]
    assert chart.note == "On 15/11/2026; the change is since 01/10/2026."
    assert chart.table.rows[-3:] == (
        (dt.date(2026, 11, 15), "Staff with a usable computer on the secure network", "secure_network_staff", 45, 100,
         45.0),
        (dt.date(2026, 11, 15), "Wards and communes with a working video-conference endpoint", "wards_with_vc", 2, 4,
         50.0),
        (dt.date(2026, 11, 15), "Units with the scanners their archive digitisation needs", "archive_scanners", 2, 3,
         66.7))


def test_a_figure_with_nothing_to_count_shows_no_number_and_no_change():
    """No ward in the subtree (0 of 0): plotly draws "-" rather than a 0.0% the city never measured."""
    nothing = [RecordedDay(day.day, day.readiness, (day.figures[0], Figure("wards_with_vc", 0, 0), day.figures[2]))
               for day in DAYS]
    chart = readiness.headline_indicators(nothing, 30, "en")
    assert [(i.value, i.mode, i.delta.reference) for i in chart.figure.data] == [
        (45.0, "number+delta", 10.0), (None, "number", None), (66.7, "number+delta", 33.3)]
    assert chart.figure.data[1].title.text.endswith("<br>0 of 0")


def test_without_a_recorded_day_the_headlines_say_so():
    chart = readiness.headline_indicators([], 30, "en")
    assert [(i.value, i.mode) for i in chart.figure.data] == [(None, "number")] * 3
    assert (chart.note, chart.empty, chart.table.rows) == ("", NOTHING_RECORDED, ())
    assert readiness.gap_heatmap((), {}, {}, devices_href, "en").empty == NOTHING_RECORDED
    assert readiness.readiness_history([], {}, "City", "en").empty == NOTHING_RECORDED
    assert readiness.readiness_tree(UNITS, {}, KINDS, unit_href, "en").empty == NOTHING_RECORDED
    assert readiness.readiness_tree(UNITS, SCORES, KINDS, unit_href, "en").empty == ""


def test_readiness_history_draws_the_subtree_beside_its_units():
    chart = readiness.readiness_history(DAYS, {"Ward One": DAYS[1:]}, "City", "en")
    assert [(t.name, list(t.x), list(t.y)) for t in chart.figure.data] == [
        ("City", ["2026-10-01", "2026-10-17", "2026-11-15"], [25.0, 50.0, 75.0]),
        ("Ward One", ["2026-10-17", "2026-11-15"], [50.0, 75.0])]
    assert chart.table.rows[0] == (dt.date(2026, 10, 1), 25.0, 40, 10)
    assert chart.table.records()[0] == {"day": "2026-10-01", "score": 25.0, "required": 40, "covered": 10}


# ---- lifecycle and age -----------------------------------------------------------------------------------------

def test_quarters_wrap_into_the_next_years():
    assert lifecycle.quarters_from(ON, 6) == ["2026-Q4", "2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4", "2028-Q1"]
    assert lifecycle.quarters_from(dt.date(2027, 1, 1), 2) == ["2027-Q1", "2027-Q2"]
    assert (lifecycle.quarter_of(dt.date(2027, 3, 31)), lifecycle.quarter_of(dt.date(2027, 4, 1))) == (
        "2027-Q1", "2027-Q2")


def test_first_due_is_the_earlier_of_end_of_support_and_service_life():
    both = LifecycleCount("desktop", dt.date(2022, 2, 10), dt.date(2027, 5, 31), 3)
    assert lifecycle.first_due(both, 5) == (dt.date(2027, 2, 10), "service_life")
    assert lifecycle.first_due(both, 6) == (dt.date(2027, 5, 31), "end_of_support")
    assert lifecycle.first_due(both, None) == (dt.date(2027, 5, 31), "end_of_support")
    leap = LifecycleCount("desktop", dt.date(2020, 2, 29), None, 1)
    assert lifecycle.first_due(leap, 5) == (dt.date(2025, 2, 28), "service_life")
    assert lifecycle.first_due(LifecycleCount("printer", None, None, 5), 5) is None


LIFECYCLE = [
    LifecycleCount("core_switch", None, dt.date(2027, 8, 15), 1),  # end of support in 2027-Q3
    LifecycleCount("core_switch", dt.date(2024, 1, 1), dt.date(2026, 12, 31), 2),  # support ends before 2031
    LifecycleCount("desktop", dt.date(2021, 6, 1), None, 4),  # five years passed on 1 June 2026: already due
    LifecycleCount("desktop", dt.date(2022, 2, 10), dt.date(2027, 5, 31), 3),  # service life first: 2027-Q1
    LifecycleCount("desktop", dt.date(2025, 1, 1), None, 7),  # 2030: past the three years shown
    LifecycleCount("printer", dt.date(2018, 3, 1), None, 2),  # no service life, no end of support: never due
    LifecycleCount("printer", None, None, 5),
]
LIVES = {"core_switch": 7, "desktop": 5, "printer": None}
PRICES = {"core_switch": 48_000_000, "desktop": 15_500_000}


def test_the_lifecycle_timeline_counts_each_device_once_at_its_first_due_date():
    chart = lifecycle.lifecycle_timeline(LIFECYCLE, LIVES, PRICES, CATEGORY_NAMES, ON, "en")
    support, life, money = chart.figure.data
    assert list(support.x) == ["already due", *lifecycle.quarters_from(ON, 12)]
    assert (support.name, life.name, money.name) == ("end of support", "end of service life", "Replacement money")
    assert list(support.y) == [0, 2, 0, 0, 1] + [0] * 8
    assert list(life.y) == [4, 0, 3] + [0] * 10
    assert list(money.y) == [62_000_000, 96_000_000, 46_500_000, 0, 48_000_000] + [0] * 8
    assert chart.table.rows == (
        ("already due", "end of service life", "Desktop computer", "desktop", 4, 62_000_000),
        ("2026-Q4", "end of support", "core_switch", "core_switch", 2, 96_000_000),
        ("2027-Q1", "end of service life", "Desktop computer", "desktop", 3, 46_500_000),
        ("2027-Q3", "end of support", "core_switch", "core_switch", 1, 48_000_000))
    assert chart.empty == ""
    never = lifecycle.lifecycle_timeline(LIFECYCLE[4:], LIVES, PRICES, CATEGORY_NAMES, ON, "en")
    assert (never.table.rows, never.empty) == ((), (
        "No device of these units falls due in the next three years, or none has a purchase date or an approved "
        "model with an end of support: record them on the devices' pages or in an import."))


def test_a_category_without_a_price_counts_its_devices_and_says_its_money_is_not_counted():
    unpriced = {k: v for k, v in PRICES.items() if k != "core_switch"}
    chart = lifecycle.lifecycle_timeline(LIFECYCLE, LIVES, unpriced, CATEGORY_NAMES, ON, "en")
    _support, _life, money = chart.figure.data
    assert list(money.y) == [62_000_000, 0, 46_500_000, 0, 0] + [0] * 8
    assert [row[4:] for row in chart.table.rows] == [(4, 62_000_000), (2, None), (3, 46_500_000), (1, None)]
    assert chart.note.endswith("No price for core_switch: their money is not counted.")


def test_ages_past_nine_years_share_a_bar_and_unknown_purchase_dates_have_their_own():
    counts = [LifecycleCount("desktop", dt.date(2026, 1, 10), None, 2),
              LifecycleCount("desktop", dt.date(2016, 11, 15), None, 1),  # ten years today
              LifecycleCount("desktop", dt.date(2016, 11, 16), None, 4),  # ten years tomorrow: nine
              LifecycleCount("desktop", None, None, 3),
              LifecycleCount("printer", dt.date(2001, 5, 5), None, 1),
              LifecycleCount("printer", dt.date(2001, 6, 6), dt.date(2010, 1, 1), 2)]
    chart = lifecycle.age_distribution(counts, CATEGORY_NAMES, ON, "en")
    desktops, printers = chart.figure.data
    assert list(desktops.x) == [str(n) for n in range(10)] + ["10 and more", "not known"]
    assert (desktops.name, printers.name) == ("Desktop computer", "Printer")
    assert list(desktops.y) == [2, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1, 3]
    assert list(printers.y) == [0] * 10 + [3, 0]
    assert chart.table.rows == (("Desktop computer", "desktop", "0", 2), ("Desktop computer", "desktop", "9", 4),
                                ("Desktop computer", "desktop", "10 and more", 1),
                                ("Desktop computer", "desktop", "not known", 3),
                                ("Printer", "printer", "10 and more", 3))


# ---- scan coverage and collectors -------------------------------------------------------------------------------

def test_scan_coverage_puts_units_never_seen_first_then_those_unseen_longest():
    seen = {("W1", "nmap"): NOW - dt.timedelta(days=2, hours=3), ("W1", "agent"): NOW - dt.timedelta(days=10),
            ("A1", "snmp"): NOW - dt.timedelta(days=40), ("A1", "import"): NOW - dt.timedelta(days=400)}
    units = [UNITS[1], UNITS[3], UNITS[4]]
    names = {"agent": "inventory agent", "nmap": "nmap sweep", "snmp": "SNMP poll", "import": "imported"}
    chart = coverage.scan_coverage(units, seen, NOW, unit_href, names, "en")
    cells = chart.figure.data[0]
    assert list(cells.x) == ["inventory agent", "nmap sweep", "SNMP poll", "imported"]
    assert list(cells.y) == ["Ward Two (W2)", "Agency One (A1)", "Ward One (W1)"]
    assert [list(row) for row in cells.z] == [[None, None, None, None], [None, None, 40, 400], [10, 2, None, None]]
    assert cells.zmax == 400
    assert [list(row) for row in cells.customdata][0] == ["/dashboards/units/W2"] * 4
    assert chart.table.rows[:4] == (
        ("A1", "Agency One", "inventory agent", "agent", None, None),
        ("A1", "Agency One", "nmap sweep", "nmap", None, None),
        ("A1", "Agency One", "SNMP poll", "snmp", NOW - dt.timedelta(days=40), 40),
        ("A1", "Agency One", "imported", "import", NOW - dt.timedelta(days=400), 400))
    assert len(chart.table.rows) == 12


def test_collectors_hours_since_their_last_contact():
    rows = [CollectorRow("gw-w1", "W1", "online", NOW - dt.timedelta(minutes=90), 0, "/collectors/1"),
            CollectorRow("gw-w2", "W2", "never", None, 3, "/collectors/2")]
    chart = coverage.collector_contact(rows, {"online": "online", "never": "never called"}, NOW, "en")
    bars = chart.figure.data[0]
    assert (list(bars.x), list(bars.y)) == ([1.5, 0], ["gw-w1", "gw-w2"])
    assert chart.table.rows == (("gw-w1", "W1", "online", NOW - dt.timedelta(minutes=90), 1.5, 0),
                                ("gw-w2", "W2", "never called", None, None, 3))
    assert (chart.empty, coverage.collector_contact([], {}, NOW, "en").empty) == (
        "", "No collector is issued for these units: a site whose network the server cannot reach gets one on the "
            "Collectors page.")


# ---- the budget ------------------------------------------------------------------------------------------------

# A plan's money as budget.scenarios.plan_sums gives it: unit, category, year, priority, quantity × unit price.
LINES = [PlanSum("W1", "desktop", 2027, 1, 2 * 15_500_000),
         PlanSum("W1", "printer", 2027, 3, 6_200_000),
         PlanSum("W2", "desktop", 2028, 2, 3 * 2_450_000),
         PlanSum("W2", "desktop", 2028, 1, 15_500_000),
         PlanSum("A1", "core_switch", None, 1, 48_000_000),
         PlanSum("A1", "printer", None, 2, 2 * 6_200_000),
         PlanSum("A1", "desktop", 2027, 1, 15_500_000)]


def test_the_plan_by_year_stacks_priorities_and_puts_unfunded_lines_last():
    chart = plans.budget_by_year(LINES, {1: "P1", 2: "P2", 3: "P3"}, "en")
    assert chart.figure.layout.barmode == "stack"
    assert [(b.name, list(b.x), list(b.y)) for b in chart.figure.data] == [
        ("P1", ["2027", "2028", "not funded"], [46_500_000, 15_500_000, 48_000_000]),
        ("P2", ["2027", "2028", "not funded"], [0, 7_350_000, 12_400_000]),
        ("P3", ["2027", "2028", "not funded"], [6_200_000, 0, 0])]
    assert chart.table.rows == (("2027", 1, 46_500_000), ("2027", 3, 6_200_000), ("2028", 1, 15_500_000),
                                ("2028", 2, 7_350_000), ("not funded", 1, 48_000_000), ("not funded", 2, 12_400_000))
    assert sum(r[2] for r in chart.table.rows) == sum(line.total_vnd for line in LINES)


def test_the_plan_by_unit_orders_the_dearest_first_with_each_priority():
    chart = plans.budget_by(LINES, lambda line: line.unit_code, lambda code: UNIT_NAMES.get(code, code),
                              "budget-by-unit", "By unit", Column("unit", "Unit"), "en", limit=2)
    assert [(b.name, list(b.y), list(b.x)) for b in chart.figure.data] == [
        ("P1", ["Agency One", "Ward One"], [63_500_000, 31_000_000]),
        ("P2", ["Agency One", "Ward One"], [12_400_000, 0]), ("P3", ["Agency One", "Ward One"], [0, 6_200_000])]
    assert chart.table.rows == (("A1", "Agency One", 75_900_000, 63_500_000, 12_400_000, 0),
                                ("W1", "Ward One", 37_200_000, 31_000_000, 0, 6_200_000),
                                ("W2", "W2", 22_850_000, 15_500_000, 7_350_000, 0))
    assert chart.note == "The 2 largest; the table lists them all."


TARGETED = PlanTotal(7, "Targeted 2027", "targeted", 170_050_000, 157_650_000, True, "/budget/scenarios/7")
BLANKETS = [PlanTotal(8, "Every 5 years", "blanket_age", 412_300_000, 170_000_000, False, "/budget/scenarios/8"),
            PlanTotal(9, "Standard kit", "standard_kit", 265_000_000, 160_000_000, False, "/budget/scenarios/9")]
SCENARIO_KINDS = {"targeted": "targeted", "blanket_age": "replace by age", "standard_kit": "standard kit"}


def test_the_targeted_plan_beside_the_blanket_ones_with_its_saving():
    chart = plans.plan_comparison(TARGETED, BLANKETS, SCENARIO_KINDS, "en")
    bars = chart.figure.data[0]
    assert (list(bars.x), list(bars.y)) == (["Targeted 2027", "Every 5 years", "Standard kit"],
                                            [170_050_000, 412_300_000, 265_000_000])
    assert list(bars.marker.color) == ["#1a9641", "#878787", "#878787"]
    assert [list(c) for c in bars.customdata] == [["targeted", "/budget/scenarios/7"],
                                                  ["replace by age", "/budget/scenarios/8"],
                                                  ["standard kit", "/budget/scenarios/9"]]
    assert [row[4] for row in chart.table.rows] == [None, 242_250_000, 94_950_000]
    assert chart.note == "The targeted plan costs ₫242,250,000 less than the dearest blanket one."


def test_the_saving_note_is_written_in_the_page_s_money_format():
    with force_locale("vi"):
        chart = plans.plan_comparison(TARGETED, BLANKETS, SCENARIO_KINDS, "vi")
    assert "242.250.000\xa0₫" in chart.note


def test_without_a_blanket_or_a_targeted_plan_the_note_says_what_to_save():
    assert plans.plan_comparison(TARGETED, [], SCENARIO_KINDS, "en").note == (
        "Save a blanket scenario for the same unit on the budget page to see what the targeted plan saves.")
    empty = plans.plan_comparison(None, BLANKETS, SCENARIO_KINDS, "en")
    assert (empty.note, empty.empty) == ("", NO_PLAN)
    assert [row[4] for row in empty.table.rows] == [None, None]
    assert plans.budget_by_year([], {}, "en").empty == NO_PLAN
    assert plans.budget_by_year(LINES, {}, "en").empty == ""


# ---- tables ----------------------------------------------------------------------------------------------------

def test_a_table_s_records_and_csv_keep_plain_values():
    found = table([Column("day", "Day", "day"), Column("total_vnd", "Amount", "vnd")],
                  [(dt.date(2026, 11, 15), 15_500_000)])
    assert found.records() == [{"day": "2026-11-15", "total_vnd": 15_500_000}]
    assert as_csv(found).decode("utf-8-sig").splitlines() == ["Day,Amount", "2026-11-15,15500000"]
    with pytest.raises(ValueError, match="column x: unknown kind 'money'"):
        Column("x", "X", "money")
