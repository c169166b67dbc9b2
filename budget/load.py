"""The budget's plain inputs, read from the database: what the norms require of each unit (the catalog's norm
arithmetic over the unit's facts), the devices each unit holds with their stored compliance, and the unit tree.
budget/gaps.py and budget/reallocation.py compute from these and never see a Session."""
import datetime as dt
import gc
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from budget.gaps import HELD, HeldDevice, UnitNeed
from budget.plans import NormLimit, Offer
from budget.upgrades import Part
from catalog.compliance import FACT_COLUMNS, device_facts, ensure_current, today
from catalog.models import ApprovedModel, CatalogVersion, Compliance
from catalog.reports import unit_facts
from catalog.rules import NormQuantity, NormRule, full_years, judge, required_quantities
from catalog.services import loaded_version, norm_rules, rules_of, version_or_in_force
from inventory.models import Device, DeviceStatus, Unit

Tree = dict[str, str | None]  # unit code -> its parent's code


@dataclass(frozen=True)
class Inputs:
    """What the budget computes from, read from the database for a set of units on a day."""
    version: CatalogVersion  # in force on the day, with all its rows loaded (catalog.services.loaded_version)
    needs: list[UnitNeed]
    limits: dict[tuple[str, str], NormLimit]  # (unit code, category) -> what a plan line must keep
    devices: list[HeldDevice]
    tree: Tree


def needs_and_devices(session: Session, unit_ids: Iterable[int], on: dt.date) -> Inputs:
    """The needs and norm limits of the active units among `unit_ids`, the devices of a catalog category they
    hold (a merged unit's at its successor), and the whole unit tree (distances between units cross the
    organisation).

    `on` is the day judged: today's are the stored judgements, made current first in a transaction of their own
    (ensure_current), as every compliance report reads them; another day's are judged on the spot from the same
    rules and not stored. Raises NotFound when no catalog version is in force on that day."""
    with collector_paused():
        return _inputs(session, set(unit_ids), on)


def _inputs(session: Session, ids: set[int], on: dt.date) -> Inputs:
    version = loaded_version(session, version_or_in_force(session, None, on).id)
    units = {u.id: u for u in session.scalars(select(Unit))}
    counted_at = {unit_id: _successor(units, unit_id).code for unit_id in units}
    needs, limits = unit_norms(session, [units[i] for i in sorted(ids) if i in units and units[i].active], on,
                               version)
    devices = [HeldDevice(id_, counted_at[unit_id], category, device_status.value, status, tuple(findings or ()),
                          full_years(bought, on) if bought else None, model_id)
               for id_, unit_id, device_status, bought, category, status, findings, model_id
               in _judged(session, ids, on, version) if category is not None]
    tree = {u.code: units[u.parent_id].code if u.parent_id in units else None for u in units.values()}
    return Inputs(version, needs, limits, devices, tree)


@contextmanager
def collector_paused():
    """A nation's half a million devices are as many small objects, none of them garbage, that set off Python's
    cyclic collector again and again (half the time of a plan, measured by bench/budget.py); it is paused while
    they are built. Reference counting still frees everything; the collector runs again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _judged(session: Session, unit_ids: set[int], on: dt.date, version: CatalogVersion) -> list[tuple]:
    """(id, unit id, device status, purchase date, category, compliance status, findings, model id) of the
    devices the units hold, by id."""
    held = Device.unit_id.in_(unit_ids), Device.status.in_([DeviceStatus(s) for s in HELD])
    if on == today():
        ensure_current(session, on)
        return [(*row[:5], row[5].value, *row[6:]) for row in session.execute(
            select(Device.id, Device.unit_id, Device.status, Device.purchase_date, Compliance.category_code,
                   Compliance.status, Compliance.findings, Compliance.approved_model_id)
            .join(Compliance, Compliance.device_id == Device.id).where(*held).order_by(Device.id))]
    rules = rules_of(version)
    found = []
    for row in session.execute(select(Device.unit_id, Device.status, *FACT_COLUMNS).where(*held)
                               .order_by(Device.id)):
        facts = device_facts(row[2:])
        judgement = judge(facts, rules, on)
        found.append((facts.id, row[0], row[1], facts.purchase_date, judgement.category, judgement.status,
                      judgement.findings, judgement.model_id))
    return found


def unit_norms(session: Session, units: Iterable[Unit], on: dt.date, version: CatalogVersion | None = None
               ) -> tuple[list[UnitNeed], dict[tuple[str, str], NormLimit]]:
    """Per unit and category, the sum of the norms' required quantities and the codes of those norms; and the
    limits a plan line must keep (the sum of the norms' maxima, None when one has none; the lowest maximum
    unit price).

    The arithmetic of catalog.reports.unit_norms (unit_facts, required_quantities) with the version in force
    read once for every unit, not once per unit (or given, loaded)."""
    version = version or loaded_version(session, version_or_in_force(session, None, on).id)
    rules = norm_rules(version)
    by_code = {rule.code: rule for rule in rules}
    basis = {norm.code: norm.legal_basis for norm in version.norms}
    wired = [c.code for c in version.categories if c.wired]
    needs, limits = [], {}
    for unit in sorted(units, key=lambda u: u.code):
        quantities: dict[str, list[NormQuantity]] = {}
        for quantity in required_quantities(rules, unit_facts(unit), wired, on):
            quantities.setdefault(quantity.category, []).append(quantity)
        for category, found in sorted(quantities.items()):
            norms = tuple(q.norm for q in found)
            needs.append(UnitNeed(unit.code, category, sum(q.required for q in found), norms))
            limits[unit.code, category] = _limit(found, [by_code[n] for n in norms], basis)
    return needs, limits


def _limit(found: list[NormQuantity], rules: list[NormRule], basis: dict[str, str]) -> NormLimit:
    maxima = [q.maximum for q in found]
    prices = [r.max_unit_price_vnd for r in rules if r.max_unit_price_vnd is not None]
    return NormLimit(", ".join(q.norm for q in found), None if None in maxima else sum(maxima),
                     min(prices) if prices else None,
                     _joined_bases(basis.get(q.norm, "") for q in found))


def _joined_bases(bases: Iterable[str]) -> str:
    """Each legal basis once, though several norms cite it ("QĐ 50/2017; Kế hoạch ..." and "QĐ 50/2017")."""
    return "; ".join(dict.fromkeys(part.strip() for text in bases for part in text.split(";") if part.strip()))


def offers(version: CatalogVersion, on: dt.date) -> dict[str, Offer]:
    """What each category is bought as: its cheapest priced approved model still on sale on the day (if every
    one has left sale, the cheapest priced one: the guidance has not named a successor yet). A category
    without a priced model is bought as the category (model None) at the lowest maximum unit price of its
    norms: the most the law lets a unit pay, so that finance sees the line rather than a plan refused."""
    priced: dict[str, list[ApprovedModel]] = {}
    for model in version.models:
        if model.price_vnd is not None:
            priced.setdefault(model.category.code, []).append(model)
    found = {}
    for category, models in priced.items():
        on_sale = [m for m in models if m.end_of_sale is None or m.end_of_sale > on] or models
        best = min(on_sale, key=lambda m: (m.price_vnd, m.vendor, m.model_pattern))
        found[category] = Offer(f"{best.vendor} {best.model_pattern}", best.price_vnd)
    ceilings: dict[str, int] = {}
    for norm in version.norms:
        code, ceiling = norm.category.code, norm.max_unit_price_vnd
        if code not in priced and ceiling is not None:
            ceilings[code] = min(ceilings.get(code, ceiling), ceiling)
    return found | {code: Offer(None, price) for code, price in ceilings.items()}


def parts(version: CatalogVersion) -> list[Part]:
    return [Part(p.code, p.category.code, p.raises, p.adds, p.price_vnd) for p in version.parts]


def _successor(units: dict[int, Unit], unit_id: int) -> Unit:
    """The active unit a merged (or split) unit's equipment counts at: its successor's, followed to the end."""
    unit, seen = units[unit_id], {unit_id}
    while not unit.active and unit.successor_id in units and unit.successor_id not in seen:
        seen.add(unit.successor_id)
        unit = units[unit.successor_id]
    return unit
