"""budget/load.py and budget/services.py on real databases (SQLite and PostgreSQL): the example organisation and
the example catalog (catalog/data/), devices recorded through the inventory's ingestion and judged by the
catalog's subscriber, and the plain inputs and gaps the budget reads from them.

The day is TODAY, as in tests/catalog/test_compliance.py: the example catalog's dates are compared with it, not
with the day the tests run. The day is given to the product's functions (needs_and_devices, unit_gaps,
transfer_list, unit_norms: another day than the real one is judged on the spot); nothing is replaced."""
import datetime as dt

import pytest
from sqlalchemy import select

from budget import load, services
from budget.gaps import HeldDevice, UnitNeed
from budget.load import needs_and_devices
from catalog.examples import load_example_catalog
from catalog.reports import unit_norms
from core.errors import NotFound, OutsideScope
from inventory.examples import load_example_organisation
from inventory.ingest import IngestBatch, ingest
from inventory.models import Unit
from inventory.observations import ObservedDevice
from inventory.units import merge_units, subtree_ids, update_unit

TODAY = dt.date(2026, 12, 7)  # a Monday in the city
T0 = dt.datetime(2026, 11, 2, 8, 0)
COMPLIANT_PC = {"ram_gb": "16 GB", "storage_gb": "512 GB SSD", "cpu_model": "Intel Core i5-12500",
                "os_version": "22H2"}
OLD_PC = {"ram_gb": "4 GB", "storage_gb": "500 GB HDD", "cpu_model": "Intel Core i5-4590", "os_version": "21H2"}


def pc(serial: str, bought: str | None, model: str = "OptiPlex 7010", vendor: str = "Dell", **fields):
    return {"device_class": "workstation", "vendor": vendor, "model": model, "serial": serial,
            **({"purchase_date": bought} if bought else {}), **fields}


# name: (unit, fields, specs), as the units' asset registers record them (method import).
DEVICES = {
    "p01-a": ("VD-P01", pc("DL1001", "2024-03-01"), COMPLIANT_PC),
    "p01-b": ("VD-P01", pc("DL1002", "2024-03-01"), COMPLIANT_PC),
    "p01-c": ("VD-P01", pc("DL1003", "2025-09-15"), COMPLIANT_PC),
    "p01-old": ("VD-P01", pc("DL1004", "2020-03-01", "OptiPlex 7070"), COMPLIANT_PC),  # past its 5 years
    "p01-slow": ("VD-P01", pc("HP1001", "2023-05-02", "ProDesk 400 G1", "HP"), OLD_PC),  # below spec
    "p01-broken": ("VD-P01", pc("DL1005", "2024-03-01", status="broken"), COMPLIANT_PC),
    "p01-retired": ("VD-P01", pc("DL1006", "2024-03-01", status="retired"), COMPLIANT_PC),  # counts nowhere
    "p01-core": ("VD-P01", {"device_class": "switch", "vendor": "Cisco", "model": "WS-C3560G-48TS-E",
                            "serial": "FOC1001"}, {"port_count": "48", "uplink_ports": "4"}),  # out of support
    "p01-pdu": ("VD-P01", {"device_class": "other", "vendor": "APC", "model": "AP8932", "serial": "PDU1001"}, {}),
    "p02-a": ("VD-P02", pc("LN2001", "2022-01-10", "ThinkCentre M70q", "Lenovo"), COMPLIANT_PC),
    "p02-b": ("VD-P02", pc("LN2002", "2025-06-01", "ThinkCentre M70q", "Lenovo"), COMPLIANT_PC),
    "p02-c": ("VD-P02", pc("LN2003", "2023-01-01", "ThinkCentre M70q", "Lenovo"), COMPLIANT_PC),
    "p02-d": ("VD-P02", pc("LN2004", None, "ThinkCentre M70q", "Lenovo"), COMPLIANT_PC),
    "ns-a": ("VD-STC-NS", pc("DL3001", "2024-03-01"), COMPLIANT_PC),
    "x02-a": ("VD-X02", pc("DL4001", "2024-03-01"), COMPLIANT_PC),
}
# A ward of 5: a leader, 3 specialists and one other; one site, a meeting room, nothing left to digitise.
P01_FACTS = {"staff_count": 5, "leader_count": 1, "specialist_count": 3, "meeting_rooms": 1, "sites": 1,
             "archive_pages": 0, "archive_deadline": None}
P02_FACTS = {"staff_count": 2, "leader_count": 1, "specialist_count": 1, "meeting_rooms": 1, "sites": 1,
             "archive_pages": 0, "archive_deadline": None}
# From catalog/data/norms.csv by hand, for a ward of P01_FACTS: a desktop per leader (1), specialist (3) and other
# staff member (5 - 1 - 3 = 1); a laptop and an IP phone per leader; a printer per 5 staff (at least 1); no
# scanner (no pages); the ward's video-conference endpoint; a router, firewall and UPS per site, two access points
# per site; access switches for the wired terminals: 5 desktops + 1 printer + 1 endpoint + 1 phone + 2 access
# points = 10 ports, 20% spare, 24 a switch: ceil(12 / 24) = 1.
P01_NEEDS = [("access_switch", 1, ("switch-ports",)), ("desktop", 5, ("pc-leader", "pc-specialist", "pc-staff")),
             ("firewall", 1, ("firewall-site",)), ("ip_phone", 1, ("phone-leader",)),
             ("laptop", 1, ("laptop-leader",)), ("printer", 1, ("printer-staff",)), ("rack_ups", 1, ("ups-site",)),
             ("router", 1, ("router-site",)), ("scanner", 0, ("scanner-archive",)), ("vc_endpoint", 1, ("vc-ward",)),
             ("wireless", 2, ("wifi-site",))]


@pytest.fixture
def city(sessions):
    """The example organisation and catalog, the two wards' facts, every device of DEVICES recorded in one
    committed batch (the subscriber judges them after the commit); the devices' ids by name."""
    with sessions() as session, session.begin():
        load_example_organisation(session)
    return record_city(sessions)


def record_city(sessions) -> dict[str, int]:
    """Over the example organisation: the example catalog, the two wards' facts, and DEVICES in one committed
    batch; the devices' ids by name."""
    with sessions() as session, session.begin():
        load_example_catalog(session)
        update_unit(session, "VD-P01", P01_FACTS)
        update_unit(session, "VD-P02", P02_FACTS)
    observations = [ObservedDevice(method="import", observed_at=T0, unit_code=unit, source=f"assets.xlsx row {row}",
                                   fields=fields, specs=specs)
                    for row, (unit, fields, specs) in enumerate(DEVICES.values(), start=2)]
    with sessions() as session, session.begin():
        ids = ingest(session, IngestBatch(observations)).device_ids
    return dict(zip(DEVICES, ids))


def ids_of(session, *codes: str) -> set[int]:
    return set(session.scalars(select(Unit.id).where(Unit.code.in_(codes))))


def test_a_ward_s_needs_are_its_norms_per_category_with_their_codes(sessions, city):
    with sessions() as session:
        needs = needs_and_devices(session, ids_of(session, "VD-P01"), TODAY).needs
        by_norms = unit_norms(session, "VD-P01", None, on=TODAY).totals()
    assert needs == [UnitNeed("VD-P01", category, required, norms) for category, required, norms in P01_NEEDS]
    assert {n.category: n.required for n in needs} == by_norms  # the catalog's own totals for the unit


def test_held_devices_carry_their_category_judgement_and_age(sessions, city):
    with sessions() as session:
        devices = needs_and_devices(session, ids_of(session, "VD-P01"), TODAY).devices
    below = [{"status": "below_spec", "spec": "ram_gb", "op": "at_least", "required": 8, "found": 4,
              "severity": "required"},
             {"status": "below_spec", "spec": "storage_kind", "op": "is", "required": "ssd", "found": "hdd",
              "severity": "required"},
             {"status": "below_spec", "spec": "cpu_generation", "op": "at_least", "required": 8, "found": 4,
              "severity": "recommended"},
             {"status": "below_spec", "spec": "os_version", "op": "at_least", "required": "22H2", "found": "21H2",
              "severity": "recommended"}]
    # The retired PC counts nowhere and the PDU has no category: both left out.
    assert [(d.id, d.unit_code, d.category, d.device_status, d.status, d.findings, d.age_years) for d in devices] == [
        (city["p01-a"], "VD-P01", "desktop", "in_use", "compliant", (), 2),
        (city["p01-b"], "VD-P01", "desktop", "in_use", "compliant", (), 2),
        (city["p01-c"], "VD-P01", "desktop", "in_use", "compliant", (), 1),
        (city["p01-old"], "VD-P01", "desktop", "in_use", "past_service_life",
         ({"status": "past_service_life", "on": "2025-03-01", "years": 5},), 6),
        (city["p01-slow"], "VD-P01", "desktop", "in_use", "below_spec", tuple(below), 3),
        (city["p01-broken"], "VD-P01", "desktop", "broken", "compliant", (), 2),
        (city["p01-core"], "VD-P01", "core_switch", "in_use", "end_of_support",
         ({"status": "end_of_support", "on": "2018-01-31"},), None)]
    assert all(isinstance(d, HeldDevice) and d.model_id is not None for d in devices)


def test_the_tree_names_every_unit_s_parent(sessions, city):
    with sessions() as session:
        tree = needs_and_devices(session, set(), TODAY).tree
    assert (tree["VD"], tree["VD-P01"], tree["VD-STC"], tree["VD-STC-NS"]) == (None, "VD", "VD", "VD-STC")
    assert len(tree) == 15


def test_a_merged_unit_has_no_needs_and_its_devices_count_at_its_successor(sessions, city):
    with sessions() as session, session.begin():
        merge_units(session, ["VD-X02"], into_code="VD-X01", effective_on=TODAY, by="test")
    with sessions() as session:
        inputs = needs_and_devices(session, ids_of(session, "VD-X01", "VD-X02"), TODAY)
        needs, devices, tree = inputs.needs, inputs.devices, inputs.tree
    assert {n.unit_code for n in needs} == {"VD-X01"}
    assert [(d.id, d.unit_code) for d in devices] == [(city["x02-a"], "VD-X01")]
    # The successor took the merged commune's staff: 22 + 19 desktops' worth of people.
    assert [n.required for n in needs if n.category == "desktop"] == [41]
    assert tree["VD-X02"] == "VD"


def test_unit_needs_of_several_units_come_by_unit_code(sessions, city):
    with sessions() as session:
        units = session.scalars(select(Unit).where(Unit.code.in_(["VD-P02", "VD-P01"]))).all()
        needs = load.unit_norms(session, units, TODAY)[0]
    assert [n.unit_code for n in needs] == ["VD-P01"] * 11 + ["VD-P02"] * 11
    assert [n.required for n in needs if n.category == "desktop"] == [5, 2]


def test_the_gaps_of_a_ward(sessions, city):
    with sessions() as session:
        found = services.unit_gaps(session, "VD-P01", None, on=TODAY)
    assert (found.unit.code, found.on, [u.code for u in found.units]) == ("VD-P01", TODAY, ["VD-P01"])
    desktop = next(g for g in found.gaps if g.category == "desktop")
    # 5 required, 3 usable: 2 short; the old and the broken PC are due for replacement, the slow one for upgrade.
    assert (desktop.required, desktop.usable, desktop.shortfall, desktop.surplus, desktop.norms) == (
        5, 3, 2, 0, ("pc-leader", "pc-specialist", "pc-staff"))
    assert (desktop.usable_ids, desktop.replacement_ids, desktop.upgrade_ids) == (
        (city["p01-a"], city["p01-b"], city["p01-c"]), (city["p01-old"], city["p01-broken"]), (city["p01-slow"],))
    core = next(g for g in found.gaps if g.category == "core_switch")
    assert (core.required, core.usable, core.shortfall, core.norms, core.replacement_ids) == (
        0, 0, 0, (), (city["p01-core"],))
    assert [g.category for g in found.gaps] == sorted([c for c, _, _ in P01_NEEDS] + ["core_switch"])
    assert [(t.category, t.required, t.shortfall, t.units) for t in found.totals] == [
        (g.category, g.required, g.shortfall, ("VD-P01",)) for g in found.gaps]


def test_a_subtree_totals_its_units_gaps(sessions, city):
    with sessions() as session:
        found = services.unit_gaps(session, "VD-STC", None, on=TODAY)
    # Desktops for every leader, specialist and other staff member of each unit (the example's staff counts):
    # the agency's 120, the budget department's 30 and the enterprise finance department's 25.
    assert [(g.unit_code, g.required, g.usable, g.shortfall) for g in found.gaps if g.category == "desktop"] == [
        ("VD-STC", 120, 0, 120), ("VD-STC-NS", 30, 1, 29), ("VD-STC-TCDN", 25, 0, 25)]
    [desktops] = [t for t in found.totals if t.category == "desktop"]
    assert (desktops.unit_code, desktops.required, desktops.usable, desktops.shortfall, desktops.usable_ids,
            desktops.units) == ("VD-STC", 175, 1, 174, (city["ns-a"],), ("VD-STC", "VD-STC-NS", "VD-STC-TCDN"))


def test_surplus_in_a_neighbouring_ward_covers_a_shortfall_before_anything_is_bought(sessions, city):
    with sessions() as session:
        found = services.transfer_list(session, "VD", None, on=TODAY)
    desktops = [(t.device_id, t.from_unit, t.to_unit, t.distance) for t in found.transfers
                if t.category == "desktop"]
    # VD-P02 needs 2 and holds 4: it gives its newest two (bought 2025, then 2023), to its sibling VD-P01.
    assert desktops == [(city["p02-b"], "VD-P02", "VD-P01", 2), (city["p02-c"], "VD-P02", "VD-P01", 2)]
    assert [g.unit_code for g in found.remaining if g.category == "desktop"][:3] == [
        "VD-P03", "VD-P04", "VD-SKHCN"]  # VD-P01 is covered, VD-P02 keeps what it needs
    assert not any(g.unit_code in ("VD-P01", "VD-P02") and g.category == "desktop" for g in found.remaining)


def test_an_officer_s_scope_limits_gaps_and_transfers(sessions, city):
    with sessions() as session:
        scope = frozenset(subtree_ids(session, "VD-P01"))
        assert services.transfer_list(session, "VD-P01", scope, on=TODAY).transfers == ()
        with pytest.raises(OutsideScope, match="unit 'VD-P02' is not one of your units"):
            services.unit_gaps(session, "VD-P02", scope, on=TODAY)
        with pytest.raises(NotFound, match="unit 'VD-P99' does not exist"):
            services.unit_gaps(session, "VD-P99", None, on=TODAY)
