"""Fixtures: a real database (a SQLite file and the PostgreSQL server), the app, and test data
built through the services, never by writing rows directly."""
import datetime as dt
import os
import shutil
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from accounts.models import Role
from accounts.permissions import ROLE_PERMISSIONS
from accounts.services import create_token, create_user
from app import create_app
from core.db import Base, make_engine, make_session_factory, migrate
from core.encryption import new_key
from inventory.models import Unit, UnitKind
from inventory.units import NewUnit, create_unit

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
T0 = dt.datetime(2026, 11, 2, 8, 0)
PASSWORD = "correct horse battery"
SECRETS_KEY = new_key()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """One migrated SQLite file per test session; each test gets a copy (migrating takes ~0.3 s)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()  # closes the last connection: SQLite folds the WAL back into the file
    return path


@pytest.fixture(scope="session")
def postgres_engine():
    """A database of this test run's own on the server (created through the `test` database and dropped
    at the end), so that two runs at once, a developer's and CI's, never truncate each other's tables."""
    server = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"readiness_test_{os.getpid()}"
    try:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        server.dispose()
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} cannot be reached: {str(error.orig).strip()}")
    engine = make_engine(server.url.set(database=name).render_as_string(hide_password=False))
    migrate(engine)
    yield engine
    engine.dispose()
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def engine(request, tmp_path, sqlite_template):
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(sqlite_template, path)
        engine = make_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("postgres_engine")
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield engine


@pytest.fixture
def sessions(engine):
    return make_session_factory(engine)


@pytest.fixture
def app(engine):
    app = create_app({"DATABASE_URL": engine.url.render_as_string(hide_password=False), "SECRET_KEY": "test",
                      "SECRETS_KEYS": SECRETS_KEY, "TESTING": True})
    yield app
    app.extensions["engine"].dispose()


def wait_for_run(client, run_id: int, seconds: float = 60) -> dict:
    """The run as the API gives it once it is neither queued nor running."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = client.get(f"/api/scan-runs/{run_id}").json
        if run["status"] not in ("queued", "running"):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} still queued or running after {seconds} s")


@pytest.fixture
def worker(app):
    """A worker for the test's app, as `flask --app app worker` runs one (its loop, in a thread of the test):
    the runs the test queues are carried through. Schedules are left to the tests of schedules."""
    from tests.serving import worker_thread
    with worker_thread(app, schedules=False):
        yield


@pytest.fixture
def anonymous(app):
    return app.test_client()


@pytest.fixture
def token_for(sessions):
    """token_for(role): an account of that role, made on first use, and an API token of every permission
    the role has. The unit officer answers for W1 (made here if the test has no `org`).

    Accounts are made only when asked for: each password hash (argon2) costs a quarter of a second."""
    made = {}

    def token(role: Role) -> str:
        if role not in made:
            with sessions() as session, session.begin():
                if role is Role.UNIT_OFFICER and \
                        session.scalars(select(Unit.id).where(Unit.code == "W1")).first() is None:
                    create_unit(session, NewUnit("W1", "Ward One", UnitKind.WARD, 20))
                user = create_user(session, role.value.replace("_", "-"), role.value.title(), PASSWORD, role,
                                   ["W1"] if role is Role.UNIT_OFFICER else [])
                _, made[role] = create_token(session, user, "tests", ROLE_PERMISSIONS[role.value])
        return made[role]
    return token


def client_as(app, token: str):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


@pytest.fixture
def client(app, org, token_for):
    """An administrator's API client, over the `org` organisation."""
    return client_as(app, token_for(Role.ADMIN))


@pytest.fixture
def officer(app, org, token_for):
    """The API client of W1's unit officer."""
    return client_as(app, token_for(Role.UNIT_OFFICER))


@pytest.fixture
def org(sessions):
    """A city with an agency, two wards and a department: codes C, A1, W1, W2, A1-D1."""
    with sessions() as session, session.begin():
        create_unit(session, NewUnit("C", "City", UnitKind.CITY, 0))
        create_unit(session, NewUnit("A1", "Agency One", UnitKind.AGENCY, 40), parent_code="C")
        create_unit(session, NewUnit("A1-D1", "Department", UnitKind.DEPARTMENT, 12), parent_code="A1")
        create_unit(session, NewUnit("W1", "Ward One", UnitKind.WARD, 20), parent_code="C")
        create_unit(session, NewUnit("W2", "Ward Two", UnitKind.WARD, 15), parent_code="C")
    return sessions


def table_contents(engine) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order: equal before and after means nothing changed.

    API tokens are left out: using one records when it was last used, which is bookkeeping, not data."""
    contents = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name == "api_token":
                continue
            key = [c for c in table.primary_key.columns]
            rows = connection.execute(select(table).order_by(*key)).all()
            contents[table.name] = [tuple(row) for row in rows]
    return contents
