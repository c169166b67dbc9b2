"""A plan as finance reads it, in plain data: what the XLSX and PDF exports (budget/exports.py) are written from,
and what the plan's page and API show. Built by budget/scenarios.py from a saved scenario; never reads the
database itself."""
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from budget.plans import PlanLine
from budget.reallocation import Transfer


@dataclass(frozen=True)
class ScenarioTotal:
    """One saved scenario's money, for the side-by-side comparison."""
    id: int
    name: str
    kind: str  # targeted, blanket_age, standard_kit
    total_vnd: int  # every line, funded or not
    funded_vnd: int  # the lines the yearly caps fund
    approved: bool


@dataclass(frozen=True)
class PlanReport:
    scenario_id: int
    name: str
    kind: str
    unit_code: str  # the subtree's root
    unit_name: str
    on: dt.date  # the day the inventory was judged
    version_name: str  # the catalog version whose norms, models and prices the plan uses
    caps_vnd: tuple[int, ...]  # one per year from first_year; empty: no cap, every line funded in first_year
    first_year: int
    lines: tuple[PlanLine, ...]  # funded lines carry their year; unfunded ones year None
    transfers: tuple[Transfer, ...]
    comparison: tuple[ScenarioTotal, ...]  # this scenario and the others saved for the same unit
    unit_names: Mapping[str, str]  # unit code -> name
    category_names: Mapping[str, str]  # category code -> name in the reader's language
    approved_by: str | None = None
    approved_at: dt.datetime | None = None

    @property
    def total_vnd(self) -> int:
        return sum(line.total_vnd for line in self.lines)

    @property
    def funded_vnd(self) -> int:
        return sum(line.total_vnd for line in self.lines if line.year is not None)

    @property
    def upgrades(self) -> tuple[PlanLine, ...]:
        return tuple(line for line in self.lines if line.reason == "upgrade")
