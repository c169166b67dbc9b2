"""Terminal devices behind switches, and the links between network devices. Pure.

A switch's forwarding table says which MAC it learned on which port; routers' ARP caches say which
IP that MAC has. A MAC learned on an access port is a terminal hanging on that port, even if it never
answers a ping. A port that learned many MACs, or has an LLDP/CDP neighbour, is an uplink or trunk:
the MACs there are somewhere further away, so they are not placed on it."""
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from discovery.snmp.collect import Readings
from discovery.snmp.identify import mac_text, mac_vendor, text

UPLINK_MIN_MACS = 4  # an access port serves one PC, or a phone with a PC behind it; more is a trunk
# IANAifType of physical Ethernet ports: ethernetCsmacd, fastEther, fastEtherFX, gigabitEthernet. A MAC
# "learned" on a VLAN interface or a port channel says nothing about where the terminal plugs in.
ETHERNET_PORT_TYPES = frozenset({6, 62, 69, 117})


@dataclass(frozen=True)
class Sighting:
    """A MAC learned on a switch's access port, with the IPs the ARP caches give it."""
    mac: str
    switch_address: str
    port: str
    ips: tuple[str, ...]
    vendor: str | None


@dataclass(frozen=True)
class Neighbour:
    """A device at the other end of a port, as LLDP or CDP announced it."""
    protocol: str
    port: str
    remote_port: str
    remote_hostname: str | None
    remote_mac: str | None


def interface_names(readings: Readings) -> dict[int, str]:
    """ifIndex → ifName, or ifDescr where ifName is missing or blank (interfaces without either have no name).

    The only way an interface is named: a device's own interfaces (`discovery.snmp.poll`), the ports its
    forwarding table learned terminals on and the ports its neighbours are on all take their names from
    here, so a terminal is seen behind the very name its switch's port has."""
    names = {index[0]: text(value) for index, value in (readings.get("ifDescr") or {}).items()}
    names.update({index[0]: text(value) for index, value in (readings.get("ifName") or {}).items() if text(value)})
    return {index: name for index, name in names.items() if name}


def port_names(readings: Readings) -> dict[int, str]:
    """Bridge port number → interface name (BRIDGE-MIB dot1dBasePortIfIndex, then IF-MIB)."""
    names = interface_names(readings)
    return {index[0]: names.get(if_index, f"port {index[0]}")
            for index, if_index in (readings.get("dot1dBasePortIfIndex") or {}).items()}


def _physical(readings: Readings, port: int) -> bool:
    if_index = (readings.get("dot1dBasePortIfIndex") or {}).get((port,), port)
    kind = (readings.get("ifType") or {}).get((if_index,))
    return kind is None or kind in ETHERNET_PORT_TYPES


def learned_macs(readings: Readings) -> dict[str, set[str]]:
    """Physical port name → MACs the forwarding tables (BRIDGE-MIB and Q-BRIDGE-MIB) learned there."""
    names = interface_names(readings)
    if_index = {index[0]: value for index, value in (readings.get("dot1dBasePortIfIndex") or {}).items()}
    status = readings.get("dot1dTpFdbStatus") or {}
    by_port: dict[str, set[str]] = defaultdict(set)
    entries = [(index, port) for index, port in (readings.get("dot1dTpFdbPort") or {}).items()
               if status.get(index, 3) == 3]  # learned, not the switch's own (self = 4) or static
    entries += [(index[1:], port) for index, port in (readings.get("dot1qTpFdbPort") or {}).items()]  # (vlan, mac)
    for index, port in entries:
        if len(index) != 6 or not port or not _physical(readings, port):
            continue
        mac = mac_text(bytes(index))
        interface = if_index.get(port, port)
        if mac:
            by_port[names.get(interface, f"port {port}")].add(mac)
    return by_port


def arp_table(readings: Readings) -> dict[str, set[str]]:
    """MAC → IPs, from ipNetToMediaPhysAddress (index: ifIndex then the IPv4 address)."""
    found: dict[str, set[str]] = defaultdict(set)
    for index, value in (readings.get("ipNetToMediaPhysAddress") or {}).items():
        mac = mac_text(value)
        if mac and len(index) == 5:
            found[mac].add(".".join(map(str, index[1:])))
    return found


def neighbours(readings: Readings) -> list[Neighbour]:
    """LLDP and CDP neighbours, with this device's port name."""
    found = []
    # LLDP numbers local ports as the bridge does; the port's name is the interface's, as the
    # forwarding table has it, else whatever LLDP calls it.
    bridge_ports = port_names(readings)
    local_ports = {index[0]: text(value) for index, value in (readings.get("lldpLocPortDesc") or {}).items()}
    local_ids = {index[0]: text(value) for index, value in (readings.get("lldpLocPortId") or {}).items()}
    for index, chassis in (readings.get("lldpRemChassisId") or {}).items():
        local = index[1] if len(index) >= 3 else 0
        subtype = (readings.get("lldpRemChassisIdSubtype") or {}).get(index)
        found.append(Neighbour(
            "lldp", bridge_ports.get(local) or local_ports.get(local) or local_ids.get(local) or f"port {local}",
            text((readings.get("lldpRemPortDesc") or {}).get(index)) or
            text((readings.get("lldpRemPortId") or {}).get(index)) or "",
            text((readings.get("lldpRemSysName") or {}).get(index)),
            mac_text(chassis) if subtype == 4 else None))  # 4: the chassis id is a MAC address
    names = interface_names(readings)
    for index, device_id in (readings.get("cdpCacheDeviceId") or {}).items():
        found.append(Neighbour("cdp", names.get(index[0], f"ifIndex {index[0]}"),
                               text((readings.get("cdpCacheDevicePort") or {}).get(index)) or "",
                               text(device_id), None))
    return found


def access_port_sightings(address: str, readings: Readings, ip_by_mac: Mapping[str, Iterable[str]],
                          own_macs: set[str]) -> list[Sighting]:
    """The MACs on this switch's access ports: not uplinks, not trunks, not network devices' own."""
    uplinks = {n.port for n in neighbours(readings)}
    sightings = []
    for port, macs in sorted(learned_macs(readings).items()):
        if port in uplinks or len(macs) >= UPLINK_MIN_MACS:
            continue
        for mac in sorted(macs - own_macs):
            sightings.append(Sighting(mac, address, port, tuple(sorted(ip_by_mac.get(mac, ()))), mac_vendor(mac)))
    return sightings
