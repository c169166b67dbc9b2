"""What a source saw of one device, validated and normalised before ingestion trusts it.

Pure: no database. Every source (nmap, SNMP, forwarding tables, spreadsheets, people) builds
`ObservedDevice`s; `normalise` turns raw values into the canonical forms that matching relies on
(one spelling of a MAC, a serial or a hostname) or says exactly which value is wrong."""
import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import netaddr
import orjson

from core.errors import InvalidInput
from core.i18n import Reason
from core.jsonable import json_value
from core.time import as_utc
from inventory.models import Device, DeviceClass, DeviceStatus, Observation
from inventory.specs import InvalidSpec, parse_specs, placed

# How much each method is believed, field by field: a value replaces another only when its method
# ranks at least as high (and, at equal rank, is not older). People correcting a record win; a PC's
# inventory agent reads its own hardware (BIOS serial, CPU, RAM, disks) from inside, more than SNMP
# reads of any device from outside; nmap and forwarding tables only infer.
METHOD_RANK: Mapping[str, int] = {
    "manual": 50, "agent": 45, "snmp": 40, "collector": 35, "import": 30, "nmap": 20, "fdb": 10, "arp": 10,
}
# The kind of change each method makes, as inventory.changes announces it (a reorganisation is one of its own).
KIND_OF_METHOD: Mapping[str, str] = {"manual": "manual", "agent": "scan", "snmp": "scan", "collector": "scan",
                                     "import": "import", "nmap": "scan", "fdb": "scan", "arp": "scan"}

# Fields an observation may describe, beside interfaces and specs.
TEXT_FIELDS = ("vendor", "model", "serial", "hostname", "firmware", "os", "location")
DATE_FIELDS = ("purchase_date", "warranty_end")
DEVICE_FIELDS = (*TEXT_FIELDS, "device_class", "status", *DATE_FIELDS, "purchase_price_vnd")
_DEVICE_FIELD_SET = frozenset(DEVICE_FIELDS)

# Values that firmware and spreadsheets put where a serial is unknown: trusting them would merge
# every device that carries one into a single record.
PLACEHOLDER_SERIALS = frozenset({
    "", "0", "00000000", "0000000000", "0123456789", "1234567890", "NONE", "NULL", "N/A", "NA", "-",
    "UNKNOWN", "DEFAULT", "DEFAULT STRING", "NOT SPECIFIED", "NOT AVAILABLE", "NOT APPLICABLE",
    "SYSTEM SERIAL NUMBER", "TO BE FILLED BY O.E.M.", "TO BE FILLED BY OEM", "SERIAL", "XXXXXXXXXX",
})
# aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff (Cisco), aabbccddeeff: what netaddr reads alike.
_COMMON_MAC = re.compile(r"^(?:[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(?:\1[0-9a-fA-F]{2}){4}"
                         r"|[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}|[0-9a-fA-F]{12})$")
# The columns' own lengths: a longer value would make PostgreSQL refuse the whole batch.
TEXT_LENGTHS: Mapping[str, int] = {name: Device.__table__.c[name].type.length for name in TEXT_FIELDS}
SOURCE_LENGTH = Observation.__table__.c["source"].type.length
_NOT_HEX = re.compile(r"[^0-9a-fA-F]")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CANONICAL_IPV4 = re.compile(rf"^{_OCTET}(?:\.{_OCTET}){{3}}$")
_HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9_-]{0,62})(\.[a-z0-9]([a-z0-9_-]{0,62}))*$")


@dataclass(frozen=True)
class ObservedInterface:
    name: str | None = None
    mac: str | None = None
    ips: tuple[str, ...] = ()
    speed_mbps: int | None = None


@dataclass(frozen=True)
class ObservedNeighbour:
    """A device seen at the other end of one of this device's ports (LLDP, CDP, forwarding table)."""
    protocol: str
    port: str = ""
    remote_port: str = ""
    remote_serial: str | None = None
    remote_mac: str | None = None
    remote_hostname: str | None = None


@dataclass(frozen=True)
class ObservedDevice:
    """One piece of evidence about one device from one method at one time."""
    method: str
    observed_at: dt.datetime
    unit_code: str
    source: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)
    specs: Mapping[str, Any] = field(default_factory=dict)
    interfaces: tuple[ObservedInterface, ...] = ()
    neighbours: tuple[ObservedNeighbour, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)  # the source's own evidence, kept verbatim
    # A person editing a known record names it; a scan names it only for a host its address alone identifies
    # (see discovery.bindings).
    device_id: int | None = None

    @property
    def serial(self) -> str | None:
        return self.fields.get("serial")

    @property
    def hostname(self) -> str | None:
        return self.fields.get("hostname")

    @property
    def macs(self) -> list[str]:
        return [i.mac for i in self.interfaces if i.mac]


class InvalidObservation(InvalidInput):
    """An observation refused. Kept apart, not parsed back out of the message: `problem` (what is wrong),
    `path` (where in the observation, e.g. `interfaces[2].mac`) and `position` (its place in a batch, if any)."""

    def __init__(self, problem: str, *, path: str = "", field: str | None = None, position: int | None = None):
        where = ".".join(part for part in (f"observations[{position}]" if position is not None else "", path) if part)
        super().__init__(placed(where, problem) if where else problem, field=field)
        self.problem, self.path, self.position = problem, path, position

    def at(self, position: int | None) -> "InvalidObservation":
        """The same refusal at another place in a batch (None: a single observation, no position)."""
        return InvalidObservation(self.problem, path=self.path, field=self.field, position=position)


def normalise(observation: ObservedDevice, *, position: int | None = 0) -> ObservedDevice:
    """The observation in canonical form, or InvalidObservation naming its position, where in it, and the field."""
    try:
        return _normalise(observation)
    except InvalidObservation as error:
        raise error.at(position) from None


def _normalise(observation: ObservedDevice) -> ObservedDevice:
    if observation.method not in METHOD_RANK:
        raise InvalidObservation(Reason("unknown method %(method)r; one of %(methods)s", method=observation.method,
                                        methods=", ".join(sorted(METHOD_RANK))), field="method")
    if not isinstance(observation.observed_at, dt.datetime):
        raise InvalidObservation(Reason("observed_at must be a date and time"), field="observed_at")
    unknown = sorted(observation.fields.keys() - _DEVICE_FIELD_SET)
    if unknown:
        raise InvalidObservation(Reason("unknown field %(name)r", name=unknown[0]), field=unknown[0])
    fields = {name: _normalise_field(name, value) for name, value in observation.fields.items()}
    if observation.method != "manual":  # only a person may clear a value; sources that lack one say nothing
        fields = {name: value for name, value in fields.items() if value is not None}
    interfaces = tuple(_normalise_interface(i, f"interfaces[{n}]")
                       for n, i in enumerate(observation.interfaces))
    neighbours = tuple(_normalise_neighbour(nb, f"neighbours[{n}]")
                       for n, nb in enumerate(observation.neighbours))
    # Every field of the original, then the normalised ones: a field added to ObservedDevice is carried, never
    # dropped. (vars(), not dataclasses.replace, which reads every field's definition again per observation.)
    return ObservedDevice(**(vars(observation) | {
        "observed_at": as_utc(observation.observed_at), "unit_code": observation.unit_code.strip(),
        "source": one_line(observation.source, SOURCE_LENGTH), "fields": fields,
        "specs": _normalise_specs(observation.specs), "interfaces": interfaces, "neighbours": neighbours}))


def normalise_mac(value: str, where: str = "mac") -> str:
    common = _COMMON_MAC.match(value.strip())
    if common:  # the usual spellings, without netaddr's cost (a third of normalising an observation)
        d = _NOT_HEX.sub("", common.group()).lower()
        return f"{d[0:2]}:{d[2:4]}:{d[4:6]}:{d[6:8]}:{d[8:10]}:{d[10:12]}"
    try:
        return str(netaddr.EUI(value.strip(), dialect=netaddr.mac_unix_expanded))
    except (netaddr.AddrFormatError, TypeError, ValueError):
        raise InvalidObservation(Reason("%(value)r is not a MAC address", value=value), path=where,
                                 field="mac") from None


def normalise_serial(value: Any) -> str | None:
    text = one_line(str(value).upper(), TEXT_LENGTHS["serial"])
    return None if text in PLACEHOLDER_SERIALS else text


def one_line(value: Any, limit: int) -> str:
    """Text as one line that fits its column: runs of white space as one space, no NUL (PostgreSQL
    stores none), cut to `limit` characters without a trailing space, so that it normalises to itself."""
    return " ".join(str(value).replace("\x00", " ").split())[:limit].rstrip()


def normalise_hostname(value: str, where: str = "hostname") -> str | None:
    text = value.strip().rstrip(".").lower()
    if not text:
        return None
    if len(text) > 253 or not _HOSTNAME.match(text):
        raise InvalidObservation(Reason("%(value)r is not a host name", value=value), path=where, field="hostname")
    return text


def fingerprint(observation: ObservedDevice, evidence: dict[str, Any] | None = None) -> str:
    """Identical observations (a batch sent twice) hash alike, so they are stored once.

    `evidence`: `evidence_of(observation)` when the caller has it already (it costs more than the hash)."""
    evidence = evidence_of(observation) if evidence is None else evidence
    payload = orjson.dumps([observation.method, observation.source, observation.observed_at.isoformat(), evidence],
                           default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.sha256(payload).hexdigest()


def evidence_of(observation: ObservedDevice) -> dict[str, Any]:
    """What the observation says, as stored. A normalised observation's fields are text, numbers, dates and
    enums, which JSON (orjson) writes as `_json_safe` would: they are kept as they are."""
    evidence: dict[str, Any] = {"unit": observation.unit_code, "fields": dict(observation.fields)}
    if observation.specs:
        evidence["specs"] = dict(observation.specs)
    if observation.interfaces:
        evidence["interfaces"] = [{k: v for k, v in vars(i).items() if v not in (None, ())}
                                  | ({"ips": list(i.ips)} if i.ips else {}) for i in observation.interfaces]
    if observation.neighbours:
        evidence["neighbours"] = [{k: v for k, v in vars(nb).items() if v} for nb in observation.neighbours]
    if observation.raw:
        evidence["raw"] = json_value(dict(observation.raw))
    return evidence


def _normalise_field(name: str, value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    at = name
    if name == "serial":
        return normalise_serial(value)
    if name == "hostname":
        return normalise_hostname(str(value), at)
    if name in TEXT_FIELDS:
        return one_line(value, TEXT_LENGTHS[name]) or None
    if name == "device_class":
        return _enum_value(DeviceClass, value, at, name)
    if name == "status":
        return _enum_value(DeviceStatus, value, at, name)
    if name in DATE_FIELDS:
        return _date(value, at, name)
    if name == "purchase_price_vnd":
        return _price(value, at)
    raise AssertionError(name)


def _normalise_specs(given: Mapping[str, Any]) -> dict[str, Any]:
    """Specs under the registry's names and in its types, whatever name and form the source used (`8 GB`,
    `memory_mb`); a name it does not know or a value it cannot read refuses the observation at `specs.<name>`."""
    if not given:
        return {}
    try:
        return parse_specs(given)
    except InvalidSpec as error:
        raise InvalidObservation(error.problem, path=error.field, field=error.field) from None


def _enum_value(enum_type, value: Any, at: str, name: str):
    try:
        return enum_type(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(m.value for m in enum_type)
        raise InvalidObservation(Reason("%(value)r is not one of %(allowed)s", value=value, allowed=allowed), path=at,
                                 field=name) from None


def _date(value: Any, at: str, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidObservation(Reason("%(value)r is not a date (YYYY-MM-DD)", value=value), path=at,
                                 field=name) from None


def _price(value: Any, at: str) -> int:
    refusal = InvalidObservation(Reason("%(value)r is not a whole number of dong", value=value), path=at,
                                 field="purchase_price_vnd")
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise refusal
    text = str(int(value)) if isinstance(value, float) else str(value).strip()
    # Spreadsheets write 15.500.000 (Vietnamese) or 15,500,000: separators of thousands, never decimals.
    digits = text.replace(".", "").replace(",", "").replace(" ", "")
    unsigned = digits.removeprefix("-")
    if not (unsigned.isascii() and unsigned.isdigit()):
        raise refusal
    price = int(digits)
    if price < 0 or price > 10**15:
        raise InvalidObservation(Reason("%(price)s dong is out of range (0 to 10^15)", price=price), path=at,
                                 field="purchase_price_vnd")
    return price


def _normalise_interface(interface: ObservedInterface, where: str) -> ObservedInterface:
    ips = []
    for ip in interface.ips:
        text = str(ip).strip()
        if _CANONICAL_IPV4.match(text):  # already as netaddr writes it, without netaddr's cost
            ips.append(text)
            continue
        try:
            ips.append(str(netaddr.IPAddress(text)))
        except (netaddr.AddrFormatError, ValueError):
            raise InvalidObservation(Reason("%(value)r is not an IP address", value=ip), path=f"{where}.ips",
                                     field="ips") from None
    speed = interface.speed_mbps
    if speed is not None and (not isinstance(speed, int) or speed < 0):
        raise InvalidObservation(Reason("%(value)r is not a speed in Mbit/s", value=speed), path=f"{where}.speed_mbps",
                                 field="speed_mbps")
    name = one_line(interface.name, 100) or None if interface.name else None
    mac = normalise_mac(interface.mac, f"{where}.mac") if interface.mac else None
    return ObservedInterface(name=name, mac=mac, ips=tuple(dict.fromkeys(ips)), speed_mbps=speed)


def _normalise_neighbour(neighbour: ObservedNeighbour, where: str) -> ObservedNeighbour:
    serial = normalise_serial(neighbour.remote_serial) if neighbour.remote_serial else None
    mac = normalise_mac(neighbour.remote_mac, f"{where}.remote_mac") if neighbour.remote_mac else None
    host = normalise_hostname(neighbour.remote_hostname, f"{where}.remote_hostname") \
        if neighbour.remote_hostname else None
    if not (serial or mac or host):
        raise InvalidObservation(Reason("a neighbour needs a serial, a MAC or a host name"), path=where,
                                 field="neighbours")
    return replace(neighbour, remote_serial=serial, remote_mac=mac, remote_hostname=host,
                   port=one_line(neighbour.port, 100), remote_port=one_line(neighbour.remote_port, 100))


