"""Which MACs are terminals on access ports: pure, on readings as a switch and a router give them."""
from discovery.snmp.terminals import access_port_sightings, arp_table, learned_macs

PC, PHONE, FAR = (0x3C, 0x52, 0x82, 1, 2, 3), (0x00, 0x1B, 0x54, 9, 9, 9), (0x00, 0x50, 0x56, 7, 7, 7)
SWITCH_OWN = (0x00, 0x1B, 0x54, 0, 0, 1)


def switch_readings(**extra):
    """Ports 1-3 (ifIndex 10-12, Ethernet), a VLAN interface (ifIndex 99): PC and phone on port 1,
    four MACs on port 2, the switch's own MAC on port 3, a MAC on the VLAN interface."""
    far = [(0x00, 0x50, 0x56, 7, 7, n) for n in range(4)]
    fdb = {PC: 1, PHONE: 1, SWITCH_OWN: 3, **{mac: 2 for mac in far}, FAR: 99}
    return {
        "ifName": {(10,): b"Gi0/1", (11,): b"Gi0/2", (12,): b"Gi0/3", (99,): b"Vlan1"},
        "ifType": {(10,): 6, (11,): 6, (12,): 6, (99,): 53},
        "dot1dBasePortIfIndex": {(1,): 10, (2,): 11, (3,): 12, (99,): 99},
        "dot1dTpFdbPort": fdb, "dot1dTpFdbStatus": {mac: 3 for mac in fdb},
        **extra,
    }


def router_arp():
    return {"ipNetToMediaPhysAddress": {(5, 10, 0, 0, 21): bytes(PC), (5, 10, 0, 0, 22): bytes(PHONE)}}


def test_terminals_on_access_ports_with_their_addresses():
    ips = arp_table(router_arp())
    sightings = access_port_sightings("10.0.0.2", switch_readings(), ips, own_macs={"00:1b:54:00:00:01"})
    assert [(s.mac, s.port, s.ips, s.vendor) for s in sightings] == [
        ("00:1b:54:09:09:09", "Gi0/1", ("10.0.0.22",), "Cisco Systems, Inc"),
        ("3c:52:82:01:02:03", "Gi0/1", ("10.0.0.21",), "Hewlett Packard"),
    ]


def test_a_port_with_a_neighbour_is_an_uplink():
    readings = switch_readings(lldpRemChassisId={(0, 1, 1): bytes(FAR)}, lldpRemChassisIdSubtype={(0, 1, 1): 4},
                               lldpRemPortId={(0, 1, 1): b"Gi1/0/48"})
    # Without the neighbour the PC and the phone on Gi0/1 are terminals (test above); with it, nothing is.
    assert access_port_sightings("10.0.0.2", readings, {}, own_macs={"00:1b:54:00:00:01"}) == []


def test_learned_macs_leave_out_virtual_interfaces_and_the_switch_itself():
    readings = switch_readings()
    readings["dot1dTpFdbStatus"][SWITCH_OWN] = 4  # self
    assert sorted(learned_macs(readings)) == ["Gi0/1", "Gi0/2"]
    assert len(learned_macs(readings)["Gi0/2"]) == 4
