"""A collector at a site, end to end: the real service (`python app.py`) and a real collector
(`python -m discovery.collectors`) polling lab SNMP devices every 2 s. The server goes away and comes back:
the collector keeps its batches on disk meanwhile and sends each exactly once. A revoked token stops the
collector, which keeps its backlog. Only loopback is touched."""
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import netaddr
import pytest
from sqlalchemy import func, select

from core.encryption import SecretBox
from discovery.collectors import client, service
from discovery.collectors.backlog import COUNTER
from discovery.collectors.sender import REFUSED
from discovery.credentials import save_credential
from discovery.models import BatchStatus, CollectorBatch, RunTrigger, ScanRun, ScanScope, SnmpTarget, SnmpVersion
from discovery.scopes import create_scope, set_paused
from inventory.models import Device, Interface
from tests.conftest import SECRETS_KEY, table_contents
from tests.discovery import snmp_lab
from tests.discovery.test_run_crash import ALLOWLIST, wait_until
from tests.serving import serve_in_a_process, serving

ROOT = Path(__file__).resolve().parents[2]
LAB = ("apc-8932", "eaton-93e", "cisco-c3560")  # two UPSs and a switch: each exists once, however many polls
WRITTEN = re.compile(r"batch ([0-9a-f]{32}) written to the backlog \(sequence (\d+)")
ACCEPTED = re.compile(r"batch ([0-9a-f]{32}) \(sequence \d+, scope \d+ snmp\): accepted as run (\d+)")
SLOW_LAB = ("--snmp-timeout", "5")  # the lab's simulators answer late on a machine busy with other tests
BATCH_FILE = re.compile(r"^\d{12}-[0-9a-f]{32}\.json$")


@pytest.fixture
def site(org, snmp_lab_devices) -> dict:
    """A scope of W1 polling three lab devices every 2 s, assigned to a collector issued for W1."""
    box = SecretBox([SECRETS_KEY])
    with org() as session, session.begin():
        credential = save_credential(session, box, {"name": "lab", "version": SnmpVersion.V2C, "community": "public"})
        scope = create_scope(session, unit_code="W1", name="lab", allowlist=ALLOWLIST, methods="snmp",
                             networks=" ".join(snmp_lab_devices[name].address for name in LAB),
                             snmp_port=snmp_lab.PORT, credential_ids=[credential.id], schedule="every 2s")
        collector, token = service.issue(session, box, "W1", "site W1", "tests")
        service.assign_scopes(session, collector.id, [scope.id], "tests")
        return {"scope_id": scope.id, "collector_id": collector.id, "token": token}


class Site:
    """The server and the collector as processes, their logs and the collector's backlog directory."""

    def __init__(self, engine, tmp_path: Path, token: str):
        self.url = engine.url.render_as_string(hide_password=False)
        self.tmp_path, self.token = tmp_path, token
        self.server, self.base, self.server_log = serve_in_a_process(self.url, tmp_path / "server-1.log")
        self.port = self.base.rsplit(":", 1)[1]
        self.backlog = tmp_path / "collector" / "backlog"
        self.collector_log = tmp_path / "collector.log"
        self.collector = None
        self.starts = 1

    def start_collector(self, *options: str) -> subprocess.Popen:
        environment = os.environ | {"COLLECTOR_TOKEN": self.token}
        with open(self.collector_log, "ab") as log:
            self.collector = subprocess.Popen(
                [sys.executable, "-m", "discovery.collectors", "--server", self.base, "--data-dir",
                 str(self.tmp_path / "collector"), "--config-every", "1", *SLOW_LAB, *options],
                cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
        return self.collector

    def stop_server(self) -> None:
        self.server.send_signal(signal.SIGTERM)
        self.server.wait(30)

    def restart_server(self) -> None:
        """On the same database and port: the collector knows the server by its URL."""
        self.starts += 1
        self.server, _, self.server_log = serve_in_a_process(self.url, self.tmp_path / f"server-{self.starts}.log",
                                                             port=int(self.port))

    def log(self) -> str:
        return self.collector_log.read_text()

    def written(self) -> list[tuple[str, int]]:
        return [(batch_id, int(sequence)) for batch_id, sequence in WRITTEN.findall(self.log())]

    def accepted(self) -> list[str]:
        return [batch_id for batch_id, _run in ACCEPTED.findall(self.log())]

    def waiting(self) -> list[str]:
        return sorted(name for name in os.listdir(self.backlog) if BATCH_FILE.match(name)) \
            if self.backlog.exists() else []

    def close(self) -> None:
        for process in (self.collector, self.server):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)


@pytest.fixture
def running(engine, site, tmp_path):
    running = Site(engine, tmp_path, site["token"])
    yield running
    running.close()


def wait_for(running: Site, condition, seconds: float, what: str) -> None:
    """wait_until, with the collector's log as it is at the time out."""
    try:
        wait_until(condition, seconds, what)
    except AssertionError as error:
        raise AssertionError(f"{error}; the collector's log:\n{running.log()}") from None


def test_batches_made_while_the_server_is_away_are_sent_once_it_is_back(engine, org, site, running,
                                                                        snmp_lab_devices):
    running.start_collector()
    wait_for(running, lambda: len(running.accepted()) >= 2, 60, "two batches accepted")

    running.stop_server()
    accepted_before = len(running.accepted())
    wait_for(running, lambda: len(running.waiting()) >= 3, 60, "three batches waiting on disk")
    assert [name.split("-")[1][:32] for name in running.waiting()] == \
        [batch_id for batch_id, _ in running.written()[accepted_before:]][:len(running.waiting())]

    running.restart_server()
    wait_for(running, lambda: not running.waiting(), 60, "the backlog sent")
    with org() as session, session.begin():  # no more runs: the backlog can empty for good
        set_paused(session, session.get(ScanScope, site["scope_id"]), True, "tests")
    wait_for(running, lambda: "paused)" in running.log(), 30, "the collector to see the scope paused")
    running.collector.send_signal(signal.SIGTERM)  # a poll under way ends first, and its batch waits on disk
    assert running.collector.wait(30) == 0, running.log()
    assert running.start_collector("--once").wait(60) == 0, running.log()  # the paused scope is not scanned

    written = running.written()
    assert [sequence for _, sequence in written] == list(range(1, len(written) + 1))
    assert len(written) >= accepted_before + 3
    assert sorted(running.accepted()) == sorted(batch_id for batch_id, _ in written)
    with org() as session:
        stored = session.execute(select(CollectorBatch.batch_id, CollectorBatch.sequence, CollectorBatch.status)
                                 .where(CollectorBatch.collector_id == site["collector_id"])
                                 .order_by(CollectorBatch.sequence)).all()
        assert [tuple(row) for row in stored] == [(batch_id, sequence, BatchStatus.ACCEPTED)
                                                  for batch_id, sequence in written]
        runs = session.scalars(select(ScanRun).where(ScanRun.scope_id == site["scope_id"])).all()
        assert [(r.trigger, r.kind, r.hosts_total) for r in runs] == [(RunTrigger.COLLECTOR, "snmp", 3)] * len(written)
        # Not every poll need find all three: test runs beside this one serve the lab at the same addresses.
        assert max(r.hosts_answered for r in runs) == 3
        targets = session.scalars(select(SnmpTarget).where(SnmpTarget.scope_id == site["scope_id"])).all()
        device_ids = {t.address: t.device_id for t in targets}
        assert sorted(device_ids) == sorted(snmp_lab_devices[name].address for name in LAB)
        assert len(set(device_ids.values())) == len(LAB)  # three devices, each once
        macs = session.execute(select(Interface.mac, func.count(Interface.device_id.distinct()))
                               .where(Interface.mac.is_not(None)).group_by(Interface.mac)).all()
        assert [mac for mac, devices in macs if devices > 1] == []
        serials = session.execute(select(Device.serial, func.count()).where(Device.serial.is_not(None))
                                  .group_by(Device.serial)).all()
        assert [serial for serial, devices in serials if devices > 1] == []
        # The switch's forwarding table adds the terminals behind it, once each too.
        assert session.scalar(select(func.count()).select_from(Device)) == sum(r.created for r in runs) >= len(LAB)
        collector = service.collector_in_scope(session, site["collector_id"], None)
        # The last heartbeat came from the --once run, after it had emptied the backlog.
        assert (collector.batches, collector.rejected, collector.version, collector.backlog, collector.last_error) == \
            (len(written), 0, "readiness-collector 1.0", 0, "")


def test_a_revoked_collector_stops_sending_and_keeps_its_backlog(engine, org, site, running):
    running.start_collector()
    wait_for(running, lambda: len(running.accepted()) >= 1, 60, "a batch accepted")
    running.stop_server()
    wait_for(running, lambda: len(running.waiting()) >= 2, 60, "two batches waiting on disk")
    with org() as session, session.begin():
        service.revoke(session, site["collector_id"], "tests")
    before = table_contents(engine)

    running.restart_server()
    assert running.collector.wait(60) == 3, running.log()  # the token refused: it stops
    kept = running.waiting()
    said = re.search(rf"{re.escape(REFUSED)}: HTTP 403; sending stopped, (\d+) batch\(es\) kept in "
                     rf"{re.escape(str(running.backlog))}\n", running.log())
    assert said, running.log()
    assert 2 <= int(said[1]) <= len(kept)  # a poll under way when the token was refused is kept too
    accepted = running.accepted()
    assert [f"{name[13:45]}" for name in kept] == [batch_id for batch_id, _ in running.written()[len(accepted):]]
    assert sorted(os.listdir(running.backlog)) == sorted([*kept, COUNTER])
    running.stop_server()
    assert table_contents(engine) == before  # nothing of what it sent after the revocation is stored


def test_once_scans_every_scope_sends_and_exits(engine, org, site, running):
    assert running.start_collector("--once").wait(60) == 0, running.log()
    assert (len(running.written()), len(running.accepted()), running.waiting()) == (1, 1, [])
    with org() as session:
        assert [(b.batch_id, b.status) for b in session.scalars(select(CollectorBatch))] == \
            [(running.written()[0][0], BatchStatus.ACCEPTED)]


def test_a_scope_outside_the_collectors_own_allowlist_is_not_scanned(engine, org, site, running, snmp_lab_devices):
    """The server assigns the scope; the collector's allowlist has the last word."""
    before = table_contents(engine)
    assert running.start_collector("--once", "--allowlist", "127.0.0.1/32").wait(60) == 0, running.log()
    first = min((snmp_lab_devices[name].address for name in LAB), key=netaddr.IPAddress)
    assert f"scope {site['scope_id']} lab snmp: not scanned: {first}/32 is outside the scan allowlist " \
           f"(127.0.0.1/32)" in running.log()
    assert (running.written(), running.waiting()) == ([], [])
    after = table_contents(engine)
    assert {t: rows for t, rows in after.items() if t != "collector"} == \
        {t: rows for t, rows in before.items() if t != "collector"}  # its last contact and last error only


def test_the_flask_command_runs_the_same_collector(app, org, site, tmp_path):
    """`flask --app app collector run ...`, in the service's own process here: --once against the app served."""
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["collector", "run", "--server", "http://127.0.0.1:1", "--token", "not-a-token"])
    assert refused.exit_code == 2
    assert "Invalid value for --token: a collector's token starts with col_" in refused.output
    with serving(app, threads=4) as base:
        done = runner.invoke(args=["collector", "run", "--server", base, "--token", site["token"], "--data-dir",
                                   str(tmp_path / "collector"), *SLOW_LAB, "--once"])
    assert done.exit_code == 0, done.output
    with org() as session:
        assert [(b.sequence, b.status, b.observations) for b in session.scalars(select(CollectorBatch))] == \
            [(1, BatchStatus.ACCEPTED, 3)]
    assert sorted(os.listdir(tmp_path / "collector" / "backlog")) == [COUNTER]


def test_a_second_collector_on_the_same_data_directory_is_refused(site, running):
    running.start_collector()
    first = running.collector
    wait_for(running, lambda: "configuration: collector site W1" in running.log(), 30, "the first collector started")
    assert running.start_collector("--once").wait(30) == 1
    assert f"ERROR another collector is using {running.tmp_path / 'collector'}\n" in running.log()
    assert first.poll() is None  # the first goes on
    first.send_signal(signal.SIGTERM)
    assert first.wait(30) == 0


def test_a_full_backlog_skips_the_scan_and_says_so(tmp_path):
    """Nothing kept is dropped: the scan waits (no server is needed to see it)."""
    collector = client.Collector(client.Options(server="http://127.0.0.1:9", token="col_x", data_dir=tmp_path,
                                                backlog_max=1))
    kept = collector.backlog.put({"batch_id": "0" * 32, "sequence": 0})
    collector.config = {"scopes": [{"id": 4, "name": "lab", "networks": "127.0.5.1", "exclusions": "",
                                    "snmp_port": 161, "methods": ["snmp"], "credentials": []}]}
    assert collector.run_scope(4) == 0
    assert collector.state.last_error == "the backlog holds 1 batches, its bound (--backlog-max): scans wait until " \
                                         "the server takes them"
    assert collector.backlog.names() == [kept]
