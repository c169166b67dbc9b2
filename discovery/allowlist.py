"""The networks a scan may touch. Every path that starts a scan checks its targets here, and the
scanner checks again right before it sends anything: no packet leaves the allowlist by mistake."""
from collections.abc import Iterable

import netaddr

from discovery.errors import OutsideAllowlist
from inventory.errors import InvalidInput


def parse_targets(text: str, *, field: str = "networks") -> netaddr.IPSet:
    """Addresses from 'a.b.c.d', 'a.b.c.d/nn', 'a.b.c.d-a.b.c.e' and IPv6 alike, comma- or space-separated."""
    targets = netaddr.IPSet()
    parts = [part for part in text.replace(",", " ").split() if part]
    if not parts:
        raise InvalidInput("name at least one network or address", field=field)
    for part in parts:
        targets.update(_one_target(part, field))
    return targets


def _one_target(part: str, field: str) -> Iterable[netaddr.IPNetwork]:
    try:
        if "-" in part:
            first, last = part.split("-", 1)
            return netaddr.IPRange(first, last).cidrs()
        return [netaddr.IPNetwork(part)]
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise InvalidInput(f"{part!r} is not an address, a network (a.b.c.d/nn) or a range (a.b.c.d-a.b.c.e)",
                           field=field) from None


def require_allowed(targets: netaddr.IPSet | str, allowlist: netaddr.IPSet | str, *, field: str = "networks") -> None:
    """Refuse any target that lies, even in part, outside the allowlist."""
    targets = parse_targets(targets, field=field) if isinstance(targets, str) else targets
    allowed = parse_targets(allowlist, field="SCAN_ALLOWLIST") if isinstance(allowlist, str) else allowlist
    outside = targets - allowed
    if outside:
        first = next(iter(outside.iter_cidrs()))
        raise OutsideAllowlist(f"{first} is outside the scan allowlist ({_describe(allowed)})", field=field)


def _describe(networks: netaddr.IPSet) -> str:
    return ", ".join(str(cidr) for cidr in networks.iter_cidrs()) or "empty"
