"""Plans for a unit's subtree, saved as scenarios: the targeted plan (reviews applied, transfers first, then
upgrades and purchases under the yearly caps) or a blanket one to compare it with; finance's approval, which
freezes a plan; and the difference between an approved plan and the plan the inventory calls for today.

Runs in the caller's transaction and never commits."""
import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from budget import exports, load, plans
from budget.gaps import Gap
from budget.models import Scenario, ScenarioKind, ScenarioLine
from budget.plans import PlanLine
from budget.readiness import weight
from budget.reallocation import Transfer, transfers
from budget.report import PlanReport, ScenarioTotal
from budget.reviews import for_plans, reviews_of
from budget.services import Subtree, category_names, subtree
from catalog.compliance import CITY_TIME
from catalog.models import CatalogVersion
from core.audit import record
from core.errors import Conflict, InvalidInput, NotFound
from core.i18n import Reason
from core.time import utcnow
from inventory.models import Unit
from inventory.units import unit_in_scope


@dataclass(frozen=True)
class Computed:
    """A plan before it is saved."""
    subtree: Subtree
    lines: tuple[PlanLine, ...]  # funded ones with their year, unfunded ones with None
    transfers: tuple[Transfer, ...]
    excluded: tuple[Gap, ...]  # gaps left out of the plan by their review


def compute(session: Session, unit_code: str, scope: frozenset[int] | None, kind: str,
            parameters: Mapping[str, Any], on: dt.date | None = None) -> Computed:
    """The plan of `kind` for the subtree, phased under parameters["caps_vnd"] from parameters["first_year"]."""
    _check_parameters(kind, parameters)
    found = subtree(session, unit_code, scope, on)
    version = found.inputs.version
    offers = load.offers(version, found.on)
    if kind == ScenarioKind.TARGETED:
        reviewed, excluded = for_plans(found.gaps, reviews_of(session, (u.id for u in found.units)))
        moved = transfers(reviewed, found.inputs.devices, found.inputs.tree)
        lines = plans.targeted_lines(moved.remaining, found.inputs.devices, offers, found.inputs.limits,
                                     found.kinds, load.parts(version),
                                     Fraction(parameters.get("max_share_percent", 50), 100))
        done_transfers, excluded = moved.transfers, tuple(excluded)
    elif kind == ScenarioKind.BLANKET_AGE:
        lines = plans.blanket_plan(found.inputs.devices, parameters["older_than_years"], offers, found.inputs.needs)
        done_transfers, excluded = (), ()
    else:
        lines = plans.standard_kit((u.code for u in found.units), parameters["kit"], offers)
        done_transfers, excluded = (), ()
    return Computed(found, _phased(lines, parameters, found.kinds), done_transfers, excluded)


def _phased(lines: list[PlanLine], parameters: Mapping[str, Any], kinds: Mapping[str, str]) -> tuple[PlanLine, ...]:
    caps, first_year = parameters.get("caps_vnd") or [], parameters["first_year"]
    if not caps:  # no cap: everything in the first year
        return tuple(replace(line, year=first_year) for line in lines)

    def gain(line: PlanLine) -> Fraction:  # readiness gained: the line's items at their category's weight
        return Fraction(weight(line.category, kinds.get(line.unit_code)) * line.quantity)
    phasing = plans.select_under_cap(lines, caps, first_year, gain)
    return phasing.funded + phasing.unfunded


def save(session: Session, unit_code: str, scope: frozenset[int] | None, name: str, kind: str,
         parameters: Mapping[str, Any], *, by: str, on: dt.date | None = None) -> Scenario:
    computed = compute(session, unit_code, scope, kind, parameters, on)
    found = computed.subtree
    scenario = Scenario(
        name=name.strip(), unit_id=found.unit.id, kind=ScenarioKind(kind), judged_on=found.on,
        version_id=found.version.id, parameters=dict(parameters), created_by=by,
        transfers=[{"device_id": t.device_id, "category": t.category, "from_unit": t.from_unit,
                    "to_unit": t.to_unit, "distance": t.distance} for t in computed.transfers],
        excluded=[{"unit_code": g.unit_code, "category": g.category, "shortfall": g.shortfall}
                  for g in computed.excluded],
        total_vnd=plans.total_vnd(computed.lines),
        funded_vnd=plans.total_vnd(line for line in computed.lines if line.year is not None),
        lines=[ScenarioLine(unit_code=line.unit_code, category=line.category, model=line.model,
                            quantity=line.quantity, unit_price_vnd=line.unit_price_vnd, reason=line.reason,
                            priority=line.priority, norm=line.norm, legal_basis=line.legal_basis, year=line.year,
                            device_ids=list(line.device_ids)) for line in computed.lines])
    session.add(scenario)
    session.flush()
    record(session, by, "budget.scenario.create", "budget_scenario", scenario.id, after={
        "name": scenario.name, "unit": found.unit.code, "kind": kind, "parameters": dict(parameters),
        "total_vnd": scenario.total_vnd, "funded_vnd": scenario.funded_vnd})
    return scenario


def _check_parameters(kind: str, parameters: Mapping[str, Any]) -> None:
    """What the schema cannot say alone: the parameters each kind needs."""
    if kind == ScenarioKind.BLANKET_AGE and parameters.get("older_than_years") is None:
        raise InvalidInput(Reason("a blanket plan needs the age in years beyond which everything is replaced"),
                           field="older_than_years")
    if kind == ScenarioKind.STANDARD_KIT and not any((parameters.get("kit") or {}).values()):
        raise InvalidInput(Reason("a standard kit needs at least one category and quantity"), field="kit")


def get(session: Session, scenario_id: int, scope: frozenset[int] | None) -> Scenario:
    """A scenario whose unit the caller answers for; another unit's is not found, as if it did not exist."""
    scenario = session.get(Scenario, scenario_id)
    if scenario is None or (scope is not None and scenario.unit_id not in scope):
        raise NotFound(Reason("scenario %(id)s does not exist", id=scenario_id))
    return scenario


def list_for(session: Session, scope: frozenset[int] | None, unit_code: str | None = None) -> list[Scenario]:
    query = select(Scenario).options(joinedload(Scenario.unit)).order_by(Scenario.created_at.desc(),
                                                                           Scenario.id.desc())
    if unit_code is not None:
        query = query.where(Scenario.unit_id == unit_in_scope(session, unit_code, scope, field="unit").id)
    elif scope is not None:
        query = query.where(Scenario.unit_id.in_(scope))
    return list(session.scalars(query))


def delete(session: Session, scenario_id: int, scope: frozenset[int] | None, *, by: str) -> None:
    scenario = get(session, scenario_id, scope)
    if scenario.approved_at is not None:
        raise Conflict(Reason("scenario %(id)s is an approved plan: it is kept as approved", id=scenario_id))
    record(session, by, "budget.scenario.delete", "budget_scenario", scenario.id,
           before={"name": scenario.name, "total_vnd": scenario.total_vnd})
    session.delete(scenario)


def approve(session: Session, scenario_id: int, scope: frozenset[int] | None, comment: str, *, by: str
            ) -> Scenario:
    """Finance approves a targeted plan: it is frozen, with who approved it and when."""
    scenario = get(session, scenario_id, scope)
    if scenario.kind != ScenarioKind.TARGETED:
        raise Conflict(Reason("only a targeted plan is approved; %(name)r is a comparison", name=scenario.name))
    if scenario.approved_at is not None:
        at = scenario.approved_at.replace(tzinfo=dt.timezone.utc).astimezone(CITY_TIME)  # stored in UTC
        raise Conflict(Reason("scenario %(id)s was approved by %(by)s on %(at)s", id=scenario_id,
                              by=scenario.approved_by, at=at.strftime("%d/%m/%Y %H:%M")))
    scenario.approved_by, scenario.approved_at, scenario.approval_comment = by, utcnow(), comment.strip()
    session.flush()
    record(session, by, "budget.scenario.approve", "budget_scenario", scenario.id, after={
        "name": scenario.name, "total_vnd": scenario.total_vnd, "funded_vnd": scenario.funded_vnd,
        "comment": scenario.approval_comment})
    return scenario


def lines_of(scenario: Scenario) -> tuple[PlanLine, ...]:
    return tuple(PlanLine(line.unit_code, line.category, line.model, line.quantity, line.unit_price_vnd, line.reason,
                          line.priority, line.norm, line.legal_basis, line.year, tuple(line.device_ids))
                 for line in scenario.lines)


@dataclass(frozen=True)
class PlanSum:
    """What a saved plan spends on one unit's category in one year (None: unfunded) at one priority."""
    unit_code: str
    category: str
    year: int | None
    priority: int
    total_vnd: int


def plan_sums(session: Session, scenario_ids: Collection[int], unit_codes: Collection[str] | None = None
              ) -> dict[int, list[PlanSum]]:
    """Each saved plan's money by unit, category, year and priority, summed by the database (a nation's plan is
    tens of thousands of lines), for the units of `unit_codes` (None: all of the plan's); by scenario id."""
    money = func.sum(ScenarioLine.quantity * ScenarioLine.unit_price_vnd)
    query = (select(ScenarioLine.scenario_id, ScenarioLine.unit_code, ScenarioLine.category, ScenarioLine.year,
                    ScenarioLine.priority, money)
             .where(ScenarioLine.scenario_id.in_(list(scenario_ids)))
             .group_by(ScenarioLine.scenario_id, ScenarioLine.unit_code, ScenarioLine.category, ScenarioLine.year,
                       ScenarioLine.priority))
    found: dict[int, list[PlanSum]] = {scenario_id: [] for scenario_id in scenario_ids}
    wanted = None if unit_codes is None else set(unit_codes)
    for scenario_id, unit_code, category, year, priority, total in session.execute(query):
        if wanted is None or unit_code in wanted:
            found[scenario_id].append(PlanSum(unit_code, category, year, priority, int(total)))
    return found


def report(session: Session, scenario: Scenario, category_names: Mapping[str, str]) -> PlanReport:
    """The scenario as finance reads it, with every scenario saved for the same unit beside it."""
    unit = session.get(Unit, scenario.unit_id)
    others = session.scalars(select(Scenario).where(Scenario.unit_id == scenario.unit_id)
                             .order_by(Scenario.id))
    units = dict(session.execute(select(Unit.code, Unit.name)).all())
    return PlanReport(
        scenario.id, scenario.name, scenario.kind.value, unit.code, unit.name, scenario.judged_on,
        _version_name(session, scenario.version_id), tuple(scenario.parameters.get("caps_vnd") or ()),
        scenario.parameters["first_year"], lines_of(scenario),
        tuple(Transfer(**t) for t in scenario.transfers),
        tuple(ScenarioTotal(s.id, s.name, s.kind.value, s.total_vnd, s.funded_vnd, s.approved_at is not None)
              for s in others),
        units, category_names, scenario.approved_by, scenario.approved_at)


def _version_name(session: Session, version_id: int) -> str:
    return session.get(CatalogVersion, version_id).name


# ---- the difference between an approved plan and today's ---------------------------------------------------

@dataclass(frozen=True)
class Difference:
    unit_code: str
    category: str
    reason: str
    approved_quantity: int
    approved_vnd: int
    now_quantity: int
    now_vnd: int


def last_approved(session: Session, unit_id: int) -> Scenario | None:
    return session.scalars(select(Scenario).where(Scenario.unit_id == unit_id, Scenario.approved_at.is_not(None))
                           .order_by(Scenario.approved_at.desc(), Scenario.id.desc()).limit(1)).one_or_none()


def difference(session: Session, scenario: Scenario, scope: frozenset[int] | None, on: dt.date | None = None
               ) -> list[Difference]:
    """Per unit, category and reason, where the plan the inventory calls for on `on` (today by default), with
    the same parameters, differs from the saved one: what changed since it was approved."""
    unit = session.get(Unit, scenario.unit_id)
    return compare_lines(lines_of(scenario), compute(session, unit.code, scope, scenario.kind.value,
                                                     scenario.parameters, on).lines)


def compare_lines(before_lines, after_lines) -> list[Difference]:
    """Per unit, category and reason, the quantities and money that differ between two sets of lines."""
    before, after = _sums(before_lines), _sums(after_lines)
    return [Difference(*key, *before.get(key, (0, 0)), *after.get(key, (0, 0)))
            for key in sorted(before.keys() | after.keys()) if before.get(key) != after.get(key)]


def _sums(lines) -> dict[tuple[str, str, str], tuple[int, int]]:
    sums: dict[tuple[str, str, str], tuple[int, int]] = {}
    for line in lines:
        quantity, money = sums.get((line.unit_code, line.category, line.reason), (0, 0))
        sums[line.unit_code, line.category, line.reason] = (quantity + line.quantity, money + line.total_vnd)
    return sums


# ---- exports ----------------------------------------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export(session: Session, scenario_id: int, scope: frozenset[int] | None, kind: str, language: str
           ) -> tuple[bytes, str, str]:
    """The plan for finance as (body, media type, file name): XLSX (one sheet per view, totals as formulas) or a
    PDF summary, with category names in `language` (the API's and the pages' one path)."""
    scenario = get(session, scenario_id, scope)
    found = report(session, scenario, category_names(session, scenario.version_id, language))
    if kind == "xlsx":
        return exports.plan_workbook(found), XLSX, f"plan-{scenario.id}.xlsx"
    return exports.plan_pdf(found), "application/pdf", f"plan-{scenario.id}.pdf"
