"""What a unit officer learns about devices of units they do not answer for: that a value is taken,
never which device holds it."""
import datetime as dt

from inventory.ingest import IngestBatch, ingest
from inventory.observations import ObservedDevice, ObservedNeighbour
from tests.conftest import T0, table_contents


def add(client, unit_code: str, serial: str, **fields) -> int:
    response = client.post("/api/devices", json={"unit_code": unit_code, "serial": serial} | fields)
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_an_officer_patching_in_another_units_serial_learns_only_that_it_is_taken(client, officer, engine):
    theirs = add(client, "W2", "THEIRS1")
    mine = add(client, "W1", "MINE1")
    before = table_contents(engine)
    refused = officer.patch(f"/api/devices/{mine}", json={"serial": "theirs1", "location": "Room 2"})
    message = "serial THEIRS1 is already recorded for another device"
    # The whole answer: no field names device `theirs`.
    assert (refused.status_code, refused.json) == (409, {"code": 409, "status": "Conflict", "message": message,
                                                         "errors": {"json": {"serial": [message]}}})
    assert client.get(f"/api/devices/{theirs}").json["serial"] == "THEIRS1"
    assert table_contents(engine) == before


def test_inside_the_callers_units_the_conflict_still_names_the_device(client, officer):
    other = add(client, "W1", "MINE2")
    mine = add(client, "W1", "MINE1")
    for caller in (officer, client):  # the officer may read device `other`; an administrator any device
        refused = caller.patch(f"/api/devices/{mine}", json={"serial": "MINE2"})
        assert (refused.status_code, refused.json["message"]) == (409, f"serial MINE2 is already device {other}'s")
    theirs = add(client, "W2", "THEIRS1")
    refused = client.patch(f"/api/devices/{mine}", json={"serial": "THEIRS1"})
    assert (refused.status_code, refused.json["message"]) == (409, f"serial THEIRS1 is already device {theirs}'s")


def test_links_show_devices_of_other_units_without_their_ids(org, client, officer):
    switch = add(client, "W1", "SW-W1")
    printer = add(client, "W1", "PRN-W1")
    core = add(client, "W2", "CORE-W2")
    neighbours = [ObservedNeighbour("lldp", port="Gi0/1", remote_serial="CORE-W2", remote_port="Gi1/0/7"),
                  ObservedNeighbour("fdb", port="Fa0/3", remote_serial="PRN-W1")]
    with org() as session, session.begin():
        ingest(session, IngestBatch([
            ObservedDevice("snmp", T0, "W1", "scan 1", fields={"serial": "SW-W1"}, neighbours=tuple(neighbours)),
            # The W2 switch sees the W1 switch: a link whose near end is in W2.
            ObservedDevice("snmp", T0 + dt.timedelta(minutes=1), "W2", "scan 2", fields={"serial": "CORE-W2"},
                           neighbours=(ObservedNeighbour("lldp", port="Gi1/0/7", remote_serial="SW-W1",
                                                         remote_port="Gi0/1"),))]))

    def ends(caller):
        response = caller.get(f"/api/devices/{switch}/links")
        assert response.status_code == 200, response.json
        return [(l["device_id"], l["port"], l["remote_device_id"], l["remote_port"], l["protocol"])
                for l in response.json]

    assert ends(client) == [(switch, "Gi0/1", core, "Gi1/0/7", "lldp"), (switch, "Fa0/3", printer, "", "fdb"),
                            (core, "Gi1/0/7", switch, "Gi0/1", "lldp")]
    assert ends(officer) == [(switch, "Gi0/1", None, "Gi1/0/7", "lldp"), (switch, "Fa0/3", printer, "", "fdb"),
                             (None, "Gi1/0/7", switch, "Gi0/1", "lldp")]
    seen = officer.get(f"/api/devices/{switch}/links").json
    assert [sorted(link) for link in seen] == [["device_id", "first_seen", "id", "last_seen", "port", "protocol",
                                                "remote_device_id", "remote_port"]] * 3
    assert officer.get(f"/api/devices/{core}/links").status_code == 404
