"""Scan scopes and runs through the API and the command line: roles, unit scope, the allowlist,
bad input, and faults of nmap itself."""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from accounts.models import Role
from core.encryption import SecretBox
from core.errors import InvalidInput
from discovery.errors import OutsideAllowlist
from discovery.models import RunStatus, ScanScope
from discovery.scans import ScanSettings, execute_run, start_run
from discovery.scopes import create_scope
from discovery.sweep import SweepSettings, sweep
from tests.conftest import SECRETS_KEY, client_as, table_contents, wait_for_run

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK_SCOPE = {"name": "ward one", "unit_code": "W1", "networks": "127.0.9.0/29"}




def test_create_scope_and_follow_a_scan_run(client, worker):
    created = client.post("/api/scopes", json=LOOPBACK_SCOPE | {"exclusions": "127.0.9.7"})
    assert created.status_code == 201, created.json
    scope = created.json
    assert scope | {"id": 0, "created_at": 0} == {
        "id": 0, "created_at": 0, "name": "ward one", "unit_code": "W1", "networks": "127.0.9.0/29",
        "exclusions": "127.0.9.7", "snmp_port": 161, "methods": "nmap,snmp", "schedule": None, "credential_ids": [],
        "network": "other", "paused": False, "schedule_status": "by_hand", "next_run_at": None, "collector_id": None}
    started = client.post(f"/api/scopes/{scope['id']}/runs", json={"kind": "nmap"})
    assert started.status_code == 202
    assert (started.json["status"], started.json["hosts_total"], started.json["trigger"]) == ("queued", 7, "manual")
    run = wait_for_run(client, started.json["id"])
    assert run["worker"].startswith("worker ")  # carried through by the worker, not the web server
    # Nothing listens on these loopback addresses' scanned ports: no host, nothing stored.
    assert (run["status"], run["hosts_done"], run["hosts_answered"], run["created"]) == ("finished", 7, 0, 0)
    assert [r["id"] for r in client.get(f"/api/scopes/{scope['id']}/runs").json] == [run["id"]]


def test_scope_outside_the_allowlist_is_refused_and_nothing_stored(client, engine):
    before = table_contents(engine)
    refused = client.post("/api/scopes", json=LOOPBACK_SCOPE | {"networks": "10.0.0.0/24"})
    assert refused.status_code == 422
    assert refused.json["errors"] == {"json": {"networks": ["10.0.0.0/24 is outside the scan allowlist (127.0.0.0/8, ::1/128)"]}}
    assert table_contents(engine) == before


def test_bad_scopes_get_a_reason_each(client, engine):
    before = table_contents(engine)
    cases = {
        "networks": (LOOPBACK_SCOPE | {"networks": "127.0.9.300/24"},
                     "'127.0.9.300/24' is not an address, a network (a.b.c.d/nn) or a range (a.b.c.d-a.b.c.e)"),
        "exclusions": (LOOPBACK_SCOPE | {"exclusions": "127.0.9.0/29"}, "the exclusions leave nothing of the networks to scan"),
        "unit_code": (LOOPBACK_SCOPE | {"unit_code": "NOPE"}, "unit 'NOPE' does not exist"),
        "credential_ids": (LOOPBACK_SCOPE | {"credential_ids": [4242]}, "credential 4242 does not exist"),
        "schedule": (LOOPBACK_SCOPE | {"schedule": "99 * * * *"},
                     "'99 * * * *' is neither a cron schedule (minute hour day month weekday, e.g. '0 2 * * *') nor "
                     "an interval ('every 30m', 'every 6h'): Error validating expression '99': the last value (99) is "
                     "higher than the maximum value (59)"),
        "methods": (LOOPBACK_SCOPE | {"methods": "ping"}, "nmap, snmp or nmap,snmp"),
        "snmp_port": (LOOPBACK_SCOPE | {"snmp_port": 70000}, "Must be greater than or equal to 1 and less than or equal to 65535."),
    }
    for field, (body, reason) in cases.items():
        response = client.post("/api/scopes", json=body)
        assert response.status_code in (404, 422), (field, response.json)
        assert reason in str(response.json), (field, response.json)
    assert table_contents(engine) == before


def test_runs_refused_with_the_reason(client):
    scope = client.post("/api/scopes", json=LOOPBACK_SCOPE | {"methods": "nmap"}).json
    cases = [({"kind": "snmp"}, 422, "scope ward one does not allow snmp (its methods: nmap)"),
             ({"kind": "ping"}, 422, "Must be one of: nmap, snmp.")]
    for body, status, reason in cases:
        response = client.post(f"/api/scopes/{scope['id']}/runs", json=body)
        assert (response.status_code, reason in str(response.json)) == (status, True), response.json
    both = client.patch(f"/api/scopes/{scope['id']}", json={"methods": "nmap,snmp"})
    assert both.status_code == 200
    no_credential = client.post(f"/api/scopes/{scope['id']}/runs", json={"kind": "snmp"})
    assert no_credential.json["errors"] == {"json": {"credential_ids": [
        "scope ward one has no SNMP credential to poll with"]}}
    assert client.get(f"/api/scopes/{scope['id']}/runs").json == []


def test_overlapping_scopes_conflict(client):
    assert client.post("/api/scopes", json=LOOPBACK_SCOPE).status_code == 201
    clash = client.post("/api/scopes", json=LOOPBACK_SCOPE | {"name": "other", "networks": "127.0.9.4/30"})
    assert (clash.status_code, clash.json["errors"]) == (409, {"json": {"networks": ["127.0.9.4/30 is already in scope ward one"]}})


def test_roles_and_units(app, org, token_for, client, worker):
    scope = client.post("/api/scopes", json=LOOPBACK_SCOPE).json
    officer = client_as(app, token_for(Role.UNIT_OFFICER))           # W1's officer
    finance = client_as(app, token_for(Role.FINANCE))
    assert officer.post("/api/scopes", json=LOOPBACK_SCOPE | {"name": "x", "networks": "127.0.8.1"}).status_code == 403
    assert [s["name"] for s in officer.get("/api/scopes").json] == ["ward one"]
    assert finance.get("/api/scopes").status_code == 403
    other = client.post("/api/scopes", json={"name": "ward two", "unit_code": "W2", "networks": "127.0.8.1"}).json
    assert officer.get(f"/api/scopes/{other['id']}").status_code == 404  # another unit's scope is not there
    assert officer.post(f"/api/scopes/{other['id']}/runs", json={"kind": "nmap"}).status_code == 404
    started = officer.post(f"/api/scopes/{scope['id']}/runs", json={"kind": "nmap"})
    assert started.status_code == 202
    wait_for_run(officer, started.json["id"])


def test_allowlist_checked_again_right_before_nmap(org):
    """The scope was valid when written; the allowlist then shrank. start_run refuses, and so does the
    sweep itself, before any nmap process starts."""
    with org() as session, session.begin():
        scope_id = create_scope(session, unit_code="W1", name="lab", networks="127.0.9.1",
                                allowlist="127.0.0.0/8").id
    narrow = ScanSettings(allowlist="127.0.10.0/24")
    with org() as session, pytest.raises(OutsideAllowlist) as refused:
        start_run(session, session.get(ScanScope, scope_id), "nmap", narrow)
    assert refused.value.reason == "127.0.9.1/32 is outside the scan allowlist (127.0.10.0/24)"
    # The allowlist speaks first: nmap is not even looked for (this path has none).
    with pytest.raises(OutsideAllowlist):
        sweep(["127.0.9.1"], "127.0.10.0/24", SweepSettings(nmap_path="/nonexistent/nmap"))


def test_nmap_missing_fails_the_run_with_the_reason(org, engine):
    settings = ScanSettings(allowlist="127.0.0.0/8", sweep=SweepSettings(nmap_path="/nonexistent/nmap"))
    with org() as session, session.begin():
        scope_id = create_scope(session, unit_code="W1", name="lab", networks="127.0.9.1", allowlist="127.0.0.0/8").id
        run_id = start_run(session, session.get(ScanScope, scope_id), "nmap", settings).id
    before = table_contents(engine)
    run = execute_run(org, run_id, SecretBox([SECRETS_KEY]), settings)
    assert (run.status, run.errors) == (RunStatus.FAILED, [
        {"address": None, "reason": "nmap is not installed at /nonexistent/nmap (Debian package nmap)"}])
    after = table_contents(engine)
    assert {t: rows for t, rows in after.items() if t != "scan_run"} == \
        {t: rows for t, rows in before.items() if t != "scan_run"}


def test_nmap_killed_mid_run_fails_the_run(org):
    settings = ScanSettings(allowlist="127.0.0.0/8",
                            sweep=SweepSettings(privileged=False, tcp_ports=tuple(range(1, 1001))))
    with org() as session, session.begin():
        scope_id = create_scope(session, unit_code="W1", name="big", networks="127.0.12.0/22",
                                allowlist="127.0.0.0/8").id
        run_id = start_run(session, session.get(ScanScope, scope_id), "nmap", settings).id
    killer = threading.Thread(target=_kill_my_nmap_soon)
    killer.start()
    run = execute_run(org, run_id, SecretBox([SECRETS_KEY]), settings)
    killer.join()
    assert run.status is RunStatus.FAILED
    assert run.errors[0]["reason"].startswith("nmap ended before finishing")


def _kill_my_nmap_soon() -> None:
    """SIGKILL the nmap this process started, once it runs."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                try:
                    stat = (proc / "stat").read_text().split()
                except OSError:
                    continue
                if stat[1] == "(nmap)" and int(stat[3]) == os.getpid():
                    time.sleep(0.3)
                    try:
                        os.kill(int(proc.name), signal.SIGKILL)
                    except ProcessLookupError:
                        continue  # that nmap ended within the 0.3 s (a quick part of the sweep): the next one
                    return
        time.sleep(0.02)


def test_cli_refuses_a_scope_outside_the_allowlist(tmp_path):
    environment = os.environ | {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}", "SECRET_KEY": "x",
                                "SCAN_ALLOWLIST": "127.0.0.0/8"}

    def flask(*args, **extra):
        return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                              env=environment | extra, capture_output=True, text=True, timeout=120)
    flask("db", "upgrade")
    flask("seed")
    refused = flask("scan", "run", "lab", SCAN_ALLOWLIST="127.0.9.0/24")
    assert refused.returncode == 1
    assert "Error: 127.0.1.1/32 is outside the scan allowlist (127.0.9.0/24)" in refused.stderr


def test_scope_larger_than_the_maximum_is_refused_at_the_run(org):
    with org() as session, session.begin():
        scope_id = create_scope(session, unit_code="W1", name="wide", networks="127.0.9.0/29",
                                allowlist="127.0.0.0/8", schedule="0 2 * * 1-5").id
    with org() as session, pytest.raises(InvalidInput) as refused:
        start_run(session, session.get(ScanScope, scope_id), "nmap", ScanSettings(allowlist="127.0.0.0/8",
                                                                                   max_addresses=4))
    assert refused.value.reason == "scope wide has 8 addresses, more than the 4 a scan may cover (SCAN_MAX_ADDRESSES)"


def test_scopes_follow_a_merge_and_a_split_to_the_successor_and_say_so_in_the_audit_log(client, officer):
    ward_two = client.post("/api/scopes", json={"name": "ward two", "unit_code": "W2", "networks": "127.0.8.1"}).json
    ward_one = client.post("/api/scopes", json={"name": "ward one", "unit_code": "W1", "networks": "127.0.9.1"}).json
    assert client.post("/api/units/merge", json={"sources": ["W2"], "into_code": "W1",
                                                 "effective_on": "2026-07-01"}).status_code == 201
    assert client.get(f"/api/scopes/{ward_two['id']}").json["unit_code"] == "W1"
    # W1's officer now answers for the merged ward's networks: its scope is theirs to scan.
    assert sorted(s["name"] for s in officer.get("/api/scopes").json) == ["ward one", "ward two"]
    split = client.post("/api/units/W1/split", json={"targets": [{"code": "W1N", "name": "North", "kind": "ward"},
                                                                 {"code": "W1S", "name": "South", "kind": "ward"}],
                                                     "effective_on": "2026-08-01"})
    assert split.status_code == 201
    assert [client.get(f"/api/scopes/{s['id']}").json["unit_code"] for s in (ward_one, ward_two)] == ["W1N", "W1N"]
    moves = client.get("/api/audit", query_string={"action": "scope.follow_reorganisation"}).json["items"]
    assert [(m["target_id"], m["before"], m["after"], m["detail"]) for m in reversed(moves)] == [
        (str(ward_two["id"]), {"unit_code": "W2"}, {"unit_code": "W1"}, "merge: W2 -> W1"),
        (str(ward_two["id"]), {"unit_code": "W1"}, {"unit_code": "W1N"}, "split: W1 -> W1N"),
        (str(ward_one["id"]), {"unit_code": "W1"}, {"unit_code": "W1N"}, "split: W1 -> W1N")]
    merged_by = client.get("/api/audit", query_string={"action": "units.merge"}).json["items"][0]["actor"]
    assert {m["actor"] for m in moves} == {merged_by}  # the reorganisation's author, not "command line"
