"""The cells of every spreadsheet the service writes, CSV or XLSX, inventory and audit log alike.

One quoting rule for all of them, so that no exported text runs as a formula in the spreadsheet that
opens it (OWASP, "CSV Injection"), and an import reads the quoted text back as it was written."""
import csv
import datetime as dt
import io
import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

# A cell starting with one of these is a formula to a spreadsheet, or becomes one once the spreadsheet
# drops a leading tab or carriage return: exports write it behind an apostrophe, imports take that off.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def quote_cell(value: Any) -> Any:
    """Text a spreadsheet would run, as text it shows: behind an apostrophe. Anything else as it is."""
    return "'" + value if isinstance(value, str) and _runs_as_formula(value) else value


def unquote_cell(value: Any) -> Any:
    """A cell as it was before `quote_cell`."""
    return value[1:] if isinstance(value, str) and value.startswith("'") and _runs_as_formula(value[1:]) else value


def _runs_as_formula(text: str) -> bool:
    # Spreadsheets skip leading white space (" =1", "\n=1") and read full-width signs ("＝1") as their ASCII
    # forms, which NFKC gives.
    return text.startswith(FORMULA_START) or unicodedata.normalize("NFKC", text).lstrip().startswith(FORMULA_START)


def csv_document(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A CSV file of the rows under the header, every cell quoted; UTF-8 with a BOM, which makes Excel
    read Vietnamese text as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([quote_cell(cell_text(c)) for c in header])
    writer.writerows([quote_cell(cell_text(c)) for c in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode()


def xlsx_document(header: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet: str) -> bytes:
    """An XLSX workbook of one sheet, every cell quoted; numbers and dates keep their type."""
    return xlsx_workbook({sheet: (header, rows)})


def xlsx_workbook(sheets: Mapping[str, tuple[Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """An XLSX workbook of several sheets, in the mapping's order: each its header and rows, as xlsx_document."""
    workbook = openpyxl.Workbook(write_only=True)
    for sheet, (header, rows) in sheets.items():
        worksheet = workbook.create_sheet(sheet)
        worksheet.append([quote_cell(cell_value(c)) for c in header])
        for row in rows:
            worksheet.append([quote_cell(cell_value(c)) for c in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def cell_value(value: Any) -> Any:
    """A value an XLSX cell can hold: a spec value may be an object or a list (as JSON text), and text may
    hold control characters XML cannot (openpyxl raises on them: the export was a 500)."""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def cell_text(value: Any) -> str:
    value = cell_value(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
