"""What the dashboards read live from the other packages: catalog.reports.lifecycle_counts (the lifecycle timeline
and the age distribution) and inventory.devices.last_observed (scan coverage), on both databases over the example
city of tests/budget/test_load.py."""
import datetime as dt
import threading

from sqlalchemy import func, select

from catalog.reports import LifecycleCount, _standing_for, lifecycle_counts
from catalog.rules import add_years, full_years
from core.time import utcnow
from dashboards import records
from dashboards.models import CoverageRecord, LifecycleRecord
from inventory.devices import last_observed, move_device
from inventory.ingest import IngestBatch, ingest
from inventory.models import Unit
from inventory.observations import ObservedDevice
from tests.budget.test_load import COMPLIANT_PC, T0, TODAY, city, pc  # noqa: F401  (fixture)


def ids_of(session, *codes: str) -> set[int]:
    return set(session.scalars(select(Unit.id).where(Unit.code.in_(codes))))


def seen(sessions, method: str, at: dt.datetime, *devices: tuple[str, str]) -> None:
    """(unit, serial) observed by `method` at `at`."""
    with sessions() as session, session.begin():
        ingest(session, IngestBatch([ObservedDevice(method=method, observed_at=at, unit_code=unit,
                                                    source=f"{method} test", fields={"serial": serial})
                                     for unit, serial in devices]))


def test_lifecycle_counts_group_the_held_devices_of_a_category(sessions, city):  # noqa: F811
    with sessions() as session:
        found = lifecycle_counts(session, ids_of(session, "VD-P01"), TODAY)
    # The retired PC counts nowhere and the PDU has no category; the broken PC is still held. The Catalyst's
    # approved model ended its support on 31/01/2018; the desktops' models have no end of support. A purchase
    # stands as the 1st of its month when its day is at most TODAY's (the 7th), as the 8th when later: 02/05/2023
    # as 01/05/2023, 15/09/2025 as 08/09/2025.
    assert found == [LifecycleCount("core_switch", None, dt.date(2018, 1, 31), 1),
                     LifecycleCount("desktop", dt.date(2020, 3, 1), None, 1),
                     LifecycleCount("desktop", dt.date(2023, 5, 1), None, 1),
                     LifecycleCount("desktop", dt.date(2024, 3, 1), None, 3),
                     LifecycleCount("desktop", dt.date(2025, 9, 8), None, 1)]


def test_a_purchase_stands_for_its_month_with_the_same_age_and_service_life_end():
    """lifecycle_counts groups purchases by year, month and whether their day is past the day asked for; the date
    each group stands as gives every purchase of it the same full years on that day, and the same month for the end
    of a service life, whatever the day and the month's length (29 February included)."""
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=n) for n in range(0, 2200, 3)]
    for on in (dt.date(2026, 12, 7), dt.date(2026, 2, 28), dt.date(2028, 2, 29), dt.date(2026, 3, 31),
               dt.date(2026, 1, 1)):
        for bought in days:
            later = bought.day > on.day
            standing = _standing_for(bought.year, bought.month, later, on)
            assert (full_years(standing, on), standing.year, standing.month) == (
                full_years(bought, on), bought.year, bought.month), (bought, on)
            assert add_years(standing, 5).month == add_years(bought, 5).month


def desktops(bought: dt.date | None, count: int = 1) -> LifecycleCount:
    return LifecycleCount("desktop", bought, None, count)


def by_purchase(found: LifecycleCount) -> tuple:
    return (found.category, found.bought is None, found.bought)


def test_lifecycle_counts_are_cut_to_the_units_asked_for(sessions, city):  # noqa: F811
    with sessions() as session:
        p02 = lifecycle_counts(session, ids_of(session, "VD-P02"), TODAY)
        both = lifecycle_counts(session, ids_of(session, "VD-P02", "VD-STC-NS"), TODAY)
        none = lifecycle_counts(session, set(), TODAY)
        every = lifecycle_counts(session, None, TODAY)
    # 10/01/2022 stands as 08/01/2022 (its day is past TODAY's); a device without a purchase date comes last.
    assert p02 == [desktops(dt.date(2022, 1, 8)), desktops(dt.date(2023, 1, 1)), desktops(dt.date(2025, 6, 1)),
                   desktops(None)]
    # VD-STC-NS's PC was bought on 01/03/2024, as none of VD-P02's.
    assert both == [desktops(dt.date(2022, 1, 8)), desktops(dt.date(2023, 1, 1)), desktops(dt.date(2024, 3, 1)),
                    desktops(dt.date(2025, 6, 1)), desktops(None)]
    assert none == []
    assert sum(c.count for c in every) == 13  # VD-P01's 7, VD-P02's 4, VD-STC-NS's and VD-X02's PCs


def test_a_missing_device_leaves_the_lifecycle(sessions, city):  # noqa: F811
    with sessions() as session, session.begin():
        ingest(session, IngestBatch([ObservedDevice(method="import", observed_at=T0, unit_code="VD-STC-NS",
                                                    source="assets.xlsx row 50",
                                                    fields=pc("DL3002", "2024-03-01", status="missing"),
                                                    specs=COMPLIANT_PC),
                                     ObservedDevice(method="import", observed_at=T0, unit_code="VD-STC-NS",
                                                    source="assets.xlsx row 51",
                                                    fields=pc("DL3003", "2024-03-01", status="spare"),
                                                    specs=COMPLIANT_PC)]))
    with sessions() as session:
        found = lifecycle_counts(session, ids_of(session, "VD-STC-NS"), TODAY)
    assert found == [LifecycleCount("desktop", dt.date(2024, 3, 1), None, 2)]  # in use and spare


def test_last_observed_is_the_latest_sighting_per_unit_and_method(sessions, city):  # noqa: F811
    seen(sessions, "nmap", T0 - dt.timedelta(days=3), ("VD-P01", "DL1003"))
    seen(sessions, "nmap", T0 + dt.timedelta(days=1), ("VD-P01", "DL1001"), ("VD-STC-NS", "DL3001"))
    seen(sessions, "snmp", T0 + dt.timedelta(days=5, hours=2), ("VD-P01", "FOC1001"))
    with sessions() as session:
        found = last_observed(session, ids_of(session, "VD-P01", "VD-P02", "VD-STC-NS"))
        p02 = last_observed(session, ids_of(session, "VD-P02"))
        nothing = last_observed(session, ids_of(session, "VD-P03"))  # no device
    assert found == {("VD-P01", "import"): T0, ("VD-P01", "nmap"): T0 + dt.timedelta(days=1),
                     ("VD-P01", "snmp"): T0 + dt.timedelta(days=5, hours=2), ("VD-P02", "import"): T0,
                     ("VD-STC-NS", "import"): T0, ("VD-STC-NS", "nmap"): T0 + dt.timedelta(days=1)}
    assert (p02, nothing) == ({("VD-P02", "import"): T0}, {})


def test_a_moved_device_s_sightings_count_for_its_unit_now(sessions, city):  # noqa: F811
    seen(sessions, "agent", T0 + dt.timedelta(days=2), ("VD-P02", "LN2001"))
    before = utcnow()
    with sessions() as session, session.begin():
        move_device(session, city["p02-a"], "VD-P03", by="test")  # a person's move: a manual observation, now
    with sessions() as session:
        found = last_observed(session, ids_of(session, "VD-P02", "VD-P03"))
    moved_at = found.pop(("VD-P03", "manual"))
    assert before <= moved_at <= utcnow()
    assert found == {("VD-P02", "import"): T0, ("VD-P03", "import"): T0,
                     ("VD-P03", "agent"): T0 + dt.timedelta(days=2)}


# ---- the dashboards' own record --------------------------------------------------------------------------------

def test_the_record_holds_what_the_live_counts_say_per_unit_and_summed(sessions, city):  # noqa: F811
    seen(sessions, "nmap", T0 + dt.timedelta(days=1), ("VD-P01", "DL1001"), ("VD-STC-NS", "DL3001"))
    with sessions() as session, session.begin():
        written = records.record_day(session, "tests", TODAY)
    with sessions() as session:
        units = {"VD-P01": ids_of(session, "VD-P01"), "P02 and NS": ids_of(session, "VD-P02", "VD-STC-NS")}
        for label, unit_ids in [*units.items(), ("every unit", None)]:
            assert records.recorded_lifecycle(session, unit_ids) == (
                TODAY, lifecycle_counts(session, unit_ids, TODAY)), label
            assert records.recorded_coverage(session, unit_ids) == (TODAY, last_observed(session, unit_ids)), label
        lifecycle_rows = session.scalar(select(func.count()).select_from(LifecycleRecord))
        coverage_rows = session.scalar(select(func.count()).select_from(CoverageRecord))
    # Per unit: VD-P01 5 (the core switch, four purchase months of desktops), VD-P02 4, VD-STC-NS 1, VD-X02 1;
    # coverage: four units imported, two of them also swept by nmap.
    assert (lifecycle_rows, coverage_rows, written) == (11, 6, 17)


def test_a_record_replaces_the_last_one_and_nothing_recorded_is_empty(sessions, city):  # noqa: F811
    with sessions() as session:
        assert records.recorded_lifecycle(session, None) == (None, [])
        assert records.recorded_coverage(session, None) == (None, {})
    with sessions() as session, session.begin():
        records.record_day(session, "tests", TODAY - dt.timedelta(days=1))
        records.record_day(session, "tests", TODAY)
    with sessions() as session:
        days = set(session.scalars(select(LifecycleRecord.day))) | set(session.scalars(select(CoverageRecord.day)))
        day, counts = records.recorded_lifecycle(session, ids_of(session, "VD-P03"))  # a ward without devices
    assert (days, day, counts) == ({TODAY}, TODAY, [])


def test_two_processes_recording_at_once_leave_one_record(sessions, city):  # noqa: F811
    """Two workers' schedulers (or a worker and the button) record together: one waits for the other
    (core.db.one_at_a_time), and the record is one day's, not two days' rows."""
    start = threading.Barrier(2)
    failures = []

    def record():
        try:
            with sessions() as session, session.begin():
                start.wait(timeout=10)
                records.record_day(session, "tests", TODAY)
        except Exception as failure:  # noqa: BLE001  (reported below, with what it was)
            failures.append(repr(failure))

    threads = [threading.Thread(target=record) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with sessions() as session:
        rows = (session.scalar(select(func.count()).select_from(LifecycleRecord)),
                session.scalar(select(func.count()).select_from(CoverageRecord)))
    assert (failures, rows) == ([], (11, 4))
