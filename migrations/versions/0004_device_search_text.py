"""device search text: one text per device for the free-text search, kept by the database

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

`device.search_text` is serial, model, vendor, hostname, location and each interface's MAC and
addresses (the JSON text of `ips`), joined by U+001F, which no field holds: a substring of it that
does not hold U+001F is a substring of one field, as the search has always meant.

Triggers keep it, not the ORM: ingestion writes devices with Core INSERT/UPDATE. The protocol, the
same on both databases: inserting a device computes it; updating a searched field, or writing any
other value (NULL included) into `search_text`, recomputes it; an interface inserted, deleted, moved
or with a new MAC or addresses writes NULL into its devices' `search_text`, which recomputes it.
Ingestion writes back the whole row as it read it, stale `search_text` included: that value is the
stored one, so it recomputes nothing.

PostgreSQL finds substrings of 3 or more characters through a pg_trgm GIN index (ILIKE '%q%').
SQLite has no such index: a B-tree on the column lets a search read that index alone, a few MB,
instead of every wide device row (provenance, specs).
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

SEARCHED = ("serial", "model", "vendor", "hostname", "location")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.add_column('device', sa.Column('search_text', sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        _create_postgresql_triggers()
    else:
        _create_sqlite_triggers()
    op.execute("UPDATE device SET search_text = ''")  # a value written: the trigger computes the real one
    op.create_index('ix_device_search_text', 'device', ['search_text'], unique=False,
                    postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})


def downgrade() -> None:
    op.drop_index('ix_device_search_text', table_name='device')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER interface_search_text_update ON interface")
        op.execute("DROP TRIGGER interface_search_text_change ON interface")
        op.execute("DROP TRIGGER device_search_text_update ON device")
        op.execute("DROP TRIGGER device_search_text_insert ON device")
        op.execute("DROP FUNCTION interface_search_text()")
        op.execute("DROP FUNCTION device_search_text()")
    else:
        for trigger in ("interface_search_text_delete", "interface_search_text_update",
                        "interface_search_text_insert", "device_search_text_update", "device_search_text_insert"):
            op.execute(f"DROP TRIGGER {trigger}")
    # The extension stays: other databases' objects may use it, and dropping it needs more rights.
    # A plain DROP COLUMN (SQLite 3.35+): batch mode would copy the table its children point at.
    op.drop_column('device', 'search_text')


def _create_postgresql_triggers() -> None:
    op.execute(r"""
        CREATE FUNCTION device_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.search_text := concat_ws(E'\x1f', NEW.serial, NEW.model, NEW.vendor, NEW.hostname, NEW.location,
                (SELECT string_agg(concat_ws(E'\x1f', i.mac, i.ips::text), E'\x1f' ORDER BY i.id)
                   FROM interface i WHERE i.device_id = NEW.id));
            RETURN NEW;
        END $$""")
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in (*SEARCHED, "search_text"))
    op.execute("CREATE TRIGGER device_search_text_insert BEFORE INSERT ON device "
               "FOR EACH ROW EXECUTE FUNCTION device_search_text()")
    op.execute(f"CREATE TRIGGER device_search_text_update BEFORE UPDATE ON device "
               f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION device_search_text()")
    op.execute(r"""
        CREATE FUNCTION interface_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                UPDATE device SET search_text = NULL WHERE id = OLD.device_id;
            END IF;
            IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.device_id IS DISTINCT FROM OLD.device_id) THEN
                UPDATE device SET search_text = NULL WHERE id = NEW.device_id;
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER interface_search_text_change AFTER INSERT OR DELETE ON interface "
               "FOR EACH ROW EXECUTE FUNCTION interface_search_text()")
    # json has no equality operator: the addresses compare as text.
    op.execute("CREATE TRIGGER interface_search_text_update AFTER UPDATE ON interface FOR EACH ROW "
               "WHEN (OLD.device_id IS DISTINCT FROM NEW.device_id OR OLD.mac IS DISTINCT FROM NEW.mac "
               "OR OLD.ips::text IS DISTINCT FROM NEW.ips::text) EXECUTE FUNCTION interface_search_text()")


def _create_sqlite_triggers() -> None:
    # SQLite's triggers run after the write (a BEFORE trigger cannot change NEW): they UPDATE the row.
    text = ("coalesce(new.serial, '') || char(31) || coalesce(new.model, '') || char(31) || "
            "coalesce(new.vendor, '') || char(31) || coalesce(new.hostname, '') || char(31) || "
            "coalesce(new.location, '') || coalesce((SELECT group_concat(char(31) || coalesce(i.mac, '') || "
            "char(31) || coalesce(i.ips, ''), '') FROM interface AS i WHERE i.device_id = new.id), '')")
    op.execute(f"CREATE TRIGGER device_search_text_insert AFTER INSERT ON device BEGIN "
               f"UPDATE device SET search_text = {text} WHERE id = new.id; END")
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in (*SEARCHED, "search_text"))
    # "search_text IS NOT": the trigger's own write, seen again, writes nothing (recursive_triggers or not).
    op.execute(f"CREATE TRIGGER device_search_text_update AFTER UPDATE ON device WHEN {changed} BEGIN "
               f"UPDATE device SET search_text = {text} WHERE id = new.id AND search_text IS NOT {text}; END")
    op.execute("CREATE TRIGGER interface_search_text_insert AFTER INSERT ON interface BEGIN "
               "UPDATE device SET search_text = NULL WHERE id = new.device_id; END")
    op.execute("CREATE TRIGGER interface_search_text_update AFTER UPDATE ON interface "
               "WHEN old.device_id IS NOT new.device_id OR old.mac IS NOT new.mac OR old.ips IS NOT new.ips BEGIN "
               "UPDATE device SET search_text = NULL WHERE id IN (old.device_id, new.device_id); END")
    op.execute("CREATE TRIGGER interface_search_text_delete AFTER DELETE ON interface BEGIN "
               "UPDATE device SET search_text = NULL WHERE id = old.device_id; END")
