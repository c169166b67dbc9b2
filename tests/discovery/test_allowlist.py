"""The scan allowlist: pure, no database, no packet sent."""
import netaddr
import pytest
from hypothesis import given
from hypothesis import strategies as st

from discovery.allowlist import parse_targets, require_allowed
from discovery.errors import OutsideAllowlist
from inventory.errors import InvalidInput

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
