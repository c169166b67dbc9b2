"""Scans that run by themselves: schedules written as cron or interval, run by the worker's APScheduler with
its jobs in the application database, paused and resumed, kept across a restart, a missed occurrence made
up once; and never two runs of one scope at once, with two worker processes sharing the database."""
import datetime as dt
import re
import time
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from core.audit import AuditEntry
from core.errors import InvalidInput
from discovery.models import RunStatus, RunTrigger, ScanRun, scheduler_jobs
from discovery.schedule import trigger_of
from tests.serving import start_worker, stop_worker, worker_thread

ROOT = Path(__file__).resolve().parents[2]
SILENT = "127.0.9.1"  # nothing answers there: an nmap sweep of it ends at once, an SNMP poll at its time-out


def test_a_schedule_is_a_cron_expression_in_the_citys_time_or_an_interval():
    nightly = trigger_of("0 2 * * *")
    assert isinstance(nightly, CronTrigger) and str(nightly.timezone) == "Asia/Ho_Chi_Minh"
    after = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
    assert nightly.get_next_fire_time(None, after).astimezone(dt.UTC) == dt.datetime(2026, 12, 6, 19, 0, tzinfo=dt.UTC)
    assert isinstance(trigger_of("every 30m"), IntervalTrigger)
    assert [trigger_of(text).interval for text in ("every 45s", "every 6h", "Every 1D")] == [
        dt.timedelta(seconds=45), dt.timedelta(hours=6), dt.timedelta(days=1)]


@pytest.mark.parametrize("schedule, reason", [
    ("every 1s", "'every 1s' is too often: an interval is at least 2 seconds"),
    ("every day", "'every day' is neither a cron schedule (minute hour day month weekday, e.g. '0 2 * * *') nor an "
                  "interval ('every 30m', 'every 6h'): Wrong number of fields; got 2, expected 5"),
    ("61 * * * *", "'61 * * * *' is neither a cron schedule (minute hour day month weekday, e.g. '0 2 * * *') nor an "
                   "interval ('every 30m', 'every 6h'): Error validating expression '61': the last value (61) is "
                   "higher than the maximum value (59)")])
def test_a_schedule_that_is_neither_is_refused_with_the_reason(schedule, reason):
    with pytest.raises(InvalidInput) as refused:
        trigger_of(schedule)
    assert (refused.value.reason, refused.value.field) == (reason, "schedule")


def runs_of(sessions, scope_id: int) -> list[ScanRun]:
    with sessions() as session:
        return list(session.scalars(select(ScanRun).where(ScanRun.scope_id == scope_id).order_by(ScanRun.id)))


def wait_until(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {seconds} s")
        time.sleep(0.05)
    return found


def test_a_scheduled_scope_runs_by_itself_each_method_in_turn_and_pauses_and_resumes(client, app, sessions):
    credential = client.post("/api/credentials", json={"name": "c", "version": "v2c", "community": "public"}).json
    scope = client.post("/api/scopes", json={"name": "ward one", "unit_code": "W1", "networks": SILENT,
                                             "schedule": "every 2s", "credential_ids": [credential["id"]]}).json
    assert (scope["schedule_status"], scope["next_run_at"]) == ("waiting_for_worker", None)
    app.config.update(SNMP_TIMEOUT=0.3, SNMP_RETRIES=0)
    with worker_thread(app):
        shown = wait_until(lambda: (s := client.get(f"/api/scopes/{scope['id']}").json)["next_run_at"] and s, 5,
                           "next run time")
        assert shown["schedule_status"] == "scheduled"
        next_run = dt.datetime.fromisoformat(shown["next_run_at"])
        assert dt.timedelta(0) < next_run - dt.datetime.now(dt.UTC) <= dt.timedelta(seconds=2)
        # nmap finds the hosts, then SNMP describes them: the schedule runs the scope's methods in turn.
        wait_until(lambda: len([r for r in runs_of(sessions, scope["id"]) if r.status is RunStatus.FINISHED]) >= 2,
                   15, "two scheduled runs")
        first, second = runs_of(sessions, scope["id"])[:2]
        assert [(r.kind, r.trigger, r.status) for r in (first, second)] == [
            ("nmap", RunTrigger.SCHEDULE, RunStatus.FINISHED), ("snmp", RunTrigger.SCHEDULE, RunStatus.FINISHED)]
        assert second.started_at >= first.finished_at

        paused = client.post(f"/api/scopes/{scope['id']}/pause")
        assert paused.status_code == 200
        assert (paused.json["paused"], paused.json["schedule_status"]) == (True, "paused")
        wait_until(lambda: client.get(f"/api/scopes/{scope['id']}").json["next_run_at"] is None, 5, "job paused")
        wait_until(lambda: all(r.status not in (RunStatus.QUEUED, RunStatus.RUNNING)
                               for r in runs_of(sessions, scope["id"])), 10, "the last run's end")
        count = len(runs_of(sessions, scope["id"]))
        time.sleep(3)  # more than an interval: nothing runs while paused
        assert len(runs_of(sessions, scope["id"])) == count

        resumed = client.post(f"/api/scopes/{scope['id']}/resume")
        assert (resumed.json["paused"], resumed.json["schedule_status"]) in [(False, "scheduled"),
                                                                            (False, "waiting_for_worker")]
        wait_until(lambda: len(runs_of(sessions, scope["id"])) > count, 6, "a run after resuming")
    with sessions() as session:
        audited = session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "scan_scope",
                                                                  AuditEntry.action.like("scope.%"))).all()
    assert [a for a in audited if a in ("scope.pause", "scope.resume")] == ["scope.pause", "scope.resume"]


def test_pausing_a_scope_without_a_schedule_is_refused(client):
    scope = client.post("/api/scopes", json={"name": "ward one", "unit_code": "W1", "networks": SILENT}).json
    refused = client.post(f"/api/scopes/{scope['id']}/pause")
    assert (refused.status_code, refused.json["message"]) == (409, "scope ward one has no schedule to pause or resume")


def test_a_schedule_and_its_next_run_survive_a_restart_of_the_worker(client, app, sessions):
    scope = client.post("/api/scopes", json={"name": "nightly", "unit_code": "W1", "networks": SILENT,
                                             "methods": "nmap", "schedule": "0 2 * * *"}).json
    with worker_thread(app):
        shown = wait_until(lambda: client.get(f"/api/scopes/{scope['id']}").json["next_run_at"], 5, "next run")
    # 02:00 in Ho Chi Minh City is 19:00 UTC the day before.
    expected = trigger_of("0 2 * * *").get_next_fire_time(None, dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    assert dt.datetime.fromisoformat(shown) == expected.replace(microsecond=0) or \
        abs(dt.datetime.fromisoformat(shown) - expected) < dt.timedelta(seconds=1)
    assert expected.hour == 19
    with sessions() as session:  # the job is in the application's database, worker or not (beside the nightly ones)
        assert sorted(session.scalars(select(scheduler_jobs.c.id))) == [
            "daily-dashboards", "daily-readiness", f"scope-{scope['id']}"]
    assert client.get(f"/api/scopes/{scope['id']}").json["next_run_at"] == shown
    with worker_thread(app):
        time.sleep(1)
        assert client.get(f"/api/scopes/{scope['id']}").json["next_run_at"] == shown  # kept, not recomputed
    assert runs_of(sessions, scope["id"]) == []


def test_occurrences_missed_while_no_worker_ran_are_made_up_once(client, app, sessions):
    scope = client.post("/api/scopes", json={"name": "often", "unit_code": "W1", "networks": SILENT,
                                             "methods": "nmap", "schedule": "every 3s"}).json
    with worker_thread(app):
        first_due = dt.datetime.fromisoformat(wait_until(
            lambda: client.get(f"/api/scopes/{scope['id']}").json["next_run_at"], 5, "next run"))
        wait_until(lambda: [r for r in runs_of(sessions, scope["id"]) if r.status is RunStatus.FINISHED], 6,
                   "the first run's end")
    # Down from just after the first occurrence until half a second after the third: two missed.
    down_until = first_due + dt.timedelta(seconds=6.5)
    time.sleep(max(0.0, (down_until - dt.datetime.now(dt.UTC)).total_seconds()))
    before = len(runs_of(sessions, scope["id"]))
    with worker_thread(app):
        time.sleep(1.5)  # the next regular occurrence is 2.5 s away
        made_up = runs_of(sessions, scope["id"])[before:]
    assert [(r.trigger, r.kind) for r in made_up] == [(RunTrigger.SCHEDULE, "nmap")]  # one run, not two


def test_two_worker_processes_never_run_one_scope_at_once(client, engine, sessions, tmp_path):
    """Each poll of the silent address lasts its 2.5 s time-out, longer than the 2 s between occurrences,
    and both processes' schedulers fire them: the database's one-active-run index refuses every run but one."""
    credential = client.post("/api/credentials", json={"name": "c", "version": "v2c", "community": "public"}).json
    scope = client.post("/api/scopes", json={"name": "slow", "unit_code": "W1", "networks": SILENT, "methods": "snmp",
                                             "schedule": "every 2s", "credential_ids": [credential["id"]]}).json
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    workers = [start_worker(engine, log, SNMP_TIMEOUT="2.5", SNMP_RETRIES="0") for log in logs]
    try:
        wait_until(lambda: len([r for r in runs_of(sessions, scope["id"]) if r.status is RunStatus.FINISHED]) >= 3,
                   40, "three finished runs")
    finally:
        assert [stop_worker(process) for process in workers] == [0, 0]
    runs = [r for r in runs_of(sessions, scope["id"]) if r.status is RunStatus.FINISHED]
    for earlier, later in zip(runs, runs[1:]):
        assert later.started_at >= earlier.finished_at, (earlier.id, later.id)  # one at a time
    text = "".join(log.read_text() for log in logs)
    assert re.search(r"scope \d+: no schedule run queued: scope slow is being scanned already", text), text
    assert "stopped" in text
