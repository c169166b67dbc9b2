"""The identification rules: one TOML file per vendor family in discovery/data/vendors (see its README),
then generic.toml, the rules any maker's device can meet. Read once, cached.

A family file names its makers' IANA enterprise numbers, product OIDs, vendor MIB objects (for model,
serial, firmware) and sysDescr patterns; each entry takes the file's `vendor` unless it names its own."""
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from discovery.snmp.client import Oid
from inventory.models import DeviceClass

VENDORS = Path(__file__).resolve().parent.parent / "data" / "vendors"
GENERIC = "generic"  # the file read last: keywords and versions any maker's text holds
FIELDS = ("model", "serial", "firmware")
CLASSES = [device_class.value for device_class in DeviceClass]


@dataclass(frozen=True)
class Enterprise:
    vendor: str
    device_class: str  # what the maker sells nothing but, else ""


@dataclass(frozen=True)
class Product:
    vendor: str
    model: str
    device_class: str


@dataclass(frozen=True)
class Description:
    regex: re.Pattern
    vendor: str
    device_class: str
    os: str
    family: str  # the file it came from, for the evidence


@dataclass(frozen=True)
class MibObject:
    name: str  # MIB::object, the column's name in the readings and the evidence
    field: str  # model, serial or firmware
    oid: str
    vendor: str  # the maker an answer names: the family's
    device_class: str  # what an answer from it says the device is (a PDU card's model: a PDU), else ""
    pattern: re.Pattern | None  # the value must match; its group `value`, if any, is the value


@dataclass(frozen=True)
class Rules:
    enterprises: dict[int, Enterprise]
    agents: frozenset[int]  # numbers of SNMP agent software (net-snmp's): they name no hardware maker
    products: dict[Oid, Product]
    descriptions: list[Description]  # family files in name order, then generic.toml
    objects: dict[int, list[MibObject]]  # per enterprise, in the order they speak
    # Objects also read from a device whose sysObjectID is an agent's number: appliances that run net-snmp
    # (NAS, BMCs, gateways) answer with its number, and their maker's MIB says who they are.
    probes: list[MibObject]


class InvalidRules(ValueError):
    """A rule file that cannot be used: the message names the file and the entry."""


@cache
def rules() -> Rules:
    return load(VENDORS)


def load(directory: Path) -> Rules:
    """The rules of every family file in `directory`; InvalidRules names the first file that cannot be used."""
    paths = sorted(directory.glob("*.toml"), key=lambda path: (path.stem == GENERIC, path.stem))
    enterprises, agents, products, descriptions, objects, probes = {}, set(), {}, [], {}, []
    for path in paths:
        try:
            family = tomllib.loads(path.read_text(encoding="utf-8"))
            _add_family(path.stem, family, enterprises, agents, products, descriptions, objects, probes)
        except KeyError as error:
            raise InvalidRules(f"{path.name}: an entry lacks {error}") from error
        except (tomllib.TOMLDecodeError, ValueError, re.error) as error:
            raise InvalidRules(f"{path.name}: {error}") from error
    return Rules(enterprises, frozenset(agents), products, descriptions, objects, probes)


def _device_class(entry: dict) -> str:
    device_class = entry.get("class", "")
    if device_class and device_class not in CLASSES:
        raise ValueError(f"class {device_class!r} is none of {', '.join(CLASSES)}")
    return device_class


def _add_family(name: str, family: dict, enterprises, agents, products, descriptions, objects, probes) -> None:
    vendor = family.get("vendor", "")
    for entry in family.get("enterprises", []):
        enterprises[int(entry["number"])] = Enterprise(entry.get("vendor", vendor), _device_class(entry))
    agents.update(int(entry["number"]) for entry in family.get("agents", []))
    for entry in family.get("products", []):
        oid = tuple(int(n) for n in entry["oid"].split("."))
        products[oid] = Product(entry.get("vendor", vendor), entry.get("model", ""), _device_class(entry))
    for entry in family.get("descriptions", []):
        descriptions.append(Description(re.compile(entry["pattern"], re.DOTALL), entry.get("vendor", vendor),
                                        _device_class(entry), entry.get("os", ""), name))
    for entry in family.get("objects", []):
        if entry["field"] not in FIELDS:
            raise ValueError(f"object {entry['oid']}: field {entry['field']!r} is none of {', '.join(FIELDS)}")
        pattern = re.compile(entry["pattern"], re.DOTALL) if "pattern" in entry else None
        mib_object = MibObject(entry["name"], entry["field"], entry["oid"], entry.get("vendor", vendor),
                               _device_class(entry), pattern)
        # A maker may keep a field in several MIBs (a UPS card's and a PDU card's): each is read, and the
        # first listed that answers speaks.
        objects.setdefault(int(entry["enterprise"]), []).append(mib_object)
        if entry.get("probe", False):
            probes.append(mib_object)
