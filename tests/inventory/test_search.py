"""The free-text search (`q`): a case-insensitive substring of serial, model, vendor, host name,
location, a MAC or an address, found through `device.search_text`, which the database keeps."""
import datetime as dt
import io

import pytest
from sqlalchemy import delete, insert, select, update

from inventory.models import Device, Interface
from tests.conftest import table_contents

SWITCH = {"unit_code": "W1", "device_class": "switch", "vendor": "Cisco", "model": "WS-C2960-24TT-L",
          "serial": "FOC1111A1", "hostname": "sw-w1", "location": "Tủ mạng tầng 2",
          "interfaces": [{"name": "Vlan1", "mac": "00:1b:00:00:00:01", "ips": ["10.1.0.2"]}]}
PRINTER = {"unit_code": "W1", "device_class": "printer", "vendor": "HP", "model": "LaserJet M404",
           "serial": "CN0001", "hostname": "prn-w1", "location": "PHÒNG KẾ TOÁN",
           "interfaces": [{"mac": "00:1b:00:00:00:02", "ips": ["10.1.0.3", "10.1.0.20"]}]}
PC = {"unit_code": "W2", "device_class": "workstation", "vendor": "Dell", "model": "OptiPlex 7090",
      "serial": "PC0001", "hostname": "pc-w2", "location": "Phòng một cửa", "interfaces": []}
UPS = {"unit_code": "W2", "device_class": "ups", "vendor": "APC", "model": "Smart-UPS 100%",
       "serial": "AS0001", "hostname": "ups-w2", "location": "Kho_A", "interfaces": []}


def add(client, device):
    response = client.post("/api/devices", json=device)
    assert response.status_code == 201, response.json
    return response.json["id"]


def found(client, q, **params):
    page = client.get("/api/devices", query_string={"q": q, **params}).json
    assert page["total"] == len(page["items"]), page
    return [d["hostname"] for d in page["items"]]


@pytest.fixture
def fleet(org, client):
    return [add(client, device) for device in (SWITCH, PRINTER, PC, UPS)]


@pytest.mark.parametrize(("q", "expected"), [
    ("1111a", ["sw-w1"]),                            # serial, another case
    ("cn000", ["prn-w1"]),
    ("PRN-W", ["prn-w1"]),                           # host name
    ("-w2", ["pc-w2", "ups-w2"]),
    ("plex 70", ["pc-w2"]),                          # model, with its space
    ("laserjet m404", ["prn-w1"]),
    ("cisco", ["sw-w1"]),                            # vendor
    ("tầng 2", ["sw-w1"]),                           # location, Vietnamese
    ("00:1B:00:00:00:02", ["prn-w1"]),               # a whole MAC, as people type it
    ("00:00:00:0", ["sw-w1", "prn-w1"]),             # part of a MAC
    ("10.1.0.2", ["sw-w1", "prn-w1"]),               # 10.1.0.2, and 10.1.0.20 of the printer's two
    ("0.1.0.3", ["prn-w1"]),
    ("  10.1.0.3  ", ["prn-w1"]),                    # surrounding spaces do not count
    ("w2", ["pc-w2", "ups-w2"]),                     # under 3 characters
    ("q", []),
    ("100%", ["ups-w2"]),                            # % and _ are themselves, not wildcards
    ("o_a", ["ups-w2"]),
    ("_", ["ups-w2"]),
    ("1111a1ws", []),                                # serial then model: no match across two fields
    ("-lcisco", []),                                 # model then vendor
    ("foc1111a1\x1fws", []),                         # not even with the separator of search_text
    ("01:10.1", []),                                 # a MAC then its address
    ("no such device", []),
])
def test_text_is_found_in_any_searched_field(fleet, client, q, expected):
    assert found(client, q) == expected


def test_text_search_combines_with_the_other_filters_and_pages(fleet, client):
    assert found(client, "w1", **{"class": "printer"}) == ["prn-w1"]
    assert found(client, "-w", unit="W2", sort="-hostname") == ["ups-w2", "pc-w2"]
    page = client.get("/api/devices", query_string={"q": "-w", "page_size": 1, "page": 2, "sort": "hostname"}).json
    assert ([d["hostname"] for d in page["items"]], page["total"]) == (["prn-w1"], 4)


def test_vietnamese_text_is_found_whatever_its_case_on_postgresql(fleet, client, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's LIKE folds ASCII letters only, as it always has")
    assert found(client, "phòng kế toán") == ["prn-w1"]
    assert found(client, "PHÒNG") == ["prn-w1", "pc-w2"]
    assert found(client, "TỦ MẠNG") == ["sw-w1"]
    assert found(client, "phong") == []  # accents are letters of their own


def test_an_edited_device_is_found_by_its_new_text_only(fleet, client):
    response = client.patch(f"/api/devices/{fleet[0]}", json={"hostname": "core-sw-01", "location": "Phòng máy chủ"})
    assert response.status_code == 200, response.json
    assert found(client, "core-sw") == ["core-sw-01"]
    assert found(client, "sw-w1") == []
    assert found(client, "máy chủ") == ["core-sw-01"]
    assert found(client, "tầng 2") == []
    assert found(client, "00:1b:00:00:00:01") == ["core-sw-01"]  # its interface is still searched


def test_an_imported_device_is_found_and_a_second_import_changes_what_finds_it(org, client):
    csv = ("unit_code,device_class,vendor,model,serial,hostname,location,macs,ips\n"
           "W1,workstation,Dell,OptiPlex 7090,PC0009,pc-09,Phòng một cửa,00:1b:00:00:00:19,10.1.0.19\n")
    assert upload(client, csv).status_code == 200
    assert [found(client, q) for q in ("pc0009", "pc-09", "một cửa", "00:00:19", "10.1.0.19")] == [["pc-09"]] * 5
    again = csv.replace("Phòng một cửa", "Kho tầng 1").replace("10.1.0.19", "10.1.0.99")
    assert upload(client, again).json["changed"] == 1
    assert [found(client, q) for q in ("kho tầng", "10.1.0.99", "một cửa")] == [["pc-09"], ["pc-09"], []]


def upload(client, csv: str):
    return client.post("/api/imports/devices", data={"file": (io.BytesIO(csv.encode()), "kiem-ke.csv")},
                       content_type="multipart/form-data")


def test_core_writes_keep_the_search_text(fleet, client, engine):
    """Ingestion writes with Core INSERT/UPDATE/DELETE, not the ORM: the database keeps search_text."""
    switch, printer, pc, _ups = fleet
    devices, interfaces = Device.__table__, Interface.__table__
    with engine.begin() as connection:
        connection.execute(update(devices).where(devices.c.id == pc).values(serial="PC7777"))
        connection.execute(insert(interfaces).values(device_id=pc, mac="00:1b:00:00:00:77", ips=["10.9.0.7"]))
        connection.execute(update(interfaces).where(interfaces.c.device_id == printer).values(ips=["10.1.0.33"]))
        connection.execute(update(interfaces).where(interfaces.c.device_id == switch).values(device_id=printer))
    assert [found(client, q) for q in ("pc7777", "pc0001", "00:00:00:77", "10.9.0.7")] == \
        [["pc-w2"], [], ["pc-w2"], ["pc-w2"]]
    assert [found(client, q) for q in ("10.1.0.33", "10.1.0.3\"", "00:00:00:01")] == [["prn-w1"], [], ["prn-w1"]]
    with engine.begin() as connection:
        connection.execute(delete(interfaces).where(interfaces.c.device_id == printer))
        # A stale value written back, as a read-modify-write of the whole row does: recomputed.
        connection.execute(update(devices).where(devices.c.id == switch).values(search_text="stale"))
    assert [found(client, q) for q in ("00:00:00:01", "10.1.0.2", "stale", "foc1111")] == [[], [], [], ["sw-w1"]]


def test_a_refused_edit_leaves_the_search_text_as_it_was(fleet, client, engine):
    before = table_contents(engine)
    response = client.patch(f"/api/devices/{fleet[0]}", json={"hostname": "not a host name"})
    assert response.status_code == 422
    assert table_contents(engine) == before
    assert found(client, "sw-w1") == ["sw-w1"]


def test_search_text_holds_every_searched_field(fleet, engine):
    with engine.connect() as connection:
        text = connection.scalar(select(Device.__table__.c.search_text).where(Device.__table__.c.id == fleet[1]))
    assert text.split("\x1f") == ["CN0001", "LaserJet M404", "HP", "prn-w1", "PHÒNG KẾ TOÁN",
                                  "00:1b:00:00:00:02", '["10.1.0.3","10.1.0.20"]']


def test_a_device_inserted_with_a_wrong_search_text_gets_the_right_one(fleet, client, engine):
    """PostgreSQL keeps the search text a new row carries (ingestion computes it, migration 0007) and
    checks it at commit; on SQLite the trigger computes it. Either way a wrong one does not stay."""
    devices, interfaces = Device.__table__, Interface.__table__
    with engine.begin() as connection:
        unit_id = connection.scalar(select(devices.c.unit_id).where(devices.c.id == fleet[0]))
        forged = connection.execute(insert(devices).values(
            unit_id=unit_id, serial="NEW0001", hostname="new-w1", first_seen=dt.datetime(2026, 1, 1),
            last_seen=dt.datetime(2026, 1, 1), source="manual", search_text="NEW0001\x1fnew-w1\x1fbogus-w1"
        ).returning(devices.c.id)).scalar_one()
        with_interface = connection.execute(insert(devices).values(
            unit_id=unit_id, serial="NEW0002", first_seen=dt.datetime(2026, 1, 1),
            last_seen=dt.datetime(2026, 1, 1), source="manual", search_text="NEW0002\x1f00:1b:00:00:00:99"
        ).returning(devices.c.id)).scalar_one()
        connection.execute(insert(interfaces).values(device_id=with_interface, mac="00:1b:00:00:00:98",
                                                     ips=["10.9.0.8"]))
    with engine.connect() as connection:
        texts = dict(connection.execute(select(devices.c.id, devices.c.search_text)
                                        .where(devices.c.id.in_([forged, with_interface]))).all())
    assert texts[forged].split("\x1f") in (["NEW0001", "new-w1"], ["NEW0001", "", "", "new-w1", ""])
    assert texts[with_interface].split("\x1f")[-2:] == ["00:1b:00:00:00:98", '["10.9.0.8"]']
    assert [found(client, q) for q in ("bogus", "00:00:00:99", "10.9.0.8")] == [[], [], [None]]


def test_ingestion_stores_the_search_text_the_triggers_compute(fleet, engine):
    """Ingestion writes the search text of the devices it creates and changes: the same the database
    computes when asked to (a NULL written recomputes it)."""
    devices = Device.__table__
    with engine.connect() as connection:
        before = dict(connection.execute(select(devices.c.id, devices.c.search_text)).all())
    with engine.begin() as connection:
        connection.execute(update(devices).values(search_text=None))
    with engine.connect() as connection:
        assert dict(connection.execute(select(devices.c.id, devices.c.search_text)).all()) == before
