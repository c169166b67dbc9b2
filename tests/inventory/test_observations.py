"""Normalising observations: pure, no database."""
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidInput
from inventory.models import DeviceClass, grouped_provenance, provenance_by_field
from inventory.observations import (
    ObservedDevice,
    ObservedInterface,
    ObservedNeighbour,
    fingerprint,
    normalise,
    normalise_mac,
    normalise_serial,
)

T0 = dt.datetime(2026, 11, 2, 8, 0)


def observed(**kwargs) -> ObservedDevice:
    return ObservedDevice(**({"method": "nmap", "observed_at": T0, "unit_code": "W1"} | kwargs))


@pytest.mark.parametrize("spelling", ["00:1A:2B:3C:4D:5E", "00-1a-2b-3c-4d-5e", "001a.2b3c.4d5e", "001A2B3C4D5E"])
def test_every_mac_spelling_becomes_one(spelling):
    assert normalise_mac(spelling) == "00:1a:2b:3c:4d:5e"


def test_a_bad_mac_names_the_interface():
    with pytest.raises(InvalidInput, match=r"observations\[3\].interfaces\[1\].mac: 'zz:zz' is not a MAC address"):
        normalise(observed(interfaces=(ObservedInterface(mac="00:1a:2b:3c:4d:5e"), ObservedInterface(mac="zz:zz"))),
                  position=3)


@pytest.mark.parametrize("placeholder", ["To be filled by O.E.M.", "  n/a ", "0", "System Serial Number", "Default string"])
def test_placeholder_serials_are_no_serial(placeholder):
    assert normalise_serial(placeholder) is None


def test_serials_compare_without_case_or_spacing():
    assert normalise_serial(" fcq 1234\tab ") == "FCQ 1234 AB"


def test_fields_are_normalised():
    o = normalise(observed(method="import", fields={"device_class": "Switch", "hostname": "PC-01.Ward.",
                                                    "purchase_price_vnd": "15.500.000", "purchase_date": "2024-03-01",
                                                    "vendor": "  Cisco   Systems "}))
    assert o.fields == {"device_class": DeviceClass.SWITCH, "hostname": "pc-01.ward", "purchase_price_vnd": 15_500_000,
                        "purchase_date": dt.date(2024, 3, 1), "vendor": "Cisco Systems"}


@pytest.mark.parametrize(("fields", "message"), [
    ({"device_class": "toaster"}, "observations[0].device_class: 'toaster' is not one of switch, router"),
    ({"status": "lost"}, "observations[0].status: 'lost' is not one of in_use, spare, broken, retired, missing"),
    ({"purchase_price_vnd": "a lot"}, "observations[0].purchase_price_vnd: 'a lot' is not a whole number of dong"),
    ({"purchase_price_vnd": -5}, "observations[0].purchase_price_vnd: -5 dong is out of range (0 to 10^15)"),
    ({"purchase_date": "01/03/2024"}, "observations[0].purchase_date: '01/03/2024' is not a date (YYYY-MM-DD)"),
    ({"hostname": "bad host!"}, "observations[0].hostname: 'bad host!' is not a host name"),
    ({"colour": "red"}, "observations[0]: unknown field 'colour'"),
])
def test_bad_values_are_named(fields, message):
    with pytest.raises(InvalidInput) as caught:
        normalise(observed(method="import", fields=fields))
    assert caught.value.reason.startswith(message)


def test_unknown_method_is_refused():
    with pytest.raises(InvalidInput, match="observations\\[0\\]: unknown method 'guess'; one of agent, arp, collector"):
        normalise(observed(method="guess"))


def test_only_a_person_may_clear_a_value():
    assert normalise(observed(method="snmp", fields={"location": None})).fields == {}
    assert normalise(observed(method="manual", fields={"location": None})).fields == {"location": None}


def test_a_neighbour_needs_an_identity():
    with pytest.raises(InvalidInput, match=r"neighbours\[0\]: a neighbour needs a serial, a MAC or a host name"):
        normalise(observed(method="snmp", neighbours=(ObservedNeighbour(protocol="lldp", port="Gi0/1"),)))


def test_time_zones_become_utc():
    hanoi = dt.timezone(dt.timedelta(hours=7))
    assert normalise(observed(observed_at=dt.datetime(2026, 11, 2, 15, 0, tzinfo=hanoi))).observed_at == T0


def test_identical_observations_share_a_fingerprint_and_others_do_not():
    a = normalise(observed(interfaces=(ObservedInterface(mac="001a.2b3c.4d5e", ips=("10.0.0.1",)),)))
    b = normalise(observed(interfaces=(ObservedInterface(mac="00:1A:2B:3C:4D:5E", ips=("10.0.0.1",)),)))
    c = normalise(observed(interfaces=(ObservedInterface(mac="00:1A:2B:3C:4D:5E", ips=("10.0.0.2",)),)))
    assert fingerprint(a) == fingerprint(b) != fingerprint(c)


@given(st.text(max_size=40))
def test_any_text_is_a_mac_or_a_clear_refusal(value):
    try:
        mac = normalise_mac(value)
    except InvalidInput as error:
        assert error.reason == f"mac: {value!r} is not a MAC address"
    else:
        assert normalise_mac(mac) == mac and len(mac) == 17


@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(allow_nan=False)))
def test_any_price_is_a_whole_number_or_a_clear_refusal(value):
    try:
        o = normalise(observed(method="import", fields={"purchase_price_vnd": value}))
    except InvalidInput as error:
        assert error.field == "purchase_price_vnd"
    else:
        price = o.fields.get("purchase_price_vnd")
        assert price is None or (isinstance(price, int) and 0 <= price <= 10**15)


def test_provenance_is_stored_grouped_by_who_said_it_whether_or_not_its_entries_are_one_dict():
    said = {"method": "snmp", "source": "snmp 10.1.0.2", "at": "2026-01-01T00:00:00"}
    imported = {"method": "import", "source": "kiem-ke.xlsx row 2", "at": "2026-01-02T00:00:00"}
    by_field = {"model": said, "serial": imported, "vendor": dict(said), "location": said}
    groups = grouped_provenance(by_field)
    assert groups == [["snmp", "snmp 10.1.0.2", "2026-01-01T00:00:00", ["model", "vendor", "location"]],
                      ["import", "kiem-ke.xlsx row 2", "2026-01-02T00:00:00", ["serial"]]]
    assert provenance_by_field(groups) == by_field
