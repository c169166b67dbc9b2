"""Faults made for real: the PostgreSQL server stopped mid-request (a private cluster, `pg_ctl stop -m
immediate`), a process SIGKILLed mid-batch, a disk that is full (a 16 KiB tmpfs). Each leaves the
data whole or untouched, and the service says so plainly."""
import pytest

from tests.robustness.databases import Unavailable
from tests.robustness.scenarios import UNAVAILABLE, export_to_full_disk, kill_mid_ingest, stop_database_mid_import

# Sizes that keep these tests to seconds; bench/robustness.py runs both at 20,000.
KILLED_BATCH = 5_000  # observations
STOPPED_IMPORT = 5_000  # rows


@pytest.mark.postgresql
def test_a_database_that_stops_mid_import_answers_503_and_keeps_nothing_of_it(private_cluster):
    stopped = stop_database_mid_import(private_cluster, rows=STOPPED_IMPORT)
    assert stopped.stopped_mid_write  # else the stop missed the window it is meant to test
    assert (stopped.status, stopped.body) == (503, {"code": 503, "status": "Service Unavailable",
                                                     "message": UNAVAILABLE})
    assert (stopped.down_status, stopped.down_body["message"]) == (503, UNAVAILABLE)
    assert stopped.devices_after_restart == 0  # all or nothing; the stop came before the commit
    assert (stopped.recovered_status, stopped.recovered_total) == (200, 0)  # same app, no restart needed


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def test_a_batch_killed_mid_write_leaves_nothing_or_everything(database, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'killed.sqlite3'}" if database == "sqlite" else \
        request.getfixturevalue("robust_postgres_url")
    killed = kill_mid_ingest(url, observations=KILLED_BATCH)
    assert killed.killed_before_commit  # SIGKILL landed after the first rows were written, before the commit
    assert killed.devices in (0, KILLED_BATCH) and not killed.partial
    assert killed.integrity in ("ok", "n/a")
    assert (killed.app_health, killed.app_devices_total) == (200, killed.devices)  # the app starts on it


def test_an_export_onto_a_full_disk_fails_plainly_and_leaves_no_file(tmp_path):
    try:
        export = export_to_full_disk(tmp_path)
    except Unavailable as missing:
        pytest.skip(missing.reason)
    assert export.returncode == 1
    assert "No space left on device; nothing was written" in export.stderr
    assert export.stderr.startswith(f"Error: could not write {tmp_path / 'full' / 'u.csv'}: ")
    assert export.left_behind == []  # neither u.csv nor its .u.csv.partial
