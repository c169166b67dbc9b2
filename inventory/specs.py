"""Device specifications, each defined once: the key it is stored under, its unit, its type, its Vietnamese
and English labels, and how to read what people, spreadsheets and SNMP agents write for it. Pure: values in,
typed values out, no database.

Stored forms:
- counts (cpu_cores, port_count, uplink_ports, port_speed_mbps, printer_ppm, page_count, scanner_ppm) are int;
- amounts (ram_gb, storage_gb, screen_inch) are int when whole, else float rounded half up to one decimal;
- poe, duplex and sheet_feeder are bool; storage_kind is "ssd" or "hdd"; battery_status "normal", "low" or
  "depleted"; cpu_model, os_name, os_version text (control characters read as spaces).

RAM counts in binary units, as memory is sold and as HOST-RESOURCES-MIB reports it: 1 GB = 1024 MB, so
8192 MB is 8 and 7972 MB (hrMemorySize of an "8 GB" machine) is 7.8. Disks count in decimal units, as their
makers label them and as discovery's disk_gb (bytes / 10**9) does: 1 TB = 1000 GB. A number without a unit
is in the spec's own unit (GB, Mbps, inches). A comma or a dot before one or two digits marks decimals ('23,8'
is 23.8, as Vietnamese writes it); before exactly three digits it groups thousands ('8.192 MB', '1,000 GB').

An int or float is read as the number it is; a bool only by a yes/no spec (and 0/1 there too).
"""
import enum
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any

from flask_babel import get_locale

from core.errors import InvalidInput
from core.i18n import Reason

TEXT_MAX = 128  # a spec is a short value; longer text is a note pasted into the wrong column
Reader = Callable[[Any], dict[str, Any]]


def placed(place: str, problem: str) -> Reason:
    """A problem where it was found, "specs.ram_gb: cannot read ...": the place as it is, the problem in the
    page's language."""
    return Reason("%(place)s: %(problem)s", place=place, problem=problem)


class InvalidSpec(InvalidInput):
    """A specification whose value (or name) cannot be read. Kept apart, not parsed back out of the message:
    `key` (the name as given) and `problem` (what is wrong, with the expected form); `field` is "specs.<key>"."""

    def __init__(self, problem: str, *, key: str | None = None):
        super().__init__(placed(key, problem) if key is not None else problem,
                         field=f"specs.{key}" if key is not None else None)
        self.key, self.problem = key, problem


class SpecKind(enum.StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"  # int when whole, else float with one decimal
    BOOLEAN = "boolean"
    CHOICE = "choice"


@dataclass(frozen=True)
class Spec:
    """One specification. `read` gives every spec its value states (storage text also tells the kind)."""
    name: str
    unit: str | None
    kind: SpecKind
    label_vi: str
    label_en: str  # fits inside a sentence: "cannot read ... as RAM"
    examples: tuple[str, str]  # how to write it, shown when a value cannot be read
    read: Reader = field(repr=False)
    choices: tuple[str, ...] = ()

    def parse(self, value: Any) -> Any:
        """This spec's stored value from a person's text or a typed value; InvalidSpec when unreadable."""
        return _read(self.name, self, self.read, value)[self.name]


class SpecLabel(Reason):
    """A spec's label inside a message: its English label in the message's text, its Vietnamese label on a
    Vietnamese page (the registry keeps both, as the device page shows them)."""

    name: str

    def __new__(cls, name: str) -> "SpecLabel":
        label = super().__new__(cls, SPECS[name].label_en)
        label.name = name
        return label

    def translated(self) -> str:
        locale = get_locale()
        return SPECS[self.name].label_vi if locale is not None and locale.language == "vi" else str(self)

    def __reduce__(self):
        return SpecLabel, (self.name,)


# ---- reading values -------------------------------------------------------------------------------------------

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # no meaning in a value; PostgreSQL and XLSX store some of them not


def _text(value: Any) -> str:
    """Text as written, composed (NFC: Vietnamese typed decomposed reads the same) and single-spaced."""
    if not isinstance(value, str):
        raise ValueError(value)
    text = " ".join(CONTROL.sub(" ", unicodedata.normalize("NFC", value)).split())
    if not text or len(text) > TEXT_MAX:
        raise ValueError(value)
    return text


TYPED_ON_A_KEYBOARD = str.maketrans({"”": '"', "“": '"', "″": '"', "×": "x"})


def _words(value: Any) -> str:
    """Text to match: lower case, typographic inch marks and the multiplication sign as typed on a keyboard."""
    return _text(value).lower().translate(TYPED_ON_A_KEYBOARD)


def _typed_number(value: Any) -> Decimal | None:
    """An int or float exactly as given (a spreadsheet cell, a stored spec); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = Decimal(repr(value))
    if not number.is_finite():
        raise ValueError(value)
    return number


def _decimal(digits: str) -> Decimal:
    """'7.8' and '23,8' are decimals; '8.192' and '1,000' group thousands (see the module's docstring)."""
    head, *groups = re.split(r"[.,]", digits)
    if groups and all(len(g) == 3 for g in groups) and len(head) <= 3 and not head.startswith("0"):
        return Decimal(head + "".join(groups))
    if len(groups) > 1:
        raise ValueError(digits)
    return Decimal(".".join([head, *groups]))


def _stored(amount: Decimal, most: int) -> int | float:
    if not 0 < amount <= most:
        raise ValueError(amount)
    tenths = amount.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if tenths == 0:
        raise ValueError(amount)  # 32 MB of RAM is not "0 GB"
    return int(tenths) if tenths == tenths.to_integral_value() else float(tenths)


def _whole(number: Decimal | int, least: int, most: int) -> int:
    if number != int(number) or not least <= number <= most:
        raise ValueError(number)
    return int(number)


AMOUNT = re.compile(r"(?:(?P<times>\d+)\s*x\s*)?(?P<number>\d+(?:[.,]\d+)*)\s*(?P<unit>[a-z]*)")


def _amount(text: str, units: Mapping[str, int | Decimal], default_unit: str) -> Decimal:
    """'8 GB', '8G', '2 x 4GB', '8192': the number times its unit, in the units' base."""
    found = AMOUNT.fullmatch(text)
    unit = found and (found["unit"] or default_unit)
    if not found or unit not in units:
        raise ValueError(text)
    return int(found["times"] or 1) * _decimal(found["number"]) * units[unit]


def _count(value: Any, pattern: re.Pattern, most: int) -> int:
    """A whole number from a typed value or from text the pattern reads (its group `n`)."""
    number = _typed_number(value)
    if number is None:
        found = pattern.fullmatch(_words(value))
        if not found:
            raise ValueError(value)
        number = Decimal(found["n"])
    return _whole(number, 1, most)


# ---- CPU ------------------------------------------------------------------------------------------------------

CPU_VENDOR_PREFIX = re.compile(r"^(?:GenuineIntel|AuthenticAMD):\s*")  # net-snmp's hrDeviceDescr says it
TRADEMARKS = re.compile(r"\((?:R|TM|C)\)|[®™]", re.I)
CLOCK = re.compile(r"\s*(?:@\s*)?\d+(?:\.\d+)?\s*[GM]Hz$", re.I)  # "@ 3.00GHz", or "3.00GHz" after "CPU"
INTEL_CORE = re.compile(r"(?:\d+(?:st|nd|rd|th)\s+gen\s+)?(?:intel\s+)?(?:core\s+)?(?P<tier>i[3579])[\s-]*(?P<number>\d{4,5}[a-z0-9]{0,3})", re.I)
AMD_RYZEN = re.compile(r"(?:amd\s+)?ryzen\s+(?P<tier>[3579])\s+(?P<pro>pro\s+)?(?P<number>\d{4}[a-z0-9]{0,3})"
                       r"(?:\s+\d+-core(?:\s+processor)?)?", re.I)
CORES = re.compile(r"(?:cpu\s*)?(?P<n>\d+)\s*(?:cores?|nhân|lõi|c)?(?:\s*[/,-]?\s*\d+\s*(?:threads?|luồng|t))?")


def _cpu_model(value: Any) -> str:
    """'i5-8500', 'Core i5 8500' and 'Intel(R) Core(TM) i5-8500 CPU @ 3.00GHz' are all 'Intel Core i5-8500';
    other models lose only trademarks, the word CPU and the clock (both vary by source, not by chip)."""
    text = TRADEMARKS.sub("", CPU_VENDOR_PREFIX.sub("", _text(value)))
    text = " ".join(re.sub(r"\bCPU\b", " ", CLOCK.sub("", text), flags=re.I).split())
    if found := INTEL_CORE.fullmatch(text):
        return f"Intel Core {found['tier'].lower()}-{found['number'].upper()}"
    if found := AMD_RYZEN.fullmatch(text):
        return f"AMD Ryzen {found['tier']} {'PRO ' if found['pro'] else ''}{found['number'].upper()}"
    if not text or re.fullmatch(r"[\d\s.,]+", text):
        raise ValueError(value)  # a number is a core count or a clock, not a model
    return text


# ---- memory and storage ---------------------------------------------------------------------------------------

RAM_MB = {"gb": 1024, "g": 1024, "gib": 1024, "mb": 1, "m": 1, "mib": 1, "tb": 1024 ** 2,
          "kb": Decimal(1) / 1024, "kib": Decimal(1) / 1024}  # KB: HOST-RESOURCES-MIB's hrMemorySize
RAM_WORDS = re.compile(r"\b(?:ram|bộ nhớ|memory|ddr[2-5]l?|(?:so-?)?dimm|bus\s*\d+|\d+\s*mhz)\b")
DISK_GB = {"tb": 1000, "t": 1000, "gb": 1, "g": 1, "mb": Decimal("0.001")}
DISK_KINDS = {"ssd": "ssd", "nvme": "ssd", "hdd": "hdd"}
DISK_KIND_WORDS = re.compile(r"\b(?:ssd|nvme|hdd)\b")
DISK_WORDS = re.compile(r"\b(?:ổ cứng|ổ đĩa|ổ|o cung|dung lượng|disk|storage|drive|sata\s*(?:iii|3)?|pcie)\b|\bm\.2\b")


def _ram_gb(value: Any, default_unit: str = "gb") -> int | float:
    number = _typed_number(value)
    if number is None:
        mb = _amount(" ".join(RAM_WORDS.sub(" ", _words(value)).split()), RAM_MB, default_unit)
    else:
        mb = number * RAM_MB[default_unit]
    return _stored(mb / 1024, most=16 * 1024)


def _storage(value: Any) -> dict[str, Any]:
    """Size and kind from '512GB SSD', 'ổ cứng 256GB SSD', '1 TB HDD', 'NVMe'. Disks joined by '+' add up
    ('256GB SSD + 1TB HDD' is 1256) and state a kind only when they share one."""
    number = _typed_number(value)
    if number is not None:
        return {"storage_gb": _stored(number, most=10 ** 6)}
    parts = re.split(r"\s*\+\s*", _words(value))
    total, kinds = Decimal(0), set()
    for part in parts:
        kinds |= {DISK_KINDS[word] for word in DISK_KIND_WORDS.findall(part)}
        rest = " ".join(DISK_WORDS.sub(" ", DISK_KIND_WORDS.sub(" ", part)).split())
        if rest:
            total += _amount(rest, DISK_GB, "gb")
        elif len(parts) > 1:
            raise ValueError(value)  # 'SSD + 1TB HDD': the size of the SSD is missing
    found: dict[str, Any] = {"storage_gb": _stored(total, most=10 ** 6)} if total else {}
    if len(kinds) == 1:
        found["storage_kind"] = kinds.pop()
    return found


# ---- operating system -----------------------------------------------------------------------------------------

WINDOWS_EDITIONS = {"pro", "professional", "home", "enterprise", "education", "standard", "datacenter", "server",
                    "essentials", "ultimate", "business", "starter", "single", "language"}
WINDOWS_RELEASE = re.compile(r"(?P<name>.+?)\s+(?:(?:version|build|phiên bản)\s+)?"
                             r"(?P<version>\d{2}H\d|\d+(?:\.\d+)+|\d{4,5})", re.I)
ARCHITECTURE = re.compile(r"\s*\b(?:x64|x86|(?:64|32)[- ]?bits?)\b", re.I)


def _os(value: Any) -> dict[str, str]:
    """Name and version: 'Windows 10 Pro 22H2' is 'Windows 10 Pro' and '22H2'; 'Ubuntu 22.04.3 LTS' is
    'Ubuntu' and '22.04.3' (LTS and codenames in brackets follow from the number); 'Windows Server 2019
    Standard' is a name only. The architecture (x64, 64-bit) is neither and is dropped."""
    text = ARCHITECTURE.sub("", _text(value))
    text = re.sub(r"^win(?:dows)?\b\s*|^win(?=\d)", "Windows ", text, flags=re.I).strip()
    if text.startswith("Windows"):
        name, version = _windows(text)
    else:
        words = re.sub(r"\s*\([^)]*\)", "", text).split()
        first = next((i for i, word in enumerate(words) if word[0].isdigit()), len(words))
        name, version = " ".join(words[:first]), " ".join(w for w in words[first:] if w.upper() != "LTS")
    return {key: part for key, part in (("os_name", name), ("os_version", version)) if part}


def _windows(text: str) -> tuple[str, str]:
    words = [word.capitalize() if word.lower() in WINDOWS_EDITIONS else word for word in text.split()]
    text = " ".join(words)
    found = WINDOWS_RELEASE.fullmatch(text)
    if not found:
        return text, ""
    name, version = found["name"], found["version"]
    if version.isdigit():  # 1909, 19045 follow Windows 10 and 11; 'Server 2019' and '2000' are names
        is_release = re.match(r"Windows 1[01]\b", name) is not None
    elif "." in version:  # the NT version an SNMP agent reports (5.2, 10.0.19045); '8.1' is a name
        is_release = name != "Windows" or re.match(r"(?:5|6|10)\.", version) is not None
    else:
        is_release = True  # 22H2
    return (name, version) if is_release else (text, "")


# ---- switch ports ---------------------------------------------------------------------------------------------

POE_WORDS = re.compile(r"\bpoe\+*")
UPLINK_WORDS = re.compile(r"\b(?:q?sfp(?:28|\+)?|uplink|combo|cổng quang|quang)(?![\w+])")
PORT_WORDS = re.compile(r"(?:-|\b)(?:ports?|cổng)\b|\b(?:rj-?45|ethernet|lan|mạng|base-t|đồng)\b")
PORT_GROUP = re.compile(r"(?P<count>\d+)\s*(?:x\s*)?(?P<rest>.*)")
SPEED_WORDS = {"gigabit": 1000, "gige": 1000, "gbe": 1000, "ge": 1000, "fast": 100, "fe": 100}
SPEED_LIST = re.compile(r"(?:\d+/)+(?P<top>\d+)\s*(?:m|mb|mbps|mbit/s)?")  # 10/100/1000: the fastest
SPEED = re.compile(r"(?P<number>\d+(?:[.,]\d+)?)\s*(?P<unit>g|gb|gbe|ge|gbps|gbit/s|m|mb|mbps|mbit/s)?")


def _ports(value: Any) -> dict[str, Any]:
    """'24 x 1G + 4 SFP', '48 cổng 10/100/1000', '24-port Gigabit PoE+'. port_count is every port, access and
    uplink; uplink_ports those in groups marked SFP/uplink/combo/quang, or without marks every group after the
    first; port_speed_mbps the speed of the first group of access ports; PoE in the text says poe."""
    number = _typed_number(value)
    if number is not None:
        return {"port_count": _whole(number, 1, 1024)}
    text = _words(value)
    found: dict[str, Any] = {"poe": True} if POE_WORDS.search(text) else {}
    groups = [_port_group(part) for part in re.split(r"\s*[+,;]\s*(?=\d)", POE_WORDS.sub(" ", text).strip())]
    marked = any(uplink for _, uplink, _ in groups)
    is_uplink = [uplink if marked else i > 0 for i, (_, uplink, _) in enumerate(groups)]
    found["port_count"] = _whole(sum(count for count, _, _ in groups), 1, 1024)
    if marked or len(groups) > 1:
        found["uplink_ports"] = sum(count for (count, _, _), up in zip(groups, is_uplink) if up)
    speeds = [speed for (_, _, speed), up in zip(groups, is_uplink) if speed and not up]
    if speeds:
        found["port_speed_mbps"] = speeds[0]
    return found


def _port_group(part: str) -> tuple[int, bool, int | None]:
    """(count, is an uplink, speed in Mbps) of '24 x 1G', '4 SFP+', '48 cổng 10/100/1000'."""
    found = PORT_GROUP.fullmatch(part)
    if not found:
        raise ValueError(part)
    rest = found["rest"]
    uplink = UPLINK_WORDS.search(rest) is not None
    rest = " ".join(PORT_WORDS.sub(" ", UPLINK_WORDS.sub(" ", rest)).split())
    return int(found["count"]), uplink, _speed_mbps(rest) if rest else None


def _speed_mbps(text: str) -> int:
    """'1G', '2.5G', '100 Mbps', '10/100/1000', 'Gigabit', 'Fast' (Ethernet); a bare number is Mbps."""
    if text in SPEED_WORDS:
        return SPEED_WORDS[text]
    if found := SPEED_LIST.fullmatch(text):
        mbps = Decimal(found["top"])
    elif found := SPEED.fullmatch(text):
        mbps = _decimal(found["number"]) * (1000 if (found["unit"] or "m").startswith("g") else 1)
    else:
        raise ValueError(text)
    return _whole(mbps, 1, 800_000)


def _port_speed(value: Any) -> dict[str, Any]:
    number = _typed_number(value)
    if number is not None:
        return {"port_speed_mbps": _whole(number, 1, 800_000)}
    try:
        return {"port_speed_mbps": _speed_mbps(" ".join(PORT_WORDS.sub(" ", _words(value)).split()))}
    except ValueError:  # '24 x 1G + 4 SFP' given as the speed still says it, and only that
        return {"port_speed_mbps": _ports(value)["port_speed_mbps"]}


def _uplinks(value: Any) -> dict[str, Any]:
    number = _typed_number(value)
    if number is None and isinstance(value, str) and value.strip().isdigit():
        number = Decimal(value.strip())
    if number is not None:
        return {"uplink_ports": _whole(number, 0, 1024)}  # a bare number counts uplinks, not all ports
    return {"uplink_ports": _ports(value)["uplink_ports"]}  # '4 SFP' here says nothing of the other ports


# ---- yes/no, pages per minute, screen -------------------------------------------------------------------------

YES = frozenset({"có", "co", "yes", "y", "x", "true", "1"})
NO = frozenset({"không", "khong", "ko", "k", "no", "n", "false", "0"})
NEGATIONS = ("không ", "khong ", "ko ", "no ", "non-", "non ")
PPM = re.compile(r"(?:(?:lên đến|tối đa|up to)\s*)?(?P<n>\d+)\s*"
                 r"(?:ppm|(?:trang|tờ)\s*/\s*phút|pages?\s*(?:per|/)\s*min(?:ute)?)?")
PAGES = re.compile(r"(?P<n>\d{1,3}(?:[., ]\d{3})+|\d+)\s*(?:trang|tờ|pages?)?")  # 125.000: thousands
BATTERY_WORDS = {"normal": "normal", "bình thường": "normal", "tốt": "normal", "good": "normal", "ok": "normal",
                 "low": "low", "yếu": "low", "thấp": "low", "depleted": "depleted", "cạn": "depleted",
                 "hết": "depleted", "hết điện": "depleted"}
SCREEN = re.compile(r"(?:màn hình\s*)?(?P<number>\d+(?:[.,]\d)?)\s*(?:\"|''|inch(?:es)?|in)?")


def _flag(value: Any, says_yes: frozenset[str], says_no: frozenset[str] = frozenset()) -> bool:
    """'có'/'không', 'yes'/'no', 'x' (a ticked cell), or the feature's own words ('PoE+', 'không PoE')."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = _words(value)
    if text in YES or text in says_yes or text.removeprefix("có ") in says_yes:
        return True
    if text in NO or text in says_no or any(text.startswith(n) and text[len(n):] in says_yes for n in NEGATIONS):
        return False
    raise ValueError(value)


def _page_count(value: Any) -> int:
    """A printer's page counter: '125000', '125.000 trang', 125000; a new printer may say 0."""
    number = _typed_number(value)
    if number is None:
        found = PAGES.fullmatch(_words(value))
        if not found:
            raise ValueError(value)
        number = Decimal(re.sub(r"\D", "", found["n"]))
    return _whole(number, 0, 10 ** 10)


def _battery_status(value: Any) -> str:
    """UPS-MIB's upsBatteryStatus as a word ('normal', 'low', 'depleted'), or as people write it."""
    status = BATTERY_WORDS.get(_words(value))
    if status is None:
        raise ValueError(value)  # 'unknown' too: the UPS does not know, which states nothing
    return status


def _screen_inch(value: Any) -> int | float:
    number = _typed_number(value)
    if number is None:
        found = SCREEN.fullmatch(_words(value))
        if not found:
            raise ValueError(value)
        number = _decimal(found["number"])
    return _stored(number, most=200)


# ---- the registry ---------------------------------------------------------------------------------------------

def _alone(name: str, parse: Callable[[Any], Any]) -> Reader:
    return lambda value: {name: parse(value)}


POE_YES = frozenset({"poe", "poe+", "poe++", "802.3af", "802.3at", "802.3bt"})
DUPLEX_YES = frozenset({"duplex", "in 2 mặt", "2 mặt", "in hai mặt", "hai mặt", "in đảo mặt", "đảo mặt tự động"})
DUPLEX_NO = frozenset({"simplex", "in 1 mặt", "1 mặt", "in một mặt", "một mặt"})
FEEDER_YES = frozenset({"adf", "dadf", "radf", "khay nạp tự động", "khay nạp bản gốc tự động"})

_ALL = (
    Spec("cpu_model", None, SpecKind.TEXT, "bộ vi xử lý (CPU)", "CPU model", ("i5-8500", "Intel Core i5-8500"),
         _alone("cpu_model", _cpu_model)),
    Spec("cpu_cores", None, SpecKind.INTEGER, "số nhân CPU", "CPU cores", ("4", "4 cores"),
         _alone("cpu_cores", lambda value: _count(value, CORES, most=1024))),
    Spec("ram_gb", "GB", SpecKind.NUMBER, "bộ nhớ RAM", "RAM", ("8 GB", "8192 MB"), _alone("ram_gb", _ram_gb)),
    Spec("storage_gb", "GB", SpecKind.NUMBER, "dung lượng ổ cứng", "storage size", ("512 GB SSD", "1 TB HDD"),
         _storage),
    Spec("storage_kind", None, SpecKind.CHOICE, "loại ổ cứng", "storage kind", ("SSD", "HDD"), _storage,
         choices=("ssd", "hdd")),
    Spec("os_name", None, SpecKind.TEXT, "hệ điều hành", "operating system", ("Windows 10 Pro", "Ubuntu"), _os),
    Spec("os_version", None, SpecKind.TEXT, "phiên bản hệ điều hành", "OS version", ("22H2", "22.04.3"), _os),
    Spec("port_count", None, SpecKind.INTEGER, "số cổng", "number of ports", ("24", "24 x 1G + 4 SFP"), _ports),
    Spec("uplink_ports", None, SpecKind.INTEGER, "số cổng uplink", "uplink ports", ("4", "24 x 1G + 4 SFP"),
         _uplinks),
    Spec("port_speed_mbps", "Mbps", SpecKind.INTEGER, "tốc độ cổng", "port speed", ("1G", "100 Mbps"), _port_speed),
    Spec("poe", None, SpecKind.BOOLEAN, "cấp nguồn PoE", "PoE", ("có", "không"),
         _alone("poe", lambda value: _flag(value, POE_YES))),
    Spec("printer_ppm", "ppm", SpecKind.INTEGER, "tốc độ in", "print speed", ("30 ppm", "30 trang/phút"),
         _alone("printer_ppm", lambda value: _count(value, PPM, most=1000))),
    Spec("duplex", None, SpecKind.BOOLEAN, "in 2 mặt", "two-sided printing", ("có", "không"),
         _alone("duplex", lambda value: _flag(value, DUPLEX_YES, DUPLEX_NO))),
    Spec("page_count", None, SpecKind.INTEGER, "số trang đã in", "page count", ("125000", "125.000 trang"),
         _alone("page_count", _page_count)),
    Spec("scanner_ppm", "ppm", SpecKind.INTEGER, "tốc độ quét", "scan speed", ("25 ppm", "25 trang/phút"),
         _alone("scanner_ppm", lambda value: _count(value, PPM, most=1000))),
    Spec("sheet_feeder", None, SpecKind.BOOLEAN, "khay nạp giấy tự động (ADF)", "automatic document feeder",
         ("có", "không"), _alone("sheet_feeder", lambda value: _flag(value, FEEDER_YES))),
    Spec("screen_inch", "inch", SpecKind.NUMBER, "kích thước màn hình", "screen size", ('23.8"', "24 inch"),
         _alone("screen_inch", _screen_inch)),
    Spec("battery_status", None, SpecKind.CHOICE, "tình trạng ắc quy", "battery status", ("bình thường", "yếu"),
         _alone("battery_status", _battery_status), choices=("normal", "low", "depleted")),
)
SPECS: Mapping[str, Spec] = MappingProxyType({spec.name: spec for spec in _ALL})

# Other names people and older code use, with the spec each one names and how its value is read.
# ram_mb/memory_mb: a bare number is MB (discovery's memory_mb was hrMemorySize // 1024); a unit still counts.
# cpu_count: discovery counted hrProcessorTable rows, i.e. logical processors (a Pentium 4 with HT says 2).
# (Discovery writes the registry's own names since issue 12; migration 0013 renamed what it had stored.)
ALIASES: Mapping[str, tuple[str, Reader]] = MappingProxyType({
    "cpu": ("cpu_model", SPECS["cpu_model"].read),
    "cpu_count": ("cpu_cores", SPECS["cpu_cores"].read),
    "ram": ("ram_gb", SPECS["ram_gb"].read),
    "ram_mb": ("ram_gb", _alone("ram_gb", lambda value: _ram_gb(value, default_unit="mb"))),
    "memory_mb": ("ram_gb", _alone("ram_gb", lambda value: _ram_gb(value, default_unit="mb"))),
    "storage": ("storage_gb", _storage),
    "disk_gb": ("storage_gb", _storage),
    "os": ("os_name", _os),
    "ports": ("port_count", _ports),
})


# Specs that describe one thing together: a version belongs to the OS name it was said with, a disk's kind to
# its size, uplinks and speed to the port count. When one of them changes and the others are not said again,
# the others describe what was there before (see inventory.merge).
COMPANIONS: tuple[frozenset[str], ...] = (frozenset({"os_name", "os_version"}),
                                          frozenset({"storage_gb", "storage_kind"}),
                                          frozenset({"port_count", "uplink_ports", "port_speed_mbps"}))


def installed_ram_gb(usable_mb: float) -> float:
    """The RAM installed, from what a system says it can use (SNMP's hrMemorySize, an agent's total): that is
    the installed memory less what firmware, graphics and the kernel keep, so an 8 GB PC says 7972 MB. Up to
    the next half GB, which memory is sold in; under 1 GB (a small appliance) as it is."""
    gb = usable_mb / 1024
    return math.ceil(gb * 2) / 2 if gb >= 1 else gb


def parse_spec(name: str, value: Any) -> Any:
    """The stored value of the spec called `name` (not an alias), from text or a typed value.

    Only that spec's value: parse_spec("os_name", "Windows 10 Pro 22H2") is "Windows 10 Pro"."""
    spec = SPECS.get(name)
    if spec is None:
        raise _unknown(name)
    return spec.parse(value)


def parse_specs(given: Mapping[str, Any]) -> dict[str, Any]:
    """Stored specs, in SPECS order, from names or ALIASES (case and spaces around a name do not matter).

    A blank value (None, empty text) says nothing and is left out. A value that states more than its own spec
    adds the others unless `given` names them itself: storage text its kind ('512GB SSD'), operating system
    text its version ('Windows 10 Pro 22H2'), port text uplinks, speed and PoE ('24 x 1G PoE+ + 4 SFP')."""
    stated: dict[str, Any] = {}
    implied: dict[str, Any] = {}
    stated_by: dict[str, str] = {}
    for key, value in given.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        name, reader = _named(key)
        if name in stated_by:
            raise InvalidSpec(Reason("%(name)s is given twice, as %(first)r and %(second)r", name=name,
                                     first=stated_by[name], second=key), key=key)
        stated_by[name] = key
        found = _read(key, SPECS[name], reader, value)
        stated[name] = found.pop(name)
        implied.update({other: v for other, v in found.items() if other not in implied})
    values = implied | stated
    return {name: values[name] for name in SPECS if name in values}


def spec_name(key: str) -> str:
    """The spec a name or an alias names ('memory_mb' names 'ram_gb'); InvalidSpec when it names none."""
    return _named(key)[0]


def _named(key: str) -> tuple[str, Reader]:
    plain = str(key).strip().lower()
    if plain in SPECS:
        return plain, SPECS[plain].read
    if plain in ALIASES:
        return ALIASES[plain]
    raise _unknown(key)


def _read(key: str, spec: Spec, reader: Reader, value: Any) -> dict[str, Any]:
    """What `value`, given under `key`, says; it must at least say `spec`."""
    try:
        found = reader(value)
        found[spec.name]
    except (ValueError, KeyError):
        first, second = spec.examples
        problem = Reason("cannot read %(value)s as %(spec)s; write it like %(first)r or %(second)r",
                         value=_shown(value), spec=SpecLabel(spec.name), first=first, second=second)
        raise InvalidSpec(problem, key=key) from None
    return found


def _unknown(key: str) -> InvalidSpec:
    return InvalidSpec(Reason("no such specification; known ones are %(names)s", names=", ".join(sorted(SPECS))),
                       key=key)


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."  # a pasted paragraph is not repeated whole
