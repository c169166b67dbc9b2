"""The server's database away while a collector's batch arrives: the server answers 503 and stores nothing, the
batch stays on the collector's disk, and once the database is back the collector's next try stores it once.

The database really goes away: a PostgreSQL database of this test's own refuses connections
(ALLOW_CONNECTIONS false) and its open connections are ended, as when its server restarts."""
import datetime as dt
import os
import uuid

import psycopg
import pytest
from sqlalchemy import func, select

from app import create_app
from core.db import make_engine, make_session_factory, migrate
from core.encryption import SecretBox
from discovery.collectors import service, wire
from discovery.collectors.backlog import Backlog
from discovery.collectors.sender import Sender, Server, State, Unreachable
from discovery.models import CollectorBatch, ScanRun
from discovery.scans import sweep_observations
from discovery.scopes import create_scope
from discovery.sweep import FoundHost
from inventory.models import Device, UnitKind
from inventory.units import NewUnit, create_unit
from tests.conftest import SECRETS_KEY
from tests.fleet import POSTGRES_ADMIN, drop_database, prepare_database
from tests.serving import serving

DATABASE = f"readiness_away_{os.getpid()}"
HOSTS = [FoundHost(address=f"127.0.10.{n}", mac=f"00:1b:21:00:00:{n:02x}", hostname=f"pc-{n}", mac_vendor="Intel",
                   os_guess=None, open_ports=(("tcp", 445, "microsoft-ds"),), hints=()) for n in range(1, 6)]


@pytest.fixture
def site(tmp_path):
    """A PostgreSQL database of its own with a ward, its scope and its collector; the URL and the token."""
    url, skipped = prepare_database("postgresql", tmp_path, DATABASE)
    if skipped:
        pytest.skip(skipped)
    engine = make_engine(url)
    migrate(engine)
    with make_session_factory(engine)() as session, session.begin():
        create_unit(session, NewUnit("W1", "Ward One", UnitKind.WARD, 20))
        scope = create_scope(session, unit_code="W1", name="site", networks="127.0.10.0/29", allowlist="127.0.0.0/8",
                             methods="nmap")
        collector, token = service.issue(session, SecretBox([SECRETS_KEY]), "W1", "site W1", "tests")
        service.assign_scopes(session, collector.id, [scope.id], "tests")
        scope_id = scope.id
    yield url, engine, token, scope_id
    engine.dispose()
    _allow_connections(True)
    drop_database("postgresql", DATABASE)


def _allow_connections(allowed: bool) -> None:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {DATABASE} ALLOW_CONNECTIONS {str(allowed).lower()}")
        if not allowed:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (DATABASE,))


def test_a_batch_that_arrives_while_the_database_is_away_gets_503_and_is_stored_once_when_it_is_back(
        site, tmp_path):
    url, engine, token, scope_id = site
    at = dt.datetime(2026, 12, 6, 2, 0)
    backlog = Backlog(tmp_path / "backlog")
    name = backlog.put(wire.batch_json(uuid.uuid4().hex, 1, scope_id, "nmap", "TCP connect", 8, at,
                                       at + dt.timedelta(seconds=4), sweep_observations(HOSTS, "W1", at)))
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "SECRETS_KEYS": SECRETS_KEY, "TESTING": True})
    try:
        with serving(app, threads=2) as base:
            server, state = Server(base, token), State()
            sender = Sender(server, backlog, state)
            _allow_connections(False)
            with pytest.raises(Unreachable) as away:
                server.send(b"{}")
            assert "503" in str(away.value)
            assert sender.send(*backlog.oldest()) is False  # kept on the disk, to be sent again
            assert backlog.count() == 1 and backlog.oldest()[0] == name
            assert "503" in state.last_error

            _allow_connections(True)
            assert sender.send(*backlog.oldest()) is True
            assert backlog.count() == 0 and state.last_error == ""
    finally:
        app.extensions["engine"].dispose()
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(CollectorBatch)) == 1
        assert session.scalar(select(func.count()).select_from(ScanRun)) == 1
        assert sorted(session.scalars(select(Device.hostname))) == [f"pc-{n}" for n in range(1, 6)]
