"""What a device is, from what its agent said: vendor, model, serial, firmware, OS and class, each
with the MIB object or rule it came from. Pure: `Readings` in, `Finding`s out.

The most specific source speaks first: the vendor's own MIB (where a maker states its system's model, serial
and version; an ENTITY-MIB chassis row often holds a part's revision), the ENTITY-MIB chassis, the Printer-MIB
and UPS-MIB, the product OID, the sysDescr text, the registries, the enterprise number, then the generic
rules (802.11, sysServices, BRIDGE-MIB, ipForwarding, HOST-RESOURCES-MIB). The rules of each vendor family
are data files in discovery/data/vendors, not code. A value no source states stays unknown: no guessing."""
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import netaddr

from discovery.snmp import registries
from discovery.snmp.collect import Readings, enterprise_of, scalar, vendor_objects
from discovery.snmp.rules import GENERIC, Description, rules
from inventory.specs import InvalidSpec, installed_ram_gb, parse_spec

log = logging.getLogger(__name__)

ENTITY_CHASSIS, ENTITY_STACK = 3, 11
HR_PROCESSOR = (1, 3, 6, 1, 2, 1, 25, 3, 1, 3)
HR_PRINTER = (1, 3, 6, 1, 2, 1, 25, 3, 1, 5)
HR_RAM = (1, 3, 6, 1, 2, 1, 25, 2, 1, 2)
HR_FIXED_DISK = (1, 3, 6, 1, 2, 1, 25, 2, 1, 4)
UPS_BATTERY_STATUS = {2: "normal", 3: "low", 4: "depleted"}  # 1, unknown, states nothing
# sysServices (RFC 3418): bit 2 is a layer-2 (bridging) device, bit 3 a layer-3 (routing) one; hosts
# set bits 4 and 7 only.
LAYER2, LAYER3 = 0b10, 0b100
SWITCH_PORTS = 5  # bridge ports that make a switch of an agent saying nothing else: the smallest switches have 5
FORWARDING = 1  # IP-MIB ipForwarding: forwarding(1), notForwarding(2)


@dataclass(frozen=True)
class Finding:
    value: Any
    source: str  # the MIB object or rule that said it


def text(value: Any) -> str | None:
    """An OCTET STRING as text: UTF-8 where it is, Latin-1 otherwise; blank is None."""
    if value is None:
        return None
    if isinstance(value, bytes):
        try:
            value = value.decode()
        except UnicodeDecodeError:
            value = value.decode("latin-1")
    value = " ".join(str(value).replace("\x00", " ").split())
    return value or None


def mac_text(value: Any) -> str | None:
    """A MAC address from its 6 octets; None for anything else or all zeros."""
    if not isinstance(value, bytes) or len(value) != 6 or not any(value):
        return None
    return ":".join(f"{octet:02x}" for octet in value)


def identify(readings: Readings) -> dict[str, Finding]:
    """vendor, model, serial, firmware, os, device_class, hostname and location, where known."""
    candidates: dict[str, list[Finding]] = {}
    for name, finding in _all_findings(readings):
        if finding.value not in (None, ""):
            candidates.setdefault(name, []).append(finding)
    return {name: found[0] for name, found in candidates.items()}


def _all_findings(readings: Readings) -> Iterator[tuple[str, Finding]]:
    """Every (field, finding), the most trusted source of each field first."""
    # The vendor: a product line's own text names its brand (UTAX on Kyocera's number, OPNsense on pfSense's),
    # then the maker's number; both beat what free text (ENTITY-MIB, UPS-MIB) says of the maker.
    described = _described(readings)
    yield from _only("vendor", _from_product_oid(readings))
    yield from _only("vendor", _from_sysdescr(d for d in described if d[0].family != GENERIC))
    yield from _only("vendor", (*_from_enterprise(readings), *_from_registries(readings)))
    yield from _from_vendor_mib(readings)  # before ENTITY-MIB: see the module's docstring
    yield from _from_entity(readings)
    yield from _from_printer_and_ups(readings)
    yield from _from_product_oid(readings)
    yield from _from_sysdescr(described)
    yield from _from_registries(readings)
    yield from _from_enterprise(readings)
    yield from _from_wireless(readings)
    yield from _from_services(readings)
    yield from _from_host_resources(readings)
    yield "vendor", _mac_vendor(readings)
    yield "hostname", Finding(text(scalar(readings, "sysName")), "SNMPv2-MIB::sysName")
    yield "location", Finding(text(scalar(readings, "sysLocation")), "SNMPv2-MIB::sysLocation")


def chassis_index(readings: Readings) -> tuple[int, ...] | None:
    """The ENTITY-MIB row of the chassis: the one at the top (or under a stack), the first if several; without
    entPhysicalClass, the first row that names a serial or model."""
    classes = readings.get("entPhysicalClass") or {}
    contained = readings.get("entPhysicalContainedIn") or {}
    chassis = [index for index, kind in classes.items() if kind == ENTITY_CHASSIS]
    stacks = {index[-1] for index, kind in classes.items() if kind == ENTITY_STACK}
    top = [index for index in chassis if contained.get(index, 0) == 0 or contained.get(index) in stacks]
    if top or chassis:
        return (top or chassis)[0]
    # An agent that leaves out entPhysicalClass: the first row that names a serial or a model (the chassis
    # comes first in the table's order, as ENTITY-MIB numbers it).
    named = readings.get("entPhysicalSerialNum") or readings.get("entPhysicalModelName") or {}
    return min((index for index, value in named.items() if text(value)), default=None)


def _from_entity(readings: Readings) -> Iterator[tuple[str, Finding]]:
    index = chassis_index(readings)
    if index is None:
        return
    where = ".".join(map(str, index))

    def column(name: str) -> Finding:
        return Finding(text((readings.get(name) or {}).get(index)), f"ENTITY-MIB::{name}.{where}")
    yield "model", column("entPhysicalModelName")
    yield "serial", column("entPhysicalSerialNum")
    yield "vendor", _maker(column("entPhysicalMfgName"))
    yield "firmware", column("entPhysicalSoftwareRev")
    yield "firmware", column("entPhysicalFirmwareRev")


def _from_printer_and_ups(readings: Readings) -> Iterator[tuple[str, Finding]]:
    # Printer-MIB only: a PC's print queues show as printers in its HOST-RESOURCES-MIB too.
    if readings.get("prtGeneralSerialNumber") or readings.get("prtMarkerLifeCount"):
        yield "device_class", Finding("printer", "Printer-MIB present")
        yield "serial", Finding(text(scalar(readings, "prtGeneralSerialNumber")),
                                "Printer-MIB::prtGeneralSerialNumber")
        printers = [i for i, kind in (readings.get("hrDeviceType") or {}).items() if kind == HR_PRINTER]
        if printers:
            yield "model", Finding(text(readings["hrDeviceDescr"].get(printers[0])), "HOST-RESOURCES-MIB::hrDeviceDescr")
    if any(readings.get(name) for name in ("upsIdentModel", "upsIdentManufacturer", "upsBatteryStatus")):
        yield "device_class", Finding("ups", "UPS-MIB present")
        yield "model", Finding(text(scalar(readings, "upsIdentModel")), "UPS-MIB::upsIdentModel")
        yield "vendor", _maker(Finding(text(scalar(readings, "upsIdentManufacturer")),
                                       "UPS-MIB::upsIdentManufacturer"))
        yield "firmware", Finding(text(scalar(readings, "upsIdentUPSSoftwareVersion")),
                                  "UPS-MIB::upsIdentUPSSoftwareVersion")


def _from_vendor_mib(readings: Readings) -> Iterator[tuple[str, Finding]]:
    for mib_object in vendor_objects(enterprise_of(readings)):
        value = text(scalar(readings, mib_object.name))
        if value and mib_object.pattern:
            found = mib_object.pattern.search(value)
            value = text(found.groupdict().get("value", found.group(0))) if found else None
        if value:
            yield mib_object.field, Finding(value, mib_object.name)
            yield "vendor", Finding(mib_object.vendor, mib_object.name)
            yield "device_class", Finding(mib_object.device_class, mib_object.name)


def _from_product_oid(readings: Readings) -> Iterator[tuple[str, Finding]]:
    oid = scalar(readings, "sysObjectID")
    if not isinstance(oid, tuple):
        return
    known = rules().products
    for length in range(len(oid), 6, -1):
        product = known.get(oid[:length])
        if product is not None:
            where = f"sysObjectID {'.'.join(map(str, oid))} (product OID {'.'.join(map(str, oid[:length]))})"
            yield "model", Finding(product.model, where)
            yield "vendor", Finding(product.vendor, where)
            yield "device_class", Finding(product.device_class, where)
            return


def _described(readings: Readings) -> list[tuple[Description, dict[str, str]]]:
    """The sysDescr patterns the text matches, in order, with their named groups: matched once per device."""
    raw = scalar(readings, "sysDescr")
    if not text(raw):
        return []
    # Some agents quote their text ("Cisco IOS Software, ..."): the patterns read it unquoted.
    descr_lines = (raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)).strip().strip('"').strip()
    matched = []
    for pattern in rules().descriptions:
        found = pattern.regex.search(descr_lines)
        if found:
            matched.append((pattern, {k: text(v) for k, v in found.groupdict().items() if v}))
    return matched


def _from_sysdescr(described: Iterable[tuple[Description, dict[str, str]]]) -> Iterator[tuple[str, Finding]]:
    for pattern, groups in described:
        where = f"sysDescr pattern {pattern.regex.pattern[:40]!r} ({pattern.family})"
        yield "vendor", Finding(pattern.vendor, where)
        yield "device_class", Finding(pattern.device_class, where)
        for field in ("model", "firmware", "serial"):
            yield field, Finding(groups.get(field), where)
        if pattern.os:
            yield "os", Finding(" ".join(filter(None, (pattern.os, groups.get("os_version")))), where)


def _only(name: str, findings: Iterable[tuple[str, Finding]]) -> Iterator[tuple[str, Finding]]:
    return ((field, finding) for field, finding in findings if field == name)


def _from_registries(readings: Readings) -> Iterator[tuple[str, Finding]]:
    """FusionInventory's product OIDs, then IANA's registry: for the makers discovery/data does not list. A
    number the table lists (an SNMP agent's own, such as net-snmp's) is the table's to say."""
    oid, number = scalar(readings, "sysObjectID"), enterprise_of(readings)
    if not isinstance(oid, tuple) or number in rules().agents:
        return  # an SNMP agent's own number (net-snmp's): it says what software answers, not what device
    product = registries.fusion_products().get(oid)
    if product is not None:
        where = f"sysObjectID {'.'.join(map(str, oid))} (FusionInventory sysobject.ids)"
        yield "model", Finding(product.model, where)
        yield "device_class", Finding(product.device_class, where)
        yield "vendor", _maker(Finding(product.vendor, where))
    if number is not None and number not in rules().enterprises:
        yield "vendor", Finding(registries.iana_enterprises().get(number),
                                f"sysObjectID enterprise {number} (IANA registry)")


def _maker(finding: Finding) -> Finding:
    """A maker's name as free text registers it ("Synology Incorporated"), as people say it ("Synology")."""
    return Finding(registries.maker_name(finding.value), finding.source) if finding.value else finding


def _from_enterprise(readings: Readings) -> Iterator[tuple[str, Finding]]:
    number = enterprise_of(readings)
    enterprise = rules().enterprises.get(number) if number is not None else None
    if enterprise is not None:
        where = f"sysObjectID enterprise {number} (vendor rules)"
        yield "vendor", Finding(enterprise.vendor, where)
        yield "device_class", Finding(enterprise.device_class, where)


def _mac_vendor(readings: Readings) -> Finding:
    """The maker of the first registered MAC address among the interfaces (IEEE registry, via netaddr)."""
    for value in (readings.get("ifPhysAddress") or {}).values():
        vendor = mac_vendor(mac_text(value))
        if vendor:
            return Finding(vendor, "MAC address prefix (IEEE registry)")
    return Finding(None, "")


def mac_vendor(mac: str | None) -> str | None:
    if not mac:
        return None
    try:
        return netaddr.EUI(mac).oui.registration().org
    except (netaddr.NotRegisteredError, netaddr.AddrFormatError, IndexError):
        return None


def _from_services(readings: Readings) -> Iterator[tuple[str, Finding]]:
    """Switch or router from what the agent says it does: sysServices' layers, BRIDGE-MIB ports and IP-MIB's
    ipForwarding; never for a host (processors in HOST-RESOURCES-MIB: a server bridges and forwards too)."""
    if _has_processors(readings):
        return
    services = scalar(readings, "sysServices")
    services = services if isinstance(services, int) and services > 0 else 0
    bridge_ports = len(readings.get("dot1dBasePortIfIndex") or {})
    if services & LAYER2 and (bridge_ports or not services & ~(LAYER2 | 1)):
        yield "device_class", Finding("switch", f"sysServices {services} (layer 2)"
                                      + (" and BRIDGE-MIB ports" if bridge_ports else " only"))
    elif services & LAYER3 and not services & LAYER2:
        yield "device_class", Finding("router", f"sysServices {services} (layer 3 only)")
    elif not services and bridge_ports >= SWITCH_PORTS:
        yield "device_class", Finding("switch", f"BRIDGE-MIB: {bridge_ports} bridge ports")
    elif scalar(readings, "ipForwarding") == FORWARDING and not bridge_ports:
        yield "device_class", Finding("router", "IP-MIB::ipForwarding forwarding, no BRIDGE-MIB ports")


def _has_processors(readings: Readings) -> bool:
    return any(kind == HR_PROCESSOR for kind in (readings.get("hrDeviceType") or {}).values())


def _from_wireless(readings: Readings) -> Iterator[tuple[str, Finding]]:
    """IEEE 802.11 MIB (under 1.2.840.10036, outside 1.3.6.1): a radio's station table, and its maker's names."""
    if not (readings.get("dot11StationID") or readings.get("dot11ManufacturerProductName")):
        return
    yield "device_class", Finding("wireless", "IEEE802dot11-MIB present")
    yield "model", Finding(text(scalar(readings, "dot11ManufacturerProductName")),
                           "IEEE802dot11-MIB::dot11ManufacturerProductName")
    yield "vendor", _maker(Finding(text(scalar(readings, "dot11ManufacturerName")),
                                   "IEEE802dot11-MIB::dot11ManufacturerName"))
    yield "firmware", Finding(text(scalar(readings, "dot11ManufacturerProductVersion")),
                              "IEEE802dot11-MIB::dot11ManufacturerProductVersion")


def _from_host_resources(readings: Readings) -> Iterator[tuple[str, Finding]]:
    """A host with processors in HOST-RESOURCES-MIB and nothing more specific said: a server (a desktop's
    Windows says so in its sysDescr, which speaks before)."""
    if _has_processors(readings):
        yield "device_class", Finding("server", "HOST-RESOURCES-MIB processors")


def specs(readings: Readings) -> dict[str, Finding]:
    """CPU cores, RAM and disk (HOST-RESOURCES-MIB), page count (Printer-MIB), battery (UPS-MIB), under the
    specification registry's names and as it stores them (inventory/specs.py)."""
    found: dict[str, Finding] = {}
    types = readings.get("hrDeviceType") or {}
    # hrProcessorTable has a row per logical processor: a Pentium 4 with Hyper-Threading counts 2 cores.
    processors = sum(1 for kind in types.values() if kind == HR_PROCESSOR)
    if processors:
        _add_spec(found, "cpu_cores", processors, "HOST-RESOURCES-MIB::hrDeviceType (processors)")
    memory_kb = scalar(readings, "hrMemorySize")
    if isinstance(memory_kb, int) and memory_kb > 0:  # what the system can use: the installed size is above it
        _add_spec(found, "ram_gb", installed_ram_gb(memory_kb / 1024), "HOST-RESOURCES-MIB::hrMemorySize")
    disk_bytes = sum(_storage_bytes(readings, index) for index, kind in (readings.get("hrStorageType") or {}).items()
                     if kind == HR_FIXED_DISK)
    if disk_bytes >= 10**9:  # whole decimal GB, as disks are labelled
        _add_spec(found, "storage_gb", round(disk_bytes / 10**9), "HOST-RESOURCES-MIB::hrStorageSize (fixed disks)")
    pages = scalar(readings, "prtMarkerLifeCount")
    if isinstance(pages, int):
        _add_spec(found, "page_count", pages, "Printer-MIB::prtMarkerLifeCount")
    battery = scalar(readings, "upsBatteryStatus")
    if isinstance(battery, int) and battery in UPS_BATTERY_STATUS:
        _add_spec(found, "battery_status", UPS_BATTERY_STATUS[battery], "UPS-MIB::upsBatteryStatus")
    return found


def _add_spec(found: dict[str, Finding], name: str, value: Any, source: str) -> None:
    try:
        found[name] = Finding(parse_spec(name, value), source)
    except InvalidSpec as refusal:
        # A reading the registry cannot store (16 MB of RAM is no tenth of a GB) is left out: were it kept,
        # ingestion would refuse the device's whole observation for it. The log says which.
        log.warning("%s: %r left out of the device's specs: %s", source, value, refusal.reason)


def _storage_bytes(readings: Readings, index: tuple[int, ...]) -> int:
    size = (readings.get("hrStorageSize") or {}).get(index)
    unit = (readings.get("hrStorageAllocationUnits") or {}).get(index)
    return size * unit if isinstance(size, int) and isinstance(unit, int) else 0


def describe(findings: Mapping[str, Finding]) -> dict[str, str]:
    """field → source, as the evidence of an observation keeps it."""
    return {name: finding.source for name, finding in findings.items()}
