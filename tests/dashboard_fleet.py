"""What the dashboards read beyond the units and devices bench/pages.py builds: the units' facts, the example
catalog published (every device judged), readiness and gaps recorded today, a year of daily scores, and a
targeted and a blanket plan of the root saved as scenarios.

Not run on its own: bench/pages.py imports it (beside tests/fleet.py, which the benchmarks share).

Today's readiness, gaps, lifecycle and coverage are recorded through `budget.scores.record_day` and
`dashboards.records.record_day`, as the nightly run does; the 364 days before it are a bench fixture written
directly into `readiness_score` (and `headline_figure`), without computing anything: each unit's numbers of today
with a drift, so that readiness climbs over the year (a year ago about a third of today's coverage was missing)
and the trend is visible."""
import datetime as dt
import random
import time
from collections.abc import Sequence

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from budget import plans, scenarios, scores
from budget.models import HeadlineFigure, ReadinessScore, Scenario
from budget.readiness import FigureParts, Readiness, figures_of
from catalog import compliance
from catalog.examples import load_example_catalog
from catalog.models import Compliance
from dashboards import records
from inventory.models import UnitKind
from inventory.units import NewUnit, update_unit
from tests.fleet import say

BY = "bench"
HISTORY_DAYS = 364  # before today: a year of daily scores with today's
DRIFT = 0.35  # the share of today's coverage missing a year ago, shrinking day by day to none today
CHUNK = 10_000  # rows per bulk insert
PLAN = {"first_year": 2027}
CAP_SHARES = (0.4, 0.3, 0.2)  # of the uncapped plan, per year, as bench/budget.py: the last tenth unfunded
BLANKET = {"first_year": 2027, "older_than_years": 5}
LOCAL = (UnitKind.WARD, UnitKind.COMMUNE)


def facts(kind: UnitKind, staff: int, rng: random.Random) -> dict:
    """The facts the norms count from (as bench/budget.py draws them), for a unit of this kind and staff."""
    leaders = max(1, round(staff * rng.uniform(0.06, 0.12)))
    archive = rng.random() < 0.25
    return {"leader_count": leaders, "specialist_count": min(staff - leaders, round(staff * rng.uniform(0.5, 0.7))),
            "meeting_rooms": 1 if kind in LOCAL else rng.randint(1, 4),
            "sites": 2 if rng.random() < 0.15 else 1,
            "archive_pages": rng.randrange(20_000, 400_000, 1000) if archive else 0,
            "archive_deadline": rng.choice((dt.date(2027, 12, 31), dt.date(2028, 6, 30))) if archive else None,
            "on_secure_network": rng.random() < 0.5}


def prepare(label: str, sessions: sessionmaker[Session], units: Sequence[NewUnit], rng: random.Random) -> str:
    """Facts, catalog, today's record, the year before it and the root's two scenarios; what was made, as a text.
    `units` begins with the root."""
    started = time.perf_counter()
    with sessions() as session, session.begin():
        for unit in units:
            update_unit(session, unit.code, facts(unit.kind, unit.staff_count, rng))
    _said(label, f"facts of {len(units):,} units", started)

    started = time.perf_counter()
    with sessions() as session, session.begin():
        load_example_catalog(session)  # published in force today: every device judged once
    with sessions() as session:
        judged = session.scalar(select(func.count()).select_from(Compliance))
    _said(label, f"example catalog published, {judged:,} devices judged", started)

    started = time.perf_counter()
    on = compliance.today()
    with sessions() as session, session.begin():
        scored, today_figures = scores.record_day(session, on, by=BY)
        recorded = records.record_day(session, BY, on)
    _said(label, f"readiness of {scored:,} units and {recorded:,} lifecycle and coverage counts recorded for "
                 f"{on.isoformat()} (the nightly tasks)", started)

    started = time.perf_counter()
    rows = write_history(sessions, on, random.Random(rng.random()))
    _said(label, f"{rows:,} earlier daily scores written directly ({HISTORY_DAYS} days)", started)

    started = time.perf_counter()
    saved = save_scenarios(sessions, units[0].code)
    _said(label, f"scenarios of {units[0].code} saved: {saved}", started)
    return (f"{judged:,} devices judged, {scored:,} units scored over {HISTORY_DAYS + 1} days, figures today "
            + ", ".join(f"{f.key} {f.count:,}/{f.out_of:,}" for f in today_figures) + f"; {saved}")


def write_history(sessions: sessionmaker[Session], on: dt.date, rng: random.Random) -> int:
    """The HISTORY_DAYS days before `on`: each unit's row of `on` with less covered the further back, and the
    city's headline figures of each day from those rows. Returns the score rows written."""
    columns = (ReadinessScore.unit_id, ReadinessScore.required, ReadinessScore.covered, ReadinessScore.staff,
               ReadinessScore.secure_staff, ReadinessScore.ward, ReadinessScore.ward_vc,
               ReadinessScore.needs_scanners, ReadinessScore.scanners_ok)
    with sessions() as session:
        today_rows = session.execute(select(*columns).where(ReadinessScore.day == on)
                                     .order_by(ReadinessScore.unit_id)).all()
    # Each unit's own pace: some caught up early, some late; two in five got their video-conference endpoint and
    # scanners during the year (days back: before that day they had none), the others earlier.
    paces = {row.unit_id: rng.uniform(0.6, 1.4) for row in today_rows}
    arrived = {row.unit_id: rng.randrange(1, HISTORY_DAYS) if rng.random() < 0.4 else HISTORY_DAYS + 1
               for row in today_rows}
    written, pending = 0, []
    with sessions() as session, session.begin():
        for back in range(1, HISTORY_DAYS + 1):
            day, parts = on - dt.timedelta(days=back), []
            for row in today_rows:
                missing = min(0.9, DRIFT * paces[row.unit_id] * back / HISTORY_DAYS)
                covered = round(row.covered * (1 - missing))
                secure = round(row.secure_staff * (1 - missing))
                ward_vc = row.ward_vc if back < arrived[row.unit_id] else 0
                scanners_ok = row.scanners_ok if back < arrived[row.unit_id] else 0
                pending.append({"unit_id": row.unit_id, "day": day, "required": row.required, "covered": covered,
                                "score": Readiness("", row.required, covered).score, "staff": row.staff,
                                "secure_staff": secure, "ward": row.ward, "ward_vc": ward_vc,
                                "needs_scanners": row.needs_scanners, "scanners_ok": scanners_ok})
                parts.append(FigureParts("", row.staff, secure, row.ward, ward_vc, row.needs_scanners, scanners_ok))
            session.add_all(HeadlineFigure(day=day, key=f.key, count=f.count, out_of=f.out_of)
                            for f in figures_of(parts))
            if len(pending) >= CHUNK:
                session.execute(insert(ReadinessScore), pending)
                written, pending = written + len(pending), []
        if pending:
            session.execute(insert(ReadinessScore), pending)
            written += len(pending)
    return written


def save_scenarios(sessions: sessionmaker[Session], root: str) -> str:
    """The root's targeted plan under three yearly caps (shares of its uncapped total) and its blanket plan."""
    on = compliance.today()
    with sessions() as session:
        uncapped = plans.total_vnd(scenarios.compute(session, root, None, "targeted", PLAN, on).lines)
    caps = [int(round(uncapped * share, -6)) for share in CAP_SHARES]
    with sessions() as session, session.begin():
        targeted = scenarios.save(session, root, None, "Kế hoạch mục tiêu 2027 (benchmark)", "targeted",
                                  PLAN | {"caps_vnd": caps}, by=BY, on=on)
        blanket = scenarios.save(session, root, None, "Thay thế đồng loạt (benchmark)", "blanket_age", BLANKET,
                                 by=BY, on=on)
        found = [_described(s) for s in (targeted, blanket)]
    return "; ".join(found)


def _described(scenario: Scenario) -> str:
    return (f"{scenario.kind.value} {scenario.total_vnd:,} VND ({scenario.funded_vnd:,} funded, "
            f"{len(scenario.lines):,} lines)")


def _said(label: str, what: str, started: float) -> None:
    say(f"{label}: {what} in {time.perf_counter() - started:.1f} s")
