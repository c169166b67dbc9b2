"""The scan allowlist: pure, no database, no packet sent."""
import netaddr
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidInput
from discovery.allowlist import parse_targets, require_allowed
from discovery.errors import OutsideAllowlist
from discovery.sweep import SweepSettings, sweep

LOOPBACK = "127.0.0.0/8,::1/128"


@pytest.mark.parametrize("targets", ["127.0.0.1", "127.0.10.0/24", "127.0.0.5-127.0.0.40", "::1", "127.1.1.1, 127.2.2.2"])
def test_loopback_targets_pass(targets):
    require_allowed(targets, LOOPBACK)


@pytest.mark.parametrize(("targets", "first_outside"), [
    ("10.0.0.1", "10.0.0.1/32"),
    ("192.168.1.0/24", "192.168.1.0/24"),
    ("126.255.255.250-127.0.0.3", "126.255.255.250/31"),
    ("127.0.0.0/7", "126.0.0.0/8"),
    ("::2", "::2/128"),
])
def test_anything_partly_outside_is_refused_naming_the_part(targets, first_outside):
    with pytest.raises(OutsideAllowlist) as refused:
        require_allowed(targets, LOOPBACK)
    assert refused.value.reason == f"{first_outside} is outside the scan allowlist (127.0.0.0/8, ::1/128)"
    assert refused.value.field == "networks" and refused.value.status_code == 422


@pytest.mark.parametrize(("text", "message"), [
    ("", "name at least one network or address"),
    ("127.0.0.300", "'127.0.0.300' is not an address, a network (a.b.c.d/nn) or a range (a.b.c.d-a.b.c.e)"),
    ("127.0.0.9-127.0.0.1", "'127.0.0.9-127.0.0.1' is not an address"),
    ("localhost", "'localhost' is not an address"),
])
def test_bad_targets_are_named(text, message):
    with pytest.raises(InvalidInput) as refused:
        parse_targets(text)
    assert refused.value.reason.startswith(message)


@given(st.ip_addresses(v=4))
def test_an_address_passes_exactly_when_it_is_loopback(address):
    try:
        require_allowed(str(address), LOOPBACK)
    except OutsideAllowlist:
        assert not address.is_loopback
    else:
        assert address.is_loopback


@given(st.ip_addresses(v=4), st.integers(min_value=0, max_value=32))
def test_a_network_passes_exactly_when_all_of_it_is_inside(address, prefix):
    network = netaddr.IPNetwork(f"{address}/{prefix}").cidr
    inside = network in netaddr.IPNetwork("127.0.0.0/8")
    try:
        require_allowed(str(network), LOOPBACK)
    except OutsideAllowlist:
        assert not inside
    else:
        assert inside


# IPv6 forms that carry an IPv4 address: a host or router translates them to IPv4, so a wide IPv6
# allowlist would otherwise let a scope reach IPv4 networks that the allowlist leaves out.
EVERY_IPV6 = "127.0.0.0/8,::/0"
IPV4_FORMS = [
    ("::ffff:10.0.0.1", "::ffff:10.0.0.1/128", "an IPv4-mapped address (::ffff:0:0/96)"),
    ("::ffff:0:10.0.0.1", "::ffff:0:a00:1/128", "an IPv4-translated address (::ffff:0:0:0/96)"),
    ("::10.0.0.1", "::10.0.0.1/128", "an IPv4-compatible address (::/96)"),
    ("64:ff9b::10.0.0.0/120", "64:ff9b::a00:0/120", "a NAT64 address (64:ff9b::/96)"),
    ("64:ff9b:1::a00:1", "64:ff9b:1::a00:1/128", "a NAT64 address (64:ff9b:1::/48)"),
    ("2002:a00:1::1", "2002:a00:1::1/128", "a 6to4 address (2002::/16)"),
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "2001:0:4136:e378:8000:63bf:f5ff:fffe/128",
     "a Teredo address (2001::/32)"),
    ("::/0", "::ffff:0.0.0.0/96", "an IPv4-mapped address (::ffff:0:0/96)"),
]


@pytest.mark.parametrize(("targets", "named", "form"), IPV4_FORMS)
def test_ipv6_forms_of_ipv4_are_refused_whatever_the_allowlist(targets, named, form):
    with pytest.raises(OutsideAllowlist) as refused:
        require_allowed(targets, EVERY_IPV6)
    assert refused.value.reason == (f"{named} is {form}, which reaches IPv4 around the scan allowlist: "
                                    "name the IPv4 address or network itself")
    assert refused.value.field == "networks" and refused.value.status_code == 422


@pytest.mark.parametrize("targets", ["::1", "::0.0.0.1", "2001:db8::/64", "fe80::1", "2001:1::1", "2003::1"])
def test_other_ipv6_passes_a_wide_ipv6_allowlist(targets):
    require_allowed(targets, EVERY_IPV6)


def test_an_exclusion_may_take_the_ipv4_forms_out_of_a_wide_target():
    targets = parse_targets("2001:db8::/32, ::ffff:10.0.0.0/120") - parse_targets("::ffff:10.0.0.0/120")
    require_allowed(targets, EVERY_IPV6)


def test_dns_servers_in_an_ipv4_form_are_named_as_such():
    with pytest.raises(OutsideAllowlist) as refused:
        require_allowed("::ffff:8.8.8.8", EVERY_IPV6, field="dns_servers")
    assert refused.value.field == "dns_servers"
    assert refused.value.reason.startswith("::ffff:8.8.8.8/128 is an IPv4-mapped address (::ffff:0:0/96)")


def test_a_sweep_refuses_an_ipv4_form_before_nmap_runs():
    # A scope stored before the check existed meets it again right before nmap (nmap_path is never used).
    with pytest.raises(OutsideAllowlist, match=r"^::ffff:10\.0\.0\.1/128 is an IPv4-mapped address"):
        sweep(["::ffff:10.0.0.1"], EVERY_IPV6, SweepSettings(nmap_path="/nonexistent/nmap"))
