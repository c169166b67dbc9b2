"""A catalog version's content as sheets of rows (categories, models, requirements, parts, norms), read and
checked all at once: the shipped data files, an uploaded workbook and an API edit all pass here, so that one
set of rules decides what a version may hold. Pure: rows in, checked content or every problem out.

Each problem names its sheet, row (as a spreadsheet numbers it: the header is row 1) and column."""
import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from catalog.cells import (
    OP_SYMBOLS,
    Bad,
    choices,
    condition_list,
    day,
    flag,
    operator,
    percent,
    raised_specs,
    spec_name,
    spec_value,
    text,
    vnd,
    whole,
)
from catalog.rules import BASES, Check, ModelRule, overlapping_models
from core.i18n import Reason
from inventory.models import DeviceClass, UnitKind
from inventory.transfer import ImportRejected, RowProblem

SHEETS: Mapping[str, tuple[str, ...]] = {
    "categories": ("code", "name_vi", "name_en", "group", "device_classes", "conditions", "rank", "wired",
                   "service_life_years", "wear_rate_percent", "life_legal_basis"),
    "models": ("category", "vendor", "model_pattern", "price_vnd", "end_of_sale", "end_of_support", "note"),
    "requirements": ("category", "spec", "op", "value", "severity"),
    "parts": ("code", "category", "name", "raises", "adds", "price_vnd"),
    "norms": ("code", "category", "unit_kinds", "basis", "every", "each", "spare_percent", "minimum",
              "max_quantity", "max_unit_price_vnd", "legal_basis", "note"),
}
REQUIRED_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "categories": ("code", "name_vi", "name_en", "group"), "models": ("category", "vendor", "model_pattern"),
    "requirements": ("category", "spec", "op", "value"), "parts": ("code", "category", "name", "raises", "price_vnd"),
    "norms": ("code", "category", "basis")}
CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


@dataclass(frozen=True)
class CategoryRow:
    code: str
    name_vi: str
    name_en: str
    group: str
    device_classes: tuple[str, ...] = ()
    conditions: tuple[Check, ...] = ()
    rank: int = 0
    wired: bool = False
    service_life_years: int | None = None
    wear_rate_percent: Decimal | None = None
    life_legal_basis: str = ""


@dataclass(frozen=True)
class ModelRow:
    category: str
    vendor: str
    model_pattern: str
    price_vnd: int | None = None
    end_of_sale: dt.date | None = None
    end_of_support: dt.date | None = None
    note: str = ""


@dataclass(frozen=True)
class RequirementRow:
    category: str
    spec: str
    op: str
    value: Any
    severity: str = "required"


@dataclass(frozen=True)
class PartRow:
    code: str
    category: str
    name: str
    raises: Mapping[str, Any]
    adds: bool
    price_vnd: int


@dataclass(frozen=True)
class NormRow:
    code: str
    category: str
    basis: str
    unit_kinds: tuple[str, ...] = ()
    every: int = 1
    each: int = 1
    spare_percent: int = 0
    minimum: int = 0
    max_quantity: int | None = None
    max_unit_price_vnd: int | None = None
    legal_basis: str = ""
    note: str = ""


@dataclass(frozen=True)
class CatalogContent:
    categories: tuple[CategoryRow, ...] = ()
    models: tuple[ModelRow, ...] = ()
    requirements: tuple[RequirementRow, ...] = ()
    parts: tuple[PartRow, ...] = ()
    norms: tuple[NormRow, ...] = ()


# ---- sheets ---------------------------------------------------------------------------------------------------

Row = tuple[int, Mapping[str, Any]]  # (row number as the spreadsheet shows it, cells by column)


class Sheet:
    """Reads one sheet's rows, collecting a problem for each cell that cannot be read."""

    def __init__(self, name: str, problems: list[RowProblem]):
        self.name, self.problems = name, problems
        self.row = 0

    def cell(self, cells: Mapping[str, Any], column: str, read: Callable[[Any], Any], default: Any = None) -> Any:
        try:
            return read(cells.get(column))
        except Bad as bad:
            self.problem(column, bad.reason)
            return default

    def problem(self, column: str, reason: Reason, row: int | None = None) -> None:
        self.problems.append(RowProblem(self.row if row is None else row, f"{self.name}.{column}", reason))


def read_content(sheets: Mapping[str, Sequence[Row]], *, headers: Mapping[str, Sequence[str]] | None = None
                 ) -> CatalogContent:
    """Every sheet checked, each row and across rows; CatalogRejected (nothing to store) with every problem."""
    problems: list[RowProblem] = []
    for name, header in (headers or {}).items():
        _check_header(name, header, problems)
    unknown = sorted(set(sheets) - set(SHEETS))
    for name in unknown:
        problems.append(RowProblem(1, name, Reason("%(sheet)r is not a sheet of a catalog; its sheets are %(sheets)s",
                                                   sheet=name, sheets=", ".join(SHEETS))))
    categories = _categories(Sheet("categories", problems), sheets.get("categories", ()))
    codes = {c.code for c in categories}
    content = CatalogContent(
        categories=categories,
        models=_models(Sheet("models", problems), sheets.get("models", ()), codes),
        requirements=_requirements(Sheet("requirements", problems), sheets.get("requirements", ()), codes),
        parts=_parts(Sheet("parts", problems), sheets.get("parts", ()), codes),
        norms=_norms(Sheet("norms", problems), sheets.get("norms", ()), codes))
    _prices_within_norms(Sheet("models", problems), content.models, [n for n, _ in sheets.get("models", ())],
                         content.norms)
    if problems:
        raise CatalogRejected(problems)
    return content


class CatalogRejected(ImportRejected):
    """Problems in a catalog's rows: nothing was stored."""


def _check_header(name: str, header: Sequence[str], problems: list[RowProblem]) -> None:
    if name not in SHEETS:
        return
    for column in REQUIRED_COLUMNS[name]:
        if column not in header:
            problems.append(RowProblem(1, f"{name}.{column}", Reason("the sheet has no column %(column)r",
                                                                     column=column)))
    for column in header:
        if column and column not in SHEETS[name]:
            problems.append(RowProblem(1, f"{name}.{column}", Reason(
                "%(column)r is not a column of this sheet; its columns are %(columns)s", column=column,
                columns=", ".join(SHEETS[name]))))


def _category_of(sheet: Sheet, cells: Mapping[str, Any], codes: set[str]) -> str | None:
    code = sheet.cell(cells, "category", lambda v: text(v, required=True))
    if code is not None and code not in codes:
        sheet.problem("category", Reason("there is no category %(code)r in this catalog", code=code))
        return None
    return code


def _categories(sheet: Sheet, rows: Sequence[Row]) -> tuple[CategoryRow, ...]:
    found, first_row = [], {}
    for sheet.row, cells in rows:
        code = sheet.cell(cells, "code", _code)
        if code is not None and code in first_row:
            sheet.problem("code", Reason("category %(code)r is already on row %(row)s", code=code,
                                         row=first_row[code]))
        first_row.setdefault(code, sheet.row)
        row = CategoryRow(
            code=code,
            name_vi=sheet.cell(cells, "name_vi", lambda v: text(v, most=100, required=True)),
            name_en=sheet.cell(cells, "name_en", lambda v: text(v, most=100, required=True)),
            group=sheet.cell(cells, "group", lambda v: _one(v, ("terminal", "network"), what=Reason("group"))),
            device_classes=sheet.cell(cells, "device_classes", _device_classes, ()),
            conditions=sheet.cell(cells, "conditions", condition_list, ()),
            rank=sheet.cell(cells, "rank", lambda v: whole(v, most=100_000, blank=0), 0),
            wired=sheet.cell(cells, "wired", flag, False),
            service_life_years=sheet.cell(cells, "service_life_years", lambda v: whole(v, least=1, most=100)),
            wear_rate_percent=sheet.cell(cells, "wear_rate_percent", percent),
            life_legal_basis=sheet.cell(cells, "life_legal_basis", text, ""))
        found.append(row)
    return tuple(found)


def _device_classes(value: Any) -> tuple[str, ...]:
    return choices(value, [c.value for c in DeviceClass], what=Reason("device class"))


def _code(value: Any) -> str:
    code = text(value, required=True)
    if not CODE.fullmatch(code):
        raise Bad(Reason("%(value)r is not a code: lower-case letters, digits, - and _, at most 32", value=code))
    return code


def _one(value: Any, allowed: Sequence[str], *, what: Reason) -> str:
    found = choices(value, allowed, what=what)
    if len(found) != 1:
        raise Bad(Reason("one %(what)s is required: %(allowed)s", what=what, allowed=", ".join(allowed)))
    return found[0]


def _models(sheet: Sheet, rows: Sequence[Row], codes: set[str]) -> tuple[ModelRow, ...]:
    found, numbers = [], []
    for sheet.row, cells in rows:
        row = ModelRow(
            category=_category_of(sheet, cells, codes),
            vendor=sheet.cell(cells, "vendor", lambda v: text(v, most=100, required=True)),
            model_pattern=sheet.cell(cells, "model_pattern", lambda v: text(v, most=200, required=True)),
            price_vnd=sheet.cell(cells, "price_vnd", vnd),
            end_of_sale=sheet.cell(cells, "end_of_sale", day),
            end_of_support=sheet.cell(cells, "end_of_support", day),
            note=sheet.cell(cells, "note", text, ""))
        if row.end_of_sale and row.end_of_support and row.end_of_support < row.end_of_sale:
            sheet.problem("end_of_support", Reason("end of support %(support)s is before end of sale %(sale)s",
                                                   support=row.end_of_support.strftime("%d/%m/%Y"),
                                                   sale=row.end_of_sale.strftime("%d/%m/%Y")))
        found.append(row)
        numbers.append(sheet.row)
    rules = [ModelRule(i, "", m.vendor, m.model_pattern) for i, m in enumerate(found) if m.vendor and m.model_pattern]
    for first, second in overlapping_models(rules):
        sheet.problem("model_pattern", Reason(
            "%(vendor)s %(pattern)r overlaps %(other)r on row %(row)s: a device would match both",
            vendor=found[second.id].vendor, pattern=second.pattern, other=first.pattern, row=numbers[first.id]),
            row=numbers[second.id])
    return tuple(found)


def _requirements(sheet: Sheet, rows: Sequence[Row], codes: set[str]) -> tuple[RequirementRow, ...]:
    found, first_row = [], {}
    for sheet.row, cells in rows:
        category = _category_of(sheet, cells, codes)
        spec = sheet.cell(cells, "spec", spec_name)
        op = sheet.cell(cells, "op", lambda v: operator(spec, v)) if spec else None
        value = sheet.cell(cells, "value", lambda v: spec_value(spec, op, v)) if op else None
        key = (category, spec, op)
        if None not in key and key in first_row:
            sheet.problem("spec", Reason("the same requirement is already on row %(row)s", row=first_row[key]))
        first_row.setdefault(key, sheet.row)
        found.append(RequirementRow(category, spec, op, value, sheet.cell(
            cells, "severity", lambda v: _one(v or "required", ("required", "recommended"), what=Reason("severity")),
            "required")))
    return tuple(found)


def _parts(sheet: Sheet, rows: Sequence[Row], codes: set[str]) -> tuple[PartRow, ...]:
    found, first_row = [], {}
    for sheet.row, cells in rows:
        code = sheet.cell(cells, "code", _code)
        if code is not None and code in first_row:
            sheet.problem("code", Reason("part %(code)r is already on row %(row)s", code=code, row=first_row[code]))
        first_row.setdefault(code, sheet.row)
        price = sheet.cell(cells, "price_vnd", _price)
        found.append(PartRow(code, _category_of(sheet, cells, codes),
                             sheet.cell(cells, "name", lambda v: text(v, most=200, required=True)),
                             sheet.cell(cells, "raises", raised_specs, {}), sheet.cell(cells, "adds", flag, False),
                             price or 0))
    return tuple(found)


def _norms(sheet: Sheet, rows: Sequence[Row], codes: set[str]) -> tuple[NormRow, ...]:
    found, first_row = [], {}
    for sheet.row, cells in rows:
        code = sheet.cell(cells, "code", _code)
        if code is not None and code in first_row:
            sheet.problem("code", Reason("norm %(code)r is already on row %(row)s", code=code, row=first_row[code]))
        first_row.setdefault(code, sheet.row)
        found.append(NormRow(
            code=code,
            category=_category_of(sheet, cells, codes),
            basis=sheet.cell(cells, "basis", _basis),
            unit_kinds=sheet.cell(cells, "unit_kinds", lambda v: choices(v, [k.value for k in UnitKind],
                                                                         what=Reason("unit kind")), ()),
            every=sheet.cell(cells, "every", lambda v: whole(v, least=1, blank=1), 1),
            each=sheet.cell(cells, "each", lambda v: whole(v, least=1, blank=1), 1),
            spare_percent=sheet.cell(cells, "spare_percent", lambda v: whole(v, most=1000, blank=0), 0),
            minimum=sheet.cell(cells, "minimum", lambda v: whole(v, blank=0), 0),
            max_quantity=sheet.cell(cells, "max_quantity", whole),
            max_unit_price_vnd=sheet.cell(cells, "max_unit_price_vnd", vnd),
            legal_basis=sheet.cell(cells, "legal_basis", text, ""),
            note=sheet.cell(cells, "note", text, "")))
        norm = found[-1]
        if norm.max_quantity is not None and norm.minimum > norm.max_quantity:
            sheet.problem("minimum", Reason("the minimum %(minimum)s is above the maximum quantity %(most)s",
                                            minimum=norm.minimum, most=norm.max_quantity))
    return tuple(found)


def _prices_within_norms(sheet: Sheet, models: Sequence[ModelRow], numbers: Sequence[int],
                         norms: Sequence[NormRow]) -> None:
    """An approved model priced above every maximum unit price the norms of its category allow could be bought
    for no one: its row is refused, naming the highest maximum."""
    limits: dict[str | None, list[int | None]] = {}
    for norm in norms:
        limits.setdefault(norm.category, []).append(norm.max_unit_price_vnd)
    for number, model in zip(numbers, models):
        prices = limits.get(model.category)
        if not prices or None in prices:  # no norm counts the category, or one sets no maximum price
            continue
        most = max(prices)
        if model.price_vnd is not None and model.price_vnd > most:
            sheet.problem("price_vnd", Reason(
                "%(price)s VND is above the %(most)s VND that the norms of %(category)s allow for one item",
                price=f"{model.price_vnd:,}".replace(",", "."), most=f"{most:,}".replace(",", "."),
                category=model.category), row=number)


def _price(value: Any) -> int:
    price = vnd(value)
    if price is None:
        raise Bad(Reason("a value is required"))
    return price


def _basis(value: Any) -> str:
    basis = text(value, required=True)
    if basis not in BASES:
        raise Bad(Reason("%(value)r is not a unit fact a norm can count; use one of %(bases)s", value=basis,
                         bases=", ".join(BASES)))
    return basis


# ---- back to rows ---------------------------------------------------------------------------------------------

def content_rows(content: CatalogContent) -> dict[str, list[list[Any]]]:
    """The content as the sheets' rows, in SHEETS' columns: what an export writes and an import reads back."""
    return {
        "categories": [[c.code, c.name_vi, c.name_en, c.group, "|".join(c.device_classes),
                        "; ".join(condition_text(k) for k in c.conditions), c.rank, "yes" if c.wired else "no",
                        c.service_life_years, None if c.wear_rate_percent is None else float(c.wear_rate_percent),
                        c.life_legal_basis] for c in content.categories],
        "models": [[m.category, m.vendor, m.model_pattern, m.price_vnd, m.end_of_sale, m.end_of_support, m.note]
                   for m in content.models],
        "requirements": [[r.category, r.spec, OP_SYMBOLS[r.op], value_text(r.value), r.severity]
                         for r in content.requirements],
        "parts": [[p.code, p.category, p.name, "; ".join(f"{k}={value_text(v)}" for k, v in p.raises.items()),
                   "yes" if p.adds else "no", p.price_vnd] for p in content.parts],
        "norms": [[n.code, n.category, "|".join(n.unit_kinds), n.basis, n.every, n.each, n.spare_percent, n.minimum,
                   n.max_quantity, n.max_unit_price_vnd, n.legal_basis, n.note] for n in content.norms],
    }


def value_text(value: Any) -> str:
    """A typed value as the registry reads it back: True is 'yes', 8 is '8', ['a', 'b'] is 'a|b'."""
    if isinstance(value, list):
        return "|".join(value_text(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def condition_text(condition: Check) -> str:
    return f"{condition.spec} {OP_SYMBOLS[condition.op]} {value_text(condition.value)}"


def numbered(rows: Iterable[Mapping[str, Any]], *, first: int = 2) -> list[Row]:
    """Rows without numbers (the API's JSON, a data file) numbered as a spreadsheet would show them."""
    return [(number, row) for number, row in enumerate(rows, start=first)]


@dataclass
class ContentDifference:
    """One sheet's rows added, removed and changed between two versions, by each row's key."""
    sheet: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[tuple[str, dict[str, tuple[Any, Any]]]] = field(default_factory=list)


KEYS = {"categories": ("code",), "models": ("vendor", "model_pattern"), "requirements": ("category", "spec", "op"),
        "parts": ("code",), "norms": ("code",)}


def differences(before: CatalogContent, after: CatalogContent) -> list[ContentDifference]:
    """What changed from one version to the next, sheet by sheet: rows by key, changed cells as (before, after)."""
    old, new = content_rows(before), content_rows(after)
    result = []
    for sheet, columns in SHEETS.items():
        keyed_old, keyed_new = _keyed(sheet, old[sheet]), _keyed(sheet, new[sheet])
        difference = ContentDifference(sheet, added=[k for k in keyed_new if k not in keyed_old],
                                       removed=[k for k in keyed_old if k not in keyed_new])
        for key in keyed_new.keys() & keyed_old.keys():
            cells = {c: (a, b) for c, a, b in zip(columns, keyed_old[key], keyed_new[key]) if a != b}
            if cells:
                difference.changed.append((key, cells))
        difference.changed.sort()
        result.append(difference)
    return result


def _keyed(sheet: str, rows: list[list[Any]]) -> dict[str, list[Any]]:
    positions = [SHEETS[sheet].index(k) for k in KEYS[sheet]]
    return {" ".join(str(row[p]) for p in positions): row for row in rows}
