"""Which network a scan scope covers, and the devices its scans see carrying it (Device.network), so that the
catalog tells devices on the dedicated secure network from the inventory alone. No scan runs here: the sweep's
findings are fabricated and stored through the scan's own path (discovery.scans.store_sweep)."""
import pytest
from sqlalchemy import func, select

from discovery.models import RunStatus, ScanRun, ScanScope
from discovery.scans import store_sweep
from discovery.sweep import FoundHost
from inventory.changes import devices_changed
from inventory.models import Device, DeviceEvent
from tests.conftest import table_contents
from tests.discovery.test_pages_scans import page

WARD_ONE = {"name": "ward one", "unit_code": "W1", "networks": "127.0.9.0/29"}
HOST = FoundHost(address="127.0.9.2", mac="00:1b:00:00:00:21", mac_vendor="Cisco", hostname="sw-w1",
                 open_ports=(("tcp", 22, "ssh"),), os_guess=None, hints=())


def test_a_scope_says_which_network_it_covers(client):
    created = client.post("/api/scopes", json=WARD_ONE | {"network": "secure"})
    assert (created.status_code, created.json["network"]) == (201, "secure")
    changed = client.patch(f"/api/scopes/{created.json['id']}", json={"network": "internet"})
    assert (changed.status_code, changed.json["network"]) == (200, "internet")
    assert client.get(f"/api/scopes/{created.json['id']}").json["network"] == "internet"
    other = client.post("/api/scopes", json={"name": "ward two", "unit_code": "W2", "networks": "127.0.8.1"})
    assert other.json["network"] == "other"  # unless told


@pytest.mark.parametrize("network", ["chuyen-dung", "", None, "Secure"])
def test_a_network_that_is_none_of_the_three_is_refused_and_nothing_stored(client, engine, network):
    before = table_contents(engine)
    refused = client.post("/api/scopes", json=WARD_ONE | {"network": network})
    assert refused.status_code == 422
    message = "Field may not be null." if network is None else "Must be one of: secure, internet, other."
    assert refused.json["errors"] == {"json": {"network": [message]}}
    assert table_contents(engine) == before


def sweep_finds(sessions, scope_id: int, *hosts: FoundHost):
    """Store a sweep's findings as the scan itself stores them; the ingestion's result."""
    with sessions() as session, session.begin():
        scope = session.get(ScanScope, scope_id)
        run = ScanRun(scope_id=scope.id, kind="nmap", status=RunStatus.FINISHED)
        session.add(run)
        session.flush()
        return store_sweep(session, scope, run, list(hosts), missing_after_scans=3)


def device_network(sessions) -> tuple[str, str | None]:
    with sessions() as session:
        device = session.scalars(select(Device)).one()
        return device.hostname, device.network


def test_a_device_seen_by_a_scan_of_a_secure_scope_is_on_the_secure_network(client, sessions):
    scope_id = client.post("/api/scopes", json=WARD_ONE | {"network": "secure"}).json["id"]
    result = sweep_finds(sessions, scope_id, HOST)
    assert result.created == 1
    assert device_network(sessions) == ("sw-w1", "secure")
    assert client.get(f"/api/devices/{result.device_ids[0]}").json["network"] == "secure"


def test_seeing_the_device_again_changes_nothing_and_a_new_network_is_announced(client, sessions):
    scope_id = client.post("/api/scopes", json=WARD_ONE | {"network": "secure"}).json["id"]
    sweep_finds(sessions, scope_id, HOST)
    with sessions() as session:
        events = session.scalar(select(func.count()).select_from(DeviceEvent))
    announced = []

    def heard(_session, changes, **_):
        announced.append({kind: (sorted(change.fields), len(change.device_ids)) for kind, change in
                          changes.by_kind.items()})
    with devices_changed.connected_to(heard):
        again = sweep_finds(sessions, scope_id, HOST)
        assert (again.created, again.changed, again.unchanged) == (0, 0, 1)
        assert announced == []  # nothing changed, nothing to recompute
        client.patch(f"/api/scopes/{scope_id}", json={"network": "internet"})
        moved = sweep_finds(sessions, scope_id, HOST)
    assert (moved.changed, moved.unchanged) == (0, 1)  # the device itself is the same: no history
    assert announced == [{"scan": (["network"], 1)}]
    assert device_network(sessions) == ("sw-w1", "internet")
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(DeviceEvent)) == events


def test_a_device_no_scan_has_seen_has_no_network(org, client):
    recorded = client.post("/api/devices", json={"unit_code": "W1", "serial": "PC0001"})
    assert recorded.json["network"] is None


# The pages.

@pytest.fixture
def en(client):
    client.set_cookie("lang", "en")
    return client


def test_the_scope_form_and_page_show_the_network(en, sessions):
    form = page(en.get("/scans/scopes/new"))
    assert 'value="other" selected' in form.html
    created = en.post("/scans/scopes/new", data={
        "name": "ward one", "unit_code": "W1", "networks": "127.0.9.0/29", "exclusions": "", "network": "secure",
        "snmp_port": "161", "methods": ["nmap"], "schedule": ""})
    assert created.status_code == 302
    scope_id = int(created.location.rsplit("/", 1)[1])
    assert en.get(f"/api/scopes/{scope_id}").json["network"] == "secure"
    assert page(en.get(created.location)).text("scope-network") == "the dedicated secure network"
    edit = page(en.get(f"/scans/scopes/{scope_id}/edit"))
    assert 'value="secure" selected' in edit.html
    refused = en.post(f"/scans/scopes/{scope_id}/edit", data={
        "name": "ward one", "unit_code": "W1", "networks": "127.0.9.0/29", "network": "moon", "snmp_port": "161",
        "methods": ["nmap"]})
    assert (refused.status_code, page(refused).text("e-network")) == (422, "Must be one of: secure, internet, other.")
    assert en.get(f"/api/scopes/{scope_id}").json["network"] == "secure"


def test_the_device_page_shows_the_network_a_scan_saw_it_on(en, sessions):
    scope_id = en.post("/api/scopes", json=WARD_ONE | {"network": "secure"}).json["id"]
    device_id = sweep_finds(sessions, scope_id, HOST).device_ids[0]
    shown = page(en.get(f"/devices/{device_id}"))
    assert shown.text("field-network") == "Network the dedicated secure network the scope of the scan that last saw it"
    vietnamese = page(en.get(f"/devices/{device_id}?lang=vi"))
    assert "mạng chuyên dùng" in vietnamese.text("field-network")
