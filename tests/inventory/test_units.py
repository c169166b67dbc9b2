"""The organisation tree and its reorganisations, on a real database."""
import datetime as dt

import pytest
from sqlalchemy import select

from core.errors import Conflict, InvalidInput, NotFound
from inventory.ingest import IngestBatch, ingest
from inventory.models import Device, DeviceEvent, Unit, UnitKind
from inventory.observations import ObservedDevice
from inventory.units import NewUnit, get_unit, merge_units, split_unit, subtree_ids, update_unit
from tests.conftest import T0, table_contents

JULY = dt.date(2026, 7, 1)


def add_devices(sessions, unit_code: str, *hostnames: str) -> list[int]:
    with sessions() as session, session.begin():
        batch = [ObservedDevice("import", T0, unit_code, "sheet", fields={"hostname": h}) for h in hostnames]
        return ingest(session, IngestBatch(batch)).device_ids


def unit_of(sessions, device_id: int) -> str:
    with sessions() as session:
        return session.get(Device, device_id).unit.code


def test_subtree_holds_the_unit_and_everything_below(org):
    with org() as session:
        codes = {session.get(Unit, i).code for i in subtree_ids(session, "A1")}
    assert codes == {"A1", "A1-D1"}


def test_merge_into_a_new_unit_moves_devices_staff_and_sub_units(org):
    (w1_pc,) = add_devices(org, "W1", "pc-w1")
    (w2_pc,) = add_devices(org, "W2", "pc-w2")
    with org() as session, session.begin():
        session.add(Unit(code="W2-X", name="Hamlet office", kind=UnitKind.OTHER, parent=get_unit(session, "W2")))
    with org() as session, session.begin():
        record = merge_units(session, ["W1", "W2"], into_new=NewUnit("W12", "Ward One-Two", UnitKind.WARD),
                             effective_on=JULY, by="tester", note="Resolution 12/2026")
        assert (record.kind.value, record.source_codes, record.target_codes) == ("merge", ["W1", "W2"], ["W12"])
    with org() as session:
        merged = get_unit(session, "W12")
        assert (merged.staff_count, merged.parent.code, merged.active) == (35, "C", True)
        for code in ("W1", "W2"):
            old = get_unit(session, code)
            assert (old.active, old.successor.code, old.dissolved_on) == (False, "W12", JULY)
        assert get_unit(session, "W2-X").parent.code == "W12"
        event = session.scalars(select(DeviceEvent).where(DeviceEvent.device_id == w2_pc,
                                                          DeviceEvent.kind == "moved")).one()
        assert (event.detail, event.source, event.method) == ("W2 -> W12", "merge effective 2026-07-01",
                                                              "reorganisation")
    assert unit_of(org, w1_pc) == unit_of(org, w2_pc) == "W12"


def test_merge_into_an_existing_unit(org):
    (pc,) = add_devices(org, "W2", "pc-w2")
    with org() as session, session.begin():
        merge_units(session, ["W2"], into_code="W1", effective_on=JULY, by="tester")
    with org() as session:
        assert get_unit(session, "W1").staff_count == 35
    assert unit_of(org, pc) == "W1"


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"source_codes": ["W1"], "into_code": "W1"}, InvalidInput, "unit W1 cannot be merged into itself"),
    ({"source_codes": ["W1", "W1"], "into_code": "W2"}, InvalidInput, "a unit is named twice"),
    ({"source_codes": ["W9"], "into_code": "W2"}, NotFound, "unit 'W9' does not exist"),
    ({"source_codes": ["W1"], "into_code": "W9"}, NotFound, "unit 'W9' does not exist"),
    ({"source_codes": ["A1"], "into_code": "A1-D1"}, Conflict, "unit A1-D1 is inside a unit being merged"),
    ({"source_codes": ["W1"], "into_new": NewUnit("W3", "x", UnitKind.WARD)}, InvalidInput,
     "a merge into a new unit needs at least two units"),
    ({"source_codes": ["W1", "W2"], "into_new": NewUnit("A1", "x", UnitKind.WARD)}, Conflict,
     "unit A1 already exists"),
])
def test_a_refused_merge_changes_nothing(org, engine, kwargs, error, message):
    add_devices(org, "W1", "pc-w1")
    before = table_contents(engine)
    kwargs = dict(kwargs)
    codes = kwargs.pop("source_codes")
    with pytest.raises(error) as caught:
        with org() as session, session.begin():
            merge_units(session, codes, effective_on=JULY, by="tester", **kwargs)
    assert caught.value.reason == message
    assert table_contents(engine) == before


def test_an_inactive_unit_cannot_be_merged_again(org):
    with org() as session, session.begin():
        merge_units(session, ["W2"], into_code="W1", effective_on=JULY, by="tester")
    with pytest.raises(Conflict, match="unit W2 is already inactive \\(successor W1\\)"):
        with org() as session, session.begin():
            merge_units(session, ["W2"], into_code="A1", effective_on=JULY, by="tester")


def test_split_sends_each_device_where_it_is_told(org):
    a, b, c = add_devices(org, "W1", "pc-a", "pc-b", "pc-c")
    with org() as session, session.begin():
        split_unit(session, "W1", [NewUnit("W1N", "North", UnitKind.WARD, 12), NewUnit("W1S", "South", UnitKind.WARD, 8)],
                   device_targets={b: "W1S"}, effective_on=JULY, by="tester")
    assert [unit_of(org, d) for d in (a, b, c)] == ["W1N", "W1S", "W1N"]
    with org() as session:
        old = get_unit(session, "W1")
        assert (old.active, old.successor.code) == (False, "W1N")
        assert get_unit(session, "W1S").parent.code == "C"
        details = sorted(e.detail for e in session.scalars(select(DeviceEvent).where(DeviceEvent.kind == "moved")))
    assert details == ["W1 -> W1N", "W1 -> W1N", "W1 -> W1S"]


def test_a_split_naming_a_foreign_device_changes_nothing(org, engine):
    (foreign,) = add_devices(org, "W2", "pc-w2")
    add_devices(org, "W1", "pc-w1")
    before = table_contents(engine)
    with pytest.raises(InvalidInput, match=f"device {foreign} is not in unit W1"):
        with org() as session, session.begin():
            split_unit(session, "W1", [NewUnit("W1N", "N", UnitKind.WARD), NewUnit("W1S", "S", UnitKind.WARD)],
                       device_targets={foreign: "W1S"}, effective_on=JULY, by="tester")
    assert table_contents(engine) == before


def test_a_unit_cannot_become_its_own_ancestor(org, engine):
    before = table_contents(engine)
    with pytest.raises(Conflict, match="unit A1-D1 is inside A1: a unit cannot be its own ancestor"):
        with org() as session, session.begin():
            update_unit(session, "A1", {"parent_code": "A1-D1"})
    assert table_contents(engine) == before
