"""Import and export of units and devices as CSV or XLSX.

An import is all or nothing: every row is checked first, and one bad row rejects the file with a
report naming each bad row, column and reason. Device rows go through `ingest` as method `import`,
so they merge with what scans found. Exports use the same columns, so an export edited in a
spreadsheet imports back."""
import contextlib
import dataclasses
import datetime as dt
import os
import re
import tempfile
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from core.audit import record
from core.cells import cell_text, csv_document, unquote_cell, xlsx_document
from core.errors import Busy, InvalidInput
from core.i18n import Reason
from core.time import utcnow
from inventory.devices import identities_outside
from inventory.ingest import IngestBatch, ingest
from inventory.models import Device, Unit, UnitKind
from inventory.observations import DEVICE_FIELDS, InvalidObservation, ObservedDevice, ObservedInterface, normalise
from inventory.specs import SPECS
from inventory.tables import TableLimits, cell_date, plain_text, read_rows
from inventory.units import (
    UNIT_FACTS,
    NewUnit,
    create_unit,
    overrun_field,
    staff_overrun,
    subtree_ids,
    unit_in_scope,
)

# firmware_version is exported and allowed back in, but read from firmware, never from the sheet.
DEVICE_COLUMNS = ("id", "unit_code", "device_class", "vendor", "model", "serial", "hostname", "firmware",
                  "firmware_version", "os", "status", "location", "purchase_date", "purchase_price_vnd",
                  "warranty_end", "macs", "ips")
# spec:ram_gb, spec:cpu_model ... one column per specification, by its name or an alias (inventory/specs.py)
SPEC_PREFIX = "spec:"
SPEC_ORDER = {name: position for position, name in enumerate(SPECS)}
# The staff and the facts beside it may be left out (a sheet made before the facts existed): a unit the sheet
# creates gets NewUnit's defaults, an existing one keeps its own. An empty cell is the default.
FACT_COLUMNS = ("staff_count", *UNIT_FACTS)
FACT_DEFAULTS = {f.name: f.default for f in dataclasses.fields(NewUnit) if f.name in FACT_COLUMNS}
# As the API's schemas bound them (inventory/schemas.py): headcounts, other counts, pages to digitise.
HEADCOUNTS = ("staff_count", "leader_count", "specialist_count")
COUNT_MOST = {"staff_count": 1_000_000, "leader_count": 1_000_000, "specialist_count": 1_000_000,
              "meeting_rooms": 1_000_000, "sites": 1_000_000, "archive_pages": 10**10}
# Whole numbers as people write them: 30000, or with thousands separated (30.000 in Vietnamese, 30,000, 30 000).
WHOLE_NUMBER = re.compile(r"^[0-9]+$|^[0-9]{1,3}([., \u00a0])[0-9]{3}(?:\1[0-9]{3})*$")
YES, NO = {"có", "yes", "x", "1", "true"}, {"không", "no", "0", "false"}  # true/false: as exports write them
UNIT_COLUMNS = ("code", "name", "kind", "parent_code", *FACT_COLUMNS)
UNIT_EXPORT_COLUMNS = (*UNIT_COLUMNS, "active", "successor_code", "dissolved_on")
LIST_SEPARATOR = ";"
UNIT_NAME_LENGTH = Unit.__table__.c["name"].type.length
ID_MAX = 2**31 - 1  # ids are PostgreSQL integers: a larger number names no device and cannot be queried


@dataclass(frozen=True)
class RowProblem:
    row: int      # as the spreadsheet numbers it: the header is row 1
    column: str
    reason: str   # a core.i18n.Reason: the report page shows it in its language


@dataclass(frozen=True)
class ImportReport:
    kind: str
    rows: int
    created: int
    changed: int
    unchanged: int
    dry_run: bool = False


class ImportRejected(InvalidInput):
    def __init__(self, problems: Sequence[RowProblem]):
        first = problems[0]
        if len(problems) > 1:
            reason = Reason("import rejected, nothing was stored: row %(row)s, column %(column)s: %(reason)s "
                            "(and %(more)s more)", row=first.row, column=first.column, reason=first.reason,
                            more=len(problems) - 1)
        else:
            reason = Reason("import rejected, nothing was stored: row %(row)s, column %(column)s: %(reason)s",
                            row=first.row, column=first.column, reason=first.reason)
        super().__init__(reason, field="file", details=[vars(p) for p in problems])
        self.problems = list(problems)


def read_table(filename: str, content: bytes, limits: TableLimits) -> tuple[list[str], list[dict[str, Any]]]:
    """The header and the rows of a CSV or XLSX file (first sheet), by the file name's extension."""
    header, numbered = read_numbered_table(filename, content, limits)
    return header, [row for _number, row in numbered]


def read_numbered_table(filename: str, content: bytes, limits: TableLimits, *, header_seen: list[str] | None = None,
                        **header_rules: Any) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """The header and the rows, each with its number as the spreadsheet shows it: blank rows are
    left out but counted, so that a report's "row 7" is the row the user sees as 7. Reading stops at
    the first limit passed (inventory/tables.py), and at a header breaking `header_rules`
    (_header_problems' arguments), before any row is read: a wrong header costs no reading.
    `header_seen`, if given, receives the column names as soon as they are read, refused or not."""
    def check_header(names: list[str]) -> None:
        if header_seen is not None:
            header_seen[:] = names
        if header_rules and (problems := _header_problems(names, **header_rules)):
            raise ImportRejected(problems)
    header, rows = read_rows(filename, content, limits, check_header)
    return header, [(number, dict(zip(header, map(unquote_cell, row)))) for number, row in rows]


DEVICE_HEADER = {"required": ("unit_code",), "allowed": DEVICE_COLUMNS, "prefix": SPEC_PREFIX}
UNIT_HEADER = {"required": ("code", "name", "kind"), "allowed": UNIT_COLUMNS}


def import_devices(session: Session, filename: str, content: bytes, *, by: str, limits: TableLimits,
                   scope: frozenset[int] | None = None, dry_run: bool = False) -> ImportReport:
    """Import device rows; a caller limited to some units may only name those, and only their devices."""
    header, rows = read_numbered_table(filename, content, limits, **DEVICE_HEADER)
    return _import_device_rows(session, filename, header, rows, by=by, scope=scope, dry_run=dry_run)[0]


def _import_device_rows(session: Session, filename: str, header: list[str], rows: list[tuple[int, dict[str, Any]]],
                        *, by: str, scope: frozenset[int] | None, dry_run: bool) -> tuple[ImportReport, list[int]]:
    """The report, and the device each row went to (its id), in the rows' order."""
    problems = _header_problems(header, **DEVICE_HEADER)  # again: a value past the header adds a column
    observations = [] if problems else _device_observations(session, rows, filename, by, scope, problems)
    if problems:
        raise ImportRejected(sorted(problems, key=lambda p: p.row))
    result = ingest(session, IngestBatch(observations))
    report = ImportReport("devices", len(rows), result.created, result.changed, result.unchanged, dry_run)
    return report, result.device_ids


def import_units(session: Session, filename: str, content: bytes, *, limits: TableLimits,
                 dry_run: bool = False) -> ImportReport:
    """Create units that do not exist and update those that do, parents before children."""
    header, rows = read_numbered_table(filename, content, limits, **UNIT_HEADER)
    return _import_unit_rows(session, header, rows, dry_run=dry_run)[0]


def _import_unit_rows(session: Session, header: list[str], rows: list[tuple[int, dict[str, Any]]], *,
                      dry_run: bool) -> tuple[ImportReport, dict[int, str]]:
    """The report, and what became of each row by its number: "create", "change" or "unchanged"."""
    problems = _header_problems(header, **UNIT_HEADER)
    if problems:
        raise ImportRejected(problems)
    parsed = [_unit_row(n, row, problems) for n, row in rows]
    existing = _replace_example(session, {u.code: u for u in session.scalars(select(Unit))})
    _check_unit_rows(parsed, existing, problems)
    if problems:
        raise ImportRejected(sorted(problems, key=lambda p: p.row))
    outcomes: dict[int, str] = {}
    for row in _parents_first(parsed, existing):
        unit = existing.get(row["code"])
        if unit is None:
            existing[row["code"]] = create_unit(session, NewUnit(row["code"], row["name"], row["kind"], **row["facts"]),
                                                parent_code=row["parent_code"])
            outcomes[row["row"]] = "create"
            continue
        parent = existing.get(row["parent_code"]) if row["parent_code"] else None
        wanted = {"name": row["name"], "kind": row["kind"], "parent_id": parent.id if parent else None, **row["facts"]}
        if all(getattr(unit, name) == value for name, value in wanted.items()):
            outcomes[row["row"]] = "unchanged"
            continue
        unit.name, unit.kind, unit.parent = row["name"], row["kind"], parent
        for name, value in row["facts"].items():  # the facts the sheet has columns for; the others stay
            setattr(unit, name, value)
        outcomes[row["row"]] = "change"
    session.flush()
    counts = [sum(1 for o in outcomes.values() if o == wanted) for wanted in ("create", "change", "unchanged")]
    return ImportReport("units", len(rows), *counts, dry_run), outcomes


IMPORT_KINDS = ("devices", "units")
BUSY = Reason("another import is being read; try again when it has finished")


def _not_importable(kind: str) -> InvalidInput:
    return InvalidInput(Reason("%(kind)r cannot be imported; %(kinds)s can", kind=kind,
                               kinds=" or ".join(IMPORT_KINDS)), field="kind")


@contextlib.contextmanager
def one_import_at_a_time(slots: threading.Semaphore) -> Iterator[None]:
    """A slot of the process's IMPORTS_AT_ONCE, or Busy at once: a file at the limits costs about 20 s of CPU
    (`bench/robustness.py`, largest_import_cpu_s), and imports must not occupy every thread of the server.
    The API and the imports page hold it while they read, import and commit."""
    if not slots.acquire(blocking=False):
        raise Busy(BUSY, field="file")
    try:
        yield
    finally:
        slots.release()


def import_file(session: Session, kind: str, filename: str, content: bytes, *, by: str, limits: TableLimits,
                scope: frozenset[int] | None = None, dry_run: bool = False) -> ImportReport:
    """Import units or devices (`kind`), the one path of the API and of the imports page's confirmation. A real
    import is recorded in the audit log as `by`; a dry run is not, and its caller rolls it back. Never commits."""
    if kind == "devices":
        report = import_devices(session, filename, content, by=by, limits=limits, scope=scope, dry_run=dry_run)
    elif kind == "units":
        report = import_units(session, filename, content, limits=limits, dry_run=dry_run)
    else:
        raise _not_importable(kind)
    if not dry_run:
        record(session, by, f"import.{report.kind}", "file", filename, after=vars(report))
    return report


@dataclass(frozen=True)
class ProblemAt:
    """A refused cell as a person looks for it: its row and column, what it holds, and why it was refused."""
    row: int
    column: str
    value: str
    reason: str


@dataclass(frozen=True)
class RowOutcome:
    """What a row would do: "create" a unit or device; "change" or leave "unchanged" a unit; "update" a device
    (`device_id`, an existing one the row describes, with changes or without)."""
    row: int
    outcome: str
    cells: dict[str, Any]
    device_id: int | None = None


@dataclass(frozen=True)
class ImportCheck:
    """A dry run as the imports page shows it: the report, or every problem (then `report` is None)."""
    kind: str
    filename: str
    report: ImportReport | None
    problems: list[ProblemAt]
    rows: list[RowOutcome]


def check_file(session: Session, kind: str, filename: str, content: bytes, *, by: str, limits: TableLimits,
               scope: frozenset[int] | None = None) -> ImportCheck:
    """The import as a dry run (the same reading, rules and merge as `import_file`, dry_run=True), with each
    problem's value and each row's outcome. The caller rolls the session back; the file is read once."""
    if kind not in IMPORT_KINDS:
        raise _not_importable(kind)
    header: list[str] = []
    rows: list[tuple[int, dict[str, Any]]] = []
    try:
        header, rows = read_numbered_table(filename, content, limits, header_seen=header,
                                           **(DEVICE_HEADER if kind == "devices" else UNIT_HEADER))
        if kind == "units":
            report, outcomes = _import_unit_rows(session, header, rows, dry_run=True)
            return ImportCheck(kind, filename, report, [], [RowOutcome(n, outcomes[n], row) for n, row in rows])
        # Ids are handed out in increasing order (SQLite's max + 1, PostgreSQL's sequence): a row's device past
        # the newest one before this import is one the import creates. (A device another import commits between
        # this read and ingest's lock, and that a row then matches, would show as new; the counts are ingest's.)
        newest = session.scalar(select(func.max(Device.id))) or 0
        report, device_ids = _import_device_rows(session, filename, header, rows, by=by, scope=scope, dry_run=True)
    except ImportRejected as rejected:
        cells = dict(rows)
        return ImportCheck(kind, filename, None, [ProblemAt(p.row, p.column, _value_at(p, header, cells), p.reason)
                                                  for p in rejected.problems], [])
    return ImportCheck(kind, filename, report, [], [
        RowOutcome(n, "create", row) if device_id > newest else RowOutcome(n, "update", row, device_id)
        for (n, row), device_id in zip(rows, device_ids)])


def _value_at(problem: RowProblem, header: Sequence[str], cells: dict[int, dict[str, Any]]) -> str:
    """What the refused cell holds: a heading for the header's problems (none for a missing column)."""
    if problem.row == 1:
        return problem.column if problem.column in header else ""
    return cell_text(cells.get(problem.row, {}).get(problem.column))


def column_template(kind: str, fmt: str) -> bytes:
    """An empty sheet with the columns an import of `kind` accepts: devices' with one column per
    specification of the registry (spec:<name>)."""
    if kind == "devices":
        header = [*DEVICE_COLUMNS, *(SPEC_PREFIX + name for name in SPECS)]
    elif kind == "units":
        header = list(UNIT_COLUMNS)
    else:
        raise _not_importable(kind)
    return _write(header, [], fmt, sheet=kind)


def _replace_example(session: Session, existing: dict[str, Unit]) -> dict[str, Unit]:
    """The example organisation gives way to the first real one, as long as nothing hangs on it."""
    if not existing or not all(u.is_example for u in existing.values()):
        return existing
    if session.scalars(select(Device.id).limit(1)).first() is not None:
        return existing
    for unit in existing.values():
        unit.parent = None
    session.flush()
    for unit in existing.values():
        session.delete(unit)
    session.flush()
    return {}


def export_devices(session: Session, *, unit_code: str | None, fmt: str,
                   scope: frozenset[int] | None = None) -> bytes:
    query = select(Device).options(selectinload(Device.interfaces), selectinload(Device.unit)).order_by(Device.id)
    if scope is not None:
        query = query.where(Device.unit_id.in_(scope))
    if unit_code:
        unit_in_scope(session, unit_code, scope, field="unit")
        query = query.where(Device.unit_id.in_(subtree_ids(session, unit_code)))
    devices = list(session.scalars(query))
    spec_keys = sorted({key for d in devices for key in (d.specs or {})}, key=lambda k: (SPEC_ORDER.get(k, 99), k))
    header = [*DEVICE_COLUMNS, *(SPEC_PREFIX + key for key in spec_keys)]
    rows = ([_device_cell(d, column) for column in DEVICE_COLUMNS] + [(d.specs or {}).get(k) for k in spec_keys]
            for d in devices)
    return _write(header, rows, fmt, sheet="devices")


def export_units(session: Session, *, fmt: str, scope: frozenset[int] | None = None) -> bytes:
    query = select(Unit).order_by(Unit.code)
    if scope is not None:
        query = query.where(Unit.id.in_(scope))
    units = session.scalars(query).all()
    rows = ([u.code, u.name, u.kind.value, u.parent.code if u.parent else None,
             *(getattr(u, name) for name in FACT_COLUMNS), u.active, u.successor.code if u.successor else None,
             u.dissolved_on] for u in units)
    return _write(list(UNIT_EXPORT_COLUMNS), rows, fmt, sheet="units")


def _device_observations(session: Session, rows: Sequence[tuple[int, dict[str, Any]]], filename: str, by: str,
                         scope: frozenset[int] | None, problems: list[RowProblem]) -> list[ObservedDevice]:
    units = {code: active for code, active, unit_id in session.execute(select(Unit.code, Unit.active, Unit.id))
             if scope is None or unit_id in scope}
    now = utcnow()
    observations, rows_of, first_row_of = [], [], {}
    for n, row in rows:
        observation = _device_observation(n, row, units, f"import:{filename} by {by}", now, problems,
                                          scoped=scope is not None)
        if observation is None:
            continue
        for key in ([("serial", observation.serial)] if observation.serial else []) + \
                   [("macs", mac) for mac in observation.macs]:
            if key in first_row_of:
                problems.append(RowProblem(n, key[0], Reason("%(value)s is also on row %(row)s", value=key[1],
                                                             row=first_row_of[key])))
            first_row_of.setdefault(key, n)
        observations.append(observation)
        rows_of.append(n)
    wanted_ids = {o.device_id for o in observations if o.device_id is not None and 0 < o.device_id <= ID_MAX}
    known = set(session.scalars(select(Device.id).where(Device.id.in_(wanted_ids)))) if wanted_ids else set()
    for n, o in zip(rows_of, observations):
        if o.device_id is not None and o.device_id not in known:
            problems.append(RowProblem(n, "id", _no_device(o.device_id, scoped=scope is not None)))
    if scope is not None:
        _refuse_devices_of_other_units(session, rows_of, observations, scope, problems)
    return observations


def _refuse_devices_of_other_units(session: Session, rows_of: Sequence[int], observations: Sequence[ObservedDevice],
                                   scope: frozenset[int], problems: list[RowProblem]) -> None:
    """A row naming a device of another unit (by id, serial or MAC) would move it: refuse the row."""
    elsewhere = identities_outside(session, scope, ids={o.device_id for o in observations if o.device_id is not None},
                                   serials={o.serial for o in observations if o.serial},
                                   macs={m for o in observations for m in o.macs})
    for n, o in zip(rows_of, observations):
        keys = [("id", o.device_id), ("serial", o.serial), *(("mac", m) for m in o.macs)]
        clash = next((key for key in keys if key in elsewhere), None)
        if clash and clash[0] == "id":
            problems.append(RowProblem(n, "id", _no_device(clash[1], scoped=True)))
        elif clash:
            column = "macs" if clash[0] == "mac" else clash[0]
            problems.append(RowProblem(n, column, Reason("%(value)s is a device of a unit that is not yours",
                                                         value=clash[1])))


def _no_device(device_id: int, *, scoped: bool) -> Reason:
    """One reason, to a caller limited to some units, for an id of no device and of another unit's device:
    two would tell which ids exist."""
    if scoped:
        return Reason("device %(id)s is not a device of your units", id=device_id)
    return Reason("device %(id)s does not exist", id=device_id)


def _device_observation(n: int, row: dict[str, Any], units: dict[str, bool], source: str, now: dt.datetime,
                        problems: list[RowProblem], *, scoped: bool) -> ObservedDevice | None:
    before = len(problems)
    unit_code = plain_text(row.get("unit_code"))
    if not unit_code:
        problems.append(RowProblem(n, "unit_code", Reason("is empty")))
    elif unit_code not in units:
        problems.append(RowProblem(n, "unit_code", Reason("unit %(code)r is not one of your units", code=unit_code)
                                   if scoped else Reason("unit %(code)r does not exist", code=unit_code)))
    elif not units[unit_code]:
        problems.append(RowProblem(n, "unit_code", Reason("unit %(code)s is inactive", code=unit_code)))
    device_id = _device_id(n, row.get("id"), problems)
    fields = {name: row[name] for name in DEVICE_FIELDS if name in row and plain_text(row[name])}
    # Cells as the sheet holds them (text, or XLSX numbers and booleans): the registry reads both.
    specs = {key[len(SPEC_PREFIX):]: value for key, value in row.items()
             if key.startswith(SPEC_PREFIX) and plain_text(value)}
    macs = _split(row.get("macs"))
    ips = _split(row.get("ips"))
    interfaces = tuple(ObservedInterface(mac=mac, ips=tuple(ips) if i == 0 else ()) for i, mac in enumerate(macs))
    if ips and not macs:
        interfaces = (ObservedInterface(ips=tuple(ips)),)
    observation = ObservedDevice(method="import", observed_at=now, unit_code=unit_code or "-", source=source,
                                 fields=fields, specs=specs, interfaces=interfaces, device_id=device_id)
    try:
        observation = normalise(observation, position=n)
    except InvalidObservation as error:  # the row and column say where: only the problem itself
        problems.append(RowProblem(n, _column_of(error.field), error.problem))
    return observation if len(problems) == before else None


def _column_of(field: str | None) -> str:
    """The sheet's column of a refused field: macs for a MAC, spec:<name as written> for specs.<name>."""
    if field == "mac":
        return "macs"
    if field and field.startswith("specs."):
        return SPEC_PREFIX + field.removeprefix("specs.")
    return field or "?"


def _device_id(n: int, value: Any, problems: list[RowProblem]) -> int | None:
    text = plain_text(value)
    if not text:
        return None
    try:
        return int(float(text)) if float(text).is_integer() else int(text)
    except ValueError:
        problems.append(RowProblem(n, "id", Reason("%(value)r is not a device id", value=text)))
        return None


def _unit_row(n: int, row: dict[str, Any], problems: list[RowProblem]) -> dict[str, Any]:
    before = len(problems)
    name = plain_text(row.get("name")).replace("\x00", "")  # PostgreSQL stores no NUL
    parsed: dict[str, Any] = {"row": n, "code": plain_text(row.get("code")), "name": name,
                              "parent_code": plain_text(row.get("parent_code")) or None, "kind": None}
    for column in ("code", "name"):
        if not parsed[column]:
            problems.append(RowProblem(n, column, Reason("is empty")))
    if len(parsed["name"]) > UNIT_NAME_LENGTH:
        problems.append(RowProblem(n, "name", Reason("is %(length)s characters long; at most %(most)s",
                                                     length=len(parsed["name"]), most=UNIT_NAME_LENGTH)))
    if parsed["code"] and (len(parsed["code"]) > 32 or not parsed["code"].replace("-", "").replace(".", "")
                           .replace("_", "").isalnum()):
        problems.append(RowProblem(n, "code", Reason("%(value)r is not a unit code (1 to 32 letters, digits, '.', '_' "
                                                     "or '-')", value=parsed["code"])))
    try:
        parsed["kind"] = UnitKind(plain_text(row.get("kind")).lower())
    except ValueError:
        problems.append(RowProblem(n, "kind", Reason("%(value)r is not one of %(allowed)s",
                                                     value=plain_text(row.get("kind")),
                                                     allowed=", ".join(k.value for k in UnitKind))))
    # Only the columns the sheet has: the others are left as they are.
    parsed["facts"] = {column: _unit_fact(n, column, row[column], problems) for column in FACT_COLUMNS if column in row}
    parsed["refused"] = {p.column for p in problems[before:]}
    return parsed


def _unit_fact(n: int, column: str, value: Any, problems: list[RowProblem]) -> Any:
    """A unit's fact from its cell (an empty one: the default); a refused cell adds a problem and reads as the
    default, which nothing stores (the import is refused)."""
    text = plain_text(value)
    if not text:
        return FACT_DEFAULTS[column]
    if column == "archive_deadline":
        found = cell_date(value)
    elif column == "on_secure_network":
        found = _yes_or_no(text)
    else:
        found = _whole_number(value, text, COUNT_MOST[column])
    if found is None:
        problems.append(RowProblem(n, column, _not_a_fact(column, text)))
        return FACT_DEFAULTS[column]
    return found


def _whole_number(value: Any, text: str, most: int) -> int | None:
    """12 or '12'; grouped thousands ('30.000') in text only: a spreadsheet's number 12.345 is not 12345."""
    if not WHOLE_NUMBER.match(text) or (isinstance(value, float) and not value.is_integer()):
        return None
    number = int(re.sub(r"[., \u00a0]", "", text))
    return number if number <= most else None


def _yes_or_no(text: str) -> bool | None:
    word = unicodedata.normalize("NFC", text).casefold()
    return True if word in YES else False if word in NO else None


def _not_a_fact(column: str, text: str) -> Reason:
    if column in HEADCOUNTS:
        return Reason("%(value)r is not a headcount (a whole number, 0 or more)", value=text)
    if column == "archive_deadline":
        return Reason("%(value)r is not a date (dd/mm/yyyy or yyyy-mm-dd)", value=text)
    if column == "on_secure_network":
        return Reason("%(value)r is not yes or no (có, không, yes, no, x, 1 or 0)", value=text)
    return Reason("%(value)r is not a whole number from 0 to %(most)s", value=text, most=COUNT_MOST[column])


def _check_unit_rows(parsed: Sequence[dict[str, Any]], existing: dict[str, Unit], problems: list[RowProblem]) -> None:
    first_row: dict[str, int] = {}
    for row in parsed:
        if row["code"] in first_row:
            problems.append(RowProblem(row["row"], "code", Reason("%(value)s is also on row %(row)s", value=row["code"],
                                                                  row=first_row[row["code"]])))
        first_row.setdefault(row["code"], row["row"])
        unit = existing.get(row["code"])
        if unit is not None and not unit.active:
            problems.append(RowProblem(row["row"], "code", Reason("unit %(code)s is inactive", code=unit.code)))
        _check_staff(row, unit, problems)
    codes = set(first_row)
    parents = {row["code"]: row["parent_code"] for row in parsed}
    for row in parsed:
        parent = row["parent_code"]
        if parent and parent not in codes and parent not in existing:
            problems.append(RowProblem(row["row"], "parent_code", Reason("unit %(code)r does not exist", code=parent)))
        elif parent and parent in existing and parent not in codes and not existing[parent].active:
            problems.append(RowProblem(row["row"], "parent_code", Reason("unit %(code)s is inactive", code=parent)))
        elif parent and _in_cycle(row["code"], parents, existing):
            problems.append(RowProblem(row["row"], "parent_code", Reason("%(code)s would be its own ancestor",
                                                                         code=row["code"])))


def _check_staff(row: dict[str, Any], unit: Unit | None, problems: list[RowProblem]) -> None:
    """Leaders and specialists within the staff, as the unit will be: the row's values, and for the columns the
    sheet leaves out, the unit's own (a new unit's defaults). Not over a headcount refused already."""
    if row["refused"] & set(HEADCOUNTS):
        return
    staff, leaders, specialists = (row["facts"].get(name, getattr(unit, name) if unit else FACT_DEFAULTS[name])
                                   for name in HEADCOUNTS)
    overrun = staff_overrun(staff, leaders, specialists)
    if overrun is not None:
        problems.append(RowProblem(row["row"], overrun_field(row["facts"]), overrun))


def _in_cycle(code: str, parents: dict[str, str | None], existing: dict[str, Unit]) -> bool:
    seen, current = set(), code
    while current is not None and current not in seen:
        seen.add(current)
        if current in parents:
            current = parents[current]
        else:
            unit = existing.get(current)
            current = unit.parent.code if unit is not None and unit.parent else None
    return current is not None


def _parents_first(parsed: Sequence[dict[str, Any]], existing: dict[str, Unit]) -> Iterator[dict[str, Any]]:
    pending = list(parsed)
    ready = set(existing)
    while pending:
        waiting = []
        for row in pending:
            if row["parent_code"] is None or row["parent_code"] in ready:
                ready.add(row["code"])
                yield row
            else:
                waiting.append(row)
        if len(waiting) == len(pending):  # _check_unit_rows rules this out; never loop for ever
            raise InvalidInput(Reason("unit parents form a cycle"), field="parent_code")
        pending = waiting


def _header_problems(header: Sequence[str], *, required: Sequence[str], allowed: Sequence[str],
                     prefix: str | None = None) -> list[RowProblem]:
    problems = [RowProblem(1, column, Reason("required column is missing")) for column in required
                if column not in header]
    expected = ", ".join(allowed)
    unknown = (Reason("unknown column; expected %(columns)s or %(prefix)s<name>", columns=expected, prefix=prefix)
               if prefix else Reason("unknown column; expected %(columns)s", columns=expected))
    for column in header:
        if column not in allowed and not (prefix and column.startswith(prefix) and len(column) > len(prefix)):
            problems.append(RowProblem(1, column or "(empty)", unknown))
    duplicated = sorted({c for c in header if header.count(c) > 1})
    problems += [RowProblem(1, column, Reason("column appears twice")) for column in duplicated]
    return problems


def _write(header: list[str], rows: Iterable[list[Any]], fmt: str, *, sheet: str) -> bytes:
    return csv_document(header, rows) if fmt == "csv" else xlsx_document(header, rows, sheet=sheet)


def _device_cell(device: Device, column: str) -> Any:
    if column == "unit_code":
        return device.unit.code
    if column == "macs":
        return LIST_SEPARATOR.join(i.mac for i in device.interfaces if i.mac)
    if column == "ips":
        return LIST_SEPARATOR.join(ip for i in device.interfaces for ip in i.ips)
    value = getattr(device, column)
    return value.value if hasattr(value, "value") else value



def _split(value: Any) -> list[str]:
    parts = plain_text(value).replace(",", LIST_SEPARATOR).split(LIST_SEPARATOR)
    return [part.strip() for part in parts if part.strip()]


def write_atomically(path: Path, content: bytes) -> None:
    """Write a whole file or nothing: a full disk or a crash never leaves half an export behind.

    The partial file is new, under a name no one can guess (mkstemp: O_CREAT | O_EXCL | O_NOFOLLOW,
    owner-only), so that a link planted beside the target cannot redirect the write; os.replace then
    puts it in place of the target, a link there included, never writing through one."""
    partial: Path | None = None
    try:
        descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
        partial = Path(name)
        with os.fdopen(descriptor, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except OSError as error:
        if partial is not None:
            partial.unlink(missing_ok=True)
        raise InvalidInput(Reason("could not write %(path)s: %(error)s; nothing was written", path=path,
                                  error=error.strerror), field="path") from None
