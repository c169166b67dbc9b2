"""Shared database plumbing: the declarative Base, engines, sessions and migrations."""
import enum
import functools
import logging
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy import Enum as SaEnum
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from core.errors import SchemaNotMigrated
from core.i18n import Reason

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

# Named constraints so that Alembic can alter them on SQLite (batch mode) and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Enums are stored as short strings: adding a status never needs ALTER TYPE.
    type_annotation_map = {enum.Enum: SaEnum(enum.Enum, native_enum=False, length=32,
                                             values_callable=lambda e: [m.value for m in e])}


def dumps_json(value: Any) -> str:
    """JSON text as every JSON column stores it: orjson, a C encoder several times faster than the standard
    library's, which ingestion (history, evidence, provenance) spent a tenth of its time in."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def loads_json(text: str | bytes | int | float) -> Any:
    """The value of a JSON column. SQLite hands a stored number back as a number (the column's affinity
    is numeric); SQLAlchemy expects the standard library's TypeError for it, not orjson's ValueError."""
    return text if isinstance(text, int | float) else orjson.loads(text)


def make_engine(url: str, **kwargs) -> Engine:
    """An engine with SQLite set up for a web service: WAL, foreign keys, a busy timeout; JSON columns
    written and read by orjson."""
    kwargs.setdefault("json_serializer", dumps_json)
    kwargs.setdefault("json_deserializer", loads_json)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
    else:
        kwargs.setdefault("pool_pre_ping", True)  # a restarted server's dead connections are replaced, not used
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a crash loses no committed batch
    cursor.close()


def one_at_a_time(session: Session, name: str) -> None:
    """Hold a lock named `name` until the session's transaction ends: the same work started by two processes (two
    workers' schedulers, a button) runs one after the other, the second on what the first wrote. PostgreSQL's
    transaction-level advisory lock; SQLite lets one transaction write at a time already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False keeps a committed object serialisable after the handler commits.
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` with the real migrations (never create_all)."""
    command.upgrade(alembic_config(engine), revision)


@functools.cache  # the migrations a process runs with do not change while it runs
def head_revision() -> str:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def require_migrated(engine: Engine) -> None:
    """Refuse to serve a database whose schema is not the code's: it would fail half-way."""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    head = head_revision()
    if current != head:
        # The answer reaches callers before sign-in: it names the fix, not the database's URL, host, user or
        # name. The operator finds those in the log.
        log.error("the database %s is at schema revision %s, the code needs %s",
                  engine.url.render_as_string(hide_password=True), current or "none", head)
        raise SchemaNotMigrated(Reason("the database schema is not current: run `flask --app app db upgrade` "
                                       "(or `make run`) first"))


def request_session() -> Session:
    """The request's session: one per request, on flask.g; the app's teardown closes it."""
    from flask import current_app, g
    if "db_session" not in g:
        g.db_session = current_app.extensions["sessions"]()
    return g.db_session
