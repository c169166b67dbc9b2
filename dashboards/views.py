"""Pages. The home page says what the service holds and leads a new user through what to do next: scan the
lab of simulated devices, look at what it found, then put in the organisation's own units and equipment."""
from dataclasses import dataclass

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from core.caller import caller_scope, current_caller
from core.db import request_session
from core.pages import navigation, render_page
from core.permissions import Permission, requires
from discovery import lab
from discovery.models import ScanRun, ScanScope
from discovery.scopes import list_runs, list_scopes
from inventory.devices import device_counts_by_unit
from inventory.labels import UNIT_KINDS
from inventory.units import list_units

blp = Blueprint("dashboards", __name__, template_folder="templates")
navigation(blp, "dashboards.home", _l("Overview"), Permission.INVENTORY_READ, order=10)


@dataclass(frozen=True)
class LabTour:
    """Where a new user stands with the lab: its scope, how many devices it simulates, its latest run."""
    scope: ScanScope
    devices: int
    last_run: ScanRun | None


@blp.get("/")
@requires(Permission.INVENTORY_READ)
def home():
    session = request_session()
    caller = current_caller()
    units = list_units(session, include_inactive=False, scope=caller_scope())
    counts = device_counts_by_unit(session, scope=caller_scope())
    return render_page(
        "home.html", units=units, counts=counts, device_total=sum(counts.values()), lab_tour=_lab_tour(session),
        example=any(u.is_example for u in units), kind_names=UNIT_KINDS,
        may=caller.may, Permission=Permission)


def _lab_tour(session) -> LabTour | None:
    """The lab's scope, when the caller may scan it (make run's example data holds it)."""
    if not current_caller().may(Permission.SCANS_RUN):
        return None
    scope = next((s for s in list_scopes(session, caller_scope()) if s.name == lab.LAB_SCOPE), None)
    if scope is None:
        return None
    runs = list_runs(session, scope, limit=1)
    return LabTour(scope, len(lab.lab_devices()), runs[0] if runs else None)
