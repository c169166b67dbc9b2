"""The one way into the inventory: a batch of observations, merged into one record per device.

Every source writes through `ingest`. It matches each observation to a device (serial, then any
known MAC, then unit + host name, and only then creates one), keeps for every field which method
said it and when, writes one history entry per real change, stores each distinct observation
once, and marks devices that complete scans of their scope no longer see as missing. It runs in the
caller's transaction and never commits: a batch is stored whole or not at all.

On PostgreSQL, batches that describe different devices run at the same time (the scans of different
units do): a batch waits only for those that name one of its serials, MACs, host names or device ids.

Rows are read and written through Core, not the ORM (a batch of 100 observations spent most of its
time in attribute instrumentation and the unit of work); the merge itself is `inventory.merge`."""
import datetime as dt
import functools
import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Column, Select, Table, TypeDecorator, any_, bindparam, func, select, text, union
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BinaryExpression, TextClause

from core.db import dumps_json
from core.errors import InvalidInput
from core.i18n import Reason
from inventory.changes import Change, note_changes
from inventory.merge import DEVICE_COLUMNS, INTERFACE_COLUMNS, DeviceRecord, Merger, changes, snapshot
from inventory.models import Device, DeviceEvent, DeviceStatus, Interface, Link, Observation, Unit
from inventory.observations import KIND_OF_METHOD, ObservedDevice, evidence_of, fingerprint, normalise
from inventory.sightings import record_sightings

log = logging.getLogger(__name__)

CHUNK = 900  # bound parameters per IN (...): well inside SQLite's and PostgreSQL's limits
INGEST_LOCK_KEY = 0x1A9E57  # PostgreSQL advisory lock taken by every ingestion transaction
# A batch naming more identities than this (a large import) has the inventory to itself rather than take
# one lock per identity: PostgreSQL's lock table holds 6,400 locks for all sessions together by default
# (max_locks_per_transaction 64 x max_connections 100), and running out fails the batch. A scan of a unit
# names two or three identities per host; twelve batches at this bound fit beside the service's own locks.
MAX_IDENTITY_LOCKS = 500

DEVICE = Device.__table__
INTERFACE = Interface.__table__
LINK = Link.__table__
OBSERVATION = Observation.__table__
UNIT = Unit.__table__
EVENT = DeviceEvent.__table__


def _in_list(column: Column) -> BinaryExpression:
    """`column IN (:values)`, the values given when the statement runs."""
    return column.in_(bindparam("values", expanding=True))


def _in_array(column: Column) -> BinaryExpression:
    """`column = ANY(:values)`, the values as one array: an IN list of a hundred values cost SQLAlchemy a
    bind rendered per value and psycopg a parse of the new, longer text at every lookup (no cache)."""
    return column == any_(bindparam("values", type_=postgresql.ARRAY(column.type)))


@dataclass(frozen=True)
class Lookups:
    """The lookups of a batch, each by a list of values given when it runs, for one database."""
    units_by_code: Select
    interfaces_by_device_id: Select


def _lookups(among) -> Lookups:
    successor = UNIT.alias("successor")
    return Lookups(
        units_by_code=select(UNIT.c.code, UNIT.c.id, UNIT.c.active, successor.c.code.label("successor_code"))
        .outerjoin(successor, UNIT.c.successor_id == successor.c.id).where(among(UNIT.c.code)),
        interfaces_by_device_id=select(*(INTERFACE.c[name] for name in INTERFACE_COLUMNS))
        .where(among(INTERFACE.c.device_id)).order_by(INTERFACE.c.id))


def _candidates_on_postgresql() -> Select:
    """The devices with one of the given ids, serials, MACs or host names, in one statement (one round trip
    where there were four). Locked as read: a concurrent batch that matched one of them by another identity
    waits, then reads it as this batch left it; in id order, as every batch locks them, so that none waits
    for another in a circle."""
    def values(name: str, column: Column):
        return bindparam(name, type_=postgresql.ARRAY(column.type))

    wanted = union(select(func.unnest(values("id", DEVICE.c.id))),
                   select(DEVICE.c.id).where(DEVICE.c.serial == any_(values("serial", DEVICE.c.serial))),
                   select(INTERFACE.c.device_id).where(INTERFACE.c.mac == any_(values("mac", INTERFACE.c.mac))),
                   select(DEVICE.c.id).where(DEVICE.c.hostname == any_(values("host", DEVICE.c.hostname))))
    return (select(*(DEVICE.c[name] for name in DEVICE_COLUMNS)).where(DEVICE.c.id.in_(wanted))
            .order_by(DEVICE.c.id).with_for_update(of=DEVICE))


# Statements built once: building and hashing one again for each batch cost about what running it did.
# SQLite: any write statement takes the database's write lock, which a reader's snapshot lacks.
LOCK_ON_SQLITE = text("UPDATE unit SET id = id WHERE 1 = 0")
# PostgreSQL: the locks of a batch, and every lookup after through an index (set_config(..., true) lasts
# until the end of the transaction). Without planner statistics (a new or fast-growing table, autovacuum
# off) PostgreSQL guesses that a list of a hundred values matches a tenth of the table and reads all of
# it instead: 2 to 8 ms a lookup at 20,000 devices, not 0.3. One statement: a round trip each cost more.
LOCK_ALONE_ON_POSTGRESQL = text("SELECT pg_advisory_xact_lock(:key), set_config('enable_seqscan', 'off', true)")
# The identities' keys in the order of the array, which the caller sorts: no two batches wait for each
# other in a circle (a batch alone waits for no identity, so the order of the two locks does not matter).
LOCK_BESIDE_OTHERS_ON_POSTGRESQL = text(
    "SELECT pg_advisory_xact_lock_shared(:key), "
    "(SELECT count(pg_advisory_xact_lock(key)) FROM unnest(CAST(:keys AS bigint[])) AS key), "
    "set_config('enable_seqscan', 'off', true)")
LOOKUPS_IN_LIST, LOOKUPS_IN_ARRAY = _lookups(_in_list), _lookups(_in_array)
CANDIDATES_ON_POSTGRESQL = _candidates_on_postgresql()
# SQLite (one writer: nothing to lock): the ids kind by kind, then the rows, in IN lists of at most CHUNK values.
IDS_ON_SQLITE = {"serial": select(DEVICE.c.id).where(_in_list(DEVICE.c.serial)),
                 "mac": select(INTERFACE.c.device_id).where(_in_list(INTERFACE.c.mac)),
                 "host": select(DEVICE.c.id).where(_in_list(DEVICE.c.hostname))}
# In id order, as PostgreSQL's: a MAC two records share (a conflict left as found) matches the older.
DEVICES_ON_SQLITE = (select(*(DEVICE.c[name] for name in DEVICE_COLUMNS)).where(_in_list(DEVICE.c.id))
                     .order_by(DEVICE.c.id))
# The devices of a scope. One that another batch has locked is being seen by that batch, which will
# count it as seen: skipped rather than waited for (PostgreSQL; SQLite has no other writer).
UNSEEN_CANDIDATES = (select(DEVICE.c.id, DEVICE.c.unit_id, DEVICE.c.missed_scans, DEVICE.c.status, DEVICE.c.last_seen)
                     .where(DEVICE.c.scope_key == bindparam("scope_key")).order_by(DEVICE.c.id)
                     .with_for_update(skip_locked=True))


@dataclass(frozen=True)
class IngestBatch:
    observations: Sequence[ObservedDevice]
    # A scan of a whole scope says which devices of that scope it did *not* see.
    scope_key: str | None = None
    complete_scan: bool = False
    # The network the scanned scope covers (discovery's ScopeNetwork value: secure, internet, other), recorded
    # on each device the batch sees, as scope_key is: what later packages (readiness, the budget's figures)
    # read to tell devices on the dedicated network, without importing discovery.
    network: str | None = None


@dataclass
class IngestResult:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    missing: int = 0      # devices that became missing with this batch
    reappeared: int = 0
    observations_stored: int = 0
    device_ids: list[int] = field(default_factory=list)  # one per observation, in order
    # Relocations to confirm that this batch raised: devices it saw in another unit than their own.
    relocations_raised: list[int] = field(default_factory=list)


def ingest(session: Session, batch: IngestBatch, *, missing_after_scans: int = 3) -> IngestResult:
    """Merge a batch of observations into the inventory and return what it changed."""
    if batch.complete_scan and not batch.scope_key:
        raise InvalidInput(Reason("a complete scan must name its scope"), field="scope_key")
    observations = [normalise(o, position=n) for n, o in enumerate(batch.observations)]
    identities = _identities(observations)
    # Core statements on the session's connection: through Session.execute each cost as much again.
    connection = session.connection()
    _wait_for_batches_naming_the_same_devices(connection, identities)
    session.flush()  # the caller's pending changes, before the Core reads below
    unit_ids = _unit_ids_by_code(connection, observations)
    merger = Merger(unit_ids, _load_candidates(connection, observations, identities), _unit_covers(connection))
    # In time order: at equal rank, the later observation's value wins.
    records_by_position = {n: merger.apply(observations[n])
                           for n in sorted(range(len(observations)), key=lambda n: observations[n].observed_at)}
    records = [records_by_position[n] for n in range(len(observations))]
    for record in merger.touched:
        record.row["missed_scans"] = 0
        if batch.scope_key:
            record.row["scope_key"] = batch.scope_key
        if batch.network:
            record.row["network"] = batch.network
    written = _write_devices(connection, merger)  # assigns ids to new devices

    result = IngestResult(device_ids=[record.id for record in records])
    changed = _write_history(connection, merger, result, Change(_kind_of(batch, observations)))
    _note_networks(merger, changed)
    result.relocations_raised = record_sightings(connection, merger.sightings)
    result.observations_stored = _store_observations(connection, observations, result.device_ids)
    written[Link] = _store_links(connection, merger, observations, result.device_ids)
    if batch.complete_scan:
        gone, unseen_ids = _mark_unseen(connection, batch.scope_key, {r.id for r in merger.touched},
                                        missing_after_scans, max(o.observed_at for o in observations)
                                        if observations else None)
        result.missing = len(gone)
        written[Device] += unseen_ids
        if gone:
            changed.absorb(Change(changed.kind, set(gone), {"status"}, set(gone.values())))
    _expire_written(session, written)
    note_changes(session, changed)
    log.info("ingested %d observations: %d created, %d changed, %d unchanged, %d missing, %d relocations raised",
             len(observations), result.created, result.changed, result.unchanged, result.missing,
             len(result.relocations_raised))
    return result


def _wait_for_batches_naming_the_same_devices(connection: Connection, identities: set[tuple[Any, ...]]) -> None:
    """Two overlapping batches that describe one device would each miss the record the other is creating
    and make a duplicate (a MAC has no unique constraint to stop that). So a batch waits, until commit,
    for those that name one of its identities. SQLite has one writer at a time: the whole database."""
    if not _on_postgresql(connection):
        connection.execute(LOCK_ON_SQLITE)
        return
    keys = sorted({_lock_key(identity) for identity in identities})
    if len(keys) > MAX_IDENTITY_LOCKS:
        connection.execute(LOCK_ALONE_ON_POSTGRESQL, {"key": INGEST_LOCK_KEY})
    else:
        connection.execute(LOCK_BESIDE_OTHERS_ON_POSTGRESQL, {"key": INGEST_LOCK_KEY, "keys": keys})


def _identities(observations: Sequence[ObservedDevice]) -> set[tuple[Any, ...]]:
    """Everything by which a batch finds a device or could make one, its neighbours' included:
    ("id", 12), ("serial", "FOC123"), ("mac", "00:1b:54:00:00:01"), ("host", unit code, host name)."""
    found: set[tuple[Any, ...]] = set()
    for o in observations:
        if o.device_id is not None:
            found.add(("id", o.device_id))
        if o.serial:
            found.add(("serial", o.serial))
        found.update(("mac", mac) for mac in o.macs)
        if o.hostname:
            found.add(("host", o.unit_code, o.hostname))
        for nb in o.neighbours:
            for identity in (("serial", nb.remote_serial), ("mac", nb.remote_mac),
                             ("host", o.unit_code, nb.remote_hostname)):
                if identity[-1]:
                    found.add(identity)
    return found


def _identified_by(identities: set[tuple[Any, ...]], kind: str) -> list[Any]:
    """The values of one kind of identity: the serials, say."""
    return [identity[-1] for identity in identities if identity[0] == kind]


def _lock_key(identity: tuple[Any, ...]) -> int:
    """A 64-bit advisory lock key for an identity; two that collide only make their batches take turns."""
    digest = hashlib.blake2b("\x1f".join(map(str, identity)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _unit_covers(connection: Connection) -> Callable[[int, int], bool]:
    """covers(a, b): whether unit b is unit a or below it. The tree (a few hundred rows) is read on the first
    question only: most batches see no device of another unit and ask none."""
    parents: dict[int, int | None] = {}

    def covers(unit_id: int, other_id: int | None) -> bool:
        if not parents:
            parents.update(connection.execute(select(UNIT.c.id, UNIT.c.parent_id)).all())
        seen = set()
        while other_id is not None and other_id not in seen:  # a cycle cannot be stored; stop all the same
            if other_id == unit_id:
                return True
            seen.add(other_id)
            other_id = parents.get(other_id)
        return False
    return covers


def _unit_ids_by_code(connection: Connection, observations: Sequence[ObservedDevice]) -> dict[str, int]:
    """The id of each unit the observations name; InvalidInput for one that does not exist or is inactive.

    Core rows, not Unit objects: loading those cost more than the rest of the lookup."""
    query = _lookups_of(connection).units_by_code
    units = {row.code: row for chunk in chunks({o.unit_code for o in observations})
             for row in connection.execute(query, {"values": chunk}).all()}
    for n, o in enumerate(observations):
        unit = units.get(o.unit_code)
        if unit is None:
            raise InvalidInput(Reason("observations[%(n)s]: unit %(code)r does not exist", n=n, code=o.unit_code),
                               field="unit_code")
        if not unit.active and unit.successor_code:
            raise InvalidInput(Reason("observations[%(n)s]: unit %(code)s is inactive, merged into %(successor)s",
                                      n=n, code=unit.code, successor=unit.successor_code), field="unit_code")
        if not unit.active:
            raise InvalidInput(Reason("observations[%(n)s]: unit %(code)s is inactive", n=n, code=unit.code),
                               field="unit_code")
    return {code: unit.id for code, unit in units.items()}


def _load_candidates(connection: Connection, observations: Sequence[ObservedDevice],
                     identities: set[tuple[Any, ...]]) -> list[DeviceRecord]:
    """Every stored device that any observation of the batch could be, with its interfaces, as rows."""
    lookups = _lookups_of(connection)
    if _on_postgresql(connection):
        found = _rows(connection, CANDIDATES_ON_POSTGRESQL, DEVICE_COLUMNS,
                      {kind: _identified_by(identities, kind) for kind in ("id", "serial", "mac", "host")})
    else:
        found = [row for chunk in chunks(sorted(_candidate_ids(connection, identities)))
                 for row in _rows(connection, DEVICES_ON_SQLITE, DEVICE_COLUMNS, {"values": chunk})]
    rows = {row["id"]: row for row in found}
    for n, o in enumerate(observations):
        if o.device_id is not None and o.device_id not in rows:
            raise InvalidInput(Reason("observations[%(n)s]: device %(id)s does not exist", n=n, id=o.device_id),
                               field="device_id")
    interfaces: dict[int, list[dict[str, Any]]] = {device_id: [] for device_id in rows}
    for chunk in chunks(rows):
        for row in _rows(connection, lookups.interfaces_by_device_id, INTERFACE_COLUMNS, {"values": chunk}):
            interfaces[row["device_id"]].append(row)
    return [DeviceRecord(row, interfaces[device_id], stored=True) for device_id, row in rows.items()]


def _rows(connection: Connection, query: Select, columns: Sequence[str], parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows `query` selects, as dicts of `columns`.

    Fetched all at once: psycopg's fetchone, row by row as iterating a result calls it, cost more than the rows."""
    return [dict(zip(columns, row)) for row in connection.execute(query, parameters).all()]


def _candidate_ids(connection: Connection, identities: set[tuple[Any, ...]]) -> set[int]:
    """SQLite: the ids of the stored devices with one of the identities."""
    ids = set(_identified_by(identities, "id"))
    for kind, query in IDS_ON_SQLITE.items():
        for chunk in chunks(set(_identified_by(identities, kind))):
            ids.update(connection.scalars(query, {"values": chunk}).all())
    return ids


def _write_devices(connection: Connection, merger: Merger) -> dict[type, list[int]]:
    """Write the merged records, one statement (an executemany on SQLite) per table and set of columns;
    the ids of the stored rows it updated, by model. A new device's interfaces are written after it
    (they need its id)."""
    changed_interfaces = [columns for r in merger.touched for columns in r.changed_interfaces()]
    _update_by_id(connection, INTERFACE, changed_interfaces)
    stored = [r for r in merger.touched if r.stored_row is not None]
    insert_rows(connection, INTERFACE, [_without_id(i) | {"device_id": r.id} for r in stored for i in r.new_interfaces()])
    changed = [columns for columns in (record.changed_columns() for record in stored) if columns]
    _update_by_id(connection, DEVICE, changed)
    if merger.new:
        rows = [_without_id(r.row) for r in merger.new]
        for record, device_id in zip(merger.new, _insert_returning_ids(connection, DEVICE, rows)):
            record.row["id"] = device_id
        insert_rows(connection, INTERFACE, [_without_id(i) | {"device_id": r.id} for r in merger.new
                                          for i in r.interfaces])
    return {Device: [row["id"] for row in changed], Interface: [row["id"] for row in changed_interfaces]}


def _insert_returning_ids(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """INSERT the rows (which all name the same columns) and return their ids in the order of the rows."""
    if not _on_postgresql(connection):
        # This transaction is the only writer (the database's write lock): the ids after the largest.
        first = connection.execute(_next_id_on_sqlite(table)).scalar_one()
        ids = list(range(first, first + len(rows)))
        insert_rows(connection, table, [{"id": device_id} | row for device_id, row in zip(ids, rows)])
        return ids
    statement = _insert_from_json_statement(connection.dialect, table, tuple(rows[0]), returning_ids=True)
    return sorted(connection.scalars(statement, {"rows": _rows_as_json(table, rows)}))


def _update_by_id(connection: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """UPDATE the columns each row names where its "id" is, in id order (as the ORM's flush), with one
    statement per set of columns: a round of scans changes the same few columns of most devices."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in sorted(rows, key=itemgetter("id")):
        by_columns[tuple(row)].append(row)
    for same_columns in by_columns.values():
        if _on_postgresql(connection):
            _update_from_json(connection, table, same_columns)
        else:
            names = [name for name in same_columns[0] if name != "id"]
            _execute_many_on_sqlite(connection, _update_on_sqlite(table, tuple(names)), table, [*names, "id"],
                                    same_columns)


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]], *,
                 unless_known: tuple[Column, ...] = ()) -> int:
    """INSERT the rows, which all name the same columns; with `unless_known`, the columns of a unique
    constraint, only the rows whose values of them are not stored yet. How many rows it stored."""
    if not rows:
        return 0
    if _on_postgresql(connection):
        return _insert_from_json(connection, table, rows, unless_known)
    names = tuple(rows[0])
    return _execute_many_on_sqlite(connection, _insert_on_sqlite(table, names, unless_known), table, names, rows)


# SQLite: the rows go to the driver's executemany with each value as its column's type stores it
# (SQLAlchemy's own converters), without Core's per-row handling of parameters, which cost more than
# SQLite took to write the rows.

def _execute_many_on_sqlite(connection: Connection, statement: str, table: Table, names: Sequence[str],
                            rows: Sequence[dict[str, Any]]) -> int:
    """Run `statement` (its ? in the order of `names`) once per row; how many rows it changed."""
    converters = _converters(table, tuple(names), connection.dialect)
    # Column by column, then zipped into rows: a generator per row cost more than the converters.
    columns = [[convert(row[name]) for row in rows] if convert else [row[name] for row in rows]
               for name, convert in zip(names, converters)]
    return connection.exec_driver_sql(statement, list(zip(*columns))).rowcount


@functools.cache
def _converters(table: Table, names: tuple[str, ...], dialect) -> list[Any]:
    return [table.c[name].type.bind_processor(dialect) for name in names]


@functools.cache
def _insert_on_sqlite(table: Table, names: tuple[str, ...], unless_known: tuple[Column, ...]) -> str:
    return (f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            f"{_skipping_known(unless_known, str)}")


def _skipping_known(unless_known: tuple[Column, ...], quote: Callable[[str], str]) -> str:
    """The ON CONFLICT clause of `insert_rows`, both databases' (`quote`: how they spell a column name)."""
    return f" ON CONFLICT ({', '.join(quote(c.name) for c in unless_known)}) DO NOTHING" if unless_known else ""


@functools.cache
def _next_id_on_sqlite(table: Table) -> Select:
    return select(func.coalesce(func.max(table.c.id), 0) + 1)


@functools.cache
def _update_on_sqlite(table: Table, names: tuple[str, ...]) -> str:
    return f"UPDATE {table.name} SET {', '.join(f'{name} = ?' for name in names)} WHERE id = ?"


def _lookups_of(connection: Connection) -> Lookups:
    return LOOKUPS_IN_ARRAY if _on_postgresql(connection) else LOOKUPS_IN_LIST


def _on_postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


# PostgreSQL: one statement per batch and table, its rows as one JSON document, instead of an
# executemany. psycopg sends an executemany as one Bind/Execute per row, and each costs the client and
# the server more than the row itself; arrays, one per column, cost psycopg a regular expression per
# value to escape it. The JSON encoder is C, and the server reads the document as fast.

def _insert_from_json(connection: Connection, table: Table, rows: Sequence[dict[str, Any]],
                      unless_known: tuple[Column, ...]) -> int:
    statement = _insert_from_json_statement(connection.dialect, table, tuple(rows[0]), unless_known)
    return connection.execute(statement, {"rows": _rows_as_json(table, rows)},
                              execution_options={"preserve_rowcount": True}).rowcount


def _update_from_json(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    statement = _update_from_json_statement(connection.dialect, table, tuple(rows[0]))
    connection.execute(statement, {"rows": _rows_as_json(table, rows)})


# The statements, built once per table and set of columns: building one cost about what running it did.

@functools.cache
def _insert_from_json_statement(dialect, table: Table, names: tuple[str, ...], unless_known: tuple[Column, ...] = (),
                                *, returning_ids: bool = False) -> TextClause:
    """With `returning_ids`, the new rows' ids in the order of the document: they come from the sequence in
    the order the rows are inserted, ORDER BY their position, as SQLAlchemy's own sort_by_parameter_order
    assumes. (One text whatever the number of rows: SQLAlchemy's VALUES lists changed with it, a new
    statement to parse and plan for each batch.)"""
    quote = dialect.identifier_preparer.quote
    end = " ORDER BY v.position RETURNING id" if returning_ids else _skipping_known(unless_known, quote)
    return text(f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, names))}) "
                f"SELECT {', '.join(_read_values(dialect, table, names))} "
                f"FROM {_json_rows(dialect, table, names, ordered=returning_ids)}{end}")


@functools.cache
def _update_from_json_statement(dialect, table: Table, names: tuple[str, ...]) -> TextClause:
    """`names` holds "id", which says the row to update."""
    quote = dialect.identifier_preparer.quote
    assignments = ", ".join(f"{quote(name)} = {value}" for name, value in
                            zip(names, _read_values(dialect, table, names)) if name != "id")
    return text(f"UPDATE {quote(table.name)} SET {assignments} FROM {_json_rows(dialect, table, names)} "
                f"WHERE {quote(table.name)}.id = v.id")


def _json_rows(dialect, table: Table, names: Sequence[str], *, ordered: bool = False) -> str:
    """json_to_recordset(:rows) AS v(a type, ...): the document of `_rows_as_json` as rows, each value
    read as its column's type (a text too long for its column is refused, as in an INSERT); `ordered`
    adds each row's position in the document as v.position."""
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(f"{quote(name)} {table.c[name].type.compile(dialect=dialect)}" for name in names)
    if ordered:
        return (f"ROWS FROM (json_to_recordset(CAST(:rows AS JSON)) AS ({columns})) WITH ORDINALITY "
                f"AS v({', '.join(map(quote, names))}, position)")
    return f"json_to_recordset(CAST(:rows AS JSON)) AS v({columns})"


def _read_values(dialect, table: Table, names: Sequence[str]) -> list[str]:
    """v.a, ... as the columns take them: a JSON column stores None as JSON null, as SQLAlchemy's JSON does."""
    quote = dialect.identifier_preparer.quote
    return [f"coalesce(v.{quote(name)}, 'null')" if _is_json(table.c[name]) else f"v.{quote(name)}"
            for name in names]


def _is_json(column: Column) -> bool:
    kind = column.type
    return isinstance(kind.impl if isinstance(kind, TypeDecorator) else kind, JSON)


def _rows_as_json(table: Table, rows: Sequence[dict[str, Any]]) -> str:
    """The rows as one JSON list: dates as ISO text, enums as their values (StrEnum), a TypeDecorator's
    value as it stores it."""
    decorated = [name for name in rows[0] if isinstance(table.c[name].type, TypeDecorator)]
    if decorated:
        rows = [row | {name: table.c[name].type.process_bind_param(row[name], None) for name in decorated}
                for row in rows]
    return dumps_json(rows)  # orjson writes dates and times as isoformat() does


def _without_id(row: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name != "id"}


def _write_history(connection: Connection, merger: Merger, result: IngestResult, changed: Change) -> Change:
    """One event per device created, per field changed, per move and per interface added; what they changed,
    added to `changed`."""
    events: list[dict[str, Any]] = []
    for record in merger.touched:
        row, said = record.row, record.row["provenance"]
        if record.stored_row is None:
            result.created += 1
            values = {k: v for k, v in snapshot(record).items() if v not in (None, {}, [])}
            events.append(_event(row, "created", method=row["source"], new_value=values))
            changed.device_ids.add(row["id"])
            changed.fields.update(values)
            changed.unit_ids.add(row["unit_id"])
            continue
        found = changes(record)
        if found:
            changed.device_ids.add(row["id"])
            changed.fields.update(found)
            changed.unit_ids.update((row["unit_id"], record.stored_row["unit_id"]))
        for name, (old, new) in found.items():
            kind = {"unit_id": "moved", "status": "status", "interfaces": "interfaces"}.get(name, "changed")
            origin = said.get(name) or said.get(f"specs.{name[6:]}", {})
            events.append(_event(row, kind, field=name, old_value=old, new_value=new,
                                 method=origin.get("method", row["source"]), source=origin.get("source", "")))
        if found:
            result.changed += 1
        else:
            result.unchanged += 1
        if record.stored_row["status"] is DeviceStatus.MISSING and row["status"] is DeviceStatus.IN_USE:
            result.reappeared += 1
    insert_rows(connection, EVENT, events)
    return changed


def _note_networks(merger: Merger, changed: Change) -> None:
    """A stored device now seen on another network: announced with the batch's changes (readiness counts who
    is on the secure network from it), without an entry in its history, which tells what the device is."""
    for record in merger.touched:
        if record.stored_row is not None and record.row["network"] != record.stored_row["network"]:
            changed.device_ids.add(record.id)
            changed.fields.add("network")
            changed.unit_ids.add(record.row["unit_id"])


def _kind_of(batch: IngestBatch, observations: Sequence[ObservedDevice]) -> str:
    """The kind of change a batch makes: a scan's batch holds SNMP, forwarding-table and ARP sightings alike, and
    a complete scan that saw nothing still makes its scope's devices missing."""
    if batch.complete_scan:
        return "scan"
    kinds = {KIND_OF_METHOD[o.method] for o in observations}
    return kinds.pop() if len(kinds) == 1 else "+".join(sorted(kinds))

def _event(row: dict[str, Any], kind: str, **values: Any) -> dict[str, Any]:
    return {"device_id": row["id"], "at": row["last_seen"], "kind": kind, "field": None, "old_value": None,
            "new_value": None, "method": "", "source": "", "detail": ""} | values


def _store_observations(connection: Connection, observations: Sequence[ObservedDevice], device_ids: Sequence[int]) -> int:
    """Store each observation not stored yet; how many it stored."""
    rows = {}
    for o, device_id in zip(observations, device_ids):
        evidence = evidence_of(o)
        print_ = fingerprint(o, evidence)
        rows.setdefault(print_, {"device_id": device_id, "method": o.method, "source": o.source,
                                 "observed_at": o.observed_at, "evidence": evidence, "fingerprint": print_})
    # The unique time and fingerprint refuse a known observation: one statement, not a SELECT then an INSERT.
    return insert_rows(connection, OBSERVATION, list(rows.values()),
                        unless_known=(OBSERVATION.c.observed_at, OBSERVATION.c.fingerprint))


def _store_links(connection: Connection, merger: Merger, observations: Sequence[ObservedDevice],
                 device_ids: Sequence[int]) -> list[int]:
    """Links to the neighbours the observations name; the ids of the stored links it updated."""
    wanted: dict[tuple[int, str, int, str], tuple[str, dt.datetime]] = {}
    for o, device_id in zip(observations, device_ids):
        for nb in o.neighbours:
            remote = (merger.by_serial.get(nb.remote_serial or "") or merger.by_mac.get(nb.remote_mac or "")
                      or merger.by_host.get((merger.unit_ids[o.unit_code], nb.remote_hostname or "")))
            remote_id = remote.id if remote is not None else _find_remote(connection, nb)
            if remote_id is not None and remote_id != device_id:
                wanted[(device_id, nb.port, remote_id, nb.remote_port)] = (nb.protocol, o.observed_at)
    if not wanted:
        return []
    existing = {(l.device_id, l.port, l.remote_device_id, l.remote_port): l for chunk in chunks({k[0] for k in wanted})
                for l in connection.execute(select(LINK.c.id, LINK.c.device_id, LINK.c.port, LINK.c.remote_device_id,
                                                LINK.c.remote_port, LINK.c.last_seen)
                                         .where(LINK.c.device_id.in_(chunk)).order_by(LINK.c.id))}
    new, seen_again = [], []
    for key, (protocol, seen) in wanted.items():
        link = existing.get(key)
        if link is None:
            new.append({"device_id": key[0], "port": key[1], "remote_device_id": key[2], "remote_port": key[3],
                        "protocol": protocol, "first_seen": seen, "last_seen": seen})
        elif seen > link.last_seen:
            seen_again.append({"id": link.id, "last_seen": seen})
    _update_by_id(connection, LINK, seen_again)
    insert_rows(connection, LINK, new)
    return [row["id"] for row in seen_again]


def _find_remote(connection: Connection, nb) -> int | None:
    """A neighbour not described in this batch: by its serial or MAC among stored devices."""
    if nb.remote_serial:
        device_id = connection.scalars(select(DEVICE.c.id).where(DEVICE.c.serial == nb.remote_serial)).first()
        if device_id is not None:
            return device_id
    if nb.remote_mac:
        return connection.scalars(select(INTERFACE.c.device_id).where(INTERFACE.c.mac == nb.remote_mac)).first()
    return None


def _mark_unseen(connection: Connection, scope_key: str, seen: set[int], missing_after_scans: int,
                 scanned_at: dt.datetime | None) -> tuple[dict[int, int], list[int]]:
    """Count one more missed scan for each device of the scope this scan did not see: the devices that became
    missing ({id: unit id}), and the ids of the devices it counted."""
    rows = connection.execute(UNSEEN_CANDIDATES, {"scope_key": scope_key}).all()
    updates, events, gone = [], [], {}
    for device in (row for row in rows if row.id not in seen):
        missed, status = device.missed_scans + 1, device.status
        if missed >= missing_after_scans and status is DeviceStatus.IN_USE:
            status = DeviceStatus.MISSING
            gone[device.id] = device.unit_id
            events.append({"device_id": device.id, "at": scanned_at or device.last_seen, "kind": "status",
                           "field": "status", "old_value": "in_use", "new_value": "missing",
                           "method": "scan", "source": scope_key,
                           "detail": f"not seen in {missed} complete scans of {scope_key}"})
        updates.append({"id": device.id, "missed_scans": missed, "status": status})
    insert_rows(connection, EVENT, events)
    _update_by_id(connection, DEVICE, updates)
    return gone, [row["id"] for row in updates]


def _expire_written(session: Session, written: dict[type, list[int]]) -> None:
    """Objects the caller holds for rows written here through Core still show the old values: expire
    them, so that the next access (`get_device` after `record_device`) reads the new ones."""
    ids = {model: set(model_ids) for model, model_ids in written.items()}
    for (model, identity, _token), held in list(session.identity_map.items()):
        if identity[0] in ids.get(model, ()):
            session.expire(held)


def chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]
