"""Robustness run: the scenarios of tests/robustness, outside pytest, with a summary of what they saw.

    .venv/bin/python bench/robustness.py [--kill-observations 20000] [--writers 50] [--race-devices 200]
                                         [--only attacks]

1. Fuzzing: schemathesis over /api/openapi.json (WSGI, as an administrator's token) on SQLite and on
   PostgreSQL, derandomised; then every generated request again with a NUL character in each string
   input (PostgreSQL stores none: each must be refused with a 4xx).
2. Races on PostgreSQL: nmap and SNMP batches describing the same devices ingested at once (3 rounds);
   N writers over HTTP (waitress on 127.0.0.1) each PATCHing its own spec of a device shared by ten writers
   and POSTing one shared serial.
3. Faults: a private PostgreSQL cluster stopped (`pg_ctl stop -m immediate`) during a 20,000-row
   import and started again; a process SIGKILLed mid-batch on SQLite and PostgreSQL; an export onto a
   full 16 KiB tmpfs.
4. Attacks of the security review (tests/robustness/attacks.py), on SQLite and PostgreSQL, against the
   app under waitress on 127.0.0.1 (guesses from 127.0.0.2-13): a narrow token minting a wider one, a
   scan of one unit carrying another unit's device, the worst uploads, formulas planted for the
   exports, a session cookie replayed after sign-out, another address locking a user out, and an
   officer learning another unit's device ids.

Databases: a temporary SQLite file, databases `readiness_robust*` on the PostgreSQL server at
127.0.0.1:5432 (dropped and created afresh, never the test suite's `test`), a private cluster in a
temporary directory. A part that is missing (no server, no initdb, no mount) is skipped with the
reason. Only loopback is contacted.

Progress goes to stderr. The last stdout line has the figures as key=value pairs: requests sent,
server_errors (5xx and crashes, other than the 503s a stopped database is meant to give),
lost_updates, duplicates (devices stored twice), partial_batches (a batch stored in part), then
schema_violations (answers unlike the API document) and skipped scenarios, then what the attacks got
through: token_escalations, cross_unit_moves, upload_cpu_s (the most CPU one upload cost the server
before it was refused), formula_cells, replayed_sessions, lockouts_of_others and scope_leaks, and
upload_cpu_met (under 2 s); largest_import_cpu_s, what a file of IMPORT_MAX_ROWS rows refused for its last
row costs (no target: lower the limits to lower it). The exit status is 1 if any of those but requests, skipped and
upload_cpu_s is not zero, or upload_cpu_met is 0."""
import argparse
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as `python bench/robustness.py`: the project is not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from core.db import migrate
from inventory.devices import record_device  # noqa: E402
from tests.robustness import scenarios  # noqa: E402
from tests.robustness.attacks import largest_refused_imports, run_attacks  # noqa: E402
from tests.robustness.databases import (  # noqa: E402
    Unavailable,
    build_organisation,
    private_postgres_cluster,
    shared_postgres_database,
)
from tests.robustness.fuzzing import fuzz_api, probe_nul_characters  # noqa: E402

FUZZ_POSITIVE, FUZZ_NEGATIVE = 8, 5  # generated requests per operation: fitting the document, and not
STOP_ROWS = 20_000
UPLOAD_CPU_TARGET_S = 2.0


class Figures:
    def __init__(self) -> None:
        self.values = {"requests": 0, "server_errors": 0, "lost_updates": 0, "duplicates": 0, "partial_batches": 0,
                       "schema_violations": 0, "skipped": 0, "token_escalations": 0, "cross_unit_moves": 0,
                       "upload_cpu_s": 0.0, "formula_cells": 0, "replayed_sessions": 0, "lockouts_of_others": 0,
                       "scope_leaks": 0}
        self.findings: list[str] = []
        self.lines: list[str] = []

    def add(self, **values: int) -> None:
        for key, value in values.items():
            self.values[key] += value


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # the scenarios provoke errors on purpose; the figures tell
    figures = Figures()
    started = time.perf_counter()
    steps: list[tuple[str, Callable[[Figures], None]]] = [
        ("fuzz sqlite", lambda f: fuzz_on(f, "sqlite")),
        ("fuzz postgresql", lambda f: fuzz_on(f, "postgresql")),
        ("ingestion race", lambda f: ingestion_race(f, args.race_devices)),
        ("api writers race", lambda f: writers_race(f, args.writers)),
        ("database stopped mid-import", database_stopped),
        ("process killed mid-batch, sqlite", lambda f: killed_batch(f, "sqlite", args.kill_observations)),
        ("process killed mid-batch, postgresql", lambda f: killed_batch(f, "postgresql", args.kill_observations)),
        ("export onto a full disk", full_disk),
        ("attacks, sqlite", lambda f: attacks(f, "sqlite")),
        ("attacks, postgresql", lambda f: attacks(f, "postgresql")),
        ("largest imports refused at their last row", largest_imports),
    ]
    for name, step in [(name, step) for name, step in steps if not args.only or args.only in name]:
        step_started = time.perf_counter()
        say(f"{name}: running")
        try:
            step(figures)
        except Unavailable as missing:
            figures.add(skipped=1)
            figures.lines.append(f"{name}: SKIPPED ({missing.reason})")
        say(f"{name}: {time.perf_counter() - step_started:.1f} s")
    figures.values["upload_cpu_met"] = int(figures.values["upload_cpu_s"] < UPLOAD_CPU_TARGET_S)
    print_summary(figures, time.perf_counter() - started)
    bad = {k: v for k, v in figures.values.items() if k not in ("requests", "skipped", "upload_cpu_s",
                                                                  "upload_cpu_met", "largest_import_cpu_s") and v}
    sys.exit(1 if bad or not figures.values["upload_cpu_met"] else 0)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kill-observations", type=int, default=20_000, help="size of the batch that is killed")
    parser.add_argument("--writers", type=int, default=50, help="concurrent API writers")
    parser.add_argument("--race-devices", type=int, default=200, help="devices per ingestion race round")
    parser.add_argument("--only", metavar="TEXT", help="run only the steps whose name holds TEXT (e.g. attacks)")
    return parser.parse_args()


def fuzz_on(figures: Figures, database: str) -> None:
    with _database(database, "readiness_robust_fuzz") as url:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
        try:
            migrate(app.extensions["engine"])
            sessions = app.extensions["sessions"]
            build_organisation(sessions)
            with sessions() as session, session.begin():
                record_device(session, "W1", {"serial": "FUZZ-1", "vendor": "Dell"}, by="bench")
            fuzzed = fuzz_api(app, positive_examples=FUZZ_POSITIVE, negative_examples=FUZZ_NEGATIVE)
            nul = probe_nul_characters(app)
        finally:
            app.extensions["engine"].dispose()
    for label, report in ((f"fuzz {database}", fuzzed), (f"NUL probe {database}", nul)):
        figures.add(requests=report.requests, server_errors=report.server_errors,
                    schema_violations=len(report.violations))
        figures.lines.append(f"{label}: {report.requests} requests over {report.operations} operations, "
                             f"{report.server_errors} server errors ({len(report.crashes)} distinct), "
                             f"{len(report.violations)} distinct answers unlike the document")
        figures.findings += [f"{label}: {title}" for title in sorted({**report.crashes, **report.violations})]


def ingestion_race(figures: Figures, devices: int) -> None:
    with shared_postgres_database("readiness_robust") as url:
        race = scenarios.race_two_ingestions(url, devices=devices, rounds=3)
    figures.add(duplicates=race.duplicates, server_errors=len(race.errors))
    figures.lines.append(f"ingestion race: {race.rounds} rounds of nmap and SNMP batches at once, {race.devices} "
                         f"devices stored for {race.devices_expected}; duplicate serials {race.duplicate_serials}, "
                         f"MACs on two devices {race.duplicate_macs}, serial and MAC apart {race.split_records}"
                         + (f"; errors: {race.errors}" if race.errors else ""))


def writers_race(figures: Figures, writers: int) -> None:
    with shared_postgres_database("readiness_robust") as url:
        race = scenarios.race_api_writers(url, writers=writers)
    figures.add(requests=race.requests, server_errors=race.server_errors, lost_updates=race.lost_updates,
                duplicates=race.duplicates)
    figures.lines.append(f"API writers: {race.writers} at once, {race.requests} requests, {race.server_errors} 5xx, "
                         f"{race.lost_updates} lost updates, {race.shared_serial_devices} device(s) for the shared "
                         f"serial" + (f"; other failures: {race.failures[:5]}" if race.failures else ""))


def database_stopped(figures: Figures) -> None:
    with private_postgres_cluster() as cluster:
        stopped = scenarios.stop_database_mid_import(cluster, rows=STOP_ROWS)
    expected = {"code": 503, "status": "Service Unavailable", "message": scenarios.UNAVAILABLE}
    unexpected = [s for s, body in ((stopped.status, stopped.body), (stopped.down_status, stopped.down_body))
                  if s is None or (s >= 500 and body != expected)]
    figures.add(requests=3, server_errors=len(unexpected) + (stopped.recovered_status != 200),
                partial_batches=stopped.devices_after_restart not in (0, STOP_ROWS))
    figures.lines.append(f"database stopped mid-import ({STOP_ROWS:,} rows, stopped after rows were written: "
                         f"{stopped.stopped_mid_write}): answered {stopped.status} {_message(stopped.body)}; "
                         f"while down {stopped.down_status} {_message(stopped.down_body)}; after restart "
                         f"{stopped.devices_after_restart} devices stored, the same app answers "
                         f"{stopped.recovered_status} (total {stopped.recovered_total})")


def killed_batch(figures: Figures, database: str, observations: int) -> None:
    with _database(database, "readiness_robust_kill") as url:
        killed = scenarios.kill_mid_ingest(url, observations=observations)
    figures.add(partial_batches=killed.partial, server_errors=killed.app_health != 200)
    figures.lines.append(f"killed mid-batch, {database}: {observations:,} observations, SIGKILL before commit "
                         f"{killed.killed_before_commit}; {killed.devices} devices stored; integrity "
                         f"{killed.integrity}; the app starts: /health {killed.app_health}, "
                         f"devices total {killed.app_devices_total}")


def full_disk(figures: Figures) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="readiness-disk-"))
    try:
        export = scenarios.export_to_full_disk(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    plain = export.returncode == 1 and "No space left on device; nothing was written" in export.stderr
    figures.add(partial_batches=len(export.left_behind), server_errors=not plain)
    figures.lines.append(f"export onto a full disk: exit {export.returncode}, {export.stderr.strip()!r}, "
                         f"files left behind {export.left_behind}")


def attacks(figures: Figures, database: str) -> None:
    with _database(database, "readiness_robust_attacks") as url:
        found = run_attacks(url)
    counts = found.counts()
    figures.values["upload_cpu_s"] = max(figures.values["upload_cpu_s"], counts.pop("upload_cpu_s"))
    figures.add(requests=found.requests, **counts)
    figures.lines.append(f"attacks, {database}: {found.requests} requests; answered "
                         + ", ".join(f"{attack} {sorted(set(statuses))}" for attack, statuses in found.answers.items()))
    figures.lines += [f"  {line}" for line in found.lines]
    figures.findings += [f"attacks, {database}: {breach}" for breach in found.breaches]


def largest_imports(figures: Figures) -> None:
    """Within the limits, not an attack: how much the costliest refusal costs (no target: the limits set it)."""
    with _database("sqlite", "") as url:
        measured = largest_refused_imports(url)
    figures.values["largest_import_cpu_s"] = round(max(cpu_s for _name, _status, cpu_s in measured), 2)
    figures.add(requests=len(measured), server_errors=sum(status >= 500 for _name, status, _cpu_s in measured))
    figures.lines.append("largest imports refused at their last row: " + ", ".join(
        f"{name} {status} in {cpu_s:.1f} s CPU" for name, status, cpu_s in measured))


class _database:
    """A fresh SQLite file in a temporary directory, or a fresh database on the shared server."""

    def __init__(self, kind: str, postgres_name: str):
        self.kind, self.postgres_name = kind, postgres_name

    def __enter__(self) -> str:
        if self.kind == "postgresql":
            self.context = shared_postgres_database(self.postgres_name)
            return self.context.__enter__()
        self.directory = tempfile.mkdtemp(prefix="readiness-robust-")
        return f"sqlite:///{self.directory}/robust.sqlite3"

    def __exit__(self, *exc: Any) -> None:
        if self.kind == "postgresql":
            self.context.__exit__(*exc)
        else:
            shutil.rmtree(self.directory, ignore_errors=True)


def _message(body: Any) -> str:
    return repr(body.get("message")) if isinstance(body, dict) else repr(body)


def print_summary(figures: Figures, elapsed_s: float) -> None:
    print(f"robustness run: {elapsed_s:.0f} s")
    for line in figures.lines:
        print(f"  {line}")
    if figures.findings:
        print("findings (see the tests for examples):")
        for finding in figures.findings:
            print(f"  {finding}")
    print(" ".join(f"{key}={value}" for key, value in figures.values.items()), flush=True)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
