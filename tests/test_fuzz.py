"""Schemathesis against /api/openapi.json, in process (WSGI), as an administrator with an API token.

One derandomised run per module (8 requests that fit the document and 5 that do not, per operation: a
few hundred in all) on a SQLite copy of the migrated template, with the suite's organisation and two
devices; the first three tests read its findings, and a failure prints each distinct one with an
example. The last test sends generated requests again with a NUL character in each string input, on
SQLite and on PostgreSQL (which stores no NUL): every one must be refused, not answered with a 500."""
import shutil

import pytest

from app import create_app
from core.db import migrate
from inventory.devices import record_device
from inventory.observations import ObservedInterface
from tests.robustness.databases import Unavailable, build_organisation, shared_postgres_database
from tests.robustness.fuzzing import FuzzReport, fuzz_api, probe_nul_characters

POSITIVE_EXAMPLES = 8
NEGATIVE_EXAMPLES = 5


def organised_app(url: str):
    """The app on a migrated database, not TESTING: an exception it does not handle is the 500 a
    real client would get. The organisation and devices 1 and 2, for routes that take an id."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "fuzz"})
    migrate(app.extensions["engine"])  # at head already for a copy of the template: nothing to do
    sessions = app.extensions["sessions"]
    build_organisation(sessions)
    with sessions() as session, session.begin():
        record_device(session, "W1", {"serial": "FUZZ-1", "vendor": "Dell", "device_class": "workstation"},
                      by="fuzz", interfaces=[ObservedInterface(mac="02:00:00:00:00:01", ips=("10.0.0.1",))])
        record_device(session, "A1-D1", {"serial": "FUZZ-2", "hostname": "prn-01"}, by="fuzz")
    return app


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory, sqlite_template) -> FuzzReport:
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite3"
    shutil.copy(sqlite_template, path)
    app = organised_app(f"sqlite:///{path}")
    yield fuzz_api(app, positive_examples=POSITIVE_EXAMPLES, negative_examples=NEGATIVE_EXAMPLES)
    app.extensions["engine"].dispose()


def test_the_run_reached_every_operation(fuzzed):
    assert fuzzed.operations >= 30
    assert fuzzed.requests >= 250  # generation was not starved by filters (operations without input have few)


def test_no_request_makes_a_server_error(fuzzed):
    assert fuzzed.server_errors == 0, fuzzed.summary()
    assert not fuzzed.crashes, fuzzed.summary()


def test_every_answer_is_as_the_document_says(fuzzed):
    assert not fuzzed.violations, fuzzed.summary()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database_url(request, tmp_path, sqlite_template):
    if request.param == "sqlite":
        shutil.copy(sqlite_template, tmp_path / "nul.sqlite3")
        yield f"sqlite:///{tmp_path / 'nul.sqlite3'}"
        return
    try:  # a database of our own on the shared server, not the main suite's `test`
        with shared_postgres_database("readiness_robust_test_fuzz") as url:
            yield url
    except Unavailable as missing:
        pytest.skip(missing.reason)


def test_a_nul_character_in_any_string_input_is_refused_not_a_server_error(database_url):
    app = organised_app(database_url)
    try:
        report = probe_nul_characters(app)
    finally:
        app.extensions["engine"].dispose()
    assert report.requests >= 40
    assert not report.crashes, report.summary()
