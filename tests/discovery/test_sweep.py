"""nmap sweeps through scan runs, against five real hosts in network namespaces (tests/discovery/netns.py):
real ARP, the MACs set on their interfaces, real listening services, net-snmp's snmpd. Before each
scan, `ip route get` of every host must go through the test bridge; nothing else is ever scanned."""
import re

import pytest
from sqlalchemy import func, select

from core.encryption import SecretBox
from discovery.credentials import save_credential
from discovery.errors import OutsideAllowlist
from discovery.models import ScanHost, ScanRun, ScanScope, SnmpTarget, SnmpVersion
from discovery.scans import ScanSettings, execute_run, start_run
from discovery.scopes import create_scope
from discovery.snmp.poll import PollSettings
from discovery.sweep import SweepSettings, sweep
from inventory.models import Device, DeviceEvent, DeviceStatus, Interface, Observation
from tests.conftest import SECRETS_KEY
from tests.discovery import netns

ALLOWLIST = "127.0.0.0/8,10.213.7.0/24"
# OS detection costs about 2 s a sweep of the five hosts (0.2 s without): on in one test only.
FAST = ScanSettings(allowlist=ALLOWLIST, missing_after_scans=2, sweep=SweepSettings(os_detection=False),
                    poll=PollSettings(timeout=0.5, retries=0))

# What a privileged sweep sees of each host: its MAC's maker, open ports, and the class they suggest.
EXPECTED = {
    "rdt-h1": (None, ["tcp/22 ssh", "tcp/80 http"], "other"),
    "rdt-h2": (None, ["tcp/22 ssh", "udp/161 snmp"], "other"),
    "rdt-h3": ("Brother industries, LTD.", ["tcp/515 printer", "tcp/631 ipp", "tcp/9100 jetdirect"], "printer"),
    "rdt-h4": ("Hangzhou Hikvision Digital Technology Co.,Ltd.", ["tcp/80 http", "tcp/554 rtsp"], "camera"),
    "rdt-h5": ("Dell Inc.", ["tcp/445 microsoft-ds", "tcp/3389 ms-wbt-server"], "workstation"),
}


def scan(sessions, network, scope_id: int, kind: str, settings: ScanSettings = FAST) -> ScanRun:
    """One run of the scope, after checking that every host is routed through the test bridge."""
    try:
        network.check_routes()
    except netns.Unavailable as error:
        pytest.skip(error.reason)
    with sessions() as session, session.begin():
        run_id = start_run(session, session.get(ScanScope, scope_id), kind, settings).id
    return execute_run(sessions, run_id, SecretBox([SECRETS_KEY]), settings)


def make_scope(sessions, credential_ids=()) -> int:
    with sessions() as session, session.begin():
        return create_scope(session, unit_code="W1", name="netns", networks=netns.RANGE, allowlist=ALLOWLIST,
                            methods="nmap,snmp", credential_ids=credential_ids).id


def device_at(session, mac: str) -> Device:
    return session.scalars(select(Device).join(Device.interfaces).where(Interface.mac == mac)).one()


def latest_evidence(session, device_id: int, method: str = "nmap") -> dict:
    return session.scalars(select(Observation.evidence).where(
        Observation.device_id == device_id, Observation.method == method).order_by(Observation.id.desc())).first()


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_route_check_refuses_an_address_outside_the_bridge(test_network):
    """`ip route get` only asks the kernel: nothing is sent to the address."""
    assert test_network.check_routes() == {h.address: "rdtbr0" for h in netns.HOSTS}
    with pytest.raises(netns.Unavailable, match=r"^10\.213\.8\.11 is routed .*not through the test network's "
                                                r"bridge rdtbr0: not scanning it$"):
        test_network.check_routes(["10.213.8.11"])


def test_sweep_finds_the_whole_test_network(test_network, org):
    scope_id = make_scope(org)
    # `scan` checks the routes before it starts the run; here the check's answer is looked at too.
    assert test_network.check_routes() == {h.address: "rdtbr0" for h in netns.HOSTS}
    run = scan(org, test_network, scope_id, "nmap", ScanSettings(allowlist=ALLOWLIST))
    assert (run.status, run.errors, run.mode) == \
        ("finished", [], "privileged: SYN scan, ARP on attached segments, UDP 161, OS detection")
    assert (run.hosts_total, run.hosts_done, run.hosts_answered, run.created, run.missing) == (5, 5, 5, 5, 0)
    with org() as session:
        assert count(session, Device) == 5
        for host in netns.HOSTS:
            device = device_at(session, host.mac)
            vendor, open_ports, device_class = EXPECTED[host.name]
            assert [(i.name, i.mac, i.ips) for i in device.interfaces] == [(None, host.mac, [host.address])]
            assert (device.vendor, device.device_class, device.status, device.unit.code) == \
                (vendor, device_class, "in_use", "W1")
            assert device.os.startswith("Linux")  # nmap's guess of the kernel the namespaces share
            assert latest_evidence(session, device.id)["raw"]["open_ports"] == open_ports
            assert session.scalars(select(ScanHost.device_id).where(ScanHost.address == host.address)).one() == \
                device.id
        printer = latest_evidence(session, device_at(session, "00:80:77:13:07:13").id)["raw"]["hints"]
        assert printer == [{"class": "printer", "confidence": 0.9, "evidence": [
            "tcp/515 open (LPD)", "tcp/631 open (IPP)", "tcp/9100 open (raw printing (JetDirect))",
            "MAC made by Brother industries, LTD."]}]
        camera = latest_evidence(session, device_at(session, "c4:2f:90:13:07:14").id)["raw"]["hints"]
        assert camera == [{"class": "camera", "confidence": 0.9, "evidence": [
            "tcp/554 open (RTSP video stream)", "MAC made by Hangzhou Hikvision Digital Technology Co.,Ltd."]}]


def test_second_sweep_changes_nothing(test_network, org):
    scope_id = make_scope(org)
    first = scan(org, test_network, scope_id, "nmap")
    with org() as session:
        events = count(session, DeviceEvent)
    second = scan(org, test_network, scope_id, "nmap")
    assert (first.created, second.status, second.created, second.changed, second.unchanged, second.missing) == \
        (5, "finished", 0, 0, 5, 0)
    with org() as session:
        assert (count(session, Device), count(session, Interface), count(session, DeviceEvent)) == (5, 5, events)


def test_stopped_host_becomes_missing_and_is_kept(test_network, org):
    scope_id = make_scope(org)
    assert scan(org, test_network, scope_id, "nmap").created == 5
    windows = netns.HOSTS[4]
    with test_network.host_down(windows.name):
        once = scan(org, test_network, scope_id, "nmap")
        with org() as session:
            assert device_at(session, windows.mac).status == DeviceStatus.IN_USE  # one miss is not enough
        twice = scan(org, test_network, scope_id, "nmap")
    assert [(r.hosts_answered, r.unchanged, r.missing) for r in (once, twice)] == [(4, 4, 0), (4, 4, 1)]
    with org() as session:
        device = device_at(session, windows.mac)
        assert (device.status, device.missed_scans, device.vendor, device.device_class) == \
            ("missing", 2, "Dell Inc.", "workstation")
        assert count(session, Device) == 5
        event = session.scalars(select(DeviceEvent).where(DeviceEvent.device_id == device.id,
                                                          DeviceEvent.kind == "status")).one()
        assert (event.old_value, event.new_value, event.detail) == \
            ("in_use", "missing", f"not seen in 2 complete scans of nmap:{scope_id}")
    back = scan(org, test_network, scope_id, "nmap")  # the host is up again: found, in use
    assert (back.hosts_answered, back.changed, back.unchanged, back.missing) == (5, 1, 4, 0)
    with org() as session:
        assert device_at(session, windows.mac).status == DeviceStatus.IN_USE


def test_unprivileged_sweep_finds_tcp_services_without_macs(test_network, org):
    """A connect scan: every host has a TCP service (h2 its 22), but no ARP, so no MAC and no maker;
    the address is what makes it the same device next time."""
    settings = ScanSettings(allowlist=ALLOWLIST, sweep=SweepSettings(privileged=False))
    scope_id = make_scope(org)
    run = scan(org, test_network, scope_id, "nmap", settings)
    assert (run.status, run.mode, run.hosts_answered, run.created) == \
        ("finished", "unprivileged: TCP connect scan, no ARP, no UDP, no OS detection", 5, 5)
    with org() as session:
        found = {}
        for host in netns.HOSTS:
            device_id = session.scalars(select(ScanHost.device_id).where(ScanHost.address == host.address)).one()
            device = session.get(Device, device_id)
            assert [(i.name, i.mac, i.ips) for i in device.interfaces] == [("scanned address", None, [host.address])]
            found[host.name] = (device.vendor, device.os, device.device_class,
                                latest_evidence(session, device_id)["raw"]["open_ports"])
        assert found == {
            "rdt-h1": (None, None, "other", ["tcp/22 ssh", "tcp/80 http"]),
            "rdt-h2": (None, None, "other", ["tcp/22 ssh"]),  # no UDP: its snmpd is not seen
            "rdt-h3": (None, None, "printer", ["tcp/515 printer", "tcp/631 ipp", "tcp/9100 jetdirect"]),
            "rdt-h4": (None, None, "camera", ["tcp/80 http", "tcp/554 rtsp"]),  # RTSP alone: 0.5
            "rdt-h5": (None, None, "workstation", ["tcp/445 microsoft-ds", "tcp/3389 ms-wbt-server"]),
        }
        assert session.scalar(select(func.count()).select_from(Interface).where(Interface.mac.is_not(None))) == 0
    again = scan(org, test_network, scope_id, "nmap", settings)
    assert (again.created, again.changed, again.unchanged) == (0, 0, 5)


def test_allowlist_is_checked_again_before_nmap_runs(test_network, org):
    scope_id = make_scope(org)  # written while the allowlist had the test network
    narrowed = ScanSettings(allowlist="127.0.0.0/8", sweep=SweepSettings(os_detection=False))
    outside = "10.213.7.11/32 is outside the scan allowlist (127.0.0.0/8)"
    with pytest.raises(OutsideAllowlist, match=f"^{re.escape(outside)}$") as refused:
        with org() as session, session.begin():
            start_run(session, session.get(ScanScope, scope_id), "nmap", narrowed)
    assert (refused.value.status_code, refused.value.field) == (422, "networks")

    # A run started under the wider allowlist, carried out after it was narrowed: failed, nothing stored.
    with org() as session, session.begin():
        run_id = start_run(session, session.get(ScanScope, scope_id), "nmap", FAST).id
    run = execute_run(org, run_id, SecretBox([SECRETS_KEY]), narrowed)
    assert (run.status, run.errors) == ("failed", [{"address": None, "reason": outside}])

    # No nmap at this path: had the sweep looked for nmap (even `nmap -V`) before the allowlist, the
    # error would be "nmap is not installed", not the refusal.
    no_nmap = SweepSettings(os_detection=False, nmap_path="/nonexistent/nmap")
    with pytest.raises(OutsideAllowlist, match=r"^10[.]213[.]7[.]11/32 is outside the scan allowlist"):
        sweep([netns.HOSTS[0].address], allowlist="127.0.0.0/8", settings=no_nmap)
    with org() as session:
        assert (count(session, Device), count(session, ScanHost), count(session, ScanRun)) == (0, 0, 1)


def test_snmp_of_the_same_scope_describes_the_device_nmap_found(test_network, org):
    box = SecretBox([SECRETS_KEY])
    with org() as session, session.begin():
        public = save_credential(session, box, {"name": "netns", "version": SnmpVersion.V2C,
                                                "community": netns.COMMUNITY}).id
    scope_id = make_scope(org, [public])
    swept = scan(org, test_network, scope_id, "nmap")
    polled = scan(org, test_network, scope_id, "snmp")
    assert (swept.created, polled.status, polled.mode, polled.errors) == \
        (5, "finished", "SNMP, 1 credential(s), port 161", [])
    # Only h2 has an agent; the silent others are not news.
    assert (polled.hosts_total, polled.hosts_answered, polled.created, polled.changed) == (5, 1, 0, 1)
    agent = netns.HOSTS[1]
    with org() as session:
        assert count(session, Device) == 5
        device = device_at(session, agent.mac)
        assert (device.hostname, device.location, device.source) == (netns.SYS_NAME, "test network", "snmp")
        assert [(i.name, i.mac, i.ips) for i in device.interfaces] == [("eth0", agent.mac, [agent.address])]
        assert {field: said["method"] for field, said in device.provenance.items()
                if field in ("hostname", "unit_id")} == {"hostname": "snmp", "unit_id": "snmp"}
        assert sorted(session.scalars(select(Observation.method).where(Observation.device_id == device.id))) == \
            ["nmap", "snmp"]
        assert latest_evidence(session, device.id, "nmap")["raw"]["open_ports"] == ["tcp/22 ssh", "udp/161 snmp"]
        assert latest_evidence(session, device.id, "snmp")["raw"]["sysObjectID"].startswith("1.3.6.1.4.1.8072.")
        target = session.scalars(select(SnmpTarget).where(SnmpTarget.scope_id == scope_id)).one()
        assert (target.address, target.device_id, target.credential_id, target.status) == \
            (agent.address, device.id, public, "ok")
    again = scan(org, test_network, scope_id, "nmap")  # the sweep after the poll: still the same device
    assert (again.created, again.changed, again.unchanged) == (0, 0, 5)


def test_privileged_then_unprivileged_sweep_keeps_one_interface_per_address(test_network, org):
    scope_id = make_scope(org)
    for privileged in (None, False):
        scan(org, test_network, scope_id, "nmap",
             ScanSettings(allowlist=ALLOWLIST, sweep=SweepSettings(privileged=privileged, os_detection=False)))
    with org() as session:
        for host in netns.HOSTS:
            assert [(i.mac, i.ips) for i in device_at(session, host.mac).interfaces] == [(host.mac, [host.address])]
