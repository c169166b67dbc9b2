"""A scan that sees a device of another unit never moves it: a relocation waits for a person."""
import datetime as dt

from sqlalchemy import select

from accounts.models import Role
from accounts.permissions import ROLE_PERMISSIONS
from accounts.services import create_token, create_user
from core.audit import AuditEntry
from inventory.ingest import IngestBatch, ingest
from inventory.merge import DEVICE_COLUMNS, DeviceRecord, Merger
from inventory.models import Device, DeviceEvent, Relocation, Unit
from inventory.observations import ObservedDevice, ObservedInterface, normalise
from tests.conftest import PASSWORD, T0, client_as, table_contents

MAC = "00:1a:2b:3c:4d:5e"


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def seen(method: str, unit: str, minutes: int, **fields) -> ObservedDevice:
    return ObservedDevice(method, at(minutes), unit, f"{method}:{unit}", fields=fields,
                          interfaces=(ObservedInterface(mac=MAC, ips=("10.2.0.9",)),))


def stored_record(unit_id: int) -> DeviceRecord:
    row = dict.fromkeys(DEVICE_COLUMNS) | {"id": 7, "unit_id": unit_id, "first_seen": at(0), "last_seen": at(0),
                                           "source": "nmap", "specs": {}, "missed_scans": 0,
                                           "provenance": {"unit_id": {"method": "nmap", "source": "x",
                                                                      "at": at(0).isoformat()}}}
    return DeviceRecord(row, [{"id": 70, "device_id": 7, "name": None, "mac": MAC, "ips": [],
                               "speed_mbps": None}], stored=True)


def test_a_scan_of_another_unit_is_a_sighting_and_a_person_moves_the_device():  # pure: no database
    merger = Merger({"W1": 1, "W2": 2}, [stored_record(unit_id=2)])
    stored = dict(merger.by_id[7].row)
    record = merger.apply(normalise(seen("snmp", "W1", 5, model="WS-C2960", hostname="evil"), position=0))
    assert record.row == stored and not merger.touched  # another unit's scan changes nothing of the device
    assert [(s.record.id, s.unit_id, s.method, s.source, s.seen) for s in merger.sightings] == [
        (7, 1, "snmp", "snmp:W1", {"hostname": "evil", "model": "WS-C2960", "macs": [MAC], "ips": ["10.2.0.9"]})]
    merger.apply(normalise(seen("manual", "W1", 6), position=1))
    assert record.row["unit_id"] == 1 and len(merger.sightings) == 1


def test_a_scan_of_a_unit_above_describes_the_device_and_leaves_it_in_its_unit():  # pure: no database
    below = {(1, 3)}  # unit 3 is below unit 1
    merger = Merger({"A1": 1}, [stored_record(unit_id=3)], covers=lambda a, b: a == b or (a, b) in below)
    record = merger.apply(normalise(seen("snmp", "A1", 5, model="WS-C2960"), position=0))
    assert (record.row["unit_id"], record.row["model"], merger.sightings) == (3, "WS-C2960", [])
    assert record.row["provenance"]["unit_id"]["method"] == "nmap"


def run(sessions, *observations):
    with sessions() as session, session.begin():
        return ingest(session, IngestBatch(list(observations)))


def device_in(sessions) -> tuple[str, int]:
    with sessions() as session:
        device = session.scalars(select(Device)).one()
        return device.unit.code, device.id


def relocations(sessions) -> list[tuple]:
    with sessions() as session:
        return [(r.device_id, r.from_unit.code, r.to_unit.code, r.status.value, r.method, r.source, r.first_seen,
                 r.last_seen, r.sightings) for r in session.scalars(select(Relocation).order_by(Relocation.id))]


def test_a_device_seen_by_another_units_scan_stays_and_waits(org):
    run(org, seen("nmap", "W2", 0))
    with org() as session:
        before = session.scalars(select(Device)).one()
        before = (before.hostname, before.serial, before.scope_key, before.last_seen, before.provenance)
    result = run(org, seen("snmp", "W1", 10, serial="FOC1", hostname="evil-name"))
    unit, device_id = device_in(org)
    assert unit == "W2"
    with org() as session:
        after = session.scalars(select(Device)).one()
        assert (after.hostname, after.serial, after.scope_key, after.last_seen, after.provenance) == before
    assert relocations(org) == [(device_id, "W2", "W1", "pending", "snmp", "snmp:W1", at(10), at(10), 1)]
    assert result.relocations_raised == [relocations_ids(org)[0]]
    with org() as session:
        events = [(e.kind, e.source) for e in session.scalars(
            select(DeviceEvent).where(DeviceEvent.kind.in_(["sighted", "moved"])))]
    assert events == [("sighted", "snmp:W1")]

    run(org, seen("snmp", "W1", 10, serial="FOC1"))  # the same batch again changes nothing
    assert relocations(org)[0][-1] == 1
    run(org, seen("nmap", "W1", 20), seen("fdb", "W1", 30))  # later sightings are counted on it
    assert relocations(org) == [(device_id, "W2", "W1", "pending", "fdb", "fdb:W1", at(10), at(30), 3)]
    with org() as session:
        assert session.scalars(select(Relocation.seen)).one() == {"macs": [MAC], "ips": ["10.2.0.9"]}
    with org() as session:
        assert session.scalar(select(DeviceEvent.id).where(DeviceEvent.kind == "moved")) is None


def relocations_ids(sessions) -> list[int]:
    with sessions() as session:
        return list(session.scalars(select(Relocation.id).order_by(Relocation.id)))


def officer_of(sessions, app, unit: str):
    """An API client of an officer of `unit`."""
    with sessions() as session, session.begin():
        user = create_user(session, f"officer-{unit.lower()}", unit, PASSWORD, Role.UNIT_OFFICER, [unit])
        _, token = create_token(session, user, "tests", ROLE_PERMISSIONS["unit_officer"])
    return client_as(app, token)


def test_the_officer_of_the_unit_that_saw_it_confirms_and_the_device_moves(app, client, officer, org, engine):
    device_id = client.post("/api/devices", json={"unit_code": "W2", "serial": "LAP-1",
                                                  "interfaces": [{"mac": MAC}]}).json["id"]
    run(org, seen("snmp", "W1", 10))
    listed = officer.get("/api/relocations?status=pending").json
    assert listed["total"] == 1
    relocation = listed["items"][0]
    # W1's officer may not read W2's device yet: shown what W1's scan saw of it, not W2's record.
    assert (relocation["device"], relocation["seen"]) == (None, {"macs": [MAC], "ips": ["10.2.0.9"]})
    assert (relocation["from_unit_code"], relocation["to_unit_code"], relocation["sightings"]) == ("W2", "W1", 1)
    assert relocation["first_seen"] == "2026-11-02T08:10:00+00:00"

    w2 = officer_of(org, app, "W2")
    before = table_contents(engine)
    refused = w2.post(f"/api/relocations/{relocation['id']}/reject", json={})
    assert (refused.status_code, refused.json["message"]) == (
        403, f"only an officer of W1 or an administrator decides relocation {relocation['id']}")
    assert table_contents(engine) == before

    confirmed = officer.post(f"/api/relocations/{relocation['id']}/confirm", json={"note": "carried to W1"})
    assert confirmed.status_code == 200
    assert (confirmed.json["status"], confirmed.json["decided_by"], confirmed.json["device"]) == (
        "confirmed", "unit-officer", {"id": device_id, "unit_code": "W1", "device_class": "other", "vendor": None,
                                      "model": None, "serial": "LAP-1", "hostname": None})
    assert officer.get(f"/api/devices/{device_id}").json["unit_code"] == "W1"
    with org() as session:
        w1, w2_id = (session.scalar(select(Unit.id).where(Unit.code == code)) for code in ("W1", "W2"))
    history = [(e["kind"], e["old_value"], e["new_value"], e["detail"]) for e in
               officer.get(f"/api/devices/{device_id}/history").json["items"]
               if e["kind"] in ("relocation", "moved", "sighted")]
    assert history == [
        ("relocation", None, None, f"relocation {relocation['id']} confirmed: moved to W1, seen there by snmp 1 times "
                                   "since 2026-11-02T08:10; carried to W1"),
        ("moved", w2_id, w1, ""),
        ("sighted", w2_id, w1, f"seen in W1 by snmp (snmp:W1); stays in W2 until an officer of W1 or an "
                               f"administrator confirms relocation {relocation['id']}")]
    again = officer.post(f"/api/relocations/{relocation['id']}/reject", json={})
    assert (again.status_code, again.json["message"]) == (
        409, f"relocation {relocation['id']} was already confirmed by unit-officer")
    with org() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "relocation.confirm")).one()
        assert (entry.actor, entry.target_id, entry.before, entry.after, entry.detail) == (
            "unit-officer", str(relocation["id"]), {"unit": "W2", "status": "pending"},
            {"unit": "W1", "status": "confirmed", "device": device_id}, "carried to W1")


def test_a_rejected_relocation_keeps_the_device_and_is_not_raised_again(app, client, officer, org):
    device_id = client.post("/api/devices", json={"unit_code": "W2", "serial": "SW-9",
                                                  "interfaces": [{"mac": MAC}]}).json["id"]
    run(org, seen("fdb", "W1", 10))
    relocation_id = relocations_ids(org)[0]
    rejected = officer.post(f"/api/relocations/{relocation_id}/reject", json={"note": "MAC leaks over the uplink"})
    assert (rejected.status_code, rejected.json["status"]) == (200, "rejected")
    run(org, seen("fdb", "W1", 40))
    assert relocations_ids(org) == [relocation_id]
    assert [r[3:] for r in relocations(org)] == [("rejected", "fdb", "fdb:W1", at(10), at(40), 2)]
    assert client.get(f"/api/devices/{device_id}").json["unit_code"] == "W2"
    assert officer.get(f"/api/relocations/{relocation_id}").json["note"] == "MAC leaks over the uplink"


def test_relocations_are_shown_only_to_their_parties(app, client, officer, org, token_for):
    client.post("/api/devices", json={"unit_code": "A1", "serial": "PC-1", "interfaces": [{"mac": MAC}]})
    run(org, seen("nmap", "W2", 10))
    relocation_id = relocations_ids(org)[0]
    assert officer.get("/api/relocations").json["total"] == 0
    assert officer.get(f"/api/relocations/{relocation_id}").status_code == 404
    assert officer.post(f"/api/relocations/{relocation_id}/confirm", json={}).status_code == 404
    assert client.get("/api/relocations?unit=W2").json["items"][0]["device"]["serial"] == "PC-1"  # an admin reads it
    assert client_as(app, token_for(Role.FINANCE)).post(f"/api/relocations/{relocation_id}/confirm",
                                                        json={}).status_code == 403


def test_a_relocation_confirmed_after_the_device_moved_elsewhere_is_refused(app, client, officer, org, engine):
    device_id = client.post("/api/devices", json={"unit_code": "W2", "serial": "LAP-2",
                                                  "interfaces": [{"mac": MAC}]}).json["id"]
    run(org, seen("nmap", "W1", 10))
    relocation_id = relocations_ids(org)[0]
    client.put(f"/api/devices/{device_id}/unit", json={"unit_code": "A1"})
    before = table_contents(engine)
    stale = officer.post(f"/api/relocations/{relocation_id}/confirm", json={})
    assert (stale.status_code, stale.json["message"]) == (
        409, f"relocation {relocation_id} is out of date: the device has moved from W2 to A1 since; reject it")
    assert table_contents(engine) == before
    assert officer.post(f"/api/relocations/{relocation_id}/reject", json={}).json["status"] == "rejected"
    run(org, seen("nmap", "W1", 20))  # seen again in W1, now from A1: a new question
    assert [r[1:4] for r in relocations(org)] == [("W2", "W1", "rejected"), ("A1", "W1", "pending")]


def test_pending_relocations_follow_a_merge(app, client, org):
    client.post("/api/devices", json={"unit_code": "W2", "serial": "LAP-3", "interfaces": [{"mac": MAC}]})
    run(org, seen("nmap", "W1", 10))
    client.post("/api/units/merge", json={"sources": ["W1"], "into_code": "A1", "effective_on": "2026-12-01"})
    assert [r[1:4] for r in relocations(org)] == [("W2", "A1", "pending")]  # A1's officers decide now
    client.post("/api/units/merge", json={"sources": ["W2", "A1"], "into_new": {
        "code": "D", "name": "District", "kind": "ward"}, "effective_on": "2026-12-02"})
    with org() as session:
        relocation = session.scalars(select(Relocation)).one()
        assert (relocation.from_unit.code, relocation.to_unit.code, relocation.status.value, relocation.decided_by,
                relocation.note) == ("D", "D", "superseded", "merge effective 2026-12-02",
                                     "the device's unit and the unit that saw it are one unit now")
