"""SNMP polling against real agents: snmpsim serving recordings of real devices, and net-snmp's snmpd
for SNMPv3. Values asserted are those the recordings hold."""
import asyncio
import datetime as dt
import logging
import os
import time

import pytest
from sqlalchemy import func, select

from core.audit import AuditEntry
from core.encryption import SecretBox
from discovery.credentials import save_credential
from discovery.models import AuthProtocol, PrivProtocol, ScanScope, SnmpTarget, SnmpVersion, TargetStatus
from discovery.scans import ScanSettings, execute_run, start_run
from discovery.scopes import create_scope
from discovery.snmp.client import Access, new_engine
from discovery.snmp.identify import Finding, identify, specs
from discovery.snmp.poll import PollSettings, observations_by_address, poll_host
from discovery.snmp.terminals import interface_names
from discovery.sweep import SweepSettings
from inventory.devices import record_device
from inventory.models import Device, Interface, Link, Relocation
from tests.conftest import SECRETS_KEY, wait_for_run
from tests.discovery import snmp_lab

PUBLIC = Access("lab", SnmpVersion.V2C, community="public")
FAST = PollSettings(timeout=0.5, retries=0)

# What each recording says, field by field, as a person reading the walk would find it.
EXPECTED = {
    "cisco-c3560": {"vendor": "Cisco", "model": "WS-C3560G-48TS-E", "serial": "FOC1408Z61U",
                    "firmware": "12.2(55)SE3", "device_class": "switch", "os": "IOS", "hostname": "DUMSYS-04"},
    "cisco-c3750": {"vendor": "Cisco", "model": "WS-C3750G-12S-S", "serial": "FDO1622Y10H",
                    "firmware": "12.2(50)SE5", "device_class": "switch"},
    "dlink-des3200": {"vendor": "D-Link", "model": "DES-3200-18", "device_class": "switch"},
    "hpe-procurve": {"vendor": "HP", "model": "516733-B21", "serial": "3C421900TX", "firmware": "Z.14.31",
                     "device_class": "switch"},
    "brocade-icx6430": {"vendor": "Brocade", "model": "ICX6430-24", "serial": "BZN3215N09A",
                        "firmware": "08.0.30tT311", "device_class": "switch"},
    "cisco-router": {"vendor": "Cisco", "model": "Catalyst 3550-12T", "serial": "CAT0625X0DP"},
    "h3c-e528": {"vendor": "H3C", "serial": "210235A0GKC158000929", "firmware": "5.20 Release 1513P62",
                 "device_class": "switch"},
    "ruijie-s5750": {"vendor": "Ruijie Networks", "model": "RG-S5750-24GT/12SFP", "serial": "9017EHC410215",
                     "device_class": "switch"},
    "huawei-s5720": {"vendor": "Huawei", "model": "S5720-36C-EI-AC", "serial": "210235956210F7000410",
                     "os": "VRP"},
    "vyatta": {"vendor": "Vyatta", "device_class": "router"},
    "paloalto-pa5000": {"vendor": "Palo Alto Networks", "model": "PA-5050", "serial": "0009C100761",
                        "firmware": "8.0.1", "device_class": "firewall"},
    "clavister": {"vendor": "Clavister", "firmware": "8.90.07.01-11595", "device_class": "firewall"},
    "topsec-ngfw": {"vendor": "Topsec", "model": "NGFW4000-UF", "device_class": "firewall"},
    "aruba-7010": {"vendor": "Aruba Networks", "model": "Aruba7010", "firmware": "8.3.0.0",
                   "device_class": "wireless"},
    "apc-8932": {"vendor": "APC", "model": "AP8932", "serial": "3F503A169043", "firmware": "v6.7.2",
                 "device_class": "pdu"},  # PowerNet-MIB's rPDU objects answer
    "eaton-93e": {"vendor": "Eaton", "model": "EATON 93E 80", "serial": "4K234LXX06", "firmware": "2.08.0011",
                  "device_class": "ups"},
    "phoenixtec-ups": {"vendor": "Phoenixtec", "device_class": "ups"},
    "windows-xp": {"device_class": "workstation", "os": "Windows 5.1", "hostname": "CRAY"},
    "windows-2003": {"device_class": "server", "os": "Windows 5.2"},
    "isilon-nas": {"vendor": "Dell EMC Isilon", "firmware": "7.2.1.0", "device_class": "nas", "os": "OneFS"},
    "netapp-nas": {"vendor": "NetApp", "model": "FAS3270", "serial": "940001051000", "device_class": "nas"},
    "samsung-camera": {"vendor": "Samsung Techwin", "device_class": "camera"},
}


def poll(address: str, accesses, settings=FAST):
    async def one():
        return await poll_host(new_engine(), address, snmp_lab.PORT, list(enumerate(accesses)), settings)
    return asyncio.run(one())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_identifies_each_recorded_device(snmp_lab_devices, name):
    result = poll(snmp_lab_devices[name].address, [PUBLIC])
    assert result.reason == "" and result.problems == []
    found = identify(result.readings)
    assert {field: found[field].value for field in EXPECTED[name] if field in found} == EXPECTED[name]
    assert all(found[field].source for field in EXPECTED[name])  # every value says where it came from


def test_a_host_with_processors_is_a_server_and_its_model_stays_unknown(snmp_lab_devices):
    """A Linux box that says nothing of its hardware: HOST-RESOURCES-MIB's processors make it a server (a
    desktop's Windows would have said so first); its model is not guessed, and net-snmp (the agent) is not
    its vendor."""
    found = identify(poll(snmp_lab_devices["linux-ibm-x3550"].address, [PUBLIC]).readings)
    assert found["device_class"] == Finding("server", "HOST-RESOURCES-MIB processors")
    assert "model" not in found and found["vendor"].source == "MAC address prefix (IEEE registry)"
    assert found["os"].value == "Linux 2.6.16.46-353"


def test_host_resources_specs(snmp_lab_devices):
    readings = poll(snmp_lab_devices["windows-2003"].address, [PUBLIC]).readings
    assert {name: f.value for name, f in specs(readings).items()} == {"cpu_cores": 4, "ram_gb": 2, "storage_gb": 54}
    ups = poll(snmp_lab_devices["eaton-93e"].address, [PUBLIC]).readings
    assert specs(ups)["battery_status"].value == "normal"


def test_a_switch_costs_few_requests(snmp_lab_devices):
    """The 3560's interfaces, entities, ARP and CDP tables (1,233 values) in a few dozen requests."""
    result = poll(snmp_lab_devices["cisco-c3560"].address, [PUBLIC])
    values = sum(len(column) for column in result.readings.values())
    assert values == 1233 and result.requests <= 30
    assert [len(result.readings[column]) for column in ("ifName", "entPhysicalDescr", "ipNetToMediaPhysAddress",
                                                        "cdpCacheDeviceId")] == [57, 61, 15, 9]


def test_an_interface_is_named_by_ifname_else_ifdescr():
    readings = {"ifDescr": {(1,): b"GigabitEthernet0/1", (2,): b"Vlan1", (3,): b"Null0"},
                "ifName": {(1,): b"Gi0/1", (2,): b"  "}}
    assert interface_names(readings) == {1: "Gi0/1", 2: "Vlan1", 3: "Null0"}


def test_a_terminal_is_seen_behind_the_name_its_switch_port_has(snmp_lab_devices):
    """The Catalyst 3550's forwarding table learned six terminals on Fa0/1-Fa0/6: each is recorded as seen
    behind the same name the switch's own interface on that port gets (whose MAC is the port's)."""
    address = snmp_lab_devices["cisco-router"].address
    observed = observations_by_address([poll(address, [PUBLIC])], "W1", dt.datetime(2026, 11, 2, 8, 0))
    [switch] = [observation for polled, observation in observed if polled == address]
    port_macs = {interface.name: interface.mac for interface in switch.interfaces}
    assert [(terminal.macs, link.remote_port, port_macs.get(link.remote_port))
            for polled, terminal in observed if polled is None for link in terminal.neighbours] == [
        (["00:23:89:32:f4:c7"], "Fa0/1", "00:09:e8:fd:59:81"),
        (["3c:e5:a6:31:12:dd"], "Fa0/2", "00:09:e8:fd:59:82"),
        (["3c:e5:a6:00:f6:68"], "Fa0/3", "00:09:e8:fd:59:83"),
        (["3c:e5:a6:02:2b:fa"], "Fa0/4", "00:09:e8:fd:59:84"),
        (["3c:e5:a6:02:2c:7d"], "Fa0/5", "00:09:e8:fd:59:85"),
        (["3c:e5:a6:00:f7:07"], "Fa0/6", "00:09:e8:fd:59:86"),
    ]


def test_snmpv1_walks_without_getbulk(snmp_lab_devices):
    result = poll(snmp_lab_devices["eaton-93e"].address, [Access("v1", SnmpVersion.V1, community="public")])
    assert identify(result.readings)["model"].value == "EATON 93E 80"


def test_wrong_community_then_right_one(snmp_lab_devices):
    wrong = Access("guess", SnmpVersion.V2C, community="not-this-one")
    result = poll(snmp_lab_devices["clavister"].address, [wrong, PUBLIC])
    assert result.credential_id == 1 and result.readings is not None
    failed = poll(snmp_lab_devices["clavister"].address, [wrong])
    assert failed.readings is None and failed.silent
    assert failed.reason == "guess: no SNMP answer within 0.5 s (host down, filtered, or wrong community)"


def test_agent_answering_errors_is_marked_with_the_reason(snmp_lab_devices):
    result = poll(snmp_lab_devices["answers-errors"].address, [PUBLIC])
    assert result.readings is None and result.status is TargetStatus.FAILED
    assert result.reason == "lab: agent answered error genErr"


def test_walk_that_would_never_end_stops_with_the_reason(snmp_lab_devices):
    result = poll(snmp_lab_devices["answers-in-a-loop"].address, [PUBLIC])
    assert result.status is TargetStatus.PARTIAL
    assert result.problems == ["walk of 1.3.6.1.2.1.2.2.1.2 stopped: the agent answered 1.3.6.1.2.1.2.2.1.2.1 "
                               "after 1.3.6.1.2.1.2.2.1.2.5 (OIDs not increasing)"]
    assert sorted(result.readings["ifDescr"]) == [(2,), (3,), (4,), (5,)]  # ifDescr.1 now sits after .5
    assert identify(result.readings)["device_class"].value == "firewall"  # the rest of the walk still counts


def test_slow_agent_costs_its_timeout_and_no_more(snmp_lab_devices):
    """The agent answers after 4 s; with a 0.5 s timeout and one retry the poll gives up after 1 s."""
    started = time.monotonic()
    result = poll(snmp_lab_devices["answers-late"].address, [PUBLIC], PollSettings(timeout=0.5, retries=1))
    assert time.monotonic() - started < 2.5
    assert result.reason == "lab: no SNMP answer within 1 s (host down, filtered, or wrong community)"


def test_snmpv3_auth_priv_and_its_failures(snmpd_v3):
    good = Access("v3", SnmpVersion.V3, username=snmp_lab.V3_USER, auth_protocol=AuthProtocol.SHA,
                  auth_key=snmp_lab.V3_AUTH, priv_protocol=PrivProtocol.AES128, priv_key=snmp_lab.V3_PRIV)
    result = poll(snmpd_v3, [good], PollSettings(timeout=1, retries=1))
    assert result.reason == "" and identify(result.readings)["hostname"].value == "v3-agent"
    bad_auth = Access("v3 wrong key", SnmpVersion.V3, username=snmp_lab.V3_USER, auth_protocol=AuthProtocol.SHA,
                      auth_key="not-the-key-1", priv_protocol=PrivProtocol.AES128, priv_key=snmp_lab.V3_PRIV)
    failed = poll(snmpd_v3, [bad_auth], PollSettings(timeout=1, retries=0))
    assert failed.reason == "v3 wrong key: SNMPv3 authentication failed (wrong auth key or protocol)"
    unknown = Access("v3 stranger", SnmpVersion.V3, username="stranger", auth_protocol=AuthProtocol.SHA,
                     auth_key=snmp_lab.V3_AUTH, priv_protocol=PrivProtocol.AES128, priv_key=snmp_lab.V3_PRIV)
    assert poll(snmpd_v3, [unknown], PollSettings(timeout=1, retries=0)).reason == \
        "v3 stranger: SNMPv3 user unknown to the agent"
    assert "auth-pass" not in repr(good)


LAB_RANGE = f"{snmp_lab.BASE}1-{snmp_lab.BASE}26"


def scan(sessions, scope_id: int, kind: str, settings: ScanSettings):
    with sessions() as session, session.begin():
        run_id = start_run(session, session.get(ScanScope, scope_id), kind, settings).id
    return execute_run(sessions, run_id, SecretBox([SECRETS_KEY]), settings)


def test_poll_scope_into_the_inventory(snmp_lab_devices, org, caplog):
    caplog.set_level(logging.DEBUG)
    box = SecretBox([SECRETS_KEY])
    settings = ScanSettings(allowlist="127.0.0.0/8", poll=PollSettings(timeout=1, retries=2))
    with org() as session, session.begin():
        wrong = save_credential(session, box, {"name": "old", "version": SnmpVersion.V2C, "community": "old-secret"})
        right = save_credential(session, box, {"name": "lab", "version": SnmpVersion.V2C, "community": "public"})
        scope_id = create_scope(session, unit_code="W1", name="lab", networks=LAB_RANGE, allowlist="127.0.0.0/8",
                                snmp_port=snmp_lab.PORT, credential_ids=[wrong.id, right.id]).id
    first = scan(org, scope_id, "snmp", settings)
    assert (first.status, first.hosts_total, first.hosts_answered, first.errors) == ("finished", 26, 26, [])
    with org() as session:
        switch = session.scalars(select(Device).where(Device.serial == "FOC1408Z61U")).one()
        assert (switch.model, switch.firmware, switch.hostname) == ("WS-C3560G-48TS-E", "12.2(55)SE3", "dumsys-04")
        assert switch.provenance["model"]["method"] == "snmp"
        # A camera on an access port of the Huawei S5720, its address from the same device's ARP cache.
        camera = session.scalars(select(Device).join(Device.interfaces)
                                 .where(Interface.mac == "c4:2f:90:20:5f:d9")).one()
        assert (camera.vendor, camera.source) == ("Hangzhou Hikvision Digital Technology Co.,Ltd.", "fdb")
        assert [i.ips for i in camera.interfaces] == [["10.120.30.78"]]
        huawei = session.scalars(select(Device).where(Device.serial == "210235956210F7000410")).one()
        assert [(l.remote_device_id, l.remote_port) for l in session.scalars(
            select(Link).where(Link.device_id == camera.id))] == [(huawei.id, "GigabitEthernet0/0/5")]
        targets = session.scalars(select(SnmpTarget).where(SnmpTarget.scope_id == scope_id)).all()
        assert {t.credential_id for t in targets} == {right.id}
        # Each address names the device polled there, never a terminal seen behind a switch.
        device_at = {t.address: t.device_id for t in targets}
        assert (device_at[snmp_lab_devices["cisco-c3560"].address], device_at[snmp_lab_devices["huawei-s5720"].address],
                len(set(device_at.values())), camera.id in device_at.values()) == (switch.id, huawei.id, 26, False)
        devices = session.scalar(select(func.count()).select_from(Device))
    second = scan(org, scope_id, "snmp", settings)
    assert (second.status, second.created, second.changed) == ("finished", 0, 0)
    assert second.requests < first.requests  # the remembered credential goes first: no time-outs
    with org() as session:
        assert session.scalar(select(func.count()).select_from(Device)) == devices
    assert "old-secret" not in caplog.text and "public" not in caplog.text


def test_targets_say_which_credential_worked_and_what_went_wrong(snmp_lab_devices, client, worker):
    credential = client.post("/api/credentials", json={"name": "lab", "version": "v2c", "community": "public"}).json
    faulty = snmp_lab_devices["answers-in-a-loop"].address
    scope = client.post("/api/scopes", json={"name": "loop", "unit_code": "W1", "networks": faulty,
                                             "snmp_port": snmp_lab.PORT, "credential_ids": [credential["id"]]}).json
    run = wait_for_run(client, client.post(f"/api/scopes/{scope['id']}/runs", json={"kind": "snmp"}).json["id"])
    reason = ("walk of 1.3.6.1.2.1.2.2.1.2 stopped: the agent answered 1.3.6.1.2.1.2.2.1.2.1 after "
              "1.3.6.1.2.1.2.2.1.2.5 (OIDs not increasing)")
    assert (run["status"], run["hosts_answered"], run["errors"]) == ("finished", 1, [{"address": faulty,
                                                                                      "reason": reason}])
    [target] = client.get(f"/api/scopes/{scope['id']}/snmp-targets").json
    assert target | {"polled_at": 0, "device_id": 0} == {"address": faulty, "credential": "lab", "status": "partial",
                                                         "reason": reason, "requests": 4,
                                                         "polled_at": 0, "device_id": 0}
    assert "public" not in str(target)
    # The target names the device its address was ingested as: the Clavister firewall the recording is of.
    device = client.get(f"/api/devices/{target['device_id']}").json
    assert (device["vendor"], device["firmware"], device["device_class"], device["source"]) == (
        "Clavister", "8.90.07.01-11595", "firewall", "snmp")


def test_sweep_then_poll_make_one_device_per_address(snmp_lab_devices, org):
    """nmap finds the lab's agents by their address only; SNMP then describes the same devices."""
    box = SecretBox([SECRETS_KEY])
    settings = ScanSettings(allowlist="127.0.0.0/8", poll=PollSettings(timeout=1, retries=2),
                            sweep=SweepSettings(tcp_ports=(), udp_ports=(snmp_lab.PORT,), os_detection=False))
    if snmp_lab.PORT != 161 or os.geteuid() != 0:
        pytest.skip("a UDP sweep needs root")
    with org() as session, session.begin():
        right = save_credential(session, box, {"name": "lab", "version": SnmpVersion.V2C, "community": "public"})
        scope_id = create_scope(session, unit_code="W1", name="lab", networks=LAB_RANGE, allowlist="127.0.0.0/8",
                                snmp_port=snmp_lab.PORT, credential_ids=[right.id]).id
    swept = scan(org, scope_id, "nmap", settings)
    assert (swept.status, swept.hosts_answered, swept.created) == ("finished", 26, 26)
    polled = scan(org, scope_id, "snmp", settings)
    assert (polled.status, polled.changed) == ("finished", 26)  # the same 26 devices, now described
    with org() as session:
        pa = session.scalars(select(Device).where(Device.serial == "0009C100761")).one()
        assert [(i.name, i.mac, i.ips) for i in pa.interfaces if "127.0.5.11" in i.ips] == [
            ("scanned address", None, ["127.0.5.11"])]  # as nmap found it; SNMP adds no second one
        assert session.scalar(select(func.count()).select_from(Device).where(Device.source != "fdb")) == 26
    again = scan(org, scope_id, "nmap", settings)
    assert (again.created, again.changed) == (0, 0)
    polled_again = scan(org, scope_id, "snmp", settings)
    assert (polled_again.created, polled_again.changed) == (0, 0)
    with org() as session:
        pa = session.scalars(select(Device).where(Device.serial == "0009C100761")).one()
        assert sum("127.0.5.11" in i.ips for i in pa.interfaces) == 1  # one interface holds the address


def test_a_scan_that_sees_another_units_switch_raises_a_relocation(snmp_lab_devices, org):
    """W2's Cisco switch, recorded by hand, answers the SNMP scan of W1's scope: it stays in W2 as W2 recorded
    it, the run counts one relocation and the audit log says which run raised it."""
    settings = ScanSettings(allowlist="127.0.0.0/8", poll=PollSettings(timeout=1, retries=2))
    with org() as session, session.begin():
        record_device(session, "W2", {"serial": "FOC1408Z61U", "location": "W2 server room"}, by="officer-w2")
        credential = save_credential(session, SecretBox([SECRETS_KEY]),
                                     {"name": "lab", "version": SnmpVersion.V2C, "community": "public"})
        scope_id = create_scope(session, unit_code="W1", name="lab", networks=LAB_RANGE, allowlist="127.0.0.0/8",
                                snmp_port=snmp_lab.PORT, credential_ids=[credential.id]).id
    run = scan(org, scope_id, "snmp", settings)
    assert (run.status, run.relocations) == ("finished", 1)
    with org() as session:
        switch = session.scalars(select(Device).where(Device.serial == "FOC1408Z61U")).one()
        # W1's scan changed nothing of W2's record; what it saw is the relocation's.
        assert (switch.unit.code, switch.model, switch.location) == ("W2", None, "W2 server room")
        relocation = session.scalars(select(Relocation)).one()
        assert (relocation.device_id, relocation.from_unit.code, relocation.to_unit.code, relocation.method,
                relocation.status.value) == (switch.id, "W2", "W1", "snmp", "pending")
        assert {k: relocation.seen.get(k) for k in ("serial", "vendor", "model", "hostname")} == {
            "serial": "FOC1408Z61U", "vendor": "Cisco", "model": "WS-C3560G-48TS-E", "hostname": "dumsys-04"}
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "relocation.raise")).one()
        assert (entry.actor, entry.target_id, entry.detail) == (
            f"snmp scan run {run.id}", str(relocation.id), "scope lab of W1 saw a device of another unit")
    again = scan(org, scope_id, "snmp", settings)
    assert again.relocations == 0
    with org() as session:
        assert session.scalars(select(Relocation.sightings)).one() == 2
