"""What the dashboards read, recorded by budget.scores.record_day (`flask budget readiness`, the nightly run, the
dashboards' button): each unit's readiness and its part of the city's figures per day, and the gaps of the latest
day recorded. On both databases, over the example city of tests/budget/test_load.py (TODAY, its devices), with a
video-conference endpoint in VD-P01 and three PCs a scan saw on the secure network added after EARLIER."""
import datetime as dt

from sqlalchemy import func, select

from budget import scores, services
from budget.models import GapRecord, HeadlineFigure, ReadinessScore
from budget.readiness import Figure, Readiness
from budget.scores import RecordedDay, RecordedGap
from inventory.ingest import IngestBatch, ingest
from inventory.models import Unit
from inventory.observations import ObservedDevice
from inventory.units import subtree_ids
from tests.budget.test_load import COMPLIANT_PC, T0, TODAY, city, pc  # noqa: F401  (fixture)

EARLIER = TODAY - dt.timedelta(days=30)
SCANNED_AT = T0 + dt.timedelta(days=1)
# (unit, serial) of the PCs an nmap scan of the secure network saw: two of VD-P01's three usable desktops and
# VD-STC-NS's only one.
ON_SECURE = [("VD-P01", "DL1001"), ("VD-P01", "DL1002"), ("VD-STC-NS", "DL3001")]
PARTS = ("staff", "secure_staff", "ward", "ward_vc", "needs_scanners", "scanners_ok")


def add_endpoint_and_scan(sessions) -> int:
    """A Poly endpoint for VD-P01 (an approved model, bought 15/01/2025) from the asset register, and a scan of the
    secure network that saw ON_SECURE; the endpoint's id."""
    with sessions() as session, session.begin():
        [endpoint] = ingest(session, IngestBatch([ObservedDevice(
            method="import", observed_at=T0, unit_code="VD-P01", source="assets.xlsx row 40",
            fields={"device_class": "video-conference", "vendor": "Poly", "model": "Studio X30", "serial": "PL1001",
                    "purchase_date": "2025-01-15"})])).device_ids
    with sessions() as session, session.begin():
        ingest(session, IngestBatch([ObservedDevice(method="nmap", observed_at=SCANNED_AT, unit_code=unit,
                                                    source="scan of 10.10.0.0/24", fields={"serial": serial})
                                     for unit, serial in ON_SECURE], network="secure"))
    return endpoint


def record(sessions, on: dt.date) -> tuple[int, tuple[Figure, ...]]:
    with sessions() as session, session.begin():
        return scores.record_day(session, on, by="test")


def record_two_days(sessions) -> int:
    """EARLIER recorded over the example city as it was, TODAY after the endpoint and the scan; the endpoint's
    id."""
    record(sessions, EARLIER)
    endpoint = add_endpoint_and_scan(sessions)
    record(sessions, TODAY)
    return endpoint


def stored_parts(session, on: dt.date) -> dict[str, tuple]:
    rows = session.execute(select(Unit.code, ReadinessScore.required, ReadinessScore.covered, ReadinessScore.score,
                                  *(getattr(ReadinessScore, p) for p in PARTS))
                           .join(Unit, Unit.id == ReadinessScore.unit_id).where(ReadinessScore.day == on))
    return {row[0]: tuple(row[1:]) for row in rows}


def test_recording_a_day_stores_each_unit_s_readiness_and_figure_parts(sessions, city):  # noqa: F811
    add_endpoint_and_scan(sessions)
    count, figures = record(sessions, TODAY)
    with sessions() as session:
        parts = stored_parts(session, TODAY)
    assert (count, len(parts)) == (15, 15)
    # (required, covered, score, staff, secure staff, ward, ward with an endpoint, needs scanners, scanners ok).
    # VD-P01: tests/budget/test_scenarios.py's 33 and 9, and the endpoint's weight 3 (a ward's priority 1) covered:
    # 1200 / 33; two of its 5 staff have a usable PC on the secure network; no pages to digitise, no scanner.
    assert parts["VD-P01"] == (33, 12, 36.4, 5, 2, 1, 1, 0, 0)
    assert parts["VD-P02"] == (24, 6, 25.0, 2, 0, 1, 0, 0, 0)  # no endpoint
    assert parts["VD-STC-NS"] == (111, 3, 2.7, 30, 1, 0, 0, 0, 0)  # its one PC, on the secure network
    assert parts["VD-STC"] == (459, 0, 0.0, 120, 0, 0, 0, 1, 0)  # 250,000 pages to digitise, no scanner
    assert parts["VD"] == (0, 0, None, 0, 0, 0, 0, 0, 0)  # the city itself: nothing required, no staff
    # The example's 682 staff, its 6 wards and communes, its 9 units with pages to digitise (VD-P01 and VD-P02's
    # facts say none).
    assert [(f.key, f.count, f.out_of) for f in figures] == [
        ("secure_network_staff", 3, 682), ("wards_with_vc", 1, 6), ("archive_scanners", 0, 9)]
    assert sum(p[PARTS.index("needs_scanners") + 3] for p in parts.values()) == 9
    with sessions() as session:
        stored = session.execute(select(HeadlineFigure.key, HeadlineFigure.count, HeadlineFigure.out_of)
                                 .where(HeadlineFigure.day == TODAY).order_by(HeadlineFigure.key)).all()
    assert [tuple(r) for r in stored] == [("archive_scanners", 0, 9), ("secure_network_staff", 3, 682),
                                          ("wards_with_vc", 1, 6)]


def gap_rows(session) -> list[tuple]:
    return [tuple(r) for r in session.execute(
        select(GapRecord.day, Unit.code, GapRecord.category_code, GapRecord.required, GapRecord.usable,
               GapRecord.shortfall, GapRecord.surplus, GapRecord.replacements, GapRecord.upgrades)
        .join(Unit, Unit.id == GapRecord.unit_id).order_by(Unit.code, GapRecord.category_code))]


def test_only_the_latest_day_s_gaps_are_kept(sessions, city):  # noqa: F811
    record_two_days(sessions)
    with sessions() as session:
        rows = gap_rows(session)
        live = services.unit_gaps(session, "VD", None, on=TODAY).gaps
    assert {r[0] for r in rows} == {TODAY}
    assert rows == sorted((TODAY, g.unit_code, g.category, g.required, g.usable, g.shortfall, g.surplus,
                           g.replacements, g.upgrade_candidates) for g in live)
    p01 = {r[2]: r[3:] for r in rows if r[1] == "VD-P01"}
    # 5 desktops required, 3 usable: 2 short; the 2020 PC and the broken one due for replacement, the slow one
    # below specification; the endpoint recorded TODAY.
    assert (p01["desktop"], p01["vc_endpoint"]) == ((5, 3, 2, 0, 2, 1), (1, 1, 0, 0, 0, 0))
    with sessions() as session:  # both days' readiness stays
        assert session.scalars(select(ReadinessScore.day).distinct().order_by(ReadinessScore.day)).all() == [
            EARLIER, TODAY]


def test_an_earlier_day_recorded_again_keeps_the_latest_gaps(sessions, city):  # noqa: F811
    record_two_days(sessions)
    with sessions() as session:
        before = gap_rows(session)
    with sessions() as session, session.begin():  # VD-P01 gets a fourth usable desktop
        ingest(session, IngestBatch([ObservedDevice(method="import", observed_at=T0, unit_code="VD-P01",
                                                    source="assets.xlsx row 41", fields=pc("DL1007", "2025-10-01"),
                                                    specs=COMPLIANT_PC)]))
    record(sessions, EARLIER)
    with sessions() as session:
        assert gap_rows(session) == before
        # EARLIER's readiness is replaced: the new PC and the endpoint count there (3 + 1 desktops and the
        # endpoint, weight 3: 15 of 33).
        assert stored_parts(session, EARLIER)["VD-P01"][:3] == (33, 15, 45.5)
        assert session.scalar(select(func.count()).select_from(ReadinessScore)
                              .where(ReadinessScore.day == EARLIER)) == 15
    record(sessions, TODAY)
    with sessions() as session:
        p01 = {r[2]: r[3:] for r in gap_rows(session) if r[1] == "VD-P01"}
    assert p01["desktop"] == (5, 4, 1, 0, 2, 1)


def test_recorded_days_sum_a_subtree_s_parts_into_the_three_figures(sessions, city):  # noqa: F811
    record_two_days(sessions)
    with sessions() as session:
        stc = scores.recorded_days(session, subtree_ids(session, "VD-STC"))
        wards = scores.recorded_days(session, subtree_ids(session, "VD-P01") | subtree_ids(session, "VD-P02"))
        last = scores.recorded_days(session, subtree_ids(session, "VD"), since=TODAY)
        first = scores.recorded_days(session, subtree_ids(session, "VD"), until=EARLIER)
    # VD-STC 459 + VD-STC-NS 111 + VD-STC-TCDN 90 required; NS's one PC (weight 3) covered; 120 + 30 + 25 staff;
    # only VD-STC has pages to digitise.
    assert stc == [
        RecordedDay(EARLIER, Readiness("", 660, 3), (Figure("secure_network_staff", 0, 175),
                                                     Figure("wards_with_vc", 0, 0), Figure("archive_scanners", 0, 1))),
        RecordedDay(TODAY, Readiness("", 660, 3), (Figure("secure_network_staff", 1, 175),
                                                   Figure("wards_with_vc", 0, 0), Figure("archive_scanners", 0, 1)))]
    assert wards == [
        RecordedDay(EARLIER, Readiness("", 57, 15), (Figure("secure_network_staff", 0, 7),
                                                     Figure("wards_with_vc", 0, 2), Figure("archive_scanners", 0, 0))),
        RecordedDay(TODAY, Readiness("", 57, 18), (Figure("secure_network_staff", 2, 7),
                                                   Figure("wards_with_vc", 1, 2), Figure("archive_scanners", 0, 0)))]
    assert (wards[0].readiness.score, wards[1].readiness.score) == (26.3, 31.6)
    assert [d.day for d in last] == [TODAY] and [d.day for d in first] == [EARLIER]
    assert [(f.count, f.out_of) for f in last[0].figures] == [(3, 682), (1, 6), (0, 9)]
    assert [(f.count, f.out_of) for f in first[0].figures] == [(0, 682), (0, 6), (0, 9)]
    assert (last[0].readiness.required, last[0].readiness.covered) == (2637, 24)


def test_recorded_scores_by_unit_on_a_day(sessions, city):  # noqa: F811
    record_two_days(sessions)
    with sessions() as session:
        found = scores.recorded_scores(session, subtree_ids(session, "VD-STC"), TODAY)
        before = scores.recorded_scores(session, subtree_ids(session, "VD-P01"), EARLIER)
    assert found == {"VD-STC": Readiness("VD-STC", 459, 0), "VD-STC-NS": Readiness("VD-STC-NS", 111, 3),
                     "VD-STC-TCDN": Readiness("VD-STC-TCDN", 90, 0)}
    assert before == {"VD-P01": Readiness("VD-P01", 33, 9)}


def test_the_recorded_gaps_of_a_subtree(sessions, city):  # noqa: F811
    record_two_days(sessions)
    with sessions() as session:
        found = scores.recorded_gaps(session, subtree_ids(session, "VD-STC"))
    assert (found.day, {g.unit_code for g in found.gaps}) == (TODAY, {"VD-STC", "VD-STC-NS", "VD-STC-TCDN"})
    assert found.recorded_at is not None
    assert [g for g in found.gaps if g.category == "desktop"] == [
        RecordedGap("VD-STC", "desktop", 120, 0, 120, 0, 0, 0), RecordedGap("VD-STC-NS", "desktop", 30, 1, 29, 0, 0, 0),
        RecordedGap("VD-STC-TCDN", "desktop", 25, 0, 25, 0, 0, 0)]


def test_units_without_recorded_gaps_have_none_but_the_day_is_told(sessions, city):  # noqa: F811
    with sessions() as session:
        assert scores.recorded_gaps(session, subtree_ids(session, "VD")) == scores.RecordedGaps(None, None, ())
    record(sessions, TODAY)
    with sessions() as session:
        found = scores.recorded_gaps(session, {-1})  # no recorded unit
        empty = scores.recorded_gaps(session, set())
        recorded_at = session.scalar(select(GapRecord.recorded_at).limit(1))
    assert (found.day, found.recorded_at, found.gaps) == (TODAY, recorded_at, ())
    assert (empty.day, empty.gaps) == (TODAY, ())


def test_a_day_recorded_before_the_units_parts_were_kept_shows_the_city_s_figures(sessions, city):  # noqa: F811
    """Migration 0019 gives the rows recorded before it zero parts: the whole organisation's days read the city's
    figures recorded beside them (headline_figure); a subtree's have none to read."""
    record(sessions, TODAY)
    before = TODAY - dt.timedelta(days=40)
    with sessions() as session, session.begin():
        p01 = session.scalar(select(Unit.id).where(Unit.code == "VD-P01"))
        session.add(ReadinessScore(unit_id=p01, day=before, required=30, covered=12, score=40.0))
        session.add_all(HeadlineFigure(day=before, key=key, count=count, out_of=out_of) for key, count, out_of in [
            ("secure_network_staff", 7, 700), ("wards_with_vc", 1, 6), ("archive_scanners", 0, 11)])
    with sessions() as session:
        city_days = scores.recorded_days(session, None)
        ward_days = scores.recorded_days(session, {p01})
    assert (city_days[0].day, city_days[0].readiness, city_days[0].figures) == (
        before, Readiness("", 30, 12), (Figure("secure_network_staff", 7, 700), Figure("wards_with_vc", 1, 6),
                                        Figure("archive_scanners", 0, 11)))
    assert ward_days[0].figures == (Figure("secure_network_staff", 0, 0), Figure("wards_with_vc", 0, 0),
                                    Figure("archive_scanners", 0, 0))
    with sessions() as session:  # a day with its parts: the city's figures are those parts' sums, either way
        today_city = scores.recorded_days(session, None)[-1].figures
        today_parts = scores.recorded_days(session, set(session.scalars(select(Unit.id))))[-1].figures
    assert today_city == today_parts
