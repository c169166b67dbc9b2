"""SCAN_EXECUTOR=celery end to end: a run queued by the service's own path (discovery.worker.queue, which
sends it with executors.dispatch) is carried through by a real Celery worker (`celery -A celery_app worker`,
a separate process) over a real broker, Redis or RabbitMQ, and stores the lab devices it polled. A broker
that does not answer here skips its case, with the reason."""
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from accounts.models import Role
from app import ENVIRONMENT, create_app
from core.encryption import SecretBox
from discovery import executors
from discovery.credentials import save_credential
from discovery.models import RunStatus, RunTrigger, ScanRun, SnmpVersion
from discovery.scans import ABANDONED, ScanSettings
from discovery.scopes import create_scope
from discovery.worker import Worker, queue, retry_abandoned
from inventory.models import Device
from tests.conftest import SECRETS_KEY, client_as, wait_for_run
from tests.discovery import snmp_lab

ROOT = Path(__file__).resolve().parents[2]
ALLOWLIST = "127.0.0.0/8"
BROKERS = {"redis": "redis://127.0.0.1:6379/15", "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//"}
SILENT = f"{snmp_lab.BASE}240"  # no agent there: a request to it waits its whole time-out
UPSS = {"apc-8932": ("APC", "AP8932", "3F503A169043"), "eaton-93e": ("Eaton", "EATON 93E 80", "4K234LXX06")}


@pytest.fixture(params=sorted(BROKERS))
def broker_url(request) -> str:
    url = BROKERS[request.param]
    where = urlsplit(url)
    try:
        socket.create_connection((where.hostname, where.port), timeout=2).close()
    except OSError as error:
        pytest.skip(f"{request.param} at {where.hostname}:{where.port} does not answer: {error}")
    return url


@pytest.fixture
def ups_scope(org, snmp_lab_devices) -> int:
    """Two UPSs of the lab, polled over SNMP."""
    box = SecretBox([SECRETS_KEY])
    with org() as session, session.begin():
        credential = save_credential(session, box, {"name": "lab", "version": SnmpVersion.V2C, "community": "public"})
        return create_scope(session, unit_code="W1", name="ups", allowlist=ALLOWLIST, methods="snmp",
                            networks=" ".join(snmp_lab_devices[name].address for name in UPSS),
                            snmp_port=snmp_lab.PORT, credential_ids=[credential.id]).id


@pytest.fixture
def celery_workers(engine, broker_url, tmp_path):
    """start(**settings): `celery -A celery_app worker --pool=solo` on the test's database and broker, with these
    settings in its environment, once it says it is ready; its process and log. Every one still running is
    stopped at the end (warm shutdown, then killed)."""
    started: list[subprocess.Popen] = []

    def start(**settings: str) -> tuple[subprocess.Popen, Path]:
        environment = {name: value for name, value in os.environ.items() if name not in ENVIRONMENT} | {
            "DATABASE_URL": engine.url.render_as_string(hide_password=False), "SECRET_KEY": "test",
            "SECRETS_KEYS": SECRETS_KEY, "SCAN_ALLOWLIST": ALLOWLIST, "SCAN_EXECUTOR": "celery",
            "CELERY_BROKER_URL": broker_url} | settings
        log = tmp_path / f"celery-{len(started) + 1}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "--pool=solo", "--loglevel=INFO",
                 "--without-gossip", "--without-mingle", "--hostname", f"test-{uuid.uuid4().hex[:8]}@%h"],
                cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)
        started.append(process)
        wait_for(lambda: process.poll() is not None or " ready." in log.read_text(), 60, "the worker ready", log)
        assert process.poll() is None, f"the celery worker ended: {log.read_text()}"
        return process, log

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture
def celery_worker(celery_workers):
    return celery_workers()


def test_a_queued_run_is_carried_through_by_a_celery_worker(sessions, broker_url, ups_scope, celery_worker):
    process, log = celery_worker
    config = {"SCAN_EXECUTOR": "celery", "CELERY_BROKER_URL": broker_url}
    sender = Worker(sessions, SecretBox([SECRETS_KEY]), ScanSettings(allowlist=ALLOWLIST), config, name="tests")
    run_id = queue(sender, ups_scope, "snmp", RunTrigger.MANUAL)
    assert run_id is not None

    wait_for(lambda: _status(sessions, run_id) in (RunStatus.FINISHED, RunStatus.FAILED), 60, "the run's end", log)
    with sessions() as session:
        run = session.get(ScanRun, run_id)
        assert (run.status, run.hosts_total, run.hosts_answered, run.created, run.errors) == \
            (RunStatus.FINISHED, 2, 2, 2, [])
        assert run.worker.startswith("celery "), run.worker
        assert run.worker.endswith(f":{process.pid}")  # --pool=solo: the worker's own process carried it
        devices = session.scalars(select(Device)).all()
        assert sorted((d.vendor, d.model, d.serial) for d in devices) == sorted(UPSS.values())
    assert f"Task {executors.TASK}[" in log.read_text()


def test_a_scan_asked_in_the_api_is_queued_and_carried_through_by_a_celery_worker(
        engine, sessions, broker_url, ups_scope, celery_worker, token_for):
    """The web process's path: POST .../runs queues the run and sends it; the Celery worker carries it."""
    web = create_app({"DATABASE_URL": engine.url.render_as_string(hide_password=False), "SECRET_KEY": "test",
                      "SECRETS_KEYS": SECRETS_KEY, "TESTING": True, "SCAN_ALLOWLIST": ALLOWLIST,
                      "SCAN_EXECUTOR": "celery", "CELERY_BROKER_URL": broker_url})
    try:
        client = client_as(web, token_for(Role.ADMIN))
        queued = client.post(f"/api/scopes/{ups_scope}/runs", json={"kind": "snmp"})
        assert (queued.status_code, queued.json["status"], queued.json["worker"]) == (202, "queued", ""), queued.json
        run = wait_for_run(client, queued.json["id"])
    finally:
        web.extensions["engine"].dispose()
    assert (run["status"], run["hosts_answered"], run["created"], run["errors"]) == ("finished", 2, 2, [])
    assert run["worker"].startswith("celery "), run["worker"]
    with sessions() as session:
        assert sorted((d.vendor, d.model, d.serial) for d in session.scalars(select(Device))) == \
            sorted(UPSS.values())


def test_a_run_whose_celery_worker_is_killed_is_failed_and_its_retry_carried_by_another(
        sessions, broker_url, org, snmp_lab_devices, celery_workers):
    """SIGKILL to the worker in the middle of a run (an address that never answers holds it there): the
    scheduler's round fails the run once its heartbeat is older than the bound and queues a retry, sent to
    the broker; the next worker carries the retry through."""
    stale_s = 2.0
    box = SecretBox([SECRETS_KEY])
    with org() as session, session.begin():
        credential = save_credential(session, box, {"name": "lab", "version": SnmpVersion.V2C, "community": "public"})
        scope_id = create_scope(session, unit_code="W1", name="ups", allowlist=ALLOWLIST, methods="snmp",
                                networks=f"{snmp_lab_devices['apc-8932'].address} {SILENT}",
                                snmp_port=snmp_lab.PORT, credential_ids=[credential.id]).id
    doomed, log = celery_workers(SNMP_TIMEOUT="3600", SNMP_RETRIES="0", RUN_STALE_AFTER_S=str(stale_s))
    config = {"SCAN_EXECUTOR": "celery", "CELERY_BROKER_URL": broker_url, "SCAN_RETRIES": 1}
    scheduler = Worker(sessions, box, ScanSettings(allowlist=ALLOWLIST, run_stale_after_s=stale_s), config,
                       name="tests")
    run_id = queue(scheduler, scope_id, "snmp", RunTrigger.MANUAL)
    wait_for(lambda: _progress(sessions, run_id) == (RunStatus.RUNNING, 1), 30, "the UPS polled", log)
    doomed.kill()
    doomed.wait(10)
    killed_at = time.monotonic()

    assert retry_abandoned(scheduler) == []  # its last heartbeat is fresh: still alive, as far as anyone knows
    time.sleep(killed_at + stale_s + 0.2 - time.monotonic())
    retries = retry_abandoned(scheduler)
    assert len(retries) == 1
    with sessions() as session:
        run, retry = session.get(ScanRun, run_id), session.get(ScanRun, retries[0])
        assert (run.status, run.errors, run.worker.startswith("celery ")) == \
            (RunStatus.FAILED, [{"address": None, "reason": ABANDONED}], True)
        assert (retry.status, retry.trigger, retry.attempt, retry.retry_of) == \
            (RunStatus.QUEUED, RunTrigger.RETRY, 2, run_id)

    _, log = celery_workers(SNMP_TIMEOUT="2", SNMP_RETRIES="0")  # takes the retry waiting in the broker
    wait_for(lambda: _progress(sessions, retries[0])[0] is RunStatus.FINISHED, 60, "the retry's end", log)
    with sessions() as session:
        retry = session.get(ScanRun, retries[0])
        assert (retry.hosts_total, retry.hosts_answered, retry.created, retry.errors) == (2, 1, 1, [])
        assert retry.worker.startswith("celery "), retry.worker
        assert [(d.vendor, d.model) for d in session.scalars(select(Device))] == [UPSS["apc-8932"][:2]]


def test_the_local_executor_sends_nothing():
    executors.dispatch({"SCAN_EXECUTOR": "local", "CELERY_BROKER_URL": "redis://127.0.0.1:1/15"}, 7)
    executors.dispatch({}, 7)  # local is the default


def test_an_unknown_executor_is_refused_with_the_choices():
    with pytest.raises(executors.UnknownExecutor) as refused:
        executors.dispatch({"SCAN_EXECUTOR": "threads"}, 7)
    assert str(refused.value) == "SCAN_EXECUTOR is 'threads'; it must be one of: local, celery"


@pytest.mark.parametrize("broker_url, error", [
    ("redis://:secret@127.0.0.1:1/15", "Error 111 connecting to 127.0.0.1:1. Connection refused."),
    ("amqp://guest:secret@127.0.0.1:1//", "[Errno 111] Connection refused"),
])
def test_a_broker_that_does_not_answer_is_said_without_its_password(broker_url, error):
    with pytest.raises(executors.ScanQueueUnavailable) as refused:
        executors.dispatch({"SCAN_EXECUTOR": "celery", "CELERY_BROKER_URL": broker_url}, 7)
    masked = broker_url.replace("secret", "**")
    assert refused.value.reason == f"the scan queue at {masked} did not take run 7: {error}"
    assert refused.value.status_code == 503


def test_one_celery_client_per_broker():
    first = executors.celery_client("redis://127.0.0.1:6379/15")
    assert executors.celery_client("redis://127.0.0.1:6379/15") is first
    assert executors.celery_client("amqp://guest:guest@127.0.0.1:5672//") is not first


def _progress(sessions, run_id: int) -> tuple[RunStatus, int]:
    with sessions() as session:
        run = session.get(ScanRun, run_id)
        return run.status, run.hosts_done


def _status(sessions, run_id: int) -> RunStatus:
    with sessions() as session:
        return session.get(ScanRun, run_id).status


def wait_for(condition, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s; the worker's log:\n{log.read_text()}")
        time.sleep(0.1)
