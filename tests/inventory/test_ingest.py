"""Ingestion on a real database: one device per physical device, with provenance and history."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from core.errors import InvalidInput
from inventory.ingest import IngestBatch, ingest
from inventory.models import Device, DeviceEvent, DeviceStatus, Link, Observation
from inventory.observations import ObservedDevice, ObservedInterface, ObservedNeighbour
from tests.conftest import T0, table_contents

MAC = "00:1a:2b:3c:4d:5e"


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def nmap_sees(mac=MAC, ip="10.1.0.5", minutes=0, unit="W1", hostname="sw-01.w1") -> ObservedDevice:
    return ObservedDevice("nmap", at(minutes), unit, "scan 7", fields={"hostname": hostname},
                          interfaces=(ObservedInterface(mac=mac, ips=(ip,)),), raw={"ports": [22, 23]})


def snmp_sees(serial="FOC1234X0AB", mac="001A.2B3C.4D5E", minutes=1, unit="W1", model="WS-C3560-24PS") -> ObservedDevice:
    return ObservedDevice("snmp", at(minutes), unit, "scan 7",
                          fields={"serial": serial, "vendor": "Cisco", "model": model, "device_class": "switch",
                                  "firmware": "12.2(25)SEB4"},
                          specs={"port_count": 24, "poe": True}, interfaces=(ObservedInterface(name="Vlan1", mac=mac),))


def sheet_says(serial="foc1234x0ab", minutes=2, unit="W1") -> ObservedDevice:
    return ObservedDevice("import", at(minutes), unit, "inventory-2026.xlsx",
                          fields={"serial": serial, "location": "Server room", "purchase_price_vnd": 45_000_000,
                                  "purchase_date": "2019-05-20", "model": "Catalyst 3560"})


def run(sessions, *observations, **batch):
    with sessions() as session, session.begin():
        return ingest(session, IngestBatch(list(observations), **batch))


def only_device(sessions) -> Device:
    with sessions() as session:
        devices = session.scalars(select(Device)).all()
        assert len(devices) == 1
        device = devices[0]
        device.interfaces, device.unit  # load before the session closes
        return device


def count(sessions, model) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_three_methods_make_one_device_with_provenance(org):
    result = run(org, nmap_sees(), snmp_sees(), sheet_says())
    assert (result.created, result.changed, result.unchanged) == (1, 0, 0)
    device = only_device(org)
    assert result.device_ids == [device.id] * 3
    assert (device.serial, device.vendor, device.model, device.firmware) == \
        ("FOC1234X0AB", "Cisco", "WS-C3560-24PS", "12.2(25)SEB4")  # SNMP's model outranks the spreadsheet's
    assert (device.hostname, device.location, device.purchase_price_vnd) == ("sw-01.w1", "Server room", 45_000_000)
    assert device.purchase_date == dt.date(2019, 5, 20) and device.device_class.value == "switch"
    assert (device.specs, device.firmware_version) == ({"port_count": 24, "poe": True}, "12.2(25)SEB4")
    assert [(i.name, i.mac, i.ips) for i in device.interfaces] == [("Vlan1", MAC, ["10.1.0.5"])]
    assert device.provenance["model"] == {"method": "snmp", "source": "scan 7", "at": "2026-11-02T08:01:00"}
    assert device.provenance["hostname"]["method"] == "nmap"
    assert device.provenance["location"] == {"method": "import", "source": "inventory-2026.xlsx",
                                             "at": "2026-11-02T08:02:00"}
    assert device.provenance["specs.poe"]["method"] == "snmp"
    assert (device.first_seen, device.last_seen) == (at(0), at(2))
    assert count(org, Observation) == 3


def test_the_same_device_in_separate_batches_merges_and_records_each_change(org):
    run(org, nmap_sees())
    result = run(org, snmp_sees())
    assert (result.created, result.changed) == (0, 1)
    run(org, sheet_says())
    device = only_device(org)
    with org() as session:
        events = session.scalars(select(DeviceEvent).where(DeviceEvent.device_id == device.id)
                                 .order_by(DeviceEvent.id)).all()
        changed = {(e.field, e.old_value, e.new_value, e.method) for e in events if e.kind == "changed"}
    assert events[0].kind == "created"
    assert ("serial", None, "FOC1234X0AB", "snmp") in changed
    assert ("model", None, "WS-C3560-24PS", "snmp") in changed
    assert ("location", None, "Server room", "import") in changed
    assert not any(field == "model" and method == "import" for field, _, _, method in changed)


def test_a_repeated_batch_changes_nothing(org, engine):
    batch = [nmap_sees(), snmp_sees(), sheet_says()]
    run(org, *batch, scope_key="scope-1", complete_scan=True)
    before = table_contents(engine)
    result = run(org, *batch, scope_key="scope-1", complete_scan=True)
    assert (result.created, result.changed, result.unchanged, result.observations_stored) == (0, 0, 1, 0)
    assert table_contents(engine) == before


def test_a_later_scan_keeps_history_but_not_duplicates(org):
    run(org, nmap_sees(minutes=0), scope_key="scope-1", complete_scan=True)
    result = run(org, nmap_sees(minutes=60), scope_key="scope-1", complete_scan=True)
    assert (result.created, result.changed, result.unchanged, result.observations_stored) == (0, 0, 1, 1)
    assert only_device(org).last_seen == at(60)
    assert count(org, Observation) == 2
    assert count(org, DeviceEvent) == 1  # created; last_seen is not a change worth a history line


def test_a_weaker_source_never_overrides_a_stronger_one_but_a_person_does(org):
    run(org, snmp_sees())
    run(org, nmap_sees(), ObservedDevice("nmap", at(5), "W1", "scan 8", fields={"device_class": "printer"},
                                         interfaces=(ObservedInterface(mac=MAC),)))
    assert only_device(org).device_class.value == "switch"
    device_id = only_device(org).id
    run(org, ObservedDevice("manual", at(9), "W1", "officer", fields={"model": "WS-C3560-24PS-S"}, device_id=device_id))
    run(org, snmp_sees(minutes=20))
    device = only_device(org)
    assert device.model == "WS-C3560-24PS-S"
    assert device.provenance["model"]["method"] == "manual"


def test_missing_after_n_complete_scans_and_back_when_seen(org):
    run(org, nmap_sees(), nmap_sees(mac="00:1a:2b:3c:4d:5f", ip="10.1.0.6", hostname="pc-02.w1"),
        scope_key="scope-1", complete_scan=True)
    results = [run(org, nmap_sees(minutes=10 * n), scope_key="scope-1", complete_scan=True, ) for n in (1, 2, 3)]
    assert [r.missing for r in results] == [0, 0, 1]
    with org() as session:
        gone = session.scalars(select(Device).where(Device.hostname == "pc-02.w1")).one()
        assert (gone.status, gone.missed_scans) == (DeviceStatus.MISSING, 3)
        event = session.scalars(select(DeviceEvent).where(DeviceEvent.device_id == gone.id,
                                                          DeviceEvent.kind == "status")).one()
        assert (event.old_value, event.new_value, event.detail) == \
            ("in_use", "missing", "not seen in 3 complete scans of scope-1")
    result = run(org, nmap_sees(mac="00:1a:2b:3c:4d:5f", ip="10.1.0.6", hostname="pc-02.w1", minutes=50),
                 scope_key="scope-1", complete_scan=True)
    assert (result.reappeared, result.changed) == (1, 1)
    with org() as session:
        back = session.get(Device, gone.id)
        assert (back.status, back.missed_scans) == (DeviceStatus.IN_USE, 0)
        assert session.scalar(select(func.count(Device.id))) == 2


def test_a_partial_scan_marks_nothing_missing(org):
    run(org, nmap_sees(), scope_key="scope-1", complete_scan=True)
    for n in range(5):
        run(org, nmap_sees(mac="00:1a:2b:3c:4d:60", hostname="pc-03.w1", minutes=n + 1), scope_key="scope-1")
    assert count(org, Device) == 2
    with org() as session:
        assert set(session.scalars(select(Device.status))) == {DeviceStatus.IN_USE}


def test_one_bad_observation_rejects_the_whole_batch(org, engine):
    run(org, nmap_sees())
    before = table_contents(engine)
    bad = ObservedDevice("snmp", at(3), "W9", "scan 8", fields={"serial": "X1"})
    with pytest.raises(InvalidInput, match=r"observations\[2\]: unit 'W9' does not exist"):
        run(org, snmp_sees(), sheet_says(), bad)
    assert table_contents(engine) == before


def test_placeholder_serials_never_merge_devices(org):
    run(org, ObservedDevice("snmp", at(0), "W1", "s", fields={"serial": "To be filled by O.E.M.", "hostname": "pc-a"}),
        ObservedDevice("snmp", at(0), "W1", "s", fields={"serial": "To be filled by O.E.M.", "hostname": "pc-b"}))
    with org() as session:
        assert sorted(session.scalars(select(Device.hostname))) == ["pc-a", "pc-b"]
        assert set(session.scalars(select(Device.serial))) == {None}


def test_host_names_match_only_within_a_unit(org):
    run(org, ObservedDevice("nmap", at(0), "W1", "s", fields={"hostname": "pc-01"}),
        ObservedDevice("nmap", at(0), "W2", "s", fields={"hostname": "pc-01"}),
        ObservedDevice("nmap", at(5), "W1", "s", fields={"hostname": "pc-01", "os": "Windows 11"}))
    with org() as session:
        rows = session.execute(select(Device.unit_id, Device.hostname, Device.os).order_by(Device.id)).all()
    assert [(r.hostname, r.os) for r in rows] == [("pc-01", "Windows 11"), ("pc-01", None)]


def test_neighbours_become_links_once(org):
    phone = ObservedDevice("fdb", at(0), "W1", "s", interfaces=(ObservedInterface(mac="00:04:f2:00:00:01"),))
    switch = ObservedDevice("snmp", at(1), "W1", "s", fields={"serial": "SW1"},
                            neighbours=(ObservedNeighbour("fdb", port="Fa0/7", remote_mac="00:04:f2:00:00:01"),
                                        ObservedNeighbour("lldp", port="Gi0/1", remote_serial="FOC1234X0AB",
                                                          remote_port="Gi0/24")))
    run(org, phone, switch, snmp_sees())
    run(org, phone, switch, snmp_sees())
    with org() as session:
        links = session.execute(select(Link.port, Link.remote_port, Link.protocol).order_by(Link.port)).all()
    assert [tuple(l) for l in links] == [("Fa0/7", "", "fdb"), ("Gi0/1", "Gi0/24", "lldp")]


def test_a_complete_scan_must_name_its_scope(org):
    with pytest.raises(InvalidInput, match="a complete scan must name its scope"):
        run(org, nmap_sees(), complete_scan=True)


def test_an_inactive_unit_is_refused_with_its_successor(org):
    from inventory.units import merge_units
    with org() as session, session.begin():
        merge_units(session, ["W2"], into_code="W1", effective_on=dt.date(2026, 7, 1), by="tester")
    with pytest.raises(InvalidInput, match=r"observations\[0\]: unit W2 is inactive, merged into W1"):
        run(org, nmap_sees(unit="W2"))
