"""What the poller reads from an agent: the standard MIBs' columns, then the vendor's own where the
standard ones are silent. All of it in one walk (see `Agent.walk`), so a device costs a few requests.

`Readings` maps each column's name to {row index: value}; everything after it is pure."""
from collections.abc import Mapping
from typing import Any

from discovery.snmp.client import Agent, Oid
from discovery.snmp.rules import MibObject, rules

Readings = dict[str, dict[Oid, Any]]

# name → OID of each column (or scalar group) read from every agent. A missing MIB costs nothing
# beyond its place in the first request.
COLUMNS: Mapping[str, str] = {
    # SNMPv2-MIB system group
    "sysDescr": "1.3.6.1.2.1.1.1", "sysObjectID": "1.3.6.1.2.1.1.2", "sysContact": "1.3.6.1.2.1.1.4",
    "sysName": "1.3.6.1.2.1.1.5", "sysLocation": "1.3.6.1.2.1.1.6", "sysServices": "1.3.6.1.2.1.1.7",
    # IF-MIB
    "ifDescr": "1.3.6.1.2.1.2.2.1.2", "ifType": "1.3.6.1.2.1.2.2.1.3", "ifSpeed": "1.3.6.1.2.1.2.2.1.5",
    "ifPhysAddress": "1.3.6.1.2.1.2.2.1.6", "ifOperStatus": "1.3.6.1.2.1.2.2.1.8",
    "ifName": "1.3.6.1.2.1.31.1.1.1.1", "ifHighSpeed": "1.3.6.1.2.1.31.1.1.1.15", "ifAlias": "1.3.6.1.2.1.31.1.1.1.18",
    # IP-MIB: whether it routes, its addresses, and the ARP cache (IP to MAC)
    "ipForwarding": "1.3.6.1.2.1.4.1", "ipAdEntIfIndex": "1.3.6.1.2.1.4.20.1.2",
    "ipNetToMediaPhysAddress": "1.3.6.1.2.1.4.22.1.2",
    # ENTITY-MIB physical table
    "entPhysicalDescr": "1.3.6.1.2.1.47.1.1.1.1.2", "entPhysicalContainedIn": "1.3.6.1.2.1.47.1.1.1.1.4",
    "entPhysicalClass": "1.3.6.1.2.1.47.1.1.1.1.5", "entPhysicalName": "1.3.6.1.2.1.47.1.1.1.1.7",
    "entPhysicalHardwareRev": "1.3.6.1.2.1.47.1.1.1.1.8", "entPhysicalFirmwareRev": "1.3.6.1.2.1.47.1.1.1.1.9",
    "entPhysicalSoftwareRev": "1.3.6.1.2.1.47.1.1.1.1.10", "entPhysicalSerialNum": "1.3.6.1.2.1.47.1.1.1.1.11",
    "entPhysicalMfgName": "1.3.6.1.2.1.47.1.1.1.1.12", "entPhysicalModelName": "1.3.6.1.2.1.47.1.1.1.1.13",
    # HOST-RESOURCES-MIB
    "hrMemorySize": "1.3.6.1.2.1.25.2.2", "hrStorageType": "1.3.6.1.2.1.25.2.3.1.2",
    "hrStorageDescr": "1.3.6.1.2.1.25.2.3.1.3", "hrStorageAllocationUnits": "1.3.6.1.2.1.25.2.3.1.4",
    "hrStorageSize": "1.3.6.1.2.1.25.2.3.1.5", "hrDeviceType": "1.3.6.1.2.1.25.3.2.1.2",
    "hrDeviceDescr": "1.3.6.1.2.1.25.3.2.1.3",
    # Printer-MIB
    "prtGeneralSerialNumber": "1.3.6.1.2.1.43.5.1.1.17", "prtMarkerLifeCount": "1.3.6.1.2.1.43.10.2.1.4",
    # UPS-MIB
    "upsIdentManufacturer": "1.3.6.1.2.1.33.1.1.1", "upsIdentModel": "1.3.6.1.2.1.33.1.1.2",
    "upsIdentUPSSoftwareVersion": "1.3.6.1.2.1.33.1.1.3", "upsIdentAgentSoftwareVersion": "1.3.6.1.2.1.33.1.1.4",
    "upsBatteryStatus": "1.3.6.1.2.1.33.1.2.1",
    # IEEE802dot11-MIB: a radio's station table and its maker's names (outside 1.3.6.1)
    "dot11StationID": "1.2.840.10036.1.1.1.1", "dot11ManufacturerName": "1.2.840.10036.3.1.2.1.2",
    "dot11ManufacturerProductName": "1.2.840.10036.3.1.2.1.3",
    "dot11ManufacturerProductVersion": "1.2.840.10036.3.1.2.1.4",
    # BRIDGE-MIB and Q-BRIDGE-MIB forwarding tables
    "dot1dBasePortIfIndex": "1.3.6.1.2.1.17.1.4.1.2", "dot1dTpFdbPort": "1.3.6.1.2.1.17.4.3.1.2",
    "dot1dTpFdbStatus": "1.3.6.1.2.1.17.4.3.1.3", "dot1qTpFdbPort": "1.3.6.1.2.1.17.7.1.2.2.1.2",
    # LLDP-MIB neighbours and local ports
    "lldpLocPortId": "1.0.8802.1.1.2.1.3.7.1.3", "lldpLocPortDesc": "1.0.8802.1.1.2.1.3.7.1.4",
    "lldpRemChassisIdSubtype": "1.0.8802.1.1.2.1.4.1.1.4", "lldpRemChassisId": "1.0.8802.1.1.2.1.4.1.1.5",
    "lldpRemPortId": "1.0.8802.1.1.2.1.4.1.1.7", "lldpRemPortDesc": "1.0.8802.1.1.2.1.4.1.1.8",
    "lldpRemSysName": "1.0.8802.1.1.2.1.4.1.1.9",
    # CISCO-CDP-MIB neighbours
    "cdpCacheAddress": "1.3.6.1.4.1.9.9.23.1.2.1.1.4", "cdpCacheDeviceId": "1.3.6.1.4.1.9.9.23.1.2.1.1.6",
    "cdpCacheDevicePort": "1.3.6.1.4.1.9.9.23.1.2.1.1.7", "cdpCachePlatform": "1.3.6.1.4.1.9.9.23.1.2.1.1.8",
}


def vendor_columns(enterprise: int | None) -> dict[str, str]:
    """name → OID of the vendor MIB objects read from a device of this enterprise (discovery/data/vendors)."""
    return {mib_object.name: mib_object.oid for mib_object in vendor_objects(enterprise)}


def vendor_objects(enterprise: int | None) -> list[MibObject]:
    """The vendor MIB objects that may speak for a device of this enterprise: its maker's, or, for an SNMP
    agent's own number (net-snmp's), the probes of the makers whose appliances run it."""
    return rules().probes if enterprise in rules().agents else rules().objects.get(enterprise, [])


async def collect(agent: Agent) -> Readings:
    """Everything the poller reads from one agent, by column name, keyed by row index."""
    readings = _by_column(COLUMNS, await agent.walk(*COLUMNS.values()))
    extra = vendor_columns(enterprise_of(readings))
    if extra:
        readings |= _by_column(extra, await agent.walk(*extra.values()))
    return readings


def _by_column(columns: Mapping[str, str], walked: Mapping[str, list[tuple[Oid, Any]]]) -> Readings:
    readings: Readings = {}
    for name, oid in columns.items():
        depth = oid.count(".") + 1
        readings[name] = {found[depth:]: value for found, value in walked[oid]}
    return readings


def scalar(readings: Readings, name: str) -> Any:
    """The value of a scalar (index .0), or of the only/first row of a column."""
    values = readings.get(name) or {}
    if (0,) in values:
        return values[(0,)]
    return next(iter(values.values()), None)


def enterprise_of(readings: Readings) -> int | None:
    """The IANA enterprise number in sysObjectID (1.3.6.1.4.1.N...)."""
    oid = scalar(readings, "sysObjectID")
    if isinstance(oid, tuple) and len(oid) > 6 and oid[:6] == (1, 3, 6, 1, 4, 1):
        return oid[6]
    return None
