"""Change events: a subscriber (as compliance and gaps will be) hears every kind of change once per commit, from
every writer, and nothing of a transaction that rolled back."""
import datetime as dt

import pytest
from sqlalchemy import select

from app import DEFAULTS
from inventory.changes import Changes, devices_changed
from inventory.devices import move_device, record_device
from inventory.ingest import IngestBatch, ingest
from inventory.models import Device, Unit
from inventory.observations import KIND_OF_METHOD, METHOD_RANK, ObservedDevice, ObservedInterface
from inventory.tables import table_limits
from inventory.transfer import import_devices
from inventory.units import merge_units
from tests.conftest import T0

SHEET = b"unit_code,serial,vendor,model\nW1,PC-0001,Dell,OptiPlex 7070\nW2,PC-0002,HP,ProDesk 400 G6\n"


@pytest.fixture
def heard():
    """What a subscriber hears: one Changes per announcement."""
    announcements: list[Changes] = []

    def listen(_sender, *, changes: Changes, **_):
        announcements.append(changes)
    devices_changed.connect(listen)
    yield announcements
    devices_changed.disconnect(listen)


def summary(changes: Changes) -> dict[str, tuple[list[int], list[str], list[str]]]:
    """Per kind: device ids, fields, unit codes (resolved by the caller)."""
    return {kind: (sorted(c.device_ids), sorted(c.fields), sorted(c.unit_ids)) for kind, c in changes.by_kind.items()}


def unit_ids(sessions, *codes) -> list[int]:
    with sessions() as session:
        return sorted(session.scalars(select(Unit.id).where(Unit.code.in_(codes))))


def device_id(sessions, serial) -> int:
    with sessions() as session:
        return session.scalars(select(Device.id).where(Device.serial == serial)).one()


def scan_sees(serial: str, unit="W1", minutes=0, mac="00:1a:2b:3c:4d:5e") -> ObservedDevice:
    return ObservedDevice("snmp", T0 + dt.timedelta(minutes=minutes), unit, "scan 1",
                          fields={"serial": serial, "vendor": "Cisco", "model": "WS-C2960X-48FPS-L"},
                          interfaces=(ObservedInterface(name="Vlan1", mac=mac),))


def test_a_scan_an_import_a_manual_record_and_a_merge_are_each_heard_once(org, heard):
    sessions = org
    with sessions() as session, session.begin():
        ingest(session, IngestBatch([scan_sees("FCW1929B68S")], scope_key="scope 1", complete_scan=True))
    switch = device_id(sessions, "FCW1929B68S")
    w1, w2 = unit_ids(sessions, "W1"), unit_ids(sessions, "W2")
    assert [summary(c) for c in heard] == [
        {"scan": ([switch], ["device_class", "interfaces", "model", "serial", "status", "unit_id", "vendor"], w1)}]

    with sessions() as session, session.begin():
        import_devices(session, "kiem-ke.csv", SHEET, by="officer", limits=table_limits(DEFAULTS))
    pcs = [device_id(sessions, "PC-0001"), device_id(sessions, "PC-0002")]
    assert summary(heard[1]) == {"import": (pcs, ["device_class", "model", "serial", "status", "unit_id", "vendor"], w1 + w2)}

    with sessions() as session, session.begin():
        record_device(session, "W1", {"location": "Phòng một cửa"}, by="officer", device_id=pcs[0])
    assert summary(heard[2]) == {"manual": ([pcs[0]], ["location"], w1)}

    with sessions() as session, session.begin():
        merge_units(session, ["W2"], into_code="W1", effective_on=dt.date(2026, 7, 1), by="admin")
    assert summary(heard[3]) == {"reorganisation": ([pcs[1]], ["unit_id"], sorted(w1 + w2))}
    assert len(heard) == 4


def test_changes_of_one_commit_are_heard_together_once(org, heard):
    sessions = org
    with sessions() as session, session.begin():
        ingest(session, IngestBatch([scan_sees("FCW1929B68S")]))
        ingest(session, IngestBatch([scan_sees("FOC1234X0AB", unit="W2", mac="00:1a:2b:3c:4d:5f")]))
        device = session.scalars(select(Device).where(Device.serial == "FCW1929B68S")).one()
        move_device(session, device.id, "W2", by="officer")
    ids = sorted([device_id(sessions, "FCW1929B68S"), device_id(sessions, "FOC1234X0AB")])
    assert len(heard) == 1
    assert sorted(heard[0].by_kind) == ["manual", "scan"]
    assert sorted(heard[0].device_ids) == ids
    assert heard[0].by_kind["manual"].fields == {"unit_id"}
    assert sorted(heard[0].unit_ids) == unit_ids(sessions, "W1", "W2")


def test_a_rolled_back_batch_is_never_heard(org, heard):
    sessions = org
    with pytest.raises(RuntimeError, match="the caller changed its mind"):
        with sessions() as session, session.begin():
            ingest(session, IngestBatch([scan_sees("FCW1929B68S")]))
            raise RuntimeError("the caller changed its mind")
    with sessions() as session, session.begin():  # a dry run: the API imports, then rolls back
        import_devices(session, "kiem-ke.csv", SHEET, by="officer", limits=table_limits(DEFAULTS), dry_run=True)
        session.rollback()
    with sessions() as session, session.begin():  # the next commit carries nothing of the rolled-back ones
        record_device(session, "W1", {"serial": "PC-0009"}, by="officer")
    assert [sorted(c.by_kind) for c in heard] == [["manual"]]
    assert heard[0].device_ids == {device_id(sessions, "PC-0009")}


def test_an_unchanged_device_is_not_announced(org, heard):
    sessions = org
    for _ in range(2):
        with sessions() as session, session.begin():
            ingest(session, IngestBatch([scan_sees("FCW1929B68S")]))
    assert len(heard) == 1


def test_a_failing_subscriber_neither_undoes_the_commit_nor_silences_the_others(org, heard, caplog):
    def broken(_sender, **_):
        raise ValueError("compliance is broken today")
    devices_changed.connect(broken)
    try:
        with org() as session, session.begin():
            record_device(session, "W1", {"serial": "PC-0010"}, by="officer")
    finally:
        devices_changed.disconnect(broken)
    assert device_id(org, "PC-0010") > 0
    assert [sorted(c.by_kind) for c in heard] == [["manual"]]
    assert "a subscriber to inventory changes failed" in caplog.text


def test_a_savepoint_rolled_back_takes_its_changes_with_it_and_only_them(org, heard):
    with org() as session, session.begin():
        record_device(session, "W1", {"serial": "PC-0011"}, by="officer")
        savepoint = session.begin_nested()
        ingest(session, IngestBatch([scan_sees("FCW1929B68S")]))
        savepoint.rollback()
    assert [(sorted(c.by_kind), c.device_ids) for c in heard] == [(["manual"], {device_id(org, "PC-0011")})]


def test_a_savepoint_released_is_heard_only_when_the_outer_transaction_commits(org, heard):
    with org() as session:
        session.begin()
        # A write first: SQLite's driver begins the transaction only at a write, and a savepoint opened before
        # that would be a transaction of its own (released: committed).
        record_device(session, "W1", {"serial": "PC-0013"}, by="officer")
        with session.begin_nested():
            ingest(session, IngestBatch([scan_sees("FCW1929B68S")]))
        assert heard == []  # released, not committed
        session.rollback()
    assert heard == []
    with org() as session:
        assert session.scalars(select(Device.serial)).all() == []
    with org() as session, session.begin():
        with session.begin_nested():
            ingest(session, IngestBatch([scan_sees("FCW1929B68S")]))
    assert [sorted(c.by_kind) for c in heard] == [["scan"]]


def test_a_session_closed_without_committing_leaves_nothing_for_its_next_commit(org, heard):
    session = org()
    ingest(session, IngestBatch([scan_sees("FCW1929B68S")]))
    session.close()
    with session.begin():
        record_device(session, "W1", {"serial": "PC-0012"}, by="officer")
    session.close()
    assert [sorted(c.by_kind) for c in heard] == [["manual"]]


def test_a_complete_scan_that_sees_nothing_is_a_scan_that_makes_devices_missing(org, heard):
    for minutes in range(4):  # seen once, then missed three complete scans: missing
        batch = [scan_sees("FCW1929B68S", minutes=minutes)] if minutes == 0 else []
        with org() as session, session.begin():
            ingest(session, IngestBatch(batch, scope_key="scope 1", complete_scan=True), missing_after_scans=3)
    assert len(heard) == 2
    assert summary(heard[1]) == {"scan": ([device_id(org, "FCW1929B68S")], ["status"], unit_ids(org, "W1"))}


def test_every_method_has_a_kind_of_change():
    assert set(KIND_OF_METHOD) == set(METHOD_RANK)
