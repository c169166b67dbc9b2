"""The free-text search (`q`): a case-insensitive substring of serial, model, vendor, host name,
location, a MAC or an address, found through the search terms, which the database keeps."""
import io

import pytest
from alembic import command
from sqlalchemy import delete, insert, literal_column, select, update
from sqlalchemy import text as sql_text

from core.db import alembic_config, dumps_json, migrate
from inventory.models import Device, Interface, SearchTerm
from tests.conftest import T0, table_contents

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
    ("foc1111a1\x1fws", []),                         # not even with a separator between them
    ("01:10.1", []),                                 # a MAC then its address
    ("no such device", []),
])
def test_text_is_found_in_any_searched_field(fleet, client, q, expected):
    assert found(client, q) == expected


@pytest.mark.parametrize("q", ["   ", "\t", "\x1f"], ids=["spaces", "tab", "separator"])
def test_a_text_of_white_space_alone_looks_for_nothing(fleet, client, engine, q):
    """Every device, even one with nothing searched for (no search term at all)."""
    devices = Device.__table__
    with engine.begin() as connection:
        unit_id = connection.scalar(select(devices.c.unit_id).where(devices.c.id == fleet[0]))
        connection.execute(insert(devices).values(unit_id=unit_id, first_seen=T0, last_seen=T0, source="manual"))
    page = client.get("/api/devices", query_string={"q": q}).json
    assert page["total"] == 5


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


def test_core_writes_keep_the_search_terms(fleet, client, engine):
    """Ingestion writes with Core INSERT/UPDATE/DELETE, not the ORM: the database keeps the terms."""
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
        connection.execute(update(devices).where(devices.c.id == switch).values(location=None))
    assert [found(client, q) for q in ("00:00:00:01", "10.1.0.2", "tầng 2", "foc1111")] == [[], [], [], ["sw-w1"]]
    assert terms(engine, switch) == {"device": "FOC1111A1\x1fWS-C2960-24TT-L\x1fCisco\x1fsw-w1"}


def test_a_refused_edit_leaves_the_search_terms_as_they_were(fleet, client, engine):
    before = table_contents(engine)
    response = client.patch(f"/api/devices/{fleet[0]}", json={"hostname": "not a host name"})
    assert response.status_code == 422
    assert table_contents(engine) == before
    assert found(client, "sw-w1") == ["sw-w1"]


def test_a_device_and_each_of_its_interfaces_have_a_term(fleet, engine):
    interface_id = only_interface(engine, fleet[1])
    assert terms(engine, fleet[1]) == {
        "device": "CN0001\x1fLaserJet M404\x1fHP\x1fprn-w1\x1fPHÒNG KẾ TOÁN",
        f"interface:{interface_id}": '00:1b:00:00:00:02\x1f["10.1.0.3","10.1.0.20"]'}


def test_a_device_seen_again_with_nothing_new_to_search_writes_no_term(fleet, client, engine):
    """Only a changed term is written: the device's other terms, and other devices', keep their rows (on
    PostgreSQL, the very row versions: a term written again with the same value would have a new one)."""
    before = term_rows(engine, with_versions=True)
    response = client.patch(f"/api/devices/{fleet[1]}", json={"status": "spare", "firmware": "2.0"})
    assert response.status_code == 200, response.json
    assert term_rows(engine, with_versions=True) == before
    response = client.patch(f"/api/devices/{fleet[1]}", json={"location": "Kho"})
    assert response.status_code == 200, response.json
    after = term_rows(engine, with_versions=True)
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert changed == {(fleet[1], "device")}
    assert after[(fleet[1], "device")][0] == "CN0001\x1fLaserJet M404\x1fHP\x1fprn-w1\x1fKho"


def test_an_interface_without_addresses_is_searched_by_its_mac_alone(org, client, engine):
    device_id = add(client, PC | {"interfaces": [{"mac": "00:1b:00:00:00:31"}]})
    interface_id = only_interface(engine, device_id)
    assert terms(engine, device_id)[f"interface:{interface_id}"] == "00:1b:00:00:00:31"


def test_the_terms_are_what_the_devices_and_interfaces_hold_after_every_kind_of_write(fleet, client, engine):
    """Edits, an import, a device moved to another unit and an interface moved to another device: the
    terms are then exactly those recomputed from the rows."""
    assert client.patch(f"/api/devices/{fleet[2]}", json={"vendor": "HP", "model": None}).status_code == 200
    assert upload(client, "unit_code,serial,hostname,macs,ips\nW2,AS0001,ups-kho,00:1b:00:00:00:41,10.2.0.41\n"
                  ).status_code == 200
    interfaces = Interface.__table__
    with engine.begin() as connection:
        connection.execute(update(interfaces).where(interfaces.c.device_id == fleet[0]).values(device_id=fleet[3]))
        printer_interface = connection.scalar(select(interfaces.c.id).where(interfaces.c.device_id == fleet[1]))
        connection.execute(update(interfaces).where(interfaces.c.id == printer_interface)
                           .values(id=printer_interface + 1000))  # renumbered
        connection.execute(update(interfaces).where(interfaces.c.id == printer_interface + 1000)
                           .values(ips=None))  # JSON null, not a list
    assert term_rows(engine) == expected_terms(engine)
    assert found(client, "null") == []


def terms(engine, device_id) -> dict[str, str]:
    return {part: value for (device, part), (value,) in term_rows(engine).items() if device == device_id}


def term_rows(engine, *, with_versions: bool = False) -> dict[tuple[int, str], tuple[str, ...]]:
    """(device id, part): (value,), and on PostgreSQL with the row version (xmin) if asked."""
    versions = with_versions and engine.dialect.name == "postgresql"
    table = SearchTerm.__table__
    with engine.connect() as connection:
        rows = connection.execute(select(table, *([literal_column("xmin::text")] if versions else []))).all()
    return {(row.device_id, row.part): tuple(row[2:]) for row in rows}


def only_interface(engine, device_id) -> int:
    with engine.connect() as connection:
        return connection.execute(select(Interface.id).where(Interface.device_id == device_id)).scalar_one()


def expected_terms(engine) -> dict[tuple[int, str], tuple[str]]:
    """The terms as the rows say they must be, computed here from scratch."""
    def joined(*values):
        return "\x1f".join(value for value in values if value is not None)

    expected = {}
    with engine.connect() as connection:
        for d in connection.execute(select(Device.__table__)).all():
            expected[(d.id, "device")] = (joined(d.serial, d.model, d.vendor, d.hostname, d.location),)
        for i in connection.execute(select(Interface.__table__)).all():
            expected[(i.device_id, f"interface:{i.id}")] = (joined(i.mac, dumps_json(i.ips) if i.ips else None),)
    return {key: value for key, value in expected.items() if value != ("",)}


def test_the_search_survives_a_downgrade_and_an_upgrade_of_its_migration(fleet, client, engine):
    """Migration 0009 fills the terms of the devices stored before it; going back to 0008 rebuilds their
    search text, which then holds the same values."""
    before = term_rows(engine)
    command.downgrade(alembic_config(engine), "0008")
    with engine.connect() as connection:
        text = connection.scalar(sql_text("SELECT search_text FROM device WHERE id = :id"), {"id": fleet[1]})
    assert text.split("\x1f") == ["CN0001", "LaserJet M404", "HP", "prn-w1", "PHÒNG KẾ TOÁN",
                                  "00:1b:00:00:00:02", '["10.1.0.3","10.1.0.20"]']
    migrate(engine)
    assert term_rows(engine) == before == expected_terms(engine)
    assert [found(client, q) for q in ("laserjet", "0.1.0.20")] == [["prn-w1"], ["prn-w1"]]
