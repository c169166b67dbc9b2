"""The table behind a figure: the same numbers, as columns of plain values (so that the page sorts them, the CSV
holds them and the API returns them unformatted), each row with an optional link. Pure."""
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.cells import csv_document

# How a column's values are shown on a page (core.pages' filters): numbers and money for the page's language,
# days as dd/mm/yyyy. The CSV and the API keep the plain value (a date as YYYY-MM-DD).
KINDS = ("text", "number", "vnd", "percent", "day", "moment")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"column {self.key}: unknown kind {self.kind!r}")


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    hrefs: tuple[str | None, ...] = ()  # per row: where its first cell links to

    def records(self) -> list[dict[str, Any]]:
        """The rows as the API returns them: {column key: plain value}."""
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, (_plain(v) for v in row))) for row in self.rows]

    def href(self, index: int) -> str | None:
        return self.hrefs[index] if index < len(self.hrefs) else None


def table(columns: Sequence[Column], rows: Sequence[Sequence[Any]], hrefs: Sequence[str | None] = ()) -> Table:
    return Table(tuple(columns), tuple(tuple(r) for r in rows), tuple(hrefs))


def as_csv(found: Table) -> bytes:
    """The table as CSV under a header of its labels (core.cells: quoted, UTF-8 with a BOM)."""
    return csv_document([c.label for c in found.columns], found.rows)


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value
