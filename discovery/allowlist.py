"""The networks a scan may touch. Every path that starts a scan checks its targets here, and the
scanner checks again right before it sends anything: no packet leaves the allowlist by mistake."""
from collections.abc import Iterable

import netaddr

from core.errors import InvalidInput
from discovery.errors import OutsideAllowlist

# IPv6 forms that carry an IPv4 address, which a host, a NAT64 gateway or a relay turns into IPv4 traffic:
# allowed through a wide IPv6 entry (::/0), they would reach IPv4 networks the allowlist leaves out. They
# are refused whatever the allowlist says; the IPv4 address itself is what the allowlist judges.
IPV4_FORMS = [
    ("an IPv4-mapped address", "::ffff:0:0/96", netaddr.IPSet(["::ffff:0:0/96"])),  # RFC 4291
    ("an IPv4-translated address", "::ffff:0:0:0/96", netaddr.IPSet(["::ffff:0:0:0/96"])),  # RFC 2765 (SIIT)
    # RFC 4291 (deprecated); :: and ::1 (loopback, ::0.0.0.1) are not among them.
    ("an IPv4-compatible address", "::/96", netaddr.IPSet(["::/96"]) - netaddr.IPSet(["::/127"])),
    ("a NAT64 address", "64:ff9b::/96", netaddr.IPSet(["64:ff9b::/96"])),  # RFC 6052
    ("a NAT64 address", "64:ff9b:1::/48", netaddr.IPSet(["64:ff9b:1::/48"])),  # RFC 8215, local use
    ("a 6to4 address", "2002::/16", netaddr.IPSet(["2002::/16"])),  # RFC 3056
    ("a Teredo address", "2001::/32", netaddr.IPSet(["2001::/32"])),  # RFC 4380
]


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
    """Refuse any target that lies, even in part, outside the allowlist or in an IPv6 form of IPv4."""
    targets = parse_targets(targets, field=field) if isinstance(targets, str) else targets
    allowed = parse_targets(allowlist, field="SCAN_ALLOWLIST") if isinstance(allowlist, str) else allowlist
    outside = targets - allowed
    if outside:
        first = next(iter(outside.iter_cidrs()))
        raise OutsideAllowlist(f"{first} is outside the scan allowlist ({_describe(allowed)})", field=field)
    refuse_ipv4_forms(targets, field=field)


def refuse_ipv4_forms(targets: netaddr.IPSet, *, field: str = "networks") -> None:
    """Refuse any target in an IPv6 form that carries an IPv4 address (IPV4_FORMS)."""
    for form, prefix, addresses in IPV4_FORMS:
        inside = targets & addresses
        if inside:
            first = next(iter(inside.iter_cidrs()))
            raise OutsideAllowlist(f"{first} is {form} ({prefix}), which reaches IPv4 around the scan allowlist: "
                                   "name the IPv4 address or network itself", field=field)


def _describe(networks: netaddr.IPSet) -> str:
    return ", ".join(str(cidr) for cidr in networks.iter_cidrs()) or "empty"
