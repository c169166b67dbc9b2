"""The networks a scan may touch. Every path that starts a scan checks its targets here, and the
scanner checks again right before it sends anything: no packet leaves the allowlist by mistake."""
from collections.abc import Iterable

import netaddr

from core.errors import InvalidInput
from core.i18n import Reason
from discovery.errors import OutsideAllowlist

# IPv6 forms that carry an IPv4 address, which a host, a NAT64 gateway or a relay turns into IPv4 traffic:
# allowed through a wide IPv6 entry (::/0), they would reach IPv4 networks the allowlist leaves out. They
# are refused whatever the allowlist says; the IPv4 address itself is what the allowlist judges. Each with
# its refusal, one whole sentence per form (so that a page says it in its language).
IPV4_FORMS = [
    ("::ffff:0:0/96", netaddr.IPSet(["::ffff:0:0/96"]), lambda first, prefix: Reason(  # RFC 4291
        "%(first)s is an IPv4-mapped address (%(prefix)s), which reaches IPv4 around the scan allowlist: "
        "name the IPv4 address or network itself", first=first, prefix=prefix)),
    ("::ffff:0:0:0/96", netaddr.IPSet(["::ffff:0:0:0/96"]), lambda first, prefix: Reason(  # RFC 2765 (SIIT)
        "%(first)s is an IPv4-translated address (%(prefix)s), which reaches IPv4 around the scan allowlist: "
        "name the IPv4 address or network itself", first=first, prefix=prefix)),
    # RFC 4291 (deprecated); :: and ::1 (loopback, ::0.0.0.1) are not among them.
    ("::/96", netaddr.IPSet(["::/96"]) - netaddr.IPSet(["::/127"]), lambda first, prefix: Reason(
        "%(first)s is an IPv4-compatible address (%(prefix)s), which reaches IPv4 around the scan allowlist: "
        "name the IPv4 address or network itself", first=first, prefix=prefix)),
    ("64:ff9b::/96", netaddr.IPSet(["64:ff9b::/96"]), lambda first, prefix: Reason(  # RFC 6052
        "%(first)s is a NAT64 address (%(prefix)s), which reaches IPv4 around the scan allowlist: "
        "name the IPv4 address or network itself", first=first, prefix=prefix)),
    ("64:ff9b:1::/48", netaddr.IPSet(["64:ff9b:1::/48"]), lambda first, prefix: Reason(  # RFC 8215, local use
        "%(first)s is a NAT64 address (%(prefix)s), which reaches IPv4 around the scan allowlist: "
        "name the IPv4 address or network itself", first=first, prefix=prefix)),
    ("2002::/16", netaddr.IPSet(["2002::/16"]), lambda first, prefix: Reason(  # RFC 3056
        "%(first)s is a 6to4 address (%(prefix)s), which reaches IPv4 around the scan allowlist: "
        "name the IPv4 address or network itself", first=first, prefix=prefix)),
    ("2001::/32", netaddr.IPSet(["2001::/32"]), lambda first, prefix: Reason(  # RFC 4380
        "%(first)s is a Teredo address (%(prefix)s), which reaches IPv4 around the scan allowlist: "
        "name the IPv4 address or network itself", first=first, prefix=prefix)),
]


def parse_targets(text: str, *, field: str = "networks") -> netaddr.IPSet:
    """Addresses from 'a.b.c.d', 'a.b.c.d/nn', 'a.b.c.d-a.b.c.e' and IPv6 alike, comma- or space-separated."""
    targets = netaddr.IPSet()
    parts = [part for part in text.replace(",", " ").split() if part]
    if not parts:
        raise InvalidInput(Reason("name at least one network or address"), field=field)
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
        raise InvalidInput(Reason("%(part)r is not an address, a network (a.b.c.d/nn) or a range "
                                  "(a.b.c.d-a.b.c.e)", part=part), field=field) from None


def require_allowed(targets: netaddr.IPSet | str, allowlist: netaddr.IPSet | str, *, field: str = "networks") -> None:
    """Refuse any target that lies, even in part, outside the allowlist or in an IPv6 form of IPv4."""
    targets = parse_targets(targets, field=field) if isinstance(targets, str) else targets
    allowed = parse_targets(allowlist, field="SCAN_ALLOWLIST") if isinstance(allowlist, str) else allowlist
    outside = targets - allowed
    if outside:
        first, described = str(next(iter(outside.iter_cidrs()))), _describe(allowed)
        if not described:
            raise OutsideAllowlist(Reason("%(first)s is outside the scan allowlist (empty)", first=first), field=field)
        raise OutsideAllowlist(Reason("%(first)s is outside the scan allowlist (%(allowed)s)", first=first,
                                      allowed=described), field=field)
    refuse_ipv4_forms(targets, field=field)


def refuse_ipv4_forms(targets: netaddr.IPSet, *, field: str = "networks") -> None:
    """Refuse any target in an IPv6 form that carries an IPv4 address (IPV4_FORMS)."""
    for prefix, addresses, refusal in IPV4_FORMS:
        inside = targets & addresses
        if inside:
            raise OutsideAllowlist(refusal(str(next(iter(inside.iter_cidrs()))), prefix), field=field)


def _describe(networks: netaddr.IPSet) -> str:
    return ", ".join(str(cidr) for cidr in networks.iter_cidrs())
