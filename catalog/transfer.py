"""A catalog version as a workbook: exported with a sheet per part of its content (content.SHEETS, in that order
and under those names) after a "version" sheet saying which version it is, and imported back into a draft.
One sheet also travels alone, as CSV or XLSX.

An import is all or nothing: the draft gets the file's sheets (a sheet the file lacks keeps its rows), or
nothing changes and every problem is named by sheet, column and row as the spreadsheet shows it. Uploads are
read within the bounds every upload has (inventory/tables.py): a workbook's parts are counted before openpyxl
opens it, and each sheet is read a row at a time, stopping at the first bound passed."""
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, object_session

from catalog.compliance import today
from catalog.content import SHEETS, CatalogRejected, content_rows
from catalog.models import CatalogVersion
from catalog.services import (
    load_content,
    replace_content,
    sheet_rows,
    version_in_force,
    version_status,
)
from core.cells import csv_document, unquote_cell, xlsx_document, xlsx_workbook
from core.errors import InvalidInput
from core.i18n import Reason
from inventory.tables import TableLimits, plain_text, read_rows, read_sheets
from inventory.transfer import RowProblem

VERSION_SHEET = "version"  # written first on export, for the reader; an import ignores it
VERSION_COLUMNS = ("name", "effective_on", "legal_basis", "note", "status")
FORMATS = ("csv", "xlsx")
UNNAMED = "(no name)"  # the column of a problem about values under no column name


@dataclass(frozen=True)
class CatalogImportReport:
    version_id: int
    rows: dict[str, int]  # rows imported, by sheet, in SHEETS' order; a sheet the file lacks is not here


def export_version(version: CatalogVersion, fmt: str = "xlsx") -> bytes:
    """The whole version as one workbook; numbers and dates as typed cells, text quoted (core/cells.py)."""
    if fmt != "xlsx":
        raise InvalidInput(Reason("a whole catalog version exports as an XLSX workbook only; export one sheet "
                                  "at a time as CSV"), field="format")
    rows = content_rows(load_content(version))
    about = [version.name, version.effective_on, version.legal_basis, version.note, _status(version)]
    return xlsx_workbook({VERSION_SHEET: (VERSION_COLUMNS, [about]),
                          **{name: (columns, rows[name]) for name, columns in SHEETS.items()}})


def export_sheet(version: CatalogVersion, sheet: str, fmt: str) -> bytes:
    """One sheet of the version, as CSV or as a workbook of that sheet alone."""
    if fmt not in FORMATS:
        raise InvalidInput(Reason("%(format)r is not a format; use csv or xlsx", format=fmt), field="format")
    rows = [list(row.values()) for row in sheet_rows(version, sheet)]  # NotFound for a sheet no catalog has
    return csv_document(SHEETS[sheet], rows) if fmt == "csv" else xlsx_document(SHEETS[sheet], rows, sheet=sheet)


def _status(version: CatalogVersion) -> str:
    on = today()
    in_force = version_in_force(object_session(version), on) if version.published_at is not None else None
    return version_status(version, on, in_force.id if in_force else None)


def import_workbook(session: Session, version_id: int, filename: str, content: bytes, *, by: str,
                    limits: TableLimits, sheet: str | None = None) -> CatalogImportReport:
    """Replace a draft's sheets with a workbook's (.xlsx: the sheets it has, named as SHEETS; `sheet` keeps
    that one alone) or with one sheet's CSV (`sheet` says which). Runs in the caller's transaction; never commits."""
    if sheet is not None and sheet not in SHEETS:
        raise InvalidInput(Reason("%(sheet)r is not a sheet of a catalog; its sheets are %(sheets)s", sheet=sheet,
                                  sheets=", ".join(SHEETS)), field="sheet")
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix == "csv":
        if sheet is None:
            raise InvalidInput(Reason("a CSV file holds one sheet: say which one (%(sheets)s)",
                                      sheets=", ".join(SHEETS)), field="sheet")
        tables: dict[str, Any] = {sheet: read_rows(filename, content, limits)}
    elif suffix == "xlsx":
        tables = _workbook_tables(filename, content, limits, only=sheet)
    else:
        raise InvalidInput(Reason("%(file)r: only .csv and .xlsx files can be imported", file=filename),
                           field="file")
    if not tables:
        raise InvalidInput(Reason("the workbook holds none of a catalog's sheets (%(sheets)s)",
                                  sheets=", ".join(SHEETS)), field="file")
    sheets, headers, problems = {}, {}, []
    for name, table in tables.items():
        if name not in SHEETS:
            sheets[name] = []  # read_content names it among the other problems
            continue
        headers[name], sheets[name] = _by_column(name, *table, problems)
    if problems:  # the columns themselves are wrong: the cells under them mean nothing yet
        raise CatalogRejected(problems)
    replace_content(session, version_id, sheets, by=by, headers=headers, source="import")
    return CatalogImportReport(version_id, {name: len(sheets[name]) for name in SHEETS if name in sheets})


def _workbook_tables(filename: str, content: bytes, limits: TableLimits, *, only: str | None
                     ) -> dict[str, tuple[list[str], list[tuple[int, Sequence[Any]]]] | None]:
    """Each sheet's header and filled rows (None for a sheet whose name no catalog has: it is not read)."""
    tables = read_sheets(filename, content, limits,
                         wanted=lambda name: name != VERSION_SHEET and (only is None or name == only),
                         readable=lambda name: name in SHEETS)
    if only is not None and only not in tables:
        raise InvalidInput(Reason("the workbook has no sheet %(sheet)r", sheet=only), field="sheet")
    return tables


def _by_column(sheet: str, names: list[str], rows: list[tuple[int, Sequence[Any]]], problems: list[RowProblem]
               ) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Each row's cells by column name, as they were before the export quoted them. A value under no column
    name (right of the header, or under a blank heading) and a column named twice are problems: the value
    would be lost, or one of the two columns."""
    width = len(names)
    unnamed = [i for i, name in enumerate(names) if not name]
    if any(_holds_values(row[width:]) or _holds_values([row[i] for i in unnamed if i < len(row)])
           for _number, row in rows):
        problems.append(RowProblem(1, f"{sheet}.{UNNAMED}", Reason(
            "values are in a column without a name; name it (%(columns)s) or delete them",
            columns=", ".join(SHEETS[sheet]))))
    for name in sorted({n for n in names if n and names.count(n) > 1}):
        problems.append(RowProblem(1, f"{sheet}.{name}", Reason("the column %(column)r appears twice",
                                                               column=name)))
    header = [name for name in names if name]
    return header, [(number, {name: unquote_cell(value) for name, value in zip(names, row) if name})
                    for number, row in rows]


def _holds_values(cells: Sequence[Any]) -> bool:
    # C-speed first: openpyxl pads each row with None to COLUMNS_MAX + 1 cells
    return cells.count(None) != len(cells) and any(plain_text(c) for c in cells)
