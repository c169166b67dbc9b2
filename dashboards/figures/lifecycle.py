"""The devices' lifecycle: how many fall due for replacement each quarter (end of support or of service life),
with the money they imply, and how old they are, per category."""
import datetime as dt
from collections.abc import Iterable, Mapping

import plotly.graph_objects as go
from flask_babel import gettext as _

from catalog.reports import LifecycleCount
from catalog.rules import add_years, full_years
from dashboards.figures import Chart, new_figure, plain
from dashboards.tables import Column, table

AGE_BUCKETS = 11  # 0 .. 9 years, then "10 and more"
TIMELINE_QUARTERS = 12  # three years ahead


def _counts(values: Iterable[int]) -> dict:
    """An axis of device counts: whole numbers only (plotly puts a tick at 0.5 under a bar of 1)."""
    return {"dtick": 1} if max(values, default=0) <= 10 else {"tickformat": ",d"}


def _stacks(buckets: Mapping[tuple[str, str], int]) -> list[int]:
    """The height of each stacked bar: the counts of one x over every category."""
    heights: dict[str, int] = {}
    for (_category, x), count in buckets.items():
        heights[x] = heights.get(x, 0) + count
    return list(heights.values())


def quarter_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarters_from(day: dt.date, count: int) -> list[str]:
    found, year, quarter = [], day.year, (day.month - 1) // 3
    for _step in range(count):
        found.append(f"{year}-Q{quarter + 1}")
        quarter += 1
        year, quarter = year + quarter // 4, quarter % 4
    return found


def first_due(count: LifecycleCount, service_life_years: int | None) -> tuple[dt.date, str] | None:
    """When the devices fall due for replacement, the earlier of their model's end of support and the end of
    their service life, and which."""
    dates = []
    if count.end_of_support is not None:
        dates.append((count.end_of_support, "end_of_support"))
    if count.bought is not None and service_life_years:
        dates.append((add_years(count.bought, service_life_years), "service_life"))
    return min(dates) if dates else None


def lifecycle_timeline(counts: Iterable[LifecycleCount], service_lives: Mapping[str, int | None],
                       prices: Mapping[str, int], names: Mapping[str, str], on: dt.date, language: str) -> Chart:
    """Devices falling due per quarter for the next three years (those already due in a first bar), by why,
    and the replacement money they imply at each category's offer price."""
    quarters = quarters_from(on, TIMELINE_QUARTERS)
    overdue = _("already due")
    buckets: dict[tuple[str, str, str], int] = {}
    for count in counts:
        due = first_due(count, service_lives.get(count.category))
        if due is None:
            continue
        quarter = overdue if due[0] <= on else quarter_of(due[0])
        if quarter == overdue or quarter in quarters:
            key = (quarter, due[1], count.category)
            buckets[key] = buckets.get(key, 0) + count.count
    order = [overdue, *quarters]
    why = {"end_of_support": _("end of support"), "service_life": _("end of service life")}
    traces = []
    for reason, label in why.items():
        traces.append(go.Bar(x=order, y=[sum(n for (q, r, _c), n in buckets.items() if q == x and r == reason)
                                         for x in order], name=label,
                             hovertemplate="%{x}<br>" + label + ": %{y:,}<extra></extra>"))
    money = [sum(n * prices[c] for (q, _r, c), n in buckets.items() if q == x and c in prices) for x in order]
    traces.append(go.Scatter(x=order, y=money, name=_("Replacement money"), yaxis="y2", mode="lines+markers",
                             hovertemplate="%{x}<br>%{y:,.0f} ₫<extra></extra>"))
    unpriced = {c for _q, _r, c in buckets if c not in prices}
    empty = "" if buckets else _("No device of these units falls due in the next three years, or none has a purchase "
                                 "date or an approved model with an end of support: record them on the devices' "
                                 "pages or in an import.")
    rows = [(q, why[r], names.get(c, c), c, n, n * prices[c] if c in prices else None)
            for (q, r, c), n in sorted(buckets.items(), key=lambda item: (order.index(item[0][0]), item[0][1:]))]
    columns = [Column("quarter", _("Quarter")), Column("why", _("Why")), Column("category_name", _("Category")),
               Column("category", _("Category code")), Column("devices", _("Devices"), "number"),
               Column("money_vnd", _("Replacement money"), "vnd")]
    return Chart("lifecycle", _("Devices falling due for replacement, by quarter"),
                 new_figure(traces, language, height=360, barmode="stack",
                         yaxis={"title": {"text": _("Devices")}, "rangemode": "tozero", **_counts(buckets.values())},
                         yaxis2={"title": {"text": "VND"}, "overlaying": "y", "side": "right", "tickformat": ",.0f",
                                 "showgrid": False, "rangemode": "tozero"}, legend={"orientation": "h"}),
                 table(columns, rows),
                 " ".join([_("A device counts once, at the earlier of its model's end of support and the end of its "
                             "service life; the money is at each category's cheapest approved model."),
                           *([_("No price for %(categories)s: their money is not counted.", categories=", ".join(
                               sorted(names.get(c, c) for c in unpriced)))] if unpriced else [])]), empty)


def age_distribution(counts: Iterable[LifecycleCount], names: Mapping[str, str], on: dt.date,
                     language: str) -> Chart:
    """Devices by full years since purchase, stacked by category; those without a purchase date apart."""
    unknown, old = _("not known"), _("10 and more")
    ages = [str(a) for a in range(AGE_BUCKETS - 1)] + [old, unknown]
    buckets: dict[tuple[str, str], int] = {}
    for count in counts:
        if count.bought is None:
            age = unknown
        else:
            years = full_years(count.bought, on)
            age = str(years) if years < AGE_BUCKETS - 1 else old
        key = (count.category, age)
        buckets[key] = buckets.get(key, 0) + count.count
    bars = [go.Bar(name=plain(names.get(c, c)), x=ages, y=[buckets.get((c, a), 0) for a in ages],
                   hovertemplate="%{fullData.name}<br>%{x}: %{y:,}<extra></extra>")
            for c in sorted({c for c, _a in buckets})]
    rows = [(names.get(c, c), c, a, n) for (c, a), n in sorted(buckets.items(), key=lambda i: (i[0][0],
                                                                                             ages.index(i[0][1])))]
    columns = [Column("category_name", _("Category")), Column("category", _("Category code")),
               Column("age", _("Years since purchase")), Column("devices", _("Devices"), "number")]
    return Chart("device-age", _("Device age by category"),
                 new_figure(bars, language, height=340, barmode="stack",
                         yaxis={"title": {"text": _("Devices")}, "rangemode": "tozero", **_counts(_stacks(buckets))},
                         xaxis={"title": {"text": _("Years since purchase")}, "type": "category"}),
                 table(columns, rows),
                 empty="" if buckets else _("These units hold no device of a catalog category yet: scan their networks "
                                            "or import their asset register."))
