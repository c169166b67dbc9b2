"""The inventory's HTTP API: what a script or the pages get back, errors included."""
import pytest

from tests.conftest import table_contents

SWITCH = {"unit_code": "W1", "device_class": "switch", "vendor": "Cisco", "model": "WS-C2960-24TT-L",
          "serial": "FOC1111A1", "hostname": "sw-w1", "interfaces": [{"name": "Vlan1", "mac": "00:1b:00:00:00:01",
                                                                      "ips": ["10.1.0.2"]}]}


def add(client, **fields):
    response = client.post("/api/devices", json=SWITCH | fields)
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def fleet(org, client):
    """Six devices across the tree: three in W1, one in W2, one in A1, one in A1-D1."""
    ids = [add(client)["id"]]
    ids.append(add(client, serial="CN0001", device_class="printer", vendor="HP", model="LaserJet M404",
                   hostname="prn-w1", interfaces=[{"mac": "00:1b:00:00:00:02", "ips": ["10.1.0.3"]}])["id"])
    ids.append(add(client, serial="PC0001", device_class="workstation", vendor="Dell", model="OptiPlex 7090",
                   hostname="pc-w1", status="spare", interfaces=[])["id"])
    ids.append(add(client, unit_code="W2", serial="PC0002", device_class="workstation", vendor="Dell",
                   model="OptiPlex 7090", hostname="pc-w2", interfaces=[])["id"])
    ids.append(add(client, unit_code="A1", serial="FW0001", device_class="firewall", vendor="Fortinet",
                   model="FortiGate 60F", hostname="fw-a1", interfaces=[])["id"])
    ids.append(add(client, unit_code="A1-D1", serial="PC0003", device_class="workstation", vendor="HP",
                   model="ProDesk 400", hostname="pc-d1", interfaces=[])["id"])
    return ids


def test_a_recorded_device_comes_back_with_its_provenance(org, client):
    device = add(client, purchase_price_vnd=15_500_000, purchase_date="2024-03-01", specs={"ports": "24 x 1G + 2 SFP"},
                 firmware="Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 15.0(2)SE11")
    got = client.get(f"/api/devices/{device['id']}").json
    assert (got["unit_code"], got["serial"], got["purchase_price_vnd"], got["specs"], got["firmware_version"]) == \
        ("W1", "FOC1111A1", 15_500_000, {"port_count": 26, "uplink_ports": 2, "port_speed_mbps": 1000}, "15.0(2)SE11")
    assert got["interfaces"][0] | {"id": 0} == {"id": 0, "name": "Vlan1", "mac": "00:1b:00:00:00:01",
                                                 "ips": ["10.1.0.2"], "speed_mbps": None}
    assert got["provenance"]["serial"]["method"] == "manual"


def test_recording_a_known_serial_merges_instead_of_duplicating(org, client):
    first = add(client)
    again = add(client, serial="foc1111a1", location="Rack 1", interfaces=[])
    assert again["id"] == first["id"]
    assert client.get("/api/devices").json["total"] == 1


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["sw-w1", "prn-w1", "pc-w1", "pc-w2", "fw-a1", "pc-d1"]),
    ("unit=A1", ["fw-a1", "pc-d1"]),
    ("unit=C&class=workstation", ["pc-w1", "pc-w2", "pc-d1"]),
    ("status=spare", ["pc-w1"]),
    ("vendor=dell", ["pc-w1", "pc-w2"]),
    ("q=00:1B:00:00:00:02", ["prn-w1"]),
    ("q=10.1.0.2", ["sw-w1"]),
    ("q=optiplex", ["pc-w1", "pc-w2"]),
    ("sort=-hostname", ["sw-w1", "prn-w1", "pc-w2", "pc-w1", "pc-d1", "fw-a1"]),
    ("sort=vendor&class=workstation", ["pc-w1", "pc-w2", "pc-d1"]),
])
def test_devices_are_found_by_filter_and_sorted(fleet, client, query, expected):
    page = client.get(f"/api/devices?{query}").json
    assert [d["hostname"] for d in page["items"]] == expected
    assert page["total"] == len(expected)


def test_pages_cover_every_device_once(fleet, client):
    pages = [client.get(f"/api/devices?page_size=4&page={n}").json for n in (1, 2, 3)]
    assert [len(p["items"]) for p in pages] == [4, 2, 0]
    assert sorted(d["id"] for p in pages for d in p["items"]) == sorted(fleet)
    assert {p["total"] for p in pages} == {6}


@pytest.mark.parametrize(("query", "field", "message"), [
    ("class=toaster", "class", "Must be one of: switch, router"),
    ("sort=colour", "sort", "Must be one of: id, vendor"),
    ("page_size=501", "page_size", "Must be greater than or equal to 1 and less than or equal to 500."),
    ("page=0", "page", "Must be greater than or equal to 1 and less than or equal to 1000000."),
    ("unit=%20bad%20", "unit", "1 to 32 letters, digits"),
])
def test_bad_list_arguments_are_422_with_the_field(org, client, query, field, message):
    response = client.get(f"/api/devices?{query}")
    assert response.status_code == 422
    assert response.json["errors"]["query"][field][0].startswith(message)


def test_an_unknown_unit_filter_is_404(org, client):
    response = client.get("/api/devices?unit=W9")
    assert (response.status_code, response.json["message"]) == (404, "unit 'W9' does not exist")


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"unit_code": None}, "unit_code", "Field may not be null."),
    ({"device_class": "toaster"}, "device_class", "Must be one of: switch, router"),
    ({"purchase_price_vnd": "15.500.000"}, "purchase_price_vnd", "Not a valid integer."),
    ({"purchase_price_vnd": -1}, "purchase_price_vnd", "Must be greater than or equal to 0"),
    ({"purchase_date": "01/03/2024"}, "purchase_date", "Not a valid date."),
    ({"colour": "red"}, "colour", "Unknown field."),
])
def test_bad_device_bodies_are_422_and_store_nothing(org, client, engine, body, field, message):
    before = table_contents(engine)
    response = client.post("/api/devices", json=SWITCH | body)
    assert response.status_code == 422
    assert response.json["errors"]["json"][field][0].startswith(message)
    assert table_contents(engine) == before


def test_a_domain_refusal_names_the_field_without_batch_details(org, client, engine):
    before = table_contents(engine)
    response = client.post("/api/devices", json=SWITCH | {"interfaces": [{"mac": "not-a-mac"}]})
    assert response.status_code == 422
    assert response.json["message"] == "interfaces[0].mac: 'not-a-mac' is not a MAC address"
    assert response.json["errors"] == {"json": {"mac": ["interfaces[0].mac: 'not-a-mac' is not a MAC address"]}}
    response = client.post("/api/devices", json=SWITCH | {"unit_code": "W9"})
    assert (response.status_code, response.json["message"]) == (404, "unit 'W9' does not exist")
    assert table_contents(engine) == before


def test_unknown_device_is_404_everywhere(org, client):
    for method, path in [("get", "/api/devices/999"), ("patch", "/api/devices/999"),
                         ("put", "/api/devices/999/unit"), ("get", "/api/devices/999/history"),
                         ("get", "/api/devices/999/links")]:
        body = {"unit_code": "W1"} if method == "put" else {"location": "x"} if method == "patch" else None
        response = getattr(client, method)(path, json=body)
        assert (response.status_code, response.json["message"]) == (404, "device 999 does not exist"), path


def test_edit_and_move_show_in_history_newest_first(org, client):
    device = add(client)
    patched = client.patch(f"/api/devices/{device['id']}", json={"location": "Rack 2", "status": "broken"})
    assert (patched.status_code, patched.json["location"], patched.json["status"]) == (200, "Rack 2", "broken")
    moved = client.put(f"/api/devices/{device['id']}/unit", json={"unit_code": "W2"})
    assert (moved.status_code, moved.json["unit_code"]) == (200, "W2")
    history = client.get(f"/api/devices/{device['id']}/history").json
    assert history["total"] == 4
    assert [(e["kind"], e["field"]) for e in history["items"]][0] == ("moved", "unit_id")
    assert {(e["field"], e["old_value"], e["new_value"]) for e in history["items"] if e["kind"] == "changed"} == \
        {("location", None, "Rack 2")}
    assert [e for e in history["items"] if e["kind"] == "status"][0]["new_value"] == "broken"
    assert history["items"][-1]["kind"] == "created"


def test_an_empty_edit_is_refused(org, client):
    device = add(client)
    response = client.patch(f"/api/devices/{device['id']}", json={})
    assert (response.status_code, response.json["message"]) == (422, "nothing to change")


def test_a_person_can_clear_a_value(org, client):
    device = add(client, location="Rack 1")
    assert client.patch(f"/api/devices/{device['id']}", json={"location": None}).json["location"] is None


def test_moving_to_an_inactive_unit_is_409_with_its_successor(org, client):
    device = add(client)
    client.post("/api/units/merge", json={"sources": ["W2"], "into_code": "W1", "effective_on": "2026-07-01"})
    response = client.put(f"/api/devices/{device['id']}/unit", json={"unit_code": "W2"})
    assert (response.status_code, response.json["message"]) == (409, "unit W2 is inactive; its successor is W1")
    assert response.json["errors"] == {"json": {"unit_code": ["unit W2 is inactive; its successor is W1"]}}


def test_units_can_be_created_listed_and_edited(org, client):
    created = client.post("/api/units", json={"code": "W3", "name": "Ward Three", "kind": "ward",
                                              "parent_code": "C", "staff_count": 18})
    assert (created.status_code, created.json["parent_code"]) == (201, "C")
    edited = client.patch("/api/units/W3", json={"staff_count": 21, "name": "Phường Ba"})
    assert (edited.json["staff_count"], edited.json["name"]) == (21, "Phường Ba")
    assert [u["code"] for u in client.get("/api/units").json] == ["A1", "A1-D1", "C", "W1", "W2", "W3"]
    tree = client.get("/api/units/tree").json
    assert [u["code"] for u in tree] == ["C"]
    assert sorted(u["code"] for u in tree[0]["children"]) == ["A1", "W1", "W2", "W3"]


@pytest.mark.parametrize(("method", "path", "body", "status", "field", "message"), [
    ("post", "/api/units", {"code": "W1", "name": "x", "kind": "ward"}, 409, "code", "unit W1 already exists"),
    ("post", "/api/units", {"code": "W3", "name": "x", "kind": "ward", "parent_code": "Z"}, 404, "parent_code",
     "unit 'Z' does not exist"),
    ("post", "/api/units", {"code": "W 3", "name": "x", "kind": "ward"}, 422, "code",
     "1 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit"),
    ("post", "/api/units", {"code": "W3", "name": "x", "kind": "village"}, 422, "kind",
     "Must be one of: city, agency, ward, commune, department, other."),
    ("post", "/api/units", {"name": "x", "kind": "ward"}, 422, "code", "Missing data for required field."),
    ("patch", "/api/units/A1", {"parent_code": "A1-D1"}, 409, "parent_code",
     "unit A1-D1 is inside A1: a unit cannot be its own ancestor"),
    ("patch", "/api/units/W9", {"name": "x"}, 404, "code", "unit 'W9' does not exist"),
    ("post", "/api/units/merge", {"sources": ["W1"], "into_code": "W2", "into_new": {"code": "X", "name": "x",
                                                                                     "kind": "ward"},
                                  "effective_on": "2026-07-01"}, 422, "into_code",
     "give exactly one of into_code and into_new"),
    ("post", "/api/units/merge", {"sources": ["W1"], "into_code": "W1", "effective_on": "2026-07-01"}, 422,
     "sources", "unit W1 cannot be merged into itself"),
    ("post", "/api/units/W1/split", {"targets": [{"code": "X1", "name": "x", "kind": "ward"}],
                                     "effective_on": "2026-07-01"}, 422, "targets", "Length must be between 2 and 100."),
])
def test_unit_errors_name_the_field_and_change_nothing(org, client, engine, method, path, body, status, field, message):
    before = table_contents(engine)
    response = getattr(client, method)(path, json=body)
    assert response.status_code == status
    assert response.json["errors"]["json"][field] == [message]
    assert table_contents(engine) == before


def test_merge_and_split_through_the_api(fleet, client):
    merged = client.post("/api/units/merge", json={"sources": ["W1", "W2"], "into_new": {
        "code": "W12", "name": "Ward One-Two", "kind": "ward"}, "effective_on": "2026-07-01"})
    assert (merged.status_code, merged.json["target_codes"]) == (201, ["W12"])
    assert client.get("/api/units/W1").json | {} == client.get("/api/units/W1").json
    assert (client.get("/api/units/W1").json["active"], client.get("/api/units/W1").json["successor_code"]) == \
        (False, "W12")
    assert client.get("/api/devices?unit=W12").json["total"] == 4
    split = client.post("/api/units/W12/split", json={
        "targets": [{"code": "W12A", "name": "A", "kind": "ward"}, {"code": "W12B", "name": "B", "kind": "ward"}],
        "device_targets": {str(fleet[3]): "W12B"}, "effective_on": "2026-09-01"})
    assert split.status_code == 201
    assert [d["id"] for d in client.get("/api/devices?unit=W12B").json["items"]] == [fleet[3]]
    assert client.get("/api/devices?unit=W12A").json["total"] == 3


def test_malformed_json_is_a_clear_400_or_422(org, client):
    response = client.post("/api/devices", data="{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert "json" in str(response.json).lower()


def test_the_api_document_lists_every_operation_with_a_summary(client):
    document = client.get("/api/openapi.json").json
    operations = [(path, method, op) for path, item in document["paths"].items() for method, op in item.items()
                  if method in {"get", "post", "put", "patch", "delete"}]
    assert len(operations) >= 15
    assert [f"{m} {p}" for p, m, op in operations if not op.get("summary")] == []
    assert client.get("/api/docs").status_code == 200
