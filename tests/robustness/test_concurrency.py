"""Writers at the same time, on PostgreSQL (the deployment database; SQLite has one writer at a time):
nothing duplicated, no update lost. Batches that name the same device take turns through PostgreSQL advisory
locks and row locks (inventory.ingest), batches about different devices do not; these tests are what would
notice if either stopped being so."""
import contextlib
import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from core.db import make_engine, make_session_factory, migrate
from inventory.ingest import MAX_IDENTITY_LOCKS, IngestBatch, IngestResult, ingest
from inventory.models import Device
from inventory.observations import ObservedDevice, ObservedInterface
from tests.robustness.databases import build_organisation
from tests.robustness.scenarios import T0, nmap_sees, race_api_writers, race_mac, race_two_ingestions, snmp_sees

pytestmark = pytest.mark.postgresql


def test_two_batches_describing_the_same_devices_at_once_make_one_record_each(robust_postgres_url):
    race = race_two_ingestions(robust_postgres_url, devices=200, rounds=2)
    assert race.errors == []
    assert race.devices == race.devices_expected == 400  # 200 new devices per round
    assert (race.duplicate_serials, race.duplicate_macs, race.split_records) == (0, 0, 0)


def test_fifty_api_writers_at_once_lose_no_update_and_make_one_device_of_one_serial(robust_postgres_url):
    race = race_api_writers(robust_postgres_url, writers=50)
    assert race.requests == 100
    assert race.failures == []  # every PATCH 200, every POST 201 (the same serial merges, as a person's record)
    assert race.server_errors == 0
    assert race.lost_updates == 0  # all 50 specs present on their five devices
    assert race.shared_serial_devices == 1


# Batches about different devices run side by side; a batch about a device another has open waits for it.

@pytest.fixture
def engine(robust_postgres_url):
    engine = make_engine(robust_postgres_url)
    migrate(engine)
    build_organisation(make_session_factory(engine))
    yield engine
    engine.dispose()


@contextlib.contextmanager
def held_open(engine, batch: IngestBatch) -> Iterator[None]:
    """`batch` ingested in a transaction of another thread, which commits when the block ends."""
    ingested, release, errors = threading.Event(), threading.Event(), []

    def run() -> None:
        try:
            with Session(engine) as session, session.begin():
                ingest(session, batch)
                ingested.set()
                release.wait(timeout=60)
        except Exception as error:  # re-raised below, in the test's thread
            errors.append(error)
            ingested.set()

    thread = threading.Thread(target=run)
    thread.start()
    assert ingested.wait(timeout=30)
    try:
        yield
    finally:
        release.set()
        thread.join(timeout=60)
        if errors:
            raise errors[0]


def ingest_within(engine, batch: IngestBatch, *, lock_timeout: str) -> IngestResult:
    """Ingest and commit `batch`, refused by PostgreSQL if it waits for a lock longer than `lock_timeout`."""
    with Session(engine) as session, session.begin():
        session.execute(text(f"SET LOCAL lock_timeout = '{lock_timeout}'"))
        return ingest(session, batch)


def test_a_batch_about_other_devices_does_not_wait_for_an_open_one(engine):
    ward_one = IngestBatch([nmap_sees(0, n) for n in range(50)])
    ward_two = IngestBatch([replace(nmap_sees(1, n), unit_code="W2") for n in range(50)])
    with held_open(engine, ward_one):
        result = ingest_within(engine, ward_two, lock_timeout="5s")  # the whole inventory locked: refused
    assert result.created == 50
    with Session(engine) as session:
        assert session.scalar(select(func.count(Device.id))) == 100


def test_a_batch_too_large_for_a_lock_per_identity_waits_for_every_open_batch_and_runs_alone(engine):
    large = IngestBatch([replace(nmap_sees(1, n), unit_code="W2") for n in range(MAX_IDENTITY_LOCKS)])
    with held_open(engine, IngestBatch([nmap_sees(0, 1)])):  # about other devices
        with pytest.raises(OperationalError, match="canceling statement due to lock timeout"):
            ingest_within(engine, large, lock_timeout="1s")
    assert ingest_within(engine, large, lock_timeout="5s").created == MAX_IDENTITY_LOCKS


def test_a_batch_naming_a_mac_an_open_batch_names_waits_for_it_then_joins_its_device(engine):
    with held_open(engine, IngestBatch([nmap_sees(0, 7)])):
        with pytest.raises(OperationalError, match="canceling statement due to lock timeout"):
            ingest_within(engine, IngestBatch([snmp_sees(0, 7)]), lock_timeout="1s")
    ingest_within(engine, IngestBatch([snmp_sees(0, 7)]), lock_timeout="5s")
    with Session(engine) as session:
        device = session.scalars(select(Device)).one()  # one record: the waiting batch found it
    assert (device.hostname, device.serial) == ("pc-0-007", "RACE0-0007")


def test_a_device_matched_by_serial_and_by_mac_at_once_keeps_both_changes_and_who_said_them(engine):
    with Session(engine) as session, session.begin():
        ingest(session, IngestBatch([snmp_sees(0, 1)]))  # serial RACE0-0001 and its MAC
    later = T0 + dt.timedelta(minutes=5)
    by_serial = ObservedDevice("snmp", later, "W1", "walk", fields={"serial": "RACE0-0001", "model": "C9200L"})
    by_mac = ObservedDevice("nmap", later, "W1", "sweep", fields={"hostname": "sw-core"},
                            interfaces=(ObservedInterface(mac=race_mac(0, 1)),))
    errors: list[Exception] = []
    with held_open(engine, IngestBatch([by_serial])):
        # Different identities: this batch reads the device only once the open one has written it.
        def second_batch() -> None:
            try:
                ingest_within(engine, IngestBatch([by_mac]), lock_timeout="30s")
            except Exception as error:  # the test asserts there were none
                errors.append(error)

        second = threading.Thread(target=second_batch)
        second.start()
        second.join(timeout=1)
        assert second.is_alive()  # waiting for the device's row
    second.join(timeout=30)
    assert errors == []
    with Session(engine) as session:
        device = session.scalars(select(Device)).one()
    assert (device.model, device.hostname) == ("C9200L", "sw-core")
    assert device.provenance["model"]["source"] == "walk"
    assert device.provenance["hostname"]["source"] == "sweep"


def test_a_complete_scan_counts_no_miss_for_a_device_an_open_batch_is_seeing(engine):
    scope = "nmap:1"
    with Session(engine) as session, session.begin():
        ingest(session, IngestBatch([nmap_sees(0, 1), nmap_sees(0, 2)], scope_key=scope, complete_scan=True))
    seeing_one = IngestBatch([replace(nmap_sees(0, 1), observed_at=T0 + dt.timedelta(minutes=1))])
    scan_seeing_two = IngestBatch([replace(nmap_sees(0, 2), observed_at=T0 + dt.timedelta(minutes=2))],
                                  scope_key=scope, complete_scan=True)
    with held_open(engine, seeing_one):
        result = ingest_within(engine, scan_seeing_two, lock_timeout="5s")
    assert result.missing == 0
    with Session(engine) as session:
        missed = dict(session.execute(select(Device.hostname, Device.missed_scans)).all())
    assert missed == {"pc-0-001": 0, "pc-0-002": 0}
