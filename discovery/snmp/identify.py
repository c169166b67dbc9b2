"""What a device is, from what its agent said: vendor, model, serial, firmware, OS and class, each
with the MIB object or rule it came from. Pure: `Readings` in, `Finding`s out.

The most specific source speaks first: the ENTITY-MIB chassis, the Printer-MIB and UPS-MIB, the
vendor's own MIB, the product OID, the sysDescr text, the enterprise number. The vendor tables are
data files in discovery/data, not code. A value no source states stays unknown: no guessing."""
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import netaddr

from core.datafiles import read_table
from discovery.snmp import registries
from discovery.snmp.collect import DATA, Readings, enterprise_of, scalar
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


@dataclass(frozen=True)
class Finding:
    value: Any
    source: str  # the MIB object or rule that said it


@dataclass(frozen=True)
class Product:
    vendor: str
    model: str
    device_class: str


@dataclass(frozen=True)
class Enterprise:
    vendor: str
    device_class: str


@dataclass(frozen=True)
class DescrPattern:
    regex: re.Pattern
    vendor: str
    device_class: str
    os: str


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


@cache
def enterprises() -> dict[int, Enterprise]:
    return {int(row["enterprise"]): Enterprise(row["vendor"], row["class"])
            for row in read_table(DATA / "enterprises.csv")}


@cache
def products() -> dict[tuple[int, ...], Product]:
    return {tuple(int(n) for n in row["oid"].split(".")): Product(row["vendor"], row["model"], row["class"])
            for row in read_table(DATA / "products.csv")}


@cache
def descr_patterns() -> list[DescrPattern]:
    return [DescrPattern(re.compile(row["pattern"], re.DOTALL), row["vendor"], row["class"], row["os"])
            for row in read_table(DATA / "sysdescr.tsv")]


def identify(readings: Readings) -> dict[str, Finding]:
    """vendor, model, serial, firmware, os, device_class, hostname and location, where known."""
    candidates: dict[str, list[Finding]] = {}
    for name, finding in _all_findings(readings):
        if finding.value not in (None, ""):
            candidates.setdefault(name, []).append(finding)
    return {name: found[0] for name, found in candidates.items()}


def _all_findings(readings: Readings) -> Iterator[tuple[str, Finding]]:
    """Every (field, finding), the most trusted source of each field first."""
    yield from _vendor_from_sysobjectid(readings)  # the maker's own number beats free text
    yield from _from_entity(readings)
    yield from _from_printer_and_ups(readings)
    yield from _from_vendor_mib(readings)
    yield from _from_product_oid(readings)
    yield from _from_sysdescr(readings)
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
    yield "vendor", column("entPhysicalMfgName")
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
        yield "vendor", Finding(text(scalar(readings, "upsIdentManufacturer")), "UPS-MIB::upsIdentManufacturer")
        yield "firmware", Finding(text(scalar(readings, "upsIdentUPSSoftwareVersion")),
                                  "UPS-MIB::upsIdentUPSSoftwareVersion")


def _from_vendor_mib(readings: Readings) -> Iterator[tuple[str, Finding]]:
    for name, values in readings.items():
        if name.startswith("vendor.") and values:
            field = name.removeprefix("vendor.").removeprefix("pdu_")
            yield field, Finding(text(next(iter(values.values()))), f"vendor MIB ({name.removeprefix('vendor.')})")


def _from_product_oid(readings: Readings) -> Iterator[tuple[str, Finding]]:
    oid = scalar(readings, "sysObjectID")
    if not isinstance(oid, tuple):
        return
    known = products()
    for length in range(len(oid), 6, -1):
        product = known.get(oid[:length])
        if product is not None:
            where = f"sysObjectID {'.'.join(map(str, oid))} (products.csv)"
            yield "model", Finding(product.model, where)
            yield "vendor", Finding(product.vendor, where)
            yield "device_class", Finding(product.device_class, where)
            return


def _from_sysdescr(readings: Readings) -> Iterator[tuple[str, Finding]]:
    descr = text(scalar(readings, "sysDescr"))
    if not descr:
        return
    raw = scalar(readings, "sysDescr")
    # Some agents quote their text ("Cisco IOS Software, ..."): the patterns read it unquoted.
    descr_lines = (raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)).strip().strip('"').strip()
    for pattern in descr_patterns():
        found = pattern.regex.search(descr_lines)
        if not found:
            continue
        where = f"sysDescr pattern {pattern.regex.pattern[:40]!r}"
        groups = {k: text(v) for k, v in found.groupdict().items() if v}
        yield "vendor", Finding(pattern.vendor, where)
        yield "device_class", Finding(pattern.device_class, where)
        for field in ("model", "firmware", "serial"):
            yield field, Finding(groups.get(field), where)
        if pattern.os:
            yield "os", Finding(" ".join(filter(None, (pattern.os, groups.get("os_version")))), where)


def _vendor_from_sysobjectid(readings: Readings) -> Iterator[tuple[str, Finding]]:
    for field, finding in (*_from_product_oid(readings), *_from_enterprise(readings), *_from_registries(readings)):
        if field == "vendor":
            yield field, finding


def _from_registries(readings: Readings) -> Iterator[tuple[str, Finding]]:
    """FusionInventory's product OIDs, then IANA's registry: for the makers discovery/data does not list. A
    number the table lists (an SNMP agent's own, such as net-snmp's) is the table's to say."""
    oid, number = scalar(readings, "sysObjectID"), enterprise_of(readings)
    if not isinstance(oid, tuple) or (number in enterprises() and not enterprises()[number].vendor):
        return  # an SNMP agent's own number (net-snmp's): it says what software answers, not what device
    product = registries.fusion_products().get(oid)
    if product is not None:
        where = f"sysObjectID {'.'.join(map(str, oid))} (FusionInventory sysobject.ids)"
        yield "model", Finding(product.model, where)
        yield "device_class", Finding(product.device_class, where)
        yield "vendor", Finding(product.vendor, where)
    if number is not None and number not in enterprises():
        yield "vendor", Finding(registries.iana_enterprises().get(number),
                                f"sysObjectID enterprise {number} (IANA registry)")


def _from_enterprise(readings: Readings) -> Iterator[tuple[str, Finding]]:
    number = enterprise_of(readings)
    enterprise = enterprises().get(number) if number is not None else None
    if enterprise is not None:
        where = f"sysObjectID enterprise {number} (enterprises.csv)"
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
    services = scalar(readings, "sysServices")
    if not isinstance(services, int) or services <= 0:
        return
    has_bridge = bool(readings.get("dot1dBasePortIfIndex"))
    if services & LAYER2 and has_bridge:
        yield "device_class", Finding("switch", f"sysServices {services} (layer 2) and BRIDGE-MIB ports")
    elif services & LAYER3 and not services & LAYER2 and not readings.get("hrDeviceType"):
        yield "device_class", Finding("router", f"sysServices {services} (layer 3 only)")


def _from_wireless(readings: Readings) -> Iterator[tuple[str, Finding]]:
    """IEEE 802.11 MIB (under 1.2.840.10036, outside 1.3.6.1): a radio's station table, and its maker's names."""
    if not (readings.get("dot11StationID") or readings.get("dot11ManufacturerProductName")):
        return
    yield "device_class", Finding("wireless", "IEEE802dot11-MIB present")
    yield "model", Finding(text(scalar(readings, "dot11ManufacturerProductName")),
                           "IEEE802dot11-MIB::dot11ManufacturerProductName")
    yield "vendor", Finding(text(scalar(readings, "dot11ManufacturerName")), "IEEE802dot11-MIB::dot11ManufacturerName")
    yield "firmware", Finding(text(scalar(readings, "dot11ManufacturerProductVersion")),
                              "IEEE802dot11-MIB::dot11ManufacturerProductVersion")


def _from_host_resources(readings: Readings) -> Iterator[tuple[str, Finding]]:
    """A host with processors in HOST-RESOURCES-MIB and nothing more specific said: a server (a desktop's
    Windows says so in its sysDescr, which speaks before)."""
    if any(kind == HR_PROCESSOR for kind in (readings.get("hrDeviceType") or {}).values()):
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
