"""What an inventory agent says, read safely: the body of a FusionInventory / GLPI / OCS agent's request (zlib,
gzip or plain XML), its PROLOG or INVENTORY message, and the observation an inventory becomes. Pure: bytes in,
an `ObservedDevice` or an `AgentRefusal` out.

The XML is parsed by defusedxml with DTDs forbidden (no entity expansion, no external entities) and bounded
before and after decompression, so a bomb costs at most MAX_XML_BYTES of memory."""
import datetime as dt
import re
import zlib
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeXml
from defusedxml import DefusedXmlException

from core.errors import InvalidInput
from core.i18n import Reason
from inventory.observations import ObservedDevice, ObservedInterface
from inventory.specs import installed_ram_gb

MAX_BODY_BYTES = 8 * 1024 * 1024  # compressed, as it arrives
MAX_XML_BYTES = 32 * 1024 * 1024  # decompressed: a PC with thousands of programs sends a few MB
QUERIES = ("PROLOG", "INVENTORY")
# The agent's own words for a disk that does not rotate, or does (a Windows agent's TYPE "Fixed hard disk media"
# says neither: Windows reports SSDs so too). A Linux NVMe disk is named nvme0n1.
SOLID_STATE = re.compile(r"\b(?:SSD|NVMe|solid[ -]state|flash)\b|^nvme\d+n\d+$", re.IGNORECASE)
ROTATING = re.compile(r"\b(?:HDD|rotational)\b", re.IGNORECASE)
NOT_A_DISK = re.compile(r"removable|external|cd|dvd|rom|tape|floppy|card|usb", re.IGNORECASE)
MIB = 1.048576  # MB in a MiB: a Windows agent gives disk sizes in MiB, a Linux one in decimal MB
# Windows 10 and 11 releases by build (KERNEL_VERSION 10.0.BUILD): the agent's VERSION is ReleaseId, which
# Microsoft froze at "2009" from 20H2 on. An unknown build leaves the version unknown.
WINDOWS_RELEASES = {"10240": "1507", "10586": "1511", "14393": "1607", "15063": "1703", "16299": "1709",
                    "17134": "1803", "17763": "1809", "18362": "1903", "18363": "1909", "19041": "2004",
                    "19042": "20H2", "19043": "21H1", "19044": "21H2", "19045": "22H2", "22000": "21H2",
                    "22621": "22H2", "22631": "23H2", "26100": "24H2"}
# Interfaces that are no hardware of the PC: loopback, tunnels, bridges of virtual machines.
VIRTUAL_TYPES = {"loopback", "tunnel", "bridge"}
NO_MAC = "00:00:00:00:00:00"


class AgentRefusal(InvalidInput):
    """An agent's request refused, nothing stored; `code` is the reason counted on the enrolment's page."""

    def __init__(self, code: str, reason: Reason):
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class Message:
    query: str  # PROLOG or INVENTORY
    agent_id: str  # the agent's DEVICEID: stable for a PC until it is reinstalled
    content: Element | None  # an inventory's CONTENT


def decode(body: bytes) -> bytes:
    """The XML of a request body, compressed as the agent's OCS client does (zlib, RFC 1950; gzip, RFC 1952) or
    not at all."""
    if len(body) > MAX_BODY_BYTES:
        raise AgentRefusal("too_large", Reason("the request is larger than %(mib)s MiB",
                                               mib=MAX_BODY_BYTES // (1024 * 1024)))
    if body[:2] == b"\x1f\x8b":
        return _inflate(zlib.decompressobj(16 + zlib.MAX_WBITS), body, "gzip")
    if body[:1] == b"\x78":
        return _inflate(zlib.decompressobj(), body, "zlib")
    if body.lstrip()[:1] == b"<":
        return body
    raise AgentRefusal("compression", Reason("the request is neither XML nor zlib- or gzip-compressed XML"))


def _inflate(inflater, body: bytes, kind: str) -> bytes:
    try:
        xml = inflater.decompress(body, MAX_XML_BYTES + 1)
    except zlib.error as error:
        raise AgentRefusal("compression", Reason("the %(kind)s data is corrupt: %(error)s", kind=kind,
                                                 error=str(error))) from None
    if len(xml) > MAX_XML_BYTES:
        raise AgentRefusal("too_large", Reason("the inventory is larger than %(mib)s MiB once decompressed",
                                               mib=MAX_XML_BYTES // (1024 * 1024)))
    if not inflater.eof:
        raise AgentRefusal("compression", Reason("the %(kind)s data is truncated", kind=kind))
    return xml


def parse(xml: bytes) -> Message:
    """The message in an agent's XML: its query, its agent id and, for an inventory, its CONTENT."""
    try:
        root = SafeXml.fromstring(xml, forbid_dtd=True)
    except DefusedXmlException as error:
        raise AgentRefusal("forbidden_xml", Reason("the XML declares a DTD or entities, which are refused: %(error)s",
                                                   error=str(error) or type(error).__name__)) from None
    except SafeXml.ParseError as error:
        raise AgentRefusal("malformed", Reason("the XML is malformed: %(error)s", error=str(error))) from None
    query = (root.findtext("QUERY") or "").strip().upper()
    if root.tag != "REQUEST" or query not in QUERIES:
        raise AgentRefusal("unsupported", Reason("unsupported query %(query)r; one of %(queries)s",
                                                 query=query or root.tag, queries=", ".join(QUERIES)))
    agent_id = (root.findtext("DEVICEID") or "").strip()
    if not agent_id:
        raise AgentRefusal("no_identity", Reason("the request names no DEVICEID"))
    content = root.find("CONTENT")
    if query == "INVENTORY" and content is None:
        raise AgentRefusal("malformed", Reason("the inventory has no CONTENT"))
    return Message(query, agent_id[:255], content)


def observation(message: Message, unit_code: str, at: dt.datetime, *, keep_user: bool = False) -> ObservedDevice:
    """What an inventory says of its PC, as one observation of method `agent`: identity, hardware as the spec
    registry names it, and its network interfaces. The last logged-in user only when `keep_user` (personal
    data)."""
    content = message.content
    hardware, bios = content.find("HARDWARE"), content.find("BIOS")
    interfaces = _interfaces(content)
    fields = {"serial": _text(bios, "SSN"), "vendor": _text(bios, "SMANUFACTURER") or _text(bios, "MMANUFACTURER"),
              "model": _text(bios, "SMODEL") or _text(bios, "MMODEL"), "hostname": _hostname(hardware),
              "os": _os(content, hardware), "device_class": _device_class(content, bios)}
    fields = {name: value for name, value in fields.items() if value}
    if not (fields.get("serial") or fields.get("hostname") or interfaces):
        raise AgentRefusal("no_identity", Reason("the inventory names no serial, host name or network interface"))
    raw = {"agent_id": message.agent_id, "agent_version": agent_version(content), "cpus": _cpus(content),
           "disks": _disks(content), "monitors": _monitors(content), "memory_mb": _number(hardware, "MEMORY")}
    if keep_user and _text(hardware, "LASTLOGGEDUSER"):
        raw["last_user"] = _text(hardware, "LASTLOGGEDUSER")
    return ObservedDevice(method="agent", observed_at=at, unit_code=unit_code, source=f"agent {message.agent_id}"[:100],
                          fields=fields, specs=_specs(content, hardware), interfaces=interfaces, raw=raw)


def agent_version(content: Element) -> str | None:
    version = _text(content, "VERSIONCLIENT") or _text(content.find("VERSIONPROVIDER"), "VERSION")
    return version[:64] if version else None


def _specs(content: Element, hardware: Element | None) -> dict:
    specs = {}
    cpus = content.findall("CPUS")
    if cpus:
        specs["cpu_model"] = _text(cpus[0], "NAME")
        cores = sum(_number(cpu, "CORE") or 0 for cpu in cpus)
        specs["cpu_cores"] = cores or None
    memory_mb = _number(hardware, "MEMORY")
    if memory_mb:
        specs["ram_gb"] = installed_ram_gb(memory_mb)
    disks = _disks(content)
    if disks:
        specs["storage_gb"] = round(sum(disk["size_mb"] for disk in disks) / 1000) or None
        kinds = {disk["kind"] for disk in disks}
        specs["storage_kind"] = kinds.pop() if len(kinds) == 1 and None not in kinds else None
    specs["os_name"], specs["os_version"] = _os_name_and_version(content, hardware)
    return {name: value for name, value in specs.items() if value is not None}


def _os_name_and_version(content: Element, hardware: Element | None) -> tuple[str | None, str | None]:
    """"Windows 10 Pro" and its release from the build ("22H2"); "Ubuntu 22.04.4 LTS"'s name and version."""
    operating_system = content.find("OPERATINGSYSTEM")
    name = _os(content, hardware)
    if _is_windows(content):
        name = name.removeprefix("Microsoft ") if name else None
        build = (_text(operating_system, "KERNEL_VERSION") or _text(hardware, "OSVERSION") or "").split(".")[-1]
        return name, WINDOWS_RELEASES.get(build)
    return name, _text(operating_system, "VERSION") or _text(hardware, "OSVERSION")


def _is_windows(content: Element) -> bool:
    operating_system = content.find("OPERATINGSYSTEM")
    return (_text(operating_system, "KERNEL_NAME") or "").lower() == "mswin32" or \
        "windows" in (_os(content, content.find("HARDWARE")) or "").lower()


def _disks(content: Element) -> list[dict]:
    """Each physical disk: size in MB (as agents give it, decimal) and kind where the agent's words say it."""
    disks, unit = [], MIB if _is_windows(content) else 1
    for storage in content.findall("STORAGES"):
        size_mb = _number(storage, "DISKSIZE")
        if not size_mb or NOT_A_DISK.search(_text(storage, "TYPE") or ""):
            continue  # removable media, CD and DVD drives, card readers
        size_mb = round(size_mb * unit)
        names = [_text(storage, name) for name in ("NAME", "MODEL", "DESCRIPTION", "INTERFACE")]
        kind = "ssd" if any(SOLID_STATE.search(n) for n in names if n) else \
            "hdd" if any(ROTATING.search(n) for n in names if n) else None
        disks.append({"name": _text(storage, "NAME"), "model": _text(storage, "MODEL"), "size_mb": size_mb,
                      "kind": kind, "serial": _text(storage, "SERIALNUMBER")})
    return disks


def _cpus(content: Element) -> list[dict]:
    return [{"name": _text(cpu, "NAME"), "cores": _number(cpu, "CORE"), "threads": _number(cpu, "THREAD")}
            for cpu in content.findall("CPUS")]


def _monitors(content: Element) -> list[dict]:
    return [{"manufacturer": _text(monitor, "MANUFACTURER"), "caption": _text(monitor, "CAPTION"),
             "serial": _text(monitor, "SERIAL")} for monitor in content.findall("MONITORS")]


def _interfaces(content: Element) -> tuple[ObservedInterface, ...]:
    """Physical interfaces with a MAC, their IPv4 addresses gathered (an agent sends one entry per address)."""
    by_mac: dict[str, tuple[str | None, list[str], int | None]] = {}
    for network in content.findall("NETWORKS"):
        mac = (_text(network, "MACADDR") or "").lower()
        if not mac or mac == NO_MAC or _text(network, "VIRTUALDEV") == "1" or \
                (_text(network, "TYPE") or "").lower() in VIRTUAL_TYPES:
            continue
        name, ips, speed = by_mac.setdefault(mac, (_text(network, "DESCRIPTION"), [], None))
        address = _text(network, "IPADDRESS")
        if address and address not in ips:
            ips.append(address)
        found_speed = _number(network, "SPEED")
        if found_speed and found_speed > 0:
            by_mac[mac] = (name, ips, found_speed)
    return tuple(ObservedInterface(name=name, mac=mac, ips=tuple(ips), speed_mbps=speed)
                 for mac, (name, ips, speed) in by_mac.items())


def _hostname(hardware: Element | None) -> str | None:
    name = _text(hardware, "NAME")
    return name.lower() if name else None


def _os(content: Element, hardware: Element | None) -> str | None:
    operating_system = content.find("OPERATINGSYSTEM")
    return _text(operating_system, "FULL_NAME") or _text(hardware, "OSNAME")


def _device_class(content: Element, bios: Element | None) -> str:
    """A laptop when the agent reports a battery or a portable chassis; a server when its OS says so; else a
    desktop computer."""
    chassis = (_text(content.find("HARDWARE"), "CHASSIS_TYPE") or _text(bios, "TYPE") or "").lower()
    if content.find("BATTERIES") is not None or any(word in chassis for word in ("laptop", "notebook", "portable")):
        return "laptop"
    if "server" in (_os(content, content.find("HARDWARE")) or "").lower():
        return "server"
    return "workstation"


def _text(element: Element | None, tag: str) -> str | None:
    if element is None:
        return None
    value = element.findtext(tag)
    value = " ".join(value.split()) if value else ""
    return value or None


def _number(element: Element | None, tag: str) -> int | None:
    value = _text(element, tag)
    try:
        return int(float(value)) if value else None
    except ValueError:
        return None


def reply(response: str | None = None, *, prolog_freq_hours: int = 24) -> bytes:
    """The server's answer, zlib-compressed as the agent expects: when to come back and, to a PROLOG, whether
    to send an inventory (SEND)."""
    parts = [f"<PROLOG_FREQ>{prolog_freq_hours}</PROLOG_FREQ>"]
    if response:
        parts.append(f"<RESPONSE>{response}</RESPONSE>")
    return zlib.compress(f'<?xml version="1.0" encoding="UTF-8"?>\n<REPLY>{"".join(parts)}</REPLY>\n'.encode())

