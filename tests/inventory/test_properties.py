"""Properties of imports and observations over arbitrary input: a report, or a refusal that names the
row, the column and the reason and stores nothing; never another exception.

Derandomised (the same examples every run) and bounded: a few dozen files per database. The
`@example`s pin inputs that real spreadsheets contain and earlier runs found to crash."""
import csv
import datetime as dt
import io
import string
import zipfile

import openpyxl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy.orm import Session

from app import DEFAULTS
from core.db import dumps_json, loads_json
from core.errors import InvalidInput
from inventory.models import Device, DeviceClass, DeviceStatus
from inventory.observations import (
    DEVICE_FIELDS,
    ObservedDevice,
    ObservedInterface,
    evidence_of,
    fingerprint,
    normalise,
    normalise_hostname,
    normalise_serial,
)
from inventory.tables import table_limits
from inventory.transfer import DEVICE_COLUMNS, UNIT_COLUMNS, ImportRejected, import_devices, import_units, read_table
from tests.conftest import T0, table_contents

PURE = settings(max_examples=150, derandomize=True, deadline=None)
# Each database example opens a transaction and reads every table twice: keep the count modest.
WITH_DATABASE = settings(max_examples=40, derandomize=True, deadline=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                HealthCheck.data_too_large])
MAX_ROWS = 50
LIMITS = table_limits({**DEFAULTS, "IMPORT_MAX_ROWS": MAX_ROWS})
READ_LIMITS = table_limits({**DEFAULTS, "IMPORT_MAX_ROWS": 10_000})

# Any text a spreadsheet cell can hold as UTF-8 (no lone surrogates), now and then longer than any column.
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30) | \
    st.text(st.characters(exclude_categories=("Cs",)), min_size=190, max_size=300)
mac = st.integers(0, 2**48 - 1).map(lambda n: f"{n:012x}").flatmap(lambda h: st.sampled_from([
    ":".join(h[k:k + 2] for k in range(0, 12, 2)), "-".join(h[k:k + 2] for k in range(0, 12, 2)).upper(),
    ".".join(h[k:k + 4] for k in range(0, 12, 4)), h]))
PLAUSIBLE = {
    "id": st.integers(-3, 2**70).map(str) | st.sampled_from(["1", "2.0", "1e300", "inf", "x"]),
    "unit_code": st.sampled_from(["W1", "W2", "A1", "A1-D1", "C", " W1 ", "W9", "w1"]),
    "device_class": st.sampled_from([*(c.value for c in DeviceClass), "Switch", "toaster"]),
    "status": st.sampled_from([*(s.value for s in DeviceStatus), "lost"]),
    "serial": st.from_regex(r"[A-Z0-9]{3,12}", fullmatch=True) | st.sampled_from(["n/a", "To be filled by O.E.M."]),
    "hostname": st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,5})?", fullmatch=True) | st.just("bad host!"),
    "purchase_date": st.dates().map(dt.date.isoformat) | st.just("01/02/2023"),
    "warranty_end": st.dates().map(dt.date.isoformat),
    "purchase_price_vnd": st.integers(-10, 10**16).map(str) | st.sampled_from(["15.500.000", "1,5", "a lot"]),
    "macs": st.lists(mac, max_size=3).map(";".join) | st.just("zz:zz"),
    "ips": st.lists(st.ip_addresses().map(str), max_size=3).map(",".join) | st.just("10.0.0.300"),
}


def cell(column: str) -> st.SearchStrategy[str]:
    return st.one_of(PLAUSIBLE.get(column, any_text), any_text, st.just(""))


@st.composite
def device_sheets(draw) -> tuple[list[str], list[list[str]]]:
    """A header (unit_code nearly always, other columns and spec: columns at will) and rows of cell texts."""
    columns = draw(st.lists(st.sampled_from([c for c in DEVICE_COLUMNS if c != "unit_code"]), unique=True,
                            max_size=8))
    if draw(st.integers(0, 9)):
        columns.insert(draw(st.integers(0, len(columns))), "unit_code")
    columns += draw(st.lists(st.sampled_from(["spec:ram_gb", "spec:cpu", "spec:ports", "colour", "spec:"]),
                             unique=True, max_size=2))
    rows = draw(st.lists(st.tuples(*(cell(c) for c in columns)).map(list), max_size=6))
    return columns, rows


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode()


def xlsx_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in [header, *rows]:
        workbook.active.append([ILLEGAL_CHARACTERS_RE.sub("", value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def damaged_sheet() -> bytes:
    """A real workbook whose zip is whole but whose sheet XML is cut in half (an interrupted save)."""
    whole = zipfile.ZipFile(io.BytesIO(xlsx_bytes(["unit_code", "serial"], [["W1", "S1"]] * 20)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as damaged:
        for item in whole.infolist():
            data = whole.read(item.filename)
            damaged.writestr(item, data[:len(data) // 2] if item.filename.endswith("sheet1.xml") else data)
    return out.getvalue()


def unquoted(value: str | None) -> str | None:
    """A cell written as '=1 (a formula quoted by an export) reads back as =1."""
    return value[1:] if value and value[:2] in ("'=", "'+", "'-", "'@") else value


def as_stored_in_xlsx(value: str) -> str | None:
    """What openpyxl keeps of a text cell: no illegal characters, line ends as XML reads them; nothing
    for an empty cell or for text starting with "=", stored as a formula a data-only read finds empty."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value).replace("\r\n", "\n").replace("\r", "\n")  # XML line ends
    return None if not value or (value.startswith("=") and len(value) > 1) else value


def data_rows(rows: list[list[str]]) -> int:
    return sum(1 for row in rows if any(value.strip() for value in row))


def import_or_refusal(engine, kind: str, filename: str, content: bytes):
    """The import's report, or its refusal after checking that the refusal changed nothing."""
    before = table_contents(engine)
    importer = import_devices if kind == "devices" else import_units
    extra = {"by": "hypothesis"} if kind == "devices" else {}
    try:
        with Session(engine) as session, session.begin():
            return importer(session, filename, content, limits=LIMITS, **extra)
    except InvalidInput as refusal:  # ImportRejected is one
        assert table_contents(engine) == before, f"a refused import changed stored data: {refusal.reason}"
        return refusal


def assert_problems_name_rows_and_columns(rejected: ImportRejected, header: list[str], rows: int,
                                          required: tuple[str, ...]) -> None:
    assert rejected.problems
    assert rejected.reason.startswith("import rejected, nothing was stored: row ")
    for problem in rejected.problems:
        assert 1 <= problem.row <= rows + 1
        assert problem.column in {*header, *required, "(empty)"}
        assert isinstance(problem.reason, str) and problem.reason.strip()
    assert rejected.details == [vars(p) for p in rejected.problems]


@given(sheet=device_sheets())
@WITH_DATABASE
@example(sheet=(["unit_code", "vendor"], [["W1", "V" * 150]]))  # vendor is 100 characters in the database
@example(sheet=(["unit_code", "location"], [["W1", "Phòng " + "x" * 220]]))  # location: 200
@example(sheet=(["unit_code", "model", "serial"], [["W1", "a\x00b", "NUL-1"]]))  # PostgreSQL stores no NUL
@example(sheet=(["unit_code", "id"], [["W1", "99999999999999999999"]]))  # beyond any id column
@example(sheet=(["unit_code", "id"], [["W1", "1e300"]]))
def test_any_device_sheet_is_imported_or_refused_by_row_and_column(org, engine, sheet):
    header, rows = sheet
    outcome = import_or_refusal(engine, "devices", "sheet.csv", csv_bytes(header, rows))
    if isinstance(outcome, ImportRejected):
        assert_problems_name_rows_and_columns(outcome, header, len(rows), ("unit_code",))
    elif isinstance(outcome, InvalidInput):
        assert outcome.field == "file"
        assert outcome.reason == "the file is empty: it needs a header row"
    else:
        assert outcome.rows == data_rows(rows)
        assert outcome.created + outcome.changed + outcome.unchanged <= outcome.rows


@given(sheet=device_sheets(), name=st.text(string.ascii_letters + string.digits + " ._-đươ", max_size=260))
@settings(WITH_DATABASE, max_examples=15)
@example(sheet=(["unit_code", "serial"], [["W1", "LONG-NAME-1"]]), name="kiểm kê " * 40)  # source is 200 long
def test_the_file_name_never_breaks_an_import(org, engine, sheet, name):
    header, rows = sheet
    outcome = import_or_refusal(engine, "devices", f"{name}.xlsx", xlsx_bytes(header, rows))
    if isinstance(outcome, ImportRejected):
        assert_problems_name_rows_and_columns(outcome, header, len(rows), ("unit_code",))
    elif isinstance(outcome, InvalidInput):
        assert outcome.field == "file"
    else:
        assert outcome.rows <= len(rows)


@given(rows=st.lists(st.tuples(st.sampled_from(["C", "W1", "NEW-1", "NEW-2", "bad code", ""]) | any_text,
                               any_text, st.sampled_from(["ward", "agency", "department", "Ward", "x"]),
                               st.sampled_from(["", "C", "W1", "NEW-1", "NEW-2"]),
                               st.integers(-2, 2_000_000).map(str) | st.sampled_from(["", "12.5", "1e400"]))
                     .map(list), max_size=5))
@WITH_DATABASE
@example(rows=[["NEW-1", "Phường " + "x" * 220, "ward", "C", "10"]])  # unit names are 200 long
def test_any_unit_sheet_is_imported_or_refused_by_row_and_column(org, engine, rows):
    outcome = import_or_refusal(engine, "units", "units.csv", csv_bytes(list(UNIT_COLUMNS), rows))
    if isinstance(outcome, ImportRejected):
        assert_problems_name_rows_and_columns(outcome, list(UNIT_COLUMNS), len(rows), ())
    elif isinstance(outcome, InvalidInput):
        assert outcome.reason == "the file is empty: it needs a header row"
    else:
        assert outcome.rows == data_rows(rows)


@given(blank_before=st.integers(0, 3), good_before=st.integers(0, 3), fmt=st.sampled_from(["csv", "xlsx"]))
@settings(WITH_DATABASE, max_examples=12)
@example(blank_before=1, good_before=0, fmt="csv")
def test_a_bad_row_is_reported_at_its_spreadsheet_row_blank_rows_included(org, engine, blank_before, good_before,
                                                                          fmt):
    rows = [["", ""]] * blank_before + [["W1", f"GOOD{n}"] for n in range(good_before)] + [["W9", "BAD"]]
    content = (csv_bytes if fmt == "csv" else xlsx_bytes)(["unit_code", "serial"], rows)
    outcome = import_or_refusal(engine, "devices", f"rows.{fmt}", content)
    assert isinstance(outcome, ImportRejected)
    assert [(p.row, p.column) for p in outcome.problems] == [(len(rows) + 1, "unit_code")]  # header is row 1


@given(content=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
@PURE
@example(content=b"unit_code,vendor\nW1," + b"x" * 140_000 + b"\n")  # past the csv module's field limit
@example(content=b"\xef\xbb\xbfunit_code\r\nW1\r\n")
def test_any_bytes_are_a_table_or_a_refusal_of_the_file(content):
    try:
        header, rows = read_table("any.csv", content, READ_LIMITS)
    except InvalidInput as refusal:
        assert refusal.field == "file"
        return
    assert header == [c.strip().lower() for c in header]
    assert all(set(row) <= set(header) for row in rows)


@given(content=st.binary(max_size=300))
@settings(PURE, max_examples=50)
@example(content=xlsx_bytes(["unit_code"], [["W1"]])[:200])  # a truncated upload
@example(content=damaged_sheet())
def test_any_bytes_named_xlsx_are_a_table_or_a_refusal_of_the_file(content):
    try:
        read_table("any.xlsx", content, READ_LIMITS)
    except InvalidInput as refusal:
        assert refusal.field == "file"


@given(sheet=device_sheets(), fmt=st.sampled_from(["csv", "xlsx"]))
@settings(PURE, max_examples=60)
def test_a_written_sheet_reads_back_cell_for_cell(sheet, fmt):
    header, rows = sheet
    if not "".join(header).strip():
        return
    write = csv_bytes if fmt == "csv" else xlsx_bytes
    read_header, read_rows = read_table(f"s.{fmt}", write(header, rows), READ_LIMITS)
    assert read_header == [h.strip().lower() for h in header]
    if fmt == "csv":  # a row of blank cells is no row
        kept = [row for row in rows if any(value.strip() for value in row)]
    else:
        kept = [row for row in ([as_stored_in_xlsx(value) for value in row] for row in rows)
                if any(value not in (None, "") for value in row)]
    expected = [[unquoted(value) for value in row] for row in kept]
    assert read_rows == [dict(zip(read_header, row)) for row in expected]


# Observations: the normalisers not already covered by tests/inventory/test_observations.py.

@given(st.one_of(st.text(max_size=80), st.integers(), st.floats(allow_nan=False)))
@PURE
@example("A" * 63 + " B")  # cut at 64 characters right after a space
def test_a_serial_is_none_or_canonical_and_stable(value):
    serial = normalise_serial(value)
    if serial is not None:
        assert serial == " ".join(serial.split()).upper() and 0 < len(serial) <= 64
        assert normalise_serial(serial) == serial


@given(st.text(max_size=80) | st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,70}(\.[A-Za-z0-9-]{1,10}){0,3}\.?",
                                            fullmatch=True))
@PURE
def test_a_host_name_is_none_canonical_or_refused_by_name(value):
    try:
        host = normalise_hostname(value)
    except InvalidInput as refusal:
        assert (refusal.field, refusal.reason) == ("hostname", f"hostname: {value!r} is not a host name")
        return
    if host is not None:
        assert host == host.lower() and len(host) <= 253 and normalise_hostname(host) == host


field_values = st.one_of(any_text, st.integers(-10, 10**16), st.dates(), st.none(),
                         st.sampled_from(["Switch", "spare", "2024-02-29", "15.500.000"]))


@given(fields=st.dictionaries(st.sampled_from(DEVICE_FIELDS), field_values, max_size=6),
       ips=st.lists(st.ip_addresses().map(str) | any_text, max_size=2),
       method=st.sampled_from(["manual", "snmp", "import", "nmap"]))
@PURE
@example(fields={"model": "m" * 199 + " n", "serial": "s" * 63 + " t"}, ips=[], method="snmp")
def test_an_observation_normalises_to_a_fixed_point_or_is_refused_by_field(fields, ips, method):
    observation = ObservedDevice(method, T0, " W1 ", "hypothesis", fields=fields,
                                 interfaces=(ObservedInterface(name=" eth0 ", ips=tuple(ips)),))
    try:
        once = normalise(observation, position=4)
    except InvalidInput as refusal:
        assert refusal.field in {*fields, "ips"}
        assert refusal.reason.startswith(f"observations[4].{refusal.field}: ") or \
            refusal.reason.startswith("observations[4].interfaces[0].ips: ")
        return
    assert normalise(once, position=4) == once
    assert fingerprint(normalise(once)) == fingerprint(once)
    assert once.unit_code == "W1" and set(once.fields) <= set(fields)
    stored = loads_json(dumps_json(evidence_of(once)))  # as its JSON column keeps it
    assert stored["fields"] == {name: value.isoformat() if isinstance(value, dt.date) else value
                                for name, value in once.fields.items()}


@pytest.mark.parametrize("value", ["a\x00b", "x" * 300], ids=["NUL", "300 characters"])
def test_text_fields_fit_their_columns_after_normalising(value):
    fields = normalise(ObservedDevice("import", T0, "W1", fields={
        name: value for name in ("vendor", "model", "firmware", "os", "location")})).fields
    for name, text in fields.items():
        assert len(text) <= Device.__table__.c[name].type.length, name
        assert "\x00" not in text, name
