"""The budget's plain inputs, read from the database: what the norms require of each unit (the catalog's norm
arithmetic over the unit's facts), the devices each unit holds with their stored compliance, and the unit tree.
budget/gaps.py and budget/reallocation.py compute from these and never see a Session."""
import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from budget.gaps import HELD, HeldDevice, UnitNeed
from catalog.compliance import FACT_COLUMNS, device_facts, ensure_current, today
from catalog.models import Compliance
from catalog.reports import unit_facts
from catalog.rules import full_years, judge, required_quantities
from catalog.services import loaded_version, norm_rules, rules_of, version_or_in_force
from inventory.models import Device, DeviceStatus, Unit

Tree = dict[str, str | None]  # unit code -> its parent's code


def needs_and_devices(session: Session, unit_ids: Iterable[int], on: dt.date
                      ) -> tuple[list[UnitNeed], list[HeldDevice], Tree]:
    """The needs of the active units among `unit_ids`, the devices of a catalog category they hold (a merged
    unit's at its successor), and the whole unit tree (distances between units cross the organisation).

    `on` is the day judged: today's are the stored judgements, made current first in a transaction of their own
    (ensure_current), as every compliance report reads them; another day's are judged on the spot from the same
    rules and not stored. Raises NotFound when no catalog version is in force on that day."""
    ids = set(unit_ids)
    units = {u.id: u for u in session.scalars(select(Unit))}
    counted_at = {unit_id: _successor(units, unit_id).code for unit_id in units}
    needs = unit_needs(session, [units[i] for i in sorted(ids) if i in units and units[i].active], on)
    devices = [HeldDevice(id_, counted_at[unit_id], category, device_status.value, status, tuple(findings or ()),
                          full_years(bought, on) if bought else None, model_id)
               for id_, unit_id, device_status, bought, category, status, findings, model_id
               in _judged(session, ids, on) if category is not None]
    tree = {u.code: units[u.parent_id].code if u.parent_id in units else None for u in units.values()}
    return needs, devices, tree


def _judged(session: Session, unit_ids: set[int], on: dt.date) -> list[tuple]:
    """(id, unit id, device status, purchase date, category, compliance status, findings, model id) of the
    devices the units hold, by id."""
    held = Device.unit_id.in_(unit_ids), Device.status.in_([DeviceStatus(s) for s in HELD])
    if on == today():
        ensure_current(session, on)
        return [(*row[:5], row[5].value, *row[6:]) for row in session.execute(
            select(Device.id, Device.unit_id, Device.status, Device.purchase_date, Compliance.category_code,
                   Compliance.status, Compliance.findings, Compliance.approved_model_id)
            .join(Compliance, Compliance.device_id == Device.id).where(*held).order_by(Device.id))]
    rules = rules_of(loaded_version(session, version_or_in_force(session, None, on).id))
    found = []
    for row in session.execute(select(Device.unit_id, Device.status, *FACT_COLUMNS).where(*held)
                               .order_by(Device.id)):
        facts = device_facts(row[2:])
        judgement = judge(facts, rules, on)
        found.append((facts.id, row[0], row[1], facts.purchase_date, judgement.category, judgement.status,
                      judgement.findings, judgement.model_id))
    return found


def unit_needs(session: Session, units: Iterable[Unit], on: dt.date) -> list[UnitNeed]:
    """Per unit and category, the sum of the norms' required quantities and the codes of those norms.

    The arithmetic of catalog.reports.unit_norms (unit_facts, required_quantities) with the version in force
    read once for every unit, not once per unit."""
    version = loaded_version(session, version_or_in_force(session, None, on).id)
    rules = norm_rules(version)
    wired = [c.code for c in version.categories if c.wired]
    needs = []
    for unit in sorted(units, key=lambda u: u.code):
        required: dict[str, int] = {}
        norms: dict[str, list[str]] = {}
        for quantity in required_quantities(rules, unit_facts(unit), wired, on):
            required[quantity.category] = required.get(quantity.category, 0) + quantity.required
            norms.setdefault(quantity.category, []).append(quantity.norm)
        needs += [UnitNeed(unit.code, category, required[category], tuple(norms[category]))
                  for category in sorted(required)]
    return needs


def _successor(units: dict[int, Unit], unit_id: int) -> Unit:
    """The active unit a merged (or split) unit's equipment counts at: its successor's, followed to the end."""
    unit, seen = units[unit_id], {unit_id}
    while not unit.active and unit.successor_id in units and unit.successor_id not in seen:
        seen.add(unit.successor_id)
        unit = units[unit.successor_id]
    return unit
