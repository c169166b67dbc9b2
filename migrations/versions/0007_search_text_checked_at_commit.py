"""search text checked at commit: an interface change no longer writes its device row a second time

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

PostgreSQL only; SQLite keeps the triggers of 0004. There, every new device and every interface change
wrote the device row twice: once by ingestion, once more by the interface trigger's
`UPDATE device SET search_text = NULL` (a new row version, an entry in each of the device's ten indexes
and some sixty in the trigram index; autovacuum may be off): a fifth of ingestion's statement time.

Now ingestion writes the value itself: a new device's row carries its search text, interfaces to come
included, and a stored device whose interfaces it changes is written after them with `search_text`
NULL, which recomputes it. The triggers stay the safety net for every other writer:

- inserting a device computes its search text, unless the row carries one: that one is checked at
  commit, as are its interfaces;
- updating a searched field, or writing any value (NULL included) into `search_text`, recomputes it,
  as before;
- an interface inserted, deleted, moved or with a new MAC or addresses is checked at commit
  (a deferred constraint trigger): its devices' search text is recomputed if it is not what it must be.
  Until then a writer other than ingestion reads the previous search text in its own transaction.
"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

def search_text_of(row: str) -> str:
    """The search text of the device `row` (a row variable or table alias), as migration 0004 computes it."""
    return (f"concat_ws(E'\\x1f', {row}.serial, {row}.model, {row}.vendor, {row}.hostname, {row}.location, "
            f"(SELECT string_agg(concat_ws(E'\\x1f', i.mac, i.ips::text), E'\\x1f' ORDER BY i.id) "
            f"FROM interface i WHERE i.device_id = {row}.id))")


FIELDS_ONLY = "concat_ws(E'\\x1f', NEW.serial, NEW.model, NEW.vendor, NEW.hostname, NEW.location)"
# Recompute (NULL: the device trigger computes it) where the stored value is not what it must be.
RECHECK = f"UPDATE device d SET search_text = NULL WHERE d.id = %s AND d.search_text IS DISTINCT FROM {search_text_of('d')};"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER interface_search_text_update ON interface")
    op.execute("DROP TRIGGER interface_search_text_change ON interface")
    op.execute("DROP FUNCTION interface_search_text()")
    op.execute(f"""
        CREATE OR REPLACE FUNCTION device_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' AND NEW.search_text IS NOT NULL THEN
                RETURN NEW;  -- the writer's own value, checked at commit (device_search_text_check)
            END IF;
            NEW.search_text := {search_text_of('NEW')};
            RETURN NEW;
        END $$""")
    op.execute(f"""
        CREATE FUNCTION device_search_text_check() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {RECHECK % 'NEW.id'}
            RETURN NULL;
        END $$""")
    # A value with no interfaces' part is the computed one (a new device has no interfaces yet).
    op.execute(f"CREATE CONSTRAINT TRIGGER device_search_text_check AFTER INSERT ON device "
               f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.search_text IS DISTINCT FROM {FIELDS_ONLY}) "
               f"EXECUTE FUNCTION device_search_text_check()")
    op.execute(f"""
        CREATE FUNCTION interface_search_text_check() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                {RECHECK % 'OLD.device_id'}
            END IF;
            IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.device_id IS DISTINCT FROM OLD.device_id) THEN
                {RECHECK % 'NEW.device_id'}
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("CREATE CONSTRAINT TRIGGER interface_search_text_change AFTER INSERT OR DELETE ON interface "
               "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION interface_search_text_check()")
    # json has no equality operator: the addresses compare as text.
    op.execute("CREATE CONSTRAINT TRIGGER interface_search_text_update AFTER UPDATE ON interface "
               "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
               "WHEN (OLD.device_id IS DISTINCT FROM NEW.device_id OR OLD.mac IS DISTINCT FROM NEW.mac "
               "OR OLD.ips::text IS DISTINCT FROM NEW.ips::text) EXECUTE FUNCTION interface_search_text_check()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER interface_search_text_update ON interface")
    op.execute("DROP TRIGGER interface_search_text_change ON interface")
    op.execute("DROP TRIGGER device_search_text_check ON device")
    op.execute("DROP FUNCTION interface_search_text_check()")
    op.execute("DROP FUNCTION device_search_text_check()")
    # 0004's functions and triggers, as they were.
    op.execute(f"""
        CREATE OR REPLACE FUNCTION device_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.search_text := {search_text_of('NEW')};
            RETURN NEW;
        END $$""")
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
    op.execute("CREATE TRIGGER interface_search_text_update AFTER UPDATE ON interface FOR EACH ROW "
               "WHEN (OLD.device_id IS DISTINCT FROM NEW.device_id OR OLD.mac IS DISTINCT FROM NEW.mac "
               "OR OLD.ips::text IS DISTINCT FROM NEW.ips::text) EXECUTE FUNCTION interface_search_text()")
