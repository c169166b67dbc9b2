"""search terms: the free-text search's values in a table of their own

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

`device.search_text` (migrations 0004, 0007) was one text per device in the device row, under a trigram
index of some sixty entries per row. PostgreSQL writes a new version of a row at every update, and
every index of the table gets an entry for it unless no indexed column changed: every sighting of a
device changes `last_seen`, so each one wrote the device's sixty trigram entries again, for a text that
had not changed. Measured over the benchmark's 100,000 observations (`bench/ingest.py`, one batch at a
time, PostgreSQL, with the ingestion changes of the same commit): 33.4 s before, 27.0 s after; the
device UPDATEs took 8.5 s and 5.4 s, this migration's triggers included.

Now `search_term` holds a device's searched values in rows of their own, which only a change of those
values writes: part "device" is serial, model, vendor, hostname and location, and part "interface:<id>"
each interface's MAC and addresses (the JSON text of `ips`; none for an empty list), their values joined
by U+001F, which no field holds (ingestion turns it into a space like any other white space). A
substring of a value that does not hold U+001F is a substring of one field, as the search has always
meant. Triggers keep it, the same on both databases, whoever writes: inserting a device or interface
adds its row (none if it has nothing searched); changing a searched field replaces it; an interface
moved to another device or deleted takes its row along or away.

Upgrade removes `device.search_text` and downgrade rebuilds it with migrations 0004's and 0007's own code.
"""
import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

SEARCHED = ("serial", "model", "vendor", "hostname", "location")
SEPARATOR = {"postgresql": "chr(31)", "sqlite": "char(31)"}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _drop_search_text(dialect)
    op.create_table(
        'search_term',
        sa.Column('device_id', sa.Integer(), nullable=False),
        sa.Column('part', sa.String(length=32), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_search_term_device_id_device'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('device_id', 'part', name=op.f('pk_search_term')))
    op.create_index('ix_search_term_value', 'search_term', ['value'], unique=False,
                    postgresql_using='gin', postgresql_ops={'value': 'gin_trgm_ops'})
    if dialect == "postgresql":
        _create_postgresql_triggers()
    else:
        _create_sqlite_triggers()
    device, interface = _device_value("device", dialect), _interface_value("interface", dialect)
    op.execute(f"INSERT INTO search_term (device_id, part, value) "
               f"SELECT id, 'device', {device} FROM device WHERE {device} <> '' UNION ALL "
               f"SELECT device_id, 'interface:' || id, {interface} FROM interface WHERE {interface} <> ''")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # CASCADE: each trigger function with the triggers that run it.
        for function in ("interface_search_term()", "device_search_term()", "set_search_term(integer, text, text)"):
            op.execute(f"DROP FUNCTION {function} CASCADE")
    else:
        for trigger in ("interface_search_term_delete", "interface_search_term_update",
                        "interface_search_term_insert", "device_search_term_update", "device_search_term_insert"):
            op.execute(f"DROP TRIGGER {trigger}")
    op.drop_table('search_term')  # and its index
    _earlier_migration("0004_device_search_text.py").upgrade()
    if op.get_bind().dialect.name == "postgresql":
        _earlier_migration("0007_search_text_checked_at_commit.py").upgrade()


def _device_value(row: str, dialect: str) -> str:
    """The searched fields of the device `row` (a table name or NEW), joined by U+001F; '' if none."""
    return _joined([f"{row}.{name}" for name in SEARCHED], dialect)


def _interface_value(row: str, dialect: str) -> str:
    """The interface's MAC and addresses, joined by U+001F; '' if it has neither (an empty list, or JSON
    null). CAST(... AS TEXT) keeps PostgreSQL's json text as written; SQLite stores it as text already."""
    return _joined([f"{row}.mac", f"NULLIF(NULLIF(CAST({row}.ips AS TEXT), '[]'), 'null')"], dialect)


def _joined(values: list[str], dialect: str) -> str:
    """The values that are not NULL, joined by U+001F: concat_ws, which SQLite before 3.44 lacks."""
    separator = SEPARATOR[dialect]
    return f"substr({' || '.join(f'coalesce({separator} || {value}, {chr(39) * 2})' for value in values)}, 2)"


def _drop_search_text(dialect: str) -> None:
    """What migrations 0004 and 0007 built, taken down by their own downgrades (0007's puts 0004's
    triggers back first)."""
    if dialect == "postgresql":
        _earlier_migration("0007_search_text_checked_at_commit.py").downgrade()
    _earlier_migration("0004_device_search_text.py").downgrade()


def _create_postgresql_triggers() -> None:
    # PL/pgSQL, not SQL functions: PL/pgSQL keeps its statements' plans for the session.
    op.execute("""
        CREATE FUNCTION set_search_term(device integer, term_part text, searched text) RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
            IF searched = '' THEN
                DELETE FROM search_term WHERE device_id = device AND part = term_part;
            ELSE
                INSERT INTO search_term (device_id, part, value) VALUES (device, term_part, searched)
                ON CONFLICT (device_id, part) DO UPDATE SET value = EXCLUDED.value;
            END IF;
        END $$""")
    op.execute(f"""
        CREATE FUNCTION device_search_term() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM set_search_term(NEW.id, 'device', {_device_value('NEW', 'postgresql')});
            RETURN NULL;
        END $$""")
    changed = " OR ".join(f"OLD.{name} IS DISTINCT FROM NEW.{name}" for name in SEARCHED)
    op.execute("CREATE TRIGGER device_search_term_insert AFTER INSERT ON device "
               "FOR EACH ROW EXECUTE FUNCTION device_search_term()")
    op.execute(f"CREATE TRIGGER device_search_term_update AFTER UPDATE ON device "
               f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION device_search_term()")
    op.execute(f"""
        CREATE FUNCTION interface_search_term() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (NEW.device_id, NEW.id) IS DISTINCT FROM (OLD.device_id, OLD.id)) THEN
                DELETE FROM search_term WHERE device_id = OLD.device_id AND part = 'interface:' || OLD.id;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                PERFORM set_search_term(NEW.device_id, 'interface:' || NEW.id, {_interface_value('NEW', 'postgresql')});
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER interface_search_term_change AFTER INSERT OR DELETE ON interface "
               "FOR EACH ROW EXECUTE FUNCTION interface_search_term()")
    # json has no equality operator: the addresses compare as text.
    op.execute("CREATE TRIGGER interface_search_term_update AFTER UPDATE ON interface FOR EACH ROW "
               "WHEN (OLD.id <> NEW.id OR OLD.device_id IS DISTINCT FROM NEW.device_id OR OLD.mac IS DISTINCT FROM NEW.mac "
               "OR OLD.ips::text IS DISTINCT FROM NEW.ips::text) EXECUTE FUNCTION interface_search_term()")


def _create_sqlite_triggers() -> None:
    def set_term(device: str, part: str, value: str) -> str:
        # The WHERE before ON CONFLICT is SQLite's way to tell the SELECT's end from the upsert clause.
        return (f"DELETE FROM search_term WHERE device_id = {device} AND part = {part} AND {value} = ''; "
                f"INSERT INTO search_term (device_id, part, value) SELECT {device}, {part}, {value} "
                f"WHERE {value} <> '' ON CONFLICT (device_id, part) DO UPDATE SET value = excluded.value;")

    device_term = set_term("new.id", "'device'", _device_value("new", "sqlite"))
    op.execute(f"CREATE TRIGGER device_search_term_insert AFTER INSERT ON device BEGIN {device_term} END")
    changed = " OR ".join(f"old.{name} IS NOT new.{name}" for name in SEARCHED)
    op.execute(f"CREATE TRIGGER device_search_term_update AFTER UPDATE ON device WHEN {changed} BEGIN {device_term} END")
    interface_term = set_term("new.device_id", "'interface:' || new.id", _interface_value("new", "sqlite"))
    remove_old = "DELETE FROM search_term WHERE device_id = old.device_id AND part = 'interface:' || old.id;"
    op.execute(f"CREATE TRIGGER interface_search_term_insert AFTER INSERT ON interface BEGIN {interface_term} END")
    op.execute(f"CREATE TRIGGER interface_search_term_update AFTER UPDATE ON interface "
               f"WHEN old.id IS NOT new.id OR old.device_id IS NOT new.device_id OR old.mac IS NOT new.mac "
               f"OR old.ips IS NOT new.ips BEGIN "
               f"{remove_old} {interface_term} END")
    op.execute(f"CREATE TRIGGER interface_search_term_delete AFTER DELETE ON interface BEGIN {remove_old} END")


def _earlier_migration(filename: str):
    """An earlier migration's module, to build again what it built."""
    spec = importlib.util.spec_from_file_location(f"migration_{filename[:4]}", Path(__file__).with_name(filename))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
