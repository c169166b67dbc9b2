"""What the API and the pages show of compliance and norms, scoped to the caller's units in the queries: a
device's judgement with its explanation and wear, counts per category and status for a unit's subtree, the
devices behind each count, and what the norms require of a unit.

Under the version in force, the stored judgements are read (made current first); under any other version
they are computed on the spot, from the same pure rules, and not stored."""
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import extract, func, literal, or_, select
from sqlalchemy.orm import Session

from catalog.compliance import FACT_COLUMNS, device_facts, ensure_current, judge_device, today
from catalog.models import ApprovedModel, CatalogVersion, Category, Compliance, ComplianceStatus
from catalog.rules import (
    Judgement,
    NormQuantity,
    UnitFacts,
    Wear,
    judge,
    required_quantities,
    service_life_ends,
    totals_by_category,
    wear,
)
from catalog.services import loaded_version, norm_rules, rules_of, version_or_in_force
from core.errors import InvalidInput
from core.i18n import Reason
from inventory.devices import get_device
from inventory.models import Device, DeviceStatus, Unit
from inventory.units import subtree_ids, unit_in_scope

PAGE_SIZE_MAX = 500


@dataclass(frozen=True)
class DeviceCompliance:
    """A device's judgement under one version, and its value as a public asset."""
    device: Device
    version: CatalogVersion
    category: Category | None
    model: ApprovedModel | None
    status: str
    findings: tuple[dict[str, Any], ...]
    judged_on: dt.date
    life_ends_on: dt.date | None
    wear: Wear | None


def device_compliance(session: Session, device_id: int, scope: frozenset[int] | None, *,
                      version_id: int | None = None, on: dt.date | None = None) -> DeviceCompliance:
    on = on or today()
    device = get_device(session, device_id, scope)
    version = loaded_version(session, version_or_in_force(session, version_id, on).id)
    rules = rules_of(version)
    stored = _stored_judgement(session, device.id, version.id, on)
    judgement = stored or judge_device(session, device.id, rules, on)
    category = next((c for c in version.categories if c.code == judgement.category), None)
    model = next((m for m in version.models if m.id == judgement.model_id), None)
    rule = rules.category(judgement.category) if judgement.category else None
    device_wear = None
    if rule and rule.wear_rate_percent and device.purchase_price_vnd is not None and device.purchase_date:
        device_wear = wear(device.purchase_price_vnd, device.purchase_date, rule.wear_rate_percent, on)
    return DeviceCompliance(device, version, category, model, judgement.status, tuple(judgement.findings), on,
                            service_life_ends(device.purchase_date, rule) if rule else None, device_wear)


def _stored_judgement(session: Session, device_id: int, version_id: int, on: dt.date):
    """The stored judgement when it is the one asked for (version in force, today)."""
    if on != today():
        return None
    ensure_current(session, on)
    row = session.get(Compliance, device_id)
    if row is None or row.version_id != version_id:
        return None
    return Judgement(row.category_code, row.approved_model_id, row.status.value, tuple(row.findings))


@dataclass(frozen=True)
class ComplianceCounts:
    """Devices of a unit's subtree by category and status, under one version."""
    unit: Unit
    version: CatalogVersion
    counts: dict[tuple[str | None, str], int]  # (category code or None, status) -> devices

    def by_status(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for (_category, status), count in self.counts.items():
            totals[status] = totals.get(status, 0) + count
        return totals

    def categories(self) -> list[str | None]:
        return sorted({c for c, _ in self.counts}, key=lambda c: (c is None, c or ""))


def unit_compliance(session: Session, unit_code: str, scope: frozenset[int] | None, *,
                    version_id: int | None = None, on: dt.date | None = None) -> ComplianceCounts:
    """Counts per category and status of the devices of the unit and the units below it, on day `on` (today)."""
    on = on or today()
    unit = unit_in_scope(session, unit_code, scope, field="unit")
    version = version_or_in_force(session, version_id, on)
    ids = _within(subtree_ids(session, unit.code), scope)
    if _is_stored(session, version, on):
        rows = session.execute(select(Compliance.category_code, Compliance.status, func.count())
                               .join(Device, Device.id == Compliance.device_id).where(Device.unit_id.in_(ids))
                               .group_by(Compliance.category_code, Compliance.status)).all()
        counts = {(category, status.value): count for category, status, count in rows}
    else:
        counts = {}
        for judgement in _judged(session, version, ids, on):
            key = (judgement.category, judgement.status)
            counts[key] = counts.get(key, 0) + 1
    return ComplianceCounts(unit, version, counts)


@dataclass(frozen=True)
class JudgedDevice:
    device: Device
    category: str | None
    model_id: int | None  # the approved model it is, if any
    status: str
    findings: tuple[dict[str, Any], ...]


def compliance_devices(session: Session, unit_code: str, scope: frozenset[int] | None, *,
                       status: str | None = None, category: str | None = None, version_id: int | None = None,
                       page: int = 1, per_page: int = 50, on: dt.date | None = None
                       ) -> tuple[list[JudgedDevice], int]:
    """The devices of the unit's subtree with their judgement, filtered by status and category ("none" for
    devices without one), by id; and how many there are."""
    if status is not None and status not in {s.value for s in ComplianceStatus}:
        raise InvalidInput(Reason("%(value)r is not a compliance status; use one of %(statuses)s", value=status,
                                  statuses=", ".join(s.value for s in ComplianceStatus)), field="status")
    on = on or today()
    unit = unit_in_scope(session, unit_code, scope, field="unit")
    version = version_or_in_force(session, version_id, on)
    ids = _within(subtree_ids(session, unit.code), scope)
    judged = _judged(session, version, ids, on) if not _is_stored(session, version, on) else None
    if judged is None:
        query = select(Device, Compliance).join(Compliance, Compliance.device_id == Device.id) \
            .where(Device.unit_id.in_(ids)).order_by(Device.id)
        if status:
            query = query.where(Compliance.status == ComplianceStatus(status))
        if category:
            query = query.where(Compliance.category_code.is_(None) if category == "none"
                                else Compliance.category_code == category)
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        rows = session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
        return [JudgedDevice(d, c.category_code, c.approved_model_id, c.status.value, tuple(c.findings))
                for d, c in rows], total
    wanted = [j for j in judged if (not status or j.status == status) and
              (not category or (j.category or "none") == category)]
    chosen = wanted[(page - 1) * per_page: page * per_page]
    devices = {d.id: d for d in session.scalars(select(Device).where(Device.id.in_([j.device_id for j in chosen])))}
    return [JudgedDevice(devices[j.device_id], j.category, j.model_id, j.status, j.findings) for j in chosen], \
        len(wanted)


@dataclass(frozen=True)
class _Judged:
    device_id: int
    category: str | None
    model_id: int | None
    status: str
    findings: tuple[dict[str, Any], ...]


def _judged(session: Session, version: CatalogVersion, unit_ids: set[int], on: dt.date) -> list[_Judged]:
    rules = rules_of(loaded_version(session, version.id))
    rows = session.execute(select(*FACT_COLUMNS).where(Device.unit_id.in_(unit_ids)).order_by(Device.id))
    found = []
    for row in rows:
        judgement = judge(device_facts(row), rules, on)
        found.append(_Judged(row[0], judgement.category, judgement.model_id, judgement.status, judgement.findings))
    return found


def _is_stored(session: Session, version: CatalogVersion, on: dt.date) -> bool:
    """Whether the stored judgements answer: the day asked for is today, and the version the one in force."""
    if on != today():
        return False  # another day is judged on the spot, as another version is
    ensure_current(session, on)
    in_force = version_or_in_force(session, None, on) if version.published_at else None
    return in_force is not None and in_force.id == version.id


def _within(ids: set[int], scope: frozenset[int] | None) -> set[int]:
    return ids if scope is None else ids & scope


# ---- norms ----------------------------------------------------------------------------------------------------

def unit_facts(unit: Unit) -> UnitFacts:
    return UnitFacts(kind=unit.kind.value, staff_count=unit.staff_count, leader_count=unit.leader_count,
                     specialist_count=unit.specialist_count, meeting_rooms=unit.meeting_rooms, sites=unit.sites,
                     archive_pages=unit.archive_pages, archive_deadline=unit.archive_deadline,
                     on_secure_network=unit.on_secure_network)


@dataclass(frozen=True)
class UnitNorms:
    """What the norms of a version require of one unit, norm by norm, and in total per category."""
    unit: Unit
    version: CatalogVersion
    on: dt.date
    quantities: tuple[NormQuantity, ...]

    def totals(self) -> dict[str, int]:
        return totals_by_category(self.quantities)


def unit_norms(session: Session, unit_code: str, scope: frozenset[int] | None, *, version_id: int | None = None,
               on: dt.date | None = None) -> UnitNorms:
    on = on or today()
    unit = unit_in_scope(session, unit_code, scope, field="unit")
    version = loaded_version(session, version_or_in_force(session, version_id, on).id)
    wired = [c.code for c in version.categories if c.wired]
    quantities = required_quantities(norm_rules(version), unit_facts(unit), wired, on)
    return UnitNorms(unit, version, on, tuple(quantities))


def norms_by_code(version: CatalogVersion) -> dict[str, Any]:
    return {n.code: n for n in version.norms}


def categories_by_code(version: CatalogVersion) -> dict[str, Category]:
    return {c.code: c for c in version.categories}


@dataclass(frozen=True)
class LifecycleCount:
    """How many held devices of a category share their approved model's end of support and, as far as day `on`
    tells them apart, their purchase date: `bought` stands for them all, giving the same full years on `on` and
    the same day and month for a service life's end."""
    category: str
    bought: dt.date | None
    end_of_support: dt.date | None
    count: int
    unit_id: int | None = None  # counted per unit (by_unit), or over them all


def lifecycle_counts(session: Session, unit_ids: set[int] | frozenset[int] | None, on: dt.date, *,
                     by_unit: bool = False) -> list[LifecycleCount]:
    """The units' devices still held (not retired or missing; `unit_ids` None: every unit's) that the stored
    judgements put in a category, counted by category, end of support, and purchase year, month and whether the
    purchase's day of the month is past `on`'s: a city's 30,000 devices in a few thousand counts, not one per
    purchase date, and none of what a timeline or an age distribution reads lost. `by_unit`: per unit too, with
    its id."""
    year, month = extract("year", Device.purchase_date), extract("month", Device.purchase_date)
    later_day = extract("day", Device.purchase_date) > on.day
    unit = Device.unit_id if by_unit else literal(None)
    query = (select(Compliance.category_code, year, month, later_day, ApprovedModel.end_of_support, func.count(),
                    unit)
             .join(Device, Device.id == Compliance.device_id)
             .outerjoin(ApprovedModel, ApprovedModel.id == Compliance.approved_model_id)
             .where(Compliance.category_code.is_not(None),
                    Device.status.not_in([DeviceStatus.RETIRED, DeviceStatus.MISSING]),
                    or_(Device.purchase_date.is_(None), Device.purchase_date <= on))  # bought by then
             .group_by(Compliance.category_code, year, month, later_day, ApprovedModel.end_of_support,
                       *([Device.unit_id] if by_unit else [])))
    if unit_ids is not None:
        query = query.where(Device.unit_id.in_(list(unit_ids)))
    found = [LifecycleCount(category, _standing_for(y, m, later, on), end_of_support, count, unit_id)
             for category, y, m, later, end_of_support, count, unit_id in session.execute(query)]
    return sorted(found, key=lambda c: (c.unit_id or 0, c.category, c.bought or dt.date.max,
                                        c.end_of_support or dt.date.max))


def _standing_for(year: int | None, month: int | None, later: bool | None, on: dt.date) -> dt.date | None:
    """A purchase date of that year and month whose day is past `on`'s day of the month exactly when theirs is:
    the 1st, or the day after `on`'s (which such a month has, since a purchase was made later in it)."""
    if year is None:
        return None
    return dt.date(int(year), int(month), on.day + 1 if later else 1)
