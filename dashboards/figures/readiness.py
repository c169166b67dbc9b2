"""Readiness over the organisation (a treemap of the recorded scores), the gaps by unit and category (a heatmap),
readiness over time, and the figures the city reports with their trend."""
import datetime as dt
import textwrap
from collections.abc import Callable, Mapping, Sequence

import plotly.graph_objects as go
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _

from budget.readiness import Figure, Readiness
from budget.scores import RecordedDay, RecordedGap
from dashboards.figures import DAY_FORMAT, HEATMAP_ROWS, Chart, UnitRow, day_text, new_figure, nothing_recorded, plain
from dashboards.tables import Column, table

SCORE_SCALE = [[0, "#b2182b"], [0.5, "#fddb6d"], [0.8, "#a6d96a"], [1, "#1a9641"]]
GAP_SCALE = [[0, "#b2182b"], [0.5, "#f7f7f7"], [1, "#2166ac"]]  # shortfall red, surplus blue


def subtree_scores(units: Sequence[UnitRow], scores: Mapping[str, Readiness]) -> dict[str, Readiness]:
    """Each unit's readiness with the units below it (sums of their weighted numbers, as budget.readiness)."""
    children: dict[str | None, list[str]] = {}
    for unit in units:
        children.setdefault(unit.parent_code, []).append(unit.code)
    found: dict[str, Readiness] = {}

    def walk(code: str) -> Readiness:
        own = scores.get(code, Readiness(code, 0, 0))
        parts = [walk(child) for child in children.get(code, ())]
        found[code] = Readiness(code, own.required + sum(p.required for p in parts),
                                own.covered + sum(p.covered for p in parts))
        return found[code]

    codes = {u.code for u in units}
    for unit in units:
        if unit.parent_code not in codes:
            walk(unit.code)
    return found


def readiness_tree(units: Sequence[UnitRow], scores: Mapping[str, Readiness], kinds: Mapping[str, str],
                   href: Callable[[str], str], language: str) -> Chart:
    """A treemap of the units, each coloured by its subtree's recorded score; a click opens a branch."""
    totals = subtree_scores(units, scores)
    codes = {u.code for u in units}
    shown = [u for u in units if totals[u.code].score is not None or u.parent_code not in codes]
    kept = {u.code for u in shown}
    treemap = go.Treemap(
        ids=[u.code for u in shown], labels=[plain(u.name) for u in shown],
        parents=[u.parent_code if u.parent_code in kept else "" for u in shown],
        marker={"colors": [totals[u.code].score if totals[u.code].score is not None else 0 for u in shown],
                "colorscale": SCORE_SCALE, "cmin": 0, "cmax": 100, "showscale": True,
                "colorbar": {"title": {"text": _("Readiness")}, "ticksuffix": "%"}},
        customdata=[[u.code, _score_text(totals[u.code].score), href(u.code)] for u in shown],
        hovertemplate="%{label} (%{customdata[0]})<br>" + _("Readiness") + ": %{customdata[1]}<extra></extra>",
        branchvalues="remainder", maxdepth=3)
    rows = [(u.code, u.name, str(kinds.get(u.kind, u.kind)), totals[u.code].score,
             scores.get(u.code, Readiness(u.code, 0, 0)).score, u.staff) for u in units]
    columns = [Column("unit", _("Unit")), Column("name", _("Name")), Column("kind", _("Kind")),
               Column("score", _("Readiness with its units"), "percent"),
               Column("own_score", _("Its own readiness"), "percent"), Column("staff", _("Staff"), "number")]
    return Chart("readiness-tree", _("Readiness by unit"), new_figure(treemap, language, height=460),
                 table(columns, rows, [href(u.code) for u in units]),
                 _("Coloured by the readiness of each unit with the units below it, as last recorded; a unit the "
                   "norms require nothing of is left out. Click a unit to open its branch."),
                 "" if scores else nothing_recorded())


def _score_text(score: float | None) -> str:
    return "—" if score is None else f"{score:.1f}%"


def gap_heatmap(gaps: Sequence[RecordedGap], names: Mapping[str, str], unit_names: Mapping[str, str],
                devices_href: Callable[[str, str], str], language: str) -> Chart:
    """Units down, categories across, each cell what the unit holds usable less what its norms require: red a
    shortfall, blue a surplus. The units with the largest shortfall first; a click lists the unit's devices of
    that category."""
    shortfall: dict[str, int] = {}
    for gap in gaps:
        shortfall[gap.unit_code] = shortfall.get(gap.unit_code, 0) + gap.shortfall
    units = sorted(shortfall, key=lambda code: (-shortfall[code], code))[:HEATMAP_ROWS]
    categories = sorted({g.category for g in gaps if g.unit_code in units})
    by_key = {(g.unit_code, g.category): g for g in gaps}
    z, text, links = [], [], []
    for code in units:
        cells = [by_key.get((code, c)) for c in categories]
        z.append([None if g is None else g.usable - g.required for g in cells])
        text.append(["" if g is None else _("required %(required)s, usable %(usable)s", required=g.required,
                                            usable=g.usable) for g in cells])
        links.append([devices_href(code, c) for c in categories])
    extreme = max((abs(v) for row in z for v in row if v is not None), default=0) or 1  # never an empty scale
    heatmap = go.Heatmap(
        z=z, x=[plain(names.get(c, c)) for c in categories], y=[plain(f"{unit_names.get(u, u)} ({u})") for u in units],
        text=text, customdata=links, colorscale=GAP_SCALE, zmin=-extreme, zmax=extreme, zmid=0, xgap=1, ygap=1,
        colorbar={"title": {"text": _("Surplus / shortfall")}},
        hovertemplate="%{y}<br>%{x}<br>%{text}<br>" + _("Surplus (+) or shortfall (−)") + ": %{z}<extra></extra>")
    rows = [(g.unit_code, unit_names.get(g.unit_code, ""), names.get(g.category, g.category), g.category,
             g.required, g.usable, g.shortfall, g.surplus, g.replacements, g.upgrades) for g in gaps]
    columns = [Column("unit", _("Unit")), Column("name", _("Name")), Column("category_name", _("Category")),
               Column("category", _("Category code")), Column("required", _("Required"), "number"),
               Column("usable", _("Usable"), "number"), Column("shortfall", _("Shortfall"), "number"),
               Column("surplus", _("Surplus"), "number"), Column("replacements", _("Due for replacement"), "number"),
               Column("upgrades", _("Below specification"), "number")]
    return Chart("gap-heatmap", _("Gaps by unit and category"),
                 new_figure(heatmap, language, height=max(340, 26 * len(units) + 140), xaxis={"side": "top"},
                         yaxis={"autorange": "reversed"}),
                 table(columns, rows, [devices_href(g.unit_code, g.category) for g in gaps]),
                 ngettext("The unit with the largest shortfall; the table lists every unit. Click a cell for the "
                          "unit's devices of that category.",
                          "The %(num)s units with the largest shortfall; the table lists every unit. Click a cell for "
                          "the unit's devices of that category.", len(units)),
                 "" if gaps else nothing_recorded())


def readiness_history(days: Sequence[RecordedDay], series: Mapping[str, Sequence[RecordedDay]], title: str,
                      language: str) -> Chart:
    """The subtree's recorded score per day, and beside it each named series (the units below it)."""
    lines = []
    for name, found in [(title, days), *series.items()]:
        lines.append(go.Scatter(
            x=[d.day.isoformat() for d in found], y=[d.readiness.score for d in found], name=plain(name),
            mode="lines+markers", line={"width": 3 if name == title else 1.5},
            hovertemplate="%{x|" + DAY_FORMAT + "}<br>%{fullData.name}: %{y:.1f}%<extra></extra>"))
    rows = [(d.day, d.readiness.score, d.readiness.required, d.readiness.covered) for d in days]
    columns = [Column("day", _("Day"), "day"), Column("score", _("Readiness"), "percent"),
               Column("required", _("Required (weighted)"), "number"),
               Column("covered", _("Covered (weighted)"), "number")]
    return Chart("readiness-history", _("Readiness over time"),
                 new_figure(lines, language, height=340, legend={"orientation": "h"},
                         xaxis={"tickformat": DAY_FORMAT, "type": "date", "dtick": _day_ticks(days)},
                         yaxis={"range": [0, 100], "ticksuffix": "%"}),
                 table(columns, rows),
                 _("One point per recorded day (flask budget readiness, the nightly run or the button above)."),
                 "" if days else nothing_recorded())


def _day_ticks(days: Sequence[RecordedDay]) -> int:
    """A tick every day, week or month, in milliseconds as plotly counts (never between two days)."""
    span = (days[-1].day - days[0].day).days if days else 0
    step_days = 1 if span <= 10 else 7 if span <= 70 else 30
    return step_days * 86_400_000


FIGURE_KEYS = ("secure_network_staff", "wards_with_vc", "archive_scanners")


def figure_labels() -> dict[str, str]:
    return {"secure_network_staff": _("Staff with a usable computer on the secure network"),
            "wards_with_vc": _("Wards and communes with a working video-conference endpoint"),
            "archive_scanners": _("Units with the scanners their archive digitisation needs")}


def headline_indicators(days: Sequence[RecordedDay], trend_days: int, language: str) -> Chart:
    """The city's three reported figures on the last recorded day as large numbers, each with its change since
    the recorded day `trend_days` before (or the first one)."""
    labels = figure_labels()
    indicators = []
    last = days[-1] if days else None
    before = _day_before(days, trend_days)
    for index, key in enumerate(FIGURE_KEYS):
        now = _figure_on(last, index)
        then = _figure_on(before, index)
        indicator = go.Indicator(  # nothing to count (0 of 0): no number, plotly draws "-"
            mode="number+delta" if then and then.percent is not None and now.percent is not None else "number",
            value=now.percent if now else None,
            number={"suffix": "%", "valueformat": ".1f"}, domain={"row": 0, "column": index},
            title={"text": "<br>".join([*textwrap.wrap(labels[key], 38), _count_text(now)]), "font": {"size": 13}})
        if then and then.percent is not None and now.percent is not None:
            indicator.delta = {"reference": then.percent, "valueformat": ".1f", "suffix": " %"}
        indicators.append(indicator)
    rows = [(d.day, labels[f.key], f.key, f.count, f.out_of, f.percent) for d in days for f in d.figures]
    columns = [Column("day", _("Day"), "day"), Column("figure", _("Figure")), Column("key", _("Key")),
               Column("count", _("Count"), "number"), Column("out_of", _("Out of"), "number"),
               Column("percent", _("Share"), "percent")]
    if last and before:
        note = _("On %(day)s; the change is since %(before)s.", day=day_text(last.day), before=day_text(before.day))
    elif last:
        note = _("On %(day)s, the first day recorded: the change shows from the next one.", day=day_text(last.day))
    else:
        note = ""
    return Chart("headlines", _("The figures the city reports"),
                 new_figure(indicators, language, height=220, grid={"rows": 1, "columns": 3, "pattern": "independent"}),
                 table(columns, rows), note, "" if days else nothing_recorded())


def _day_before(days: Sequence[RecordedDay], trend_days: int) -> RecordedDay | None:
    if len(days) < 2:
        return None
    wanted = days[-1].day - dt.timedelta(days=trend_days)
    earlier = [d for d in days[:-1] if d.day <= wanted]
    return earlier[-1] if earlier else days[0]


def _figure_on(day: RecordedDay | None, index: int) -> Figure | None:
    return day.figures[index] if day else None


def _count_text(found: Figure | None) -> str:
    return "—" if found is None else _("%(count)s of %(out_of)s", count=format_decimal(found.count),
                                       out_of=format_decimal(found.out_of))
