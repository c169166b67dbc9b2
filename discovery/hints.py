"""Classification hints from what a sweep sees: open ports and the MAC's maker. Pure.

A hint is evidence with a confidence, never a fact: it fills a device's class only where nothing
better has spoken (nmap ranks below SNMP, imports and people), and only when confident enough."""
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from core.datafiles import read_table

DATA = Path(__file__).resolve().parent / "data"

CONFIDENT = 0.5  # at or above: the class goes into the observation; below: evidence only
CAP = 0.9


@dataclass(frozen=True)
class Hint:
    device_class: str
    confidence: float
    evidence: tuple[str, ...]


@cache
def port_hints() -> dict[tuple[str, int], tuple[str, float, str]]:
    return {(r["proto"], int(r["port"])): (r["class"], float(r["confidence"]), r["why"])
            for r in read_table(DATA / "port_hints.csv")}


@cache
def vendor_hints() -> list[tuple[re.Pattern, str, float, str]]:
    return [(re.compile(rf"\b{re.escape(r['keyword'])}\b", re.I), r["class"], float(r["confidence"]), r["keyword"])
            for r in read_table(DATA / "mac_vendor_hints.csv")]


def hints(open_ports: Iterable[tuple[str, int]], mac_vendor: str | None) -> list[Hint]:
    """Every class the evidence points to, most confident first."""
    score: dict[str, float] = defaultdict(float)
    why: dict[str, list[str]] = defaultdict(list)
    for proto, port in sorted(open_ports):
        known = port_hints().get((proto, port))
        if known and known[0]:
            device_class, confidence, reason = known
            score[device_class] += confidence
            why[device_class].append(f"{proto}/{port} open ({reason})")
    for pattern, device_class, confidence, keyword in vendor_hints():
        if mac_vendor and pattern.search(mac_vendor):
            score[device_class] += confidence
            why[device_class].append(f"MAC made by {mac_vendor}")
    found = [Hint(c, round(min(s, CAP), 2), tuple(why[c])) for c, s in score.items()]
    return sorted(found, key=lambda h: (-h.confidence, h.device_class))


def confident_class(found: list[Hint]) -> str | None:
    """The class to record, if one hint is confident and no other is as strong."""
    if not found or found[0].confidence < CONFIDENT:
        return None
    if len(found) > 1 and found[1].confidence == found[0].confidence:
        return None  # a tie: say nothing rather than pick
    return found[0].device_class
