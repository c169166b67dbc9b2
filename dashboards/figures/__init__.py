"""The dashboards' figures: plain data in (what dashboards/board.py reads through the other packages' services),
a plotly Figure and the table of its numbers out, one module per subject (readiness, lifecycle, coverage,
plans); here what they share. Pure: no database, no request; the labels are translated where they are made
(Flask-Babel), so a test runs them in a request context of the language it wants.

Numbers and money follow the page's language through the layout's separators ("15.000.000 ₫" in Vietnamese),
dates are dd/mm/yyyy in axes and hovers. Names people give (units, categories, collectors, plans) reach plotly as
plain text (`plain`): plotly reads <a href>, <b> and the like in its labels, and %{...} in its hover templates."""
import datetime as dt
import html
from dataclasses import dataclass

import plotly.graph_objects as go
from flask_babel import gettext as _

from dashboards.tables import Table

HEATMAP_ROWS = 30  # units in a heatmap: the ones with most to see; the table holds them all
DAY_FORMAT = "%d/%m/%Y"
# A small template of our own: plotly's default one is 6 KB of JSON in every figure, and applying it took ten
# times as long as building the figure.
TEMPLATE = {"layout": {
    "colorway": ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
                 "#17becf"],
    "paper_bgcolor": "white", "plot_bgcolor": "white", "hoverlabel": {"align": "left"},
    "xaxis": {"gridcolor": "#e5e5e5", "zerolinecolor": "#c8c8c8", "automargin": True},
    "yaxis": {"gridcolor": "#e5e5e5", "zerolinecolor": "#c8c8c8", "automargin": True}}}


@dataclass(frozen=True)
class Chart:
    """A figure of a dashboard with the table of its numbers; `name` is its id on the page and in the URLs."""
    name: str
    title: str
    figure: go.Figure
    table: Table
    note: str = ""  # what the figure shows and leaves out
    empty: str = ""  # when there is nothing to draw: why, and what to do; the page shows it instead of the figure


def nothing_recorded() -> str:  # the messages several figures show when they have nothing to draw
    return _("Nothing is recorded yet: record readiness (the button above, or flask budget readiness).")


def no_plan() -> str:
    return _("No targeted plan is saved for these units: save one on the budget page.")


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    parent_code: str | None
    kind: str
    staff: int


def separators(language: str) -> str:
    """plotly's decimal and thousands separators for the language."""
    return ",." if language == "vi" else ".,"


def new_figure(traces, language: str, **layout) -> go.Figure:
    """A figure on our template, its whole layout given at once: plotly's default template is never applied,
    and each update_layout after construction costs three times the construction."""
    return go.Figure(traces, layout={"template": TEMPLATE, "separators": separators(language),
                                     "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
                                     "font": {"family": "system-ui, sans-serif", "size": 12}, **layout})




def plain(text: str) -> str:
    """A name as plotly shows it as it is: its markup characters as entities (plotly reads <a href=...> in a label
    as a link)."""
    return html.escape(text, quote=False)


def day_text(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")
