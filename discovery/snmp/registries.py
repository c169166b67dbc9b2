"""Registries that Debian keeps and identification reads where the project's own tables are silent, never
copied into the tree:

- IANA's private enterprise numbers (about 62,000 makers), as Wireshark ships them: package
  `libwireshark-data`, /usr/share/wireshark/enterprises.tsv. The vendor a sysObjectID names.
- FusionInventory's product OIDs (about 8,800 with vendor, type and model): package `fusioninventory-agent`,
  /usr/share/fusioninventory/sysobject.ids. A model, and a class where its type says one.

Without a package its registry is empty: identification falls back to discovery/data's tables, and the log
says once which file is missing."""
import logging
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

IANA_ENTERPRISES = Path("/usr/share/wireshark/enterprises.tsv")
FUSION_PRODUCTS = Path("/usr/share/fusioninventory/sysobject.ids")
ENTERPRISES_ROOT = (1, 3, 6, 1, 4, 1)  # sysobject.ids writes its OIDs below it
# FusionInventory's type, where it says the class; NETWORKING does not tell a switch from a router, COMPUTER a
# server from a desktop, POWER a UPS from a PDU.
FUSION_CLASSES = {"PRINTER": "printer", "PHONE": "phone", "STORAGE": "nas", "VIDEO": "video-conference"}
# What a registered name carries beside the maker's name: a web address in brackets, the legal form.
NOTES = re.compile(r"\s*[(\[].*?[)\]]")
LEGAL_FORMS = re.compile(r"[\s,.]+(inc|incorporated|ltd|limited|llc|corp|corporation|co|company|gmbh|ag|s\.?a|"
                         r"b\.?v|plc|pty|s\.?r\.?l|oy|ab|as|k\.?k)\.?$", re.IGNORECASE)
# Words a registered name adds to the name people use: "Avaya Communication", "Fujitsu Technology Solutions",
# "The FreeBSD Project", "Zhejiang Dahua Technology" (a Chinese maker registers under its home province or city).
GENERIC_WORDS = re.compile(r"\s+(communications?|networks?|systems?|technolog(?:y|ies)|solutions|international|"
                           r"electronics|project|group|holdings?)$", re.IGNORECASE)
PLACE_PREFIX = re.compile(r"^(the|zhejiang|hangzhou|shenzhen|beijing|shanghai|guangdong|guangzhou|fujian|xiamen|"
                          r"jiangsu|nanjing|wuhan|chengdu)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Product:
    vendor: str
    device_class: str | None
    model: str | None


def maker_name(registered: str) -> str:
    """The name people call a maker by: "HUAWEI Technology Co.,Ltd" -> "HUAWEI"; "IBM (https://...)" -> "IBM";
    "Cambium Networks Limited # formerly 'PipingHot Networks Limited'" -> "Cambium"; "Zhejiang Dahua Technology
    Co., Ltd." -> "Dahua"."""
    name = " ".join(NOTES.sub("", registered.partition("#")[0]).split()).strip(" ,.")  # "# formerly ...": a note
    for pattern in (LEGAL_FORMS, GENERIC_WORDS, PLACE_PREFIX):
        while (shorter := pattern.sub("", name).strip(" ,.")) != name and shorter:
            name = shorter
    return name


@cache
def iana_enterprises(path: Path = IANA_ENTERPRISES) -> dict[int, str]:
    """Enterprise number -> the maker's name, from IANA's registry."""
    if not path.is_file():
        log.warning("%s is missing (Debian package libwireshark-data): vendors come from discovery/data only", path)
        return {}
    found = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        number, _, name = line.partition("\t")
        if number.isdigit() and name.strip():
            found[int(number)] = maker_name(name.strip())
    return found


@cache
def fusion_products(path: Path = FUSION_PRODUCTS) -> dict[tuple[int, ...], Product]:
    """Full sysObjectID -> vendor, class and model, from FusionInventory's table."""
    if not path.is_file():
        log.warning("%s is missing (Debian package fusioninventory-agent): no product OIDs beyond discovery/data",
                    path)
        return {}
    found = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        columns = line.split("\t")
        if len(columns) < 2 or not re.fullmatch(r"\d+(\.\d+)*", columns[0]):
            continue
        oid = ENTERPRISES_ROOT + tuple(int(n) for n in columns[0].split("."))
        kind = columns[2].strip() if len(columns) > 2 else ""
        model = columns[3].strip() if len(columns) > 3 else ""
        found[oid] = Product(columns[1].strip(), FUSION_CLASSES.get(kind), model or None)
    return found
