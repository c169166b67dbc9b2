"""The cells of every spreadsheet the service writes, CSV or XLSX, inventory and audit log alike.

One quoting rule for all of them, so that no exported text runs as a formula in the spreadsheet that
opens it (OWASP, "CSV Injection"), and an import reads the quoted text back as it was written."""
import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

import openpyxl

# A cell starting with one of these is a formula to a spreadsheet, or becomes one once the spreadsheet
# drops a leading tab or carriage return: exports write it behind an apostrophe, imports take that off.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def quote_cell(value: Any) -> Any:
    """Text a spreadsheet would run, as text it shows: behind an apostrophe. Anything else as it is."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def unquote_cell(value: Any) -> Any:
    """A cell as it was before `quote_cell`."""
    return value[1:] if isinstance(value, str) and value.startswith("'") and value[1:2] in FORMULA_START else value


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
    workbook = openpyxl.Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    worksheet.append([quote_cell(c) for c in header])
    for row in rows:
        worksheet.append([quote_cell(c) for c in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
