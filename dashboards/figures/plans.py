"""A saved plan's money by year and priority, by category and by unit, and the targeted plan beside the blanket
ones for the same units with what it saves."""
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
from flask_babel import format_currency
from flask_babel import gettext as _

from budget.scenarios import PlanSum
from dashboards.figures import Chart, new_figure, no_plan, plain
from dashboards.tables import Column, table

PRIORITY_COLOURS = {1: "#b2182b", 2: "#ef8a62", 3: "#67a9cf"}


def budget_by_year(lines: Sequence[PlanSum], priorities: Mapping[int, str], language: str) -> Chart:
    """The plan's money per year, stacked by priority; lines no year's cap funds in a last bar."""
    unfunded = _("not funded")
    years = [str(y) for y in sorted({line.year for line in lines if line.year is not None})] + \
        ([unfunded] if any(line.year is None for line in lines) else [])
    sums: dict[tuple[str, int], int] = {}
    for line in lines:
        key = (str(line.year) if line.year is not None else unfunded, line.priority)
        sums[key] = sums.get(key, 0) + line.total_vnd
    bars = [go.Bar(name=str(priorities.get(p, p)), x=years, y=[sums.get((y, p), 0) for y in years],
                               marker={"color": PRIORITY_COLOURS.get(p)},
                               hovertemplate="%{x}: %{y:,.0f} ₫<extra>P" + str(p) + "</extra>")
            for p in sorted({line.priority for line in lines})]
    rows = [(y, p, sums[(y, p)]) for y in years for p in sorted({line.priority for line in lines}) if (y, p) in sums]
    columns = [Column("year", _("Year")), Column("priority", _("Priority"), "number"),
               Column("total_vnd", _("Amount"), "vnd")]
    return Chart("budget-by-year", _("The plan by year and priority"),
                 new_figure(bars, language, height=340, barmode="stack", xaxis={"type": "category"},
                         yaxis={"title": {"text": "VND"}, "tickformat": ",.0f"}, legend={"orientation": "h"}),
                 table(columns, rows), empty="" if lines else no_plan())


def budget_by(lines: Sequence[PlanSum], key: Callable[[PlanSum], str], label: Callable[[str], str], name: str,
              title: str, column: Column, language: str, limit: int = 25) -> Chart:
    """The plan's money per category or unit (the `limit` largest), stacked by priority."""
    sums: dict[tuple[str, int], int] = {}
    totals: dict[str, int] = {}
    for line in lines:
        sums[key(line), line.priority] = sums.get((key(line), line.priority), 0) + line.total_vnd
        totals[key(line)] = totals.get(key(line), 0) + line.total_vnd
    order = sorted(totals, key=lambda k: (-totals[k], k))
    shown = order[:limit]
    bars = [go.Bar(name=f"P{p}", y=[plain(label(k)) for k in shown], x=[sums.get((k, p), 0) for k in shown],
                               orientation="h", marker={"color": PRIORITY_COLOURS.get(p)},
                               hovertemplate="%{y}: %{x:,.0f} ₫<extra>P" + str(p) + "</extra>")
            for p in sorted({line.priority for line in lines})]
    rows = [(k, label(k), totals[k], *(sums.get((k, p), 0) for p in (1, 2, 3))) for k in order]
    columns = [column, Column("name", _("Name")), Column("total_vnd", _("Amount"), "vnd"),
               Column("p1_vnd", "P1", "vnd"), Column("p2_vnd", "P2", "vnd"), Column("p3_vnd", "P3", "vnd")]
    note = _("The %(count)s largest; the table lists them all.", count=limit) if len(order) > limit else ""
    return Chart(name, title, new_figure(bars, language, height=max(240, 24 * len(shown) + 120), barmode="stack",
                                      xaxis={"title": {"text": "VND"}, "tickformat": ",.0f"},
                                      yaxis={"autorange": "reversed"}, legend={"orientation": "h"}),
                 table(columns, rows), note, "" if lines else no_plan())


@dataclass(frozen=True)
class PlanTotal:
    scenario_id: int
    name: str
    kind: str
    total_vnd: int
    funded_vnd: int
    approved: bool
    href: str


def plan_comparison(targeted: PlanTotal | None, blankets: Sequence[PlanTotal], kinds: Mapping[str, str],
                    language: str) -> Chart:
    """The targeted plan's total beside each blanket plan's for the same units, with what it saves."""
    plans = [p for p in [targeted, *blankets] if p is not None]
    bar = go.Bar(
        x=[plain(p.name) for p in plans], y=[p.total_vnd for p in plans],
        marker={"color": ["#1a9641" if p is targeted else "#878787" for p in plans]},
        customdata=[[str(kinds.get(p.kind, p.kind)), p.href] for p in plans],
        hovertemplate="%{x}<br>%{customdata[0]}<br>%{y:,.0f} ₫<extra></extra>")
    rows = [(p.name, str(kinds.get(p.kind, p.kind)), p.total_vnd, p.funded_vnd,
             (p.total_vnd - targeted.total_vnd) if targeted and p is not targeted else None, p.approved)
            for p in plans]
    columns = [Column("scenario", _("Scenario")), Column("kind", _("Kind")),
               Column("total_vnd", _("Total"), "vnd"), Column("funded_vnd", _("Funded by the caps"), "vnd"),
               Column("saving_vnd", _("Saved by the targeted plan"), "vnd"), Column("approved", _("Approved"))]
    if targeted and blankets:
        saving = max(b.total_vnd for b in blankets) - targeted.total_vnd
        note = _("The targeted plan costs %(saving)s less than the dearest blanket one.",
                 saving=format_currency(saving, "VND")) if saving > 0 else \
            _("The targeted plan costs no less than the blanket ones here (%(extra)s more than the dearest).",
              extra=format_currency(-saving, "VND"))
    elif targeted:
        note = _("Save a blanket scenario for the same unit on the budget page to see what the targeted plan saves.")
    else:
        note = ""
    return Chart("plan-comparison", _("The targeted plan beside the blanket ones"),
                 new_figure(bar, language, height=320, yaxis={"title": {"text": "VND"}, "tickformat": ",.0f"}),
                 table(columns, rows, [p.href for p in plans]), note, "" if targeted else no_plan())
