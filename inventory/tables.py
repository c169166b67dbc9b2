"""Reading an uploaded CSV or XLSX table, with bounds that make a small file unable to cost much work.

Rows are read one at a time and reading stops at the first bound passed. An XLSX file is a zip of XML
parts that openpyxl parses element by element in Python (about 3 us a cell, 10 us a row, more for a
style): before openpyxl opens it, its parts are unpacked as a stream and their elements counted with
bytes.count, so that a file of too many rows, cells or strings, or a zip bomb, is refused after a
fraction of a second instead of the minutes openpyxl would spend on it. Every refusal names "file"."""
import contextlib
import csv
import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import openpyxl
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from core.errors import DomainError, InvalidInput
from core.i18n import Reason

COLUMNS_MAX = 512  # the device columns and one per spec key; openpyxl pads every row to this width
PARTS_MAX = 1_000  # a workbook has a dozen parts or two
# Elements besides rows, cells and their values (styles, drawings, merged ranges...): parsed one by one
# in Python at up to ~15 us each, and a table needs a few thousand.
OTHER_ELEMENTS_MAX = 100_000
# A cell's value is <v>; or inline <is><t>; or shared, <v> and a <si><t> of the strings part; <f> for a formula.
VALUES_PER_CELL = 4
VALUES_SLACK = 1_000
MAIN_NAMESPACE = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PREFIXES_MAX = 1  # namespace prefixes counted per part beside the default one (more: counted as "other")
CHUNK_BYTES = 2**20
_NAME_END = bytes.maketrans(b"\t\n\r/>", b"     ")  # what may end a tag's name, as a space
# expat 2.5 parses a token cut by its buffer again from its "<" at every refill: quadratic in the token's
# length (an 8 MB attribute value: 1.7 s; 20 MB: 27 s). Excel's longest tags are a few hundred bytes.
TAG_BYTES_MAX = 64 * 2**10
_WINDOW = TAG_BYTES_MAX // 2  # a run of TAG_BYTES_MAX bytes without "<" holds a whole window of these
# A start or end tag, quotes in mind: an attribute value may hold ">" (never "<"). No "!" or "?": comments,
# CDATA and instructions are refused on their own.
_TAG = re.compile(rb"""</?[^\s/>!?<]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*\s*/?>""")
# Parts expat cannot read as XML, whatever their name: it takes "\x89P", "\xff\xd8"... for UTF-8 and fails
# at once. PNG, JPEG, GIF, BMP, TIFF, EMF, WMF, OLE (vbaProject.bin, embedded objects), zip (embedded files).
BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*", b"\x01\x00\x00\x00",
                b"\xd7\xcd\xc6\x9a", b"\xd0\xcf\x11\xe0", b"PK\x03\x04")


@dataclass(frozen=True)
class TableLimits:
    """No defaults: they are settings, in app.py's DEFAULTS alone (IMPORT_MAX_*)."""
    rows: int       # filled rows below the header; as many blank rows again are skipped
    cells: int      # filled cells, the header's included (XLSX: blank formatted ones too)
    xml_bytes: int  # an XLSX file unpacked, all its parts together


def table_limits(config: Mapping[str, Any]) -> TableLimits:
    return TableLimits(config["IMPORT_MAX_ROWS"], config["IMPORT_MAX_CELLS"], config["IMPORT_MAX_XML_BYTES"])


@dataclass(frozen=True)
class _Format:
    blank: Callable[[Sequence[Any]], bool]
    width: Callable[[Sequence[Any]], int]   # of a header row
    filled: Callable[[Sequence[Any]], int]  # cells that count towards the limit
    names: Callable[[Sequence[Any]], list[str]]  # of a header row's columns


def read_rows(filename: str, content: bytes, limits: TableLimits,
              check_header: Callable[[list[str]], None] = lambda names: None
              ) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """The header and the filled rows, each with its number as a spreadsheet shows it (blank rows count).
    `check_header` sees the column names as soon as the header is read, before any row below it."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix == "csv":
        header, rows = _bounded_table(filename, _csv_lines(content), limits, CSV, check_header)
        return CSV.names(header), [(n, list(row)) for n, row in rows]
    if suffix == "xlsx":
        check_workbook(filename, content, limits)
        header, rows = _bounded_table(filename, _sheet_lines(content), limits, XLSX, check_header)
        return _xlsx_table(header, rows)
    raise _refused(Reason("%(file)r: only .csv and .xlsx files can be imported", file=filename))


def plain_text(value: Any) -> str:
    """A cell as text: a whole number without ".0", and no white space around it."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def cell_date(value: Any) -> dt.date | None:
    """A date cell of the spreadsheet, or its text as dd/mm/yyyy (as people write it here) or yyyy-mm-dd; None
    when it is neither."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    for form in ("%d/%m/%Y", "%Y-%m-%d"):
        with contextlib.suppress(ValueError):
            return dt.datetime.strptime(plain_text(value), form).date()
    return None


def check_workbook(filename: str, content: bytes, limits: TableLimits) -> None:
    """Refuse an XLSX file whose parts would cost openpyxl more work than the limits allow, reading
    them as a stream (zipfile stops each part at its stated size: a larger part fails its CRC)."""
    if content.count(b"PK\x01\x02") > PARTS_MAX:  # each part's central directory entry starts so
        raise _refused(Reason("%(file)r has more than %(parts)s parts; copy the table alone into a new workbook",
                              file=filename, parts=PARTS_MAX))
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = archive.infolist()
            if sum(part.file_size for part in parts) > limits.xml_bytes:
                size = f"{limits.xml_bytes / 2**20:g} MiB"
                raise _refused(Reason("%(file)r unpacks to more than %(size)s; at most %(size)s per import",
                                      file=filename, size=size))
            counts = _ElementCounts()
            for part in parts:
                if part.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise _refused(Reason("the file is not a readable XLSX workbook (compressed with a method other "
                                          "than deflate)"))
                with archive.open(part) as stream:
                    _count_part(stream, counts, lambda: counts.check(filename, limits))
            counts.check(filename, limits, complete=True)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, ValueError) as error:
        raise _unreadable(error) from None  # RuntimeError: a part needs a password


class _ElementCounts:
    """Upper bounds on the elements openpyxl would parse, by kind. An element whose start tag is not
    spelt as counted here (another prefix, unusual white space) counts as "other", so that every
    element falls under one of the bounds."""

    def __init__(self):
        self.elements = self.rows = self.cells = self.values = 0

    def add(self, xml: bytes, prefixes: Sequence[bytes]) -> None:
        few = _few_tags(xml)
        if few is not None:  # text, mostly (a long string): its few elements count as other, unsorted
            self.elements += few
            return
        self.elements += xml.count(b"<") - xml.count(b"</")  # start tags, comments and instructions
        named = xml.translate(_NAME_END)  # "<c>", "<c/>", "<c\n" all read "<c "
        for prefix in prefixes:
            if prefix and b"<" + prefix not in named:
                continue
            self.rows += named.count(b"<" + prefix + b"row ")
            self.cells += named.count(b"<" + prefix + b"c ")
            self.values += sum(named.count(b"<" + prefix + name + b" ") for name in (b"v", b"is", b"t", b"f", b"si"))

    def check(self, filename: str, limits: TableLimits, *, complete: bool = False) -> None:
        if self.rows > limits.rows + 1:  # and the header
            raise _too_many_rows(filename, limits.rows)
        if self.cells > limits.cells:
            raise _too_many_cells(filename, limits.cells)
        if self.elements - self.rows - self.cells - self.values > OTHER_ELEMENTS_MAX:
            raise _refused(Reason("%(file)r holds more than %(most)s XML elements besides its rows, cells and values "
                                  "(formatting, drawings, ...); copy the table alone into a new workbook",
                                  file=filename, most=OTHER_ELEMENTS_MAX))
        # The strings part may come before the sheets: the cells known at the end bound the values.
        cells = self.cells if complete else limits.cells
        if self.values > VALUES_PER_CELL * cells + VALUES_SLACK:
            raise _refused(Reason("%(file)r holds more strings and values than its cells use; copy the table alone "
                                  "into a new workbook", file=filename))


def _count_part(stream: BinaryIO, counts: _ElementCounts, check: Callable[[], None]) -> None:
    """Count one part's elements a chunk at a time; a part that is not XML (a picture) is skipped,
    since openpyxl cannot parse it either."""
    chunk = stream.read(CHUNK_BYTES)
    if not _is_xml(chunk):
        return
    prefixes, carry, declaration = [b""], b"", _declaration_end(chunk)
    while chunk:
        xml = carry + chunk
        _refuse_markup(xml, declaration)
        _refuse_long_tags(xml)
        _learn_prefixes(xml, prefixes)
        # Never count a tag cut in two, and keep a tag's start until its length is known
        cut = xml.rfind(b"<", max(0, len(xml) - TAG_BYTES_MAX))
        cut = len(xml) if cut <= 0 else cut
        counts.add(xml[:cut], prefixes)
        check()
        carry, chunk, declaration = xml[cut:], stream.read(CHUNK_BYTES), 0
    counts.add(carry, prefixes)
    check()


def _declaration_end(head: bytes) -> int:
    """Where the XML declaration ends, if the part starts with one (the only instruction allowed)."""
    text = head.removeprefix(b"\xef\xbb\xbf")
    if not text.startswith(b"<?xml"):
        return 0
    end = text.find(b"?>", 0, 512)
    return len(head) - len(text) + end + 2 if end > 0 else 0


def _refuse_markup(xml: bytes, declaration_end: int) -> None:
    """Comments, CDATA and instructions: Excel writes none, and expat parses each again at every refill."""
    if b"<!" in xml:
        # An entity expands into markup the counts never saw (defusedxml refuses them too, when installed).
        if b"<!ENTITY" in xml or b"<!DOCTYPE" in xml:
            raise _refused(Reason("the file is not a readable XLSX workbook (it declares XML entities or a DTD)"))
        raise _refused(Reason("the file is not a readable XLSX workbook (it holds XML comments or CDATA sections)"))
    if xml.find(b"<?", declaration_end) >= 0:
        raise _refused(Reason("the file is not a readable XLSX workbook (it holds XML processing instructions)"))


def _refuse_long_tags(xml: bytes) -> None:
    """Refuse a tag longer than TAG_BYTES_MAX. Only a run without "<" can hold one, and legitimate files
    have such runs only for long text, so only the tag before such a run is read (a regex, bounded)."""
    checked = -1
    for window in range(0, len(xml) - _WINDOW + 1, _WINDOW):
        if xml.find(b"<", window, window + _WINDOW) >= 0:
            continue
        start = xml.rfind(b"<", 0, window)  # -1: the run began in the last chunk, which checked it
        if start > checked:
            checked = start
            if not _TAG.match(xml, start, start + TAG_BYTES_MAX):
                raise _refused(Reason("the file is not a readable XLSX workbook (an XML tag is longer than "
                                      "%(size)s KiB)", size=TAG_BYTES_MAX // 2**10))


def _few_tags(xml: bytes, most: int = 64) -> int | None:
    """How many "<" the text holds if at most `most` (memchr-fast where bytes.count is slow for one byte)."""
    at = -1
    for found in range(most + 1):
        at = xml.find(b"<", at + 1)
        if at < 0:
            return found
    return None


def _is_xml(head: bytes) -> bool:
    """Whether a part starts as XML would; refused if it is XML in another encoding than UTF-8,
    whose tags the counts would not see."""
    if head.startswith(BINARY_MAGIC):
        return False
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or head[:4] == b"\x00\x00\xfe\xff" or _utf16_markup(head):
        raise _refused(Reason("the file is not a readable XLSX workbook (its XML is not UTF-8)"))
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<") and b"\x00" in head[:1024]:  # expat stops there, and no XML holds one
        raise _refused(Reason("the file is not a readable XLSX workbook (its XML is not UTF-8)"))
    declared = re.match(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([\w.:-]+)", text)
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        raise _refused(Reason("the file is not a readable XLSX workbook (its XML is not UTF-8)"))
    return not text or text.startswith(b"<")


def _utf16_markup(head: bytes) -> bool:
    """Whether expat would read the part as UTF-16 markup: it takes a NUL in the first two bytes for
    UTF-16, BOM or not (" \x00<\x00"). A UTF-16 part not starting with "<" (Excel's printer settings,
    a printer name) is no XML to expat either, and is skipped."""
    if b"\x00" not in head[:2]:
        return False
    encoding = "utf-16-be" if head[:1] == b"\x00" else "utf-16-le"
    text = head[:1024 - 1024 % 2].decode(encoding, errors="replace")
    return text.lstrip(" \t\r\n").startswith("<")


def _learn_prefixes(xml: bytes, prefixes: list[bytes]) -> None:
    """Prefixes bound to the spreadsheet namespace (<x:row> in files of Microsoft's Open XML SDK)."""
    for found in re.finditer(rb"xmlns:([A-Za-z_][\w.-]{0,15})\s*=\s*[\"']" + re.escape(MAIN_NAMESPACE) + rb"[\"']",
                             xml):
        prefix = found.group(1) + b":"
        if prefix not in prefixes and len(prefixes) <= PREFIXES_MAX:
            prefixes.append(prefix)


def _bounded_table(filename: str, lines: Iterator[tuple[int, Sequence[Any]]], limits: TableLimits, table: _Format,
                   check_header: Callable[[list[str]], None]) -> tuple[Sequence[Any], list[tuple[int, Sequence[Any]]]]:
    """The first filled row and the filled rows after it, stopping at the first bound passed."""
    header: Sequence[Any] | None = None
    rows: list[tuple[int, Sequence[Any]]] = []
    blank_rows = cells = 0
    for number, line in lines:
        cells += table.filled(line)
        if cells > limits.cells:
            raise _too_many_cells(filename, limits.cells)
        if table.blank(line):
            blank_rows += 1
            if blank_rows > limits.rows:
                raise _refused(Reason("%(file)r has more than %(most)s blank rows; at most %(most)s per import",
                                      file=filename, most=limits.rows))
        elif header is None:
            if table.width(line) > COLUMNS_MAX:
                raise _refused(Reason("%(file)r has more than %(most)s columns; at most %(most)s per import",
                                      file=filename, most=COLUMNS_MAX))
            header = line
            check_header(table.names(line))  # a wrong header is refused before the rows are read
        elif len(rows) == limits.rows:
            raise _too_many_rows(filename, limits.rows)
        else:
            rows.append((number, line))
    if header is None:
        raise _refused(Reason("the file is empty: it needs a header row"))
    return header, rows


def read_sheets(filename: str, content: bytes, limits: TableLimits, *, wanted: Callable[[str], bool],
                readable: Callable[[str], bool]) -> dict[str, tuple[list[str], list[tuple[int, Sequence[Any]]]] | None]:
    """Several sheets of one workbook, by name: each `wanted` sheet's column names and filled rows (None for one
    that is wanted only to be named, not `readable`). Each sheet is held to the limits, and so is the workbook
    as a whole (check_workbook's counts are upper bounds, and leave a part of a few elements uncounted)."""
    check_workbook(filename, content, limits)
    try:  # openpyxl raises many types for a damaged file, on opening or on reading a sheet
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:
        raise _unreadable(error) from None
    try:
        tables = {worksheet.title: _sheet_table(filename, worksheet, limits) if readable(worksheet.title) else None
                  for worksheet in workbook.worksheets if wanted(worksheet.title)}
    except DomainError:
        raise
    except Exception as error:
        raise _unreadable(error) from None
    finally:
        workbook.close()
    read = [table for table in tables.values() if table is not None]
    if sum(len(rows) for _names, rows in read) > limits.rows:
        raise _too_many_rows(filename, limits.rows)
    if sum(len(names) + sum(XLSX.filled(row) for _number, row in rows) for names, rows in read) > limits.cells:
        raise _too_many_cells(filename, limits.cells)
    return tables


def _sheet_table(filename: str, worksheet: ReadOnlyWorksheet, limits: TableLimits
                 ) -> tuple[list[str], list[tuple[int, Sequence[Any]]]]:
    """The column names and filled rows of one sheet; a sheet without a single filled row has no columns."""
    worksheet.reset_dimensions()  # the size the file states is the sender's word: never pad rows to it
    ended = []

    def lines() -> Iterator[tuple[int, Sequence[Any]]]:
        yield from enumerate(worksheet.iter_rows(values_only=True, max_col=COLUMNS_MAX + 1), start=1)
        ended.append(True)
    header_seen: list[list[str]] = []
    try:
        header, rows = _bounded_table(filename, lines(), limits, XLSX, header_seen.append)
    except InvalidInput:
        if ended and not header_seen:  # read to its end within the bounds, and found no header: empty
            return [], []
        raise
    return XLSX.names(header), rows


def _csv_lines(content: bytes) -> Iterator[tuple[int, list[str]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _refused(Reason("the CSV file is not UTF-8 (byte %(byte)s)", byte=error.start)) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:  # a record is a spreadsheet row, however many lines its quoted cells span
        yield from enumerate(reader, start=1)
    except csv.Error as error:  # e.g. a cell past the csv module's 131,072-character limit
        raise _refused(Reason("the CSV file cannot be read at line %(line)s: %(error)s", line=reader.line_num,
                              error=str(error))) from None


def _skip_stated_size(sheet: ReadOnlyWorksheet) -> None:
    """openpyxl parses a whole sheet when opening it if no <dimension> precedes its rows (its own writer
    writes none), only to learn the size that reset_dimensions() then discards: 10 s for 99,999 x 30
    cells, before the header could be checked."""


ReadOnlyWorksheet._get_size = _skip_stated_size


def _sheet_lines(content: bytes) -> Iterator[tuple[int, tuple[Any, ...]]]:
    # openpyxl raises many types for a damaged file, on opening or (read-only) on reading a sheet; all mean the same
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:
        raise _unreadable(error) from None
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the size the file states is the sender's word: never pad rows to it
        yield from enumerate(sheet.iter_rows(values_only=True, max_col=COLUMNS_MAX + 1), start=1)
    except Exception as error:
        raise _unreadable(error) from None
    finally:
        workbook.close()


def _xlsx_table(header: Sequence[Any], rows: list[tuple[int, Sequence[Any]]]
                ) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """Rows cut to the header's width; a value beyond it adds a nameless column, which the import refuses."""
    width = _filled_width(header)
    names = _xlsx_names(header)
    if any(not _blank_values(row[width:]) for _number, row in rows):
        names.append("")
    return names, [(number, list(row[:width])) for number, row in rows]


def _xlsx_names(header: Sequence[Any]) -> list[str]:
    return [plain_text(c).lower() for c in header[:_filled_width(header)]]


def _blank_texts(line: Sequence[str]) -> bool:
    return not "".join(line).strip()


def _blank_values(line: Sequence[Any]) -> bool:
    # C-speed first: openpyxl hands over rows padded with None to COLUMNS_MAX + 1 cells
    return not any(line) and (line.count(None) == len(line) or all(c is None or c == "" for c in line))


def _filled_width(line: Sequence[Any]) -> int:
    width = len(line)
    while width and line[width - 1] in (None, ""):
        width -= 1
    return width


CSV = _Format(blank=_blank_texts, width=len, filled=lambda line: len(line) - line.count(""),
              names=lambda line: [c.strip().lower() for c in line])
# openpyxl pads each row with None; comparing each cell with "" as well would cost more than the reading
XLSX = _Format(blank=_blank_values, width=_filled_width, filled=lambda line: len(line) - line.count(None),
               names=_xlsx_names)


def _refused(reason: Reason) -> InvalidInput:
    return InvalidInput(reason, field="file")


def _too_many_rows(filename: str, limit: int) -> InvalidInput:
    return _refused(Reason("%(file)r has more than %(most)s rows; at most %(most)s per import", file=filename,
                           most=limit))


def _too_many_cells(filename: str, limit: int) -> InvalidInput:
    return _refused(Reason("%(file)r has more than %(most)s cells; at most %(most)s per import", file=filename,
                           most=limit))


def _unreadable(error: Exception) -> InvalidInput:
    """A workbook that zipfile or openpyxl failed to read, named by the type of their error."""
    return _refused(Reason("the file is not a readable XLSX workbook (%(error)s)", error=type(error).__name__))
