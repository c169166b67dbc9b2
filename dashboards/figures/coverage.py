"""Scan coverage: how long since each unit was last seen by each method, and the collectors' last contact."""
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
from flask_babel import gettext as _

from dashboards.figures import HEATMAP_ROWS, Chart, UnitRow, new_figure, plain
from dashboards.tables import Column, table

COVERAGE_METHODS = ("nmap", "snmp", "agent")


def scan_coverage(units: Sequence[UnitRow], seen: Mapping[tuple[str, str], dt.datetime], now: dt.datetime,
                  href: Callable[[str], str], method_names: Mapping[str, str], language: str) -> Chart:
    """Per unit and method, days since a device of the unit was last seen by it (never: blank); the units gone
    longest unseen first."""
    methods = sorted({m for _u, m in seen} | set(COVERAGE_METHODS), key=lambda m: (m not in COVERAGE_METHODS, m))

    def days(code: str, method: str) -> int | None:
        at = seen.get((code, method))
        return None if at is None else max(0, (now - at).days)

    def staleness(unit: UnitRow) -> tuple:
        found = [d for m in COVERAGE_METHODS if (d := days(unit.code, m)) is not None]
        return (bool(found), -(min(found) if found else 0), unit.code)

    shown = sorted(units, key=staleness)[:HEATMAP_ROWS]
    z = [[days(u.code, m) for m in methods] for u in shown]
    heatmap = go.Heatmap(
        z=z, x=[str(method_names.get(m, m)) for m in methods], y=[plain(f"{u.name} ({u.code})") for u in shown],
        colorscale="YlOrRd", zmin=0,
        zmax=max([v for row in z for v in row if v is not None] or [30]), xgap=1, ygap=1,
        customdata=[[href(u.code)] * len(methods) for u in shown],
        colorbar={"title": {"text": _("Days unseen")}},
        hovertemplate="%{y}<br>%{x}: %{z} " + _("days") + "<extra></extra>")
    rows = [(u.code, u.name, str(method_names.get(m, m)), m, seen.get((u.code, m)), days(u.code, m))
            for u in units for m in methods]
    columns = [Column("unit", _("Unit")), Column("name", _("Name")), Column("method_name", _("Method")),
               Column("method", _("Method code")),
               Column("last_seen", _("Last seen"), "moment"), Column("days", _("Days unseen"), "number")]
    return Chart("scan-coverage", _("How long since each unit was last seen, by method"),
                 new_figure(heatmap, language, height=max(260, 26 * len(shown) + 120), xaxis={"side": "top"},
                         yaxis={"autorange": "reversed"}),
                 table(columns, rows, [href(r[0]) for r in rows]),
                 _("A blank cell: no device of the unit has been seen by that method. Units never seen come "
                   "first, then those unseen longest."),
                 "" if seen else _("No device of these units has been seen yet: give their networks a scan scope "
                                   "(Scans) or their computers an agent."))


@dataclass(frozen=True)
class CollectorRow:
    name: str
    unit_code: str
    state: str
    last_contact: dt.datetime | None
    backlog: int
    href: str


def collector_contact(collectors: Sequence[CollectorRow], states: Mapping[str, str], now: dt.datetime,
                      language: str) -> Chart:
    """Hours since each collector last called the server."""
    hours = [None if c.last_contact is None else round((now - c.last_contact).total_seconds() / 3600, 1)
             for c in collectors]
    bar = go.Bar(
        x=[h if h is not None else 0 for h in hours], y=[plain(c.name) for c in collectors], orientation="h",
        customdata=[[str(states.get(c.state, c.state)), c.href] for c in collectors],
        hovertemplate="%{y}: %{x:,.1f} h<br>%{customdata[0]}<extra></extra>")
    rows = [(c.name, c.unit_code, str(states.get(c.state, c.state)), c.last_contact, h, c.backlog)
            for c, h in zip(collectors, hours)]
    columns = [Column("collector", _("Collector")), Column("unit", _("Unit")), Column("state", _("State")),
               Column("last_contact", _("Last contact"), "moment"),
               Column("hours", _("Hours since last contact"), "number"),
               Column("backlog", _("Batches waiting"), "number")]
    return Chart("collectors", _("Collectors' last contact"),
                 new_figure(bar, language, height=max(200, 30 * len(collectors) + 100),
                         xaxis={"title": {"text": _("Hours since last contact")}}),
                 table(columns, rows, [c.href for c in collectors]),
                 empty="" if collectors else _("No collector is issued for these units: a site whose network the "
                                               "server cannot reach gets one on the Collectors page."))
