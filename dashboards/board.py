"""What a dashboard draws from: a unit's subtree within the caller's units, read through the other packages'
service functions (never their tables), each part when a figure first needs it, and the figures made from it.

Gaps and readiness (budget.scores), the devices' lifecycle and the units' coverage (dashboards.records) are read
as last recorded (every night, `flask budget readiness` and `flask dashboards record`, the dashboards' button),
never computed on a page: a city's gaps take a second, a nation's lifecycle as long, a page has 300 ms. Plans,
scopes and collectors are read live."""
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from budget import scenarios
from budget.labels import KINDS as SCENARIO_KINDS
from budget.labels import PRIORITIES
from budget.load import offers
from budget.models import Scenario, ScenarioKind
from budget.readiness import Readiness
from budget.scenarios import PlanSum
from budget.scores import RecordedDay, RecordedGaps, last_recorded, recorded_days, recorded_gaps, recorded_scores
from budget.services import category_names
from catalog.compliance import CITY_TIME, today
from catalog.models import CatalogVersion
from catalog.reports import LifecycleCount, lifecycle_counts
from catalog.services import loaded_version, version_in_force, version_or_in_force
from core.errors import NotFound
from core.i18n import Reason
from core.time import as_utc, utcnow
from dashboards.figures import Chart, UnitRow, coverage, lifecycle, plans, readiness
from dashboards.figures.coverage import CollectorRow
from dashboards.figures.plans import PlanTotal
from dashboards.records import recorded_coverage, recorded_lifecycle
from dashboards.tables import Column
from discovery.collectors import service as collector_service
from discovery.collectors.labels import STATES as COLLECTOR_STATES
from discovery.scopes import last_runs, list_scopes
from inventory.devices import last_observed
from inventory.labels import METHODS, UNIT_KINDS
from inventory.models import Unit
from inventory.units import ancestor_ids, count_units, list_units, subtree_ids, unit_in_scope

TREND_DAYS = 30  # the headline figures' change is since the recorded day this many days before the last
HISTORY_DAYS = 366  # readiness over time: the last year, unless a year is asked for
SERIES_MAX = 12  # lines of the units below the root beside its own, when there are no more


@dataclass(frozen=True)
class Filters:
    """What the URL narrows a dashboard to: a category, a catalog version (of the plans and the names), a year
    (of the plans and of the readiness history), a saved scenario."""
    category: str | None = None
    version_id: int | None = None
    year: int | None = None
    scenario_id: int | None = None
    on: dt.date | None = None  # the day the dashboards stand on; None: today, now


@dataclass(frozen=True)
class Links:
    """Where a figure's clicks and table rows lead: the view builds them with url_for."""
    unit: Callable[[str], str]  # a unit's dashboard
    devices: Callable[[str, str], str]  # a unit's devices of a category
    collector: Callable[[int], str]
    scenario: Callable[[int], str]


class Board:
    """One dashboard's data and figures: `root`'s subtree within the caller's units (`scope`), at `filters`."""

    def __init__(self, session: Session, root: Unit, scope: frozenset[int] | None, filters: Filters,
                 links: Links, language: str):
        self.session, self.root, self.scope, self.filters = session, root, scope, filters
        self.links, self.language = links, language
        self.on = filters.on or today()
        # How long since a device or a collector was seen: until now, or until the end of the day asked for.
        self.now = end_of_day(filters.on) if filters.on else utcnow()
        ids = subtree_ids(session, root.code)
        self.unit_ids = frozenset(ids if scope is None else ids & scope)
        # The whole organisation's board asks the services for every unit rather than for a list of them all.
        self.within = None if len(self.unit_ids) == count_units(session) else self.unit_ids

    # ---- what is read -----------------------------------------------------------------------------------------

    @cached_property
    def _active_units(self) -> list[Unit]:
        return list_units(self.session, include_inactive=False, scope=self.unit_ids)

    @cached_property
    def units(self) -> list[UnitRow]:
        """The active units of the subtree, by code; a unit's parent outside it counts as none."""
        codes = {u.id: u.code for u in self._active_units}
        return [UnitRow(u.code, u.name, codes.get(u.parent_id) if u.id != self.root.id else None, u.kind.value,
                        u.staff_count) for u in self._active_units]

    def ids_below(self, code: str) -> set[int]:
        """The ids of the active units of the subtree at `code` (within this board's units), from memory."""
        ids = {u.code: u.id for u in self._active_units}
        children: dict[str | None, list[str]] = {}
        for unit in self.units:
            children.setdefault(unit.parent_code, []).append(unit.code)
        found, stack = set(), [code]
        while stack:
            current = stack.pop()
            found.add(ids[current])
            stack.extend(children.get(current, ()))
        return found

    @cached_property
    def unit_names(self) -> dict[str, str]:
        return {u.code: u.name for u in self.units}

    @cached_property
    def gaps(self) -> RecordedGaps:
        found = recorded_gaps(self.session, self.within)
        if self.filters.category:
            return RecordedGaps(found.day, found.recorded_at,
                                tuple(g for g in found.gaps if g.category == self.filters.category))
        return found

    @cached_property
    def recorded(self) -> tuple[dt.date, dt.datetime] | None:
        """The day gaps and readiness were last recorded, and when."""
        return last_recorded(self.session)

    @cached_property
    def scores(self) -> dict[str, Readiness]:
        return recorded_scores(self.session, self.within, self.recorded[0]) if self.recorded else {}

    @cached_property
    def days(self) -> list[RecordedDay]:
        return recorded_days(self.session, self.within, *self._history_span())

    def _history_span(self) -> tuple[dt.date, dt.date | None]:
        if self.filters.year:
            return dt.date(self.filters.year, 1, 1), dt.date(self.filters.year, 12, 31)
        return self.on - dt.timedelta(days=HISTORY_DAYS), self.on

    @cached_property
    def version(self) -> CatalogVersion | None:
        if self.filters.version_id:
            return version_or_in_force(self.session, self.filters.version_id, self.on)
        return version_in_force(self.session, self.on)

    @cached_property
    def category_names(self) -> dict[str, str]:
        return category_names(self.session, self.version.id, self.language) if self.version else {}

    @cached_property
    def lifecycle(self) -> list[LifecycleCount]:
        """As recorded, unless another day is asked for than the record's (counted live then)."""
        day, found = recorded_lifecycle(self.session, self.within)
        if day is None or day != self.on:  # the record is of another day: counted live
            found = lifecycle_counts(self.session, self.within, self.on)
        return [c for c in found if not self.filters.category or c.category == self.filters.category]

    @cached_property
    def _visible_scenarios(self) -> list[Scenario]:
        """The scenarios the caller may see (of the catalog version asked for), the latest first."""
        return [s for s in scenarios.list_for(self.session, self.scope)
                if not self.filters.version_id or s.version_id == self.filters.version_id]

    @cached_property
    def scenarios(self) -> list[Scenario]:
        """Those saved for a unit of the subtree."""
        return [s for s in self._visible_scenarios if s.unit_id in self.unit_ids]

    @cached_property
    def targeted(self) -> Scenario | None:
        """The plan the figures show, within the subtree: the one asked for; else the latest targeted plan of
        the root, else of its nearest ancestor that has one (a city's plan covers its wards), else of a unit below
        the root; an approved plan before a draft."""
        if self.filters.scenario_id:
            return self.asked_scenario()
        targeted = [s for s in self._visible_scenarios if s.kind == ScenarioKind.TARGETED]
        for unit_id in [self.root.id, *self._above]:
            at_unit = [s for s in targeted if s.unit_id == unit_id]
            if at_unit:
                return next((s for s in at_unit if s.approved_at), at_unit[0])
        below = [s for s in targeted if s.unit_id in self.unit_ids]
        return next((s for s in below if s.approved_at), next(iter(below), None))

    @cached_property
    def _above(self) -> list[int]:
        return ancestor_ids(self.session, self.root)

    def asked_scenario(self) -> Scenario | None:
        """The saved plan the filters name (None: none named), if it is one of these units' or of a unit above them
        that the caller may see; otherwise NotFound, for the filter's field."""
        if not self.filters.scenario_id:
            return None
        asked = next((s for s in self._visible_scenarios if s.id == self.filters.scenario_id and
                      (s.unit_id in self.unit_ids or s.unit_id in self._above)), None)
        if asked is None:
            raise NotFound(Reason("scenario %(id)s is not a plan of these units or of a unit above them",
                                  id=self.filters.scenario_id), field="scenario")
        return asked

    @cached_property
    def compared(self) -> list[Scenario]:
        """The blanket plans saved for the targeted plan's unit, to compare it with."""
        if self.targeted is None:
            return []
        return [s for s in self._visible_scenarios if s.kind != ScenarioKind.TARGETED and
                s.unit_id == self.targeted.unit_id and s.id != self.targeted.id]

    @cached_property
    def _sums(self) -> dict[int, list[PlanSum]]:
        """The money of the targeted plan and of those compared with it, for the subtree's units (all of a plan's
        when it is the root's own)."""
        if self.targeted is None:
            return {}
        codes = None if self.targeted.unit_id == self.root.id else list(self.unit_names)
        return scenarios.plan_sums(self.session, [self.targeted.id, *(s.id for s in self.compared)], codes)

    @cached_property
    def plan_lines(self) -> list[PlanSum]:
        """The targeted plan's money within the filters (category, year)."""
        return self._filtered(self.targeted) if self.targeted else []

    def _filtered(self, scenario: Scenario) -> list[PlanSum]:
        return [line for line in self._sums[scenario.id]
                if (not self.filters.category or line.category == self.filters.category) and
                (not self.filters.year or line.year == self.filters.year)]

    # ---- the figures ------------------------------------------------------------------------------------------

    def headlines(self) -> Chart:
        return readiness.headline_indicators(self.days, TREND_DAYS, self.language)

    def readiness_tree(self) -> Chart:
        return readiness.readiness_tree(self.units, self.scores, UNIT_KINDS, self.links.unit, self.language)

    def gap_heatmap(self) -> Chart:
        return readiness.gap_heatmap(self.gaps.gaps, self.category_names, self.unit_names, self.links.devices,
                                   self.language)

    def readiness_history(self) -> Chart:
        children = [u for u in self.units if u.parent_code == self.root.code]
        series = {}
        if len(children) <= SERIES_MAX:
            start, end = self._history_span()
            for child in children:
                series[child.name] = recorded_days(self.session, self.ids_below(child.code), start, end)
        return readiness.readiness_history(self.days, series, self.root.name, self.language)

    def lifecycle_chart(self) -> Chart:
        version = loaded_version(self.session, self.version.id) if self.version else None
        lives = {c.code: c.service_life_years for c in version.categories} if version else {}
        prices = {code: offer.price_vnd for code, offer in offers(version, self.on).items()} if version else {}
        return lifecycle.lifecycle_timeline(self.lifecycle, lives, prices, self.category_names, self.on, self.language)

    def device_age(self) -> Chart:
        return lifecycle.age_distribution(self.lifecycle, self.category_names, self.on, self.language)

    def scan_coverage(self) -> Chart:
        day, seen = recorded_coverage(self.session, self.within)
        if day is None or day != self.on:  # the record is of another day: read live, up to the day's end
            seen = last_observed(self.session, self.within, until=self.now)
        return coverage.scan_coverage(self.units, seen, self.now, self.links.unit, METHODS, self.language)

    def collectors(self) -> Chart:
        found = [c for c in collector_service.collectors(self.session, self.scope) if c.unit_id in self.unit_ids]
        rows = [CollectorRow(c.name, c.unit.code, collector_service.state_of(c), c.last_contact_at, c.backlog,
                             self.links.collector(c.id)) for c in found]
        return coverage.collector_contact(rows, COLLECTOR_STATES, self.now, self.language)

    def never_scanned(self):
        """The scopes of the subtree's units that have never run."""
        found = [s for s in list_scopes(self.session, self.scope) if s.unit_id in self.unit_ids]
        ran = last_runs(self.session, [s.id for s in found])
        return [s for s in found if s.id not in ran]

    def budget_by_year(self) -> Chart:
        return plans.budget_by_year(self.plan_lines, PRIORITIES, self.language)

    def budget_by_category(self) -> Chart:
        names = self.category_names
        return plans.budget_by(self.plan_lines, lambda line: line.category, lambda code: names.get(code, code),
                                 "budget-by-category", _("The plan by category"),
                                 Column("category", _("Category code")), self.language)

    def budget_by_unit(self) -> Chart:
        names = self.unit_names
        return plans.budget_by(self.plan_lines, lambda line: line.unit_code, lambda code: names.get(code, code),
                                 "budget-by-unit", _("The plan by unit"),
                                 Column("unit", _("Unit")), self.language)

    def plan_comparison(self) -> Chart:
        """The targeted plan beside the blanket ones saved for the same unit, each over the subtree's units."""
        targeted = self._total(self.targeted) if self.targeted else None
        return plans.plan_comparison(targeted, [self._total(s) for s in self.compared], SCENARIO_KINDS,
                                       self.language)

    def _total(self, scenario: Scenario) -> PlanTotal:
        sums = self._filtered(scenario)
        return PlanTotal(scenario.id, scenario.name, scenario.kind.value, sum(s.total_vnd for s in sums),
                         sum(s.total_vnd for s in sums if s.year is not None), scenario.approved_at is not None,
                         self.links.scenario(scenario.id))


# The figures of each view, in the order the page shows them, by their names on the page and in the URLs.
CHARTS: dict[str, Callable[[Board], Chart]] = {
    "headlines": Board.headlines, "readiness-tree": Board.readiness_tree, "gap-heatmap": Board.gap_heatmap,
    "readiness-history": Board.readiness_history, "lifecycle": Board.lifecycle_chart,
    "device-age": Board.device_age, "scan-coverage": Board.scan_coverage, "collectors": Board.collectors,
    "budget-by-year": Board.budget_by_year, "budget-by-category": Board.budget_by_category,
    "budget-by-unit": Board.budget_by_unit, "plan-comparison": Board.plan_comparison}
VIEWS = {
    "overview": ("headlines", "readiness-tree", "gap-heatmap", "readiness-history", "plan-comparison",
                 "budget-by-year", "lifecycle", "device-age", "scan-coverage", "collectors"),
    "unit": ("headlines", "readiness-history", "gap-heatmap", "readiness-tree", "lifecycle", "device-age",
             "scan-coverage", "collectors", "budget-by-year"),
    "finance": ("plan-comparison", "budget-by-year", "budget-by-category", "budget-by-unit", "lifecycle")}


def end_of_day(day: dt.date) -> dt.datetime:
    """The last moment of a day in the city, as the service stores times (naive UTC)."""
    return as_utc(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), CITY_TIME)) - dt.timedelta(microseconds=1)


def root_of(session: Session, code: str | None, scope: frozenset[int] | None) -> Unit:
    """The unit a dashboard is about: `code` within the caller's units, or the organisation's root."""
    if code:
        return unit_in_scope(session, code, scope, field="unit")
    units = list_units(session, include_inactive=False, scope=scope)
    inside = {u.id for u in units}
    tops = [u for u in units if u.parent_id not in inside]
    if not tops:
        raise NotFound(Reason("there are no units yet"), field="unit")
    return tops[0]
