"""A plan's exports for finance, written from budget.report.PlanReport: a workbook whose totals are formulas
(finance edits quantities and prices in it and the totals follow), and a printable PDF summary.

Text goes through Flask-Babel, so both are written inside an application context, in the request's language."""
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from flask_babel import get_locale, to_user_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from fpdf import FPDF, XPos, YPos
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.worksheet import Worksheet

from budget.labels import KINDS, REASONS
from budget.plans import PlanLine
from budget.report import PlanReport

# Whole dong (VND has no minor unit): thousands separators, no decimals; the reader's spreadsheet shows the
# separator of its own locale.
VND_FORMAT = '#,##0 "₫"'
# Debian's fonts-dejavu-core: DejaVu Sans covers Vietnamese, which the PDF core fonts (Latin-1) do not.
DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
TOP_UNITS = 15  # units listed one by one in the PDF; the rest share one row, so that the table still adds up
SHEET_TITLE_MAX = 31  # Excel refuses longer sheet names
SHEET_TITLE_FORBIDDEN = str.maketrans("", "", "[]:*?/\\")

# The lines sheet's columns, in order; the formulas below name them by letter. "Quantity to buy", not
# "Quantity": the catalogue already has "Quantity" for a norm's way of counting ("Cách tính").
LINE_COLUMNS = (_l("Unit code"), _l("Unit name"), _l("Category"), _l("Model"), _l("Reason"), _l("Priority"),
                _l("Year"), _l("Quantity to buy"), _l("Unit price (VND)"), _l("Total (VND)"), _l("Norm"),
                _l("Legal basis"), _l("Device ids"))
LINE_WIDTHS = (12, 28, 24, 28, 22, 9, 8, 10, 16, 18, 12, 30, 20)
UNIT_COL, CATEGORY_COL, YEAR_COL, QUANTITY_COL, PRICE_COL, TOTAL_COL = "A", "C", "G", "H", "I", "J"


def plan_workbook(report: PlanReport) -> bytes:
    """The plan as an XLSX: summaries by unit and by category, lines, transfers, upgrades, scenario comparison."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    lines_sheet = workbook.create_sheet(_sheet_title(_("Lines")))
    last = _write_lines(lines_sheet, report, report.lines, with_funded=True)
    units = sorted({line.unit_code for line in report.lines})
    _write_summary(workbook.create_sheet(_sheet_title(_("Summary by unit")), 0), lines_sheet, last, UNIT_COL,
                   (_("Unit code"), _("Unit name")), [(code, report.unit_names.get(code, code)) for code in units])
    categories = sorted({_category_name(report, line.category) for line in report.lines})
    _write_summary(workbook.create_sheet(_sheet_title(_("Summary by category")), 1), lines_sheet, last,
                   CATEGORY_COL, (_("Category"),), [(name,) for name in categories])
    _write_transfers(workbook.create_sheet(_sheet_title(_("Transfers"))), report)
    _write_lines(workbook.create_sheet(_sheet_title(_("Upgrades"))), report, report.upgrades, with_funded=False)
    _write_comparison(workbook.create_sheet(_sheet_title(_("Scenario comparison"))), report)
    workbook.calculation.fullCalcOnLoad = True  # openpyxl stores no computed values: the reader computes them
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(text: str) -> str:
    """A translation may be longer than Excel allows or hold a character it refuses."""
    return text.translate(SHEET_TITLE_FORBIDDEN)[:SHEET_TITLE_MAX]


def _category_name(report: PlanReport, category: str) -> str:
    return report.category_names.get(category, category)


def _write_header(sheet: Worksheet, headers: Sequence[str], widths: Sequence[int]) -> None:
    sheet.append([str(header) for header in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"


def _column_sum(column: str, first: int, last: int) -> str | int:
    # SUM(J2:J1) would read the totals row itself when there are no rows
    return f"=SUM({column}{first}:{column}{last})" if last >= first else 0


def _write_lines(sheet: Worksheet, report: PlanReport, lines: Iterable[PlanLine], *, with_funded: bool) -> int:
    """One row per line, its total a formula, then the totals; returns the last line's row."""
    _write_header(sheet, LINE_COLUMNS, LINE_WIDTHS)
    for row, line in enumerate(lines, start=2):
        sheet.append(_line_row(report, line, row))
    last = sheet.max_row
    total_row = last + 1
    sheet.append({1: _("Total"), 10: _column_sum(TOTAL_COL, 2, last)})
    if with_funded:
        funded = (f'=SUMIFS({TOTAL_COL}2:{TOTAL_COL}{last},{YEAR_COL}2:{YEAR_COL}{last},"<>")'
                  if last >= 2 else 0)  # "<>": a year is set, the caps fund the line
        sheet.append({1: _("Funded"), 10: funded})
        sheet.append({1: _("Unfunded"), 10: f"={TOTAL_COL}{total_row}-{TOTAL_COL}{total_row + 1}"})
    _format_money(sheet, (PRICE_COL, TOTAL_COL))
    for row in range(total_row, sheet.max_row + 1):
        sheet[f"A{row}"].font = sheet[f"{TOTAL_COL}{row}"].font = Font(bold=True)
    return last


def _line_row(report: PlanReport, line: PlanLine, row: int) -> list:
    return [line.unit_code, report.unit_names.get(line.unit_code, line.unit_code),
            _category_name(report, line.category), line.model or "", str(REASONS.get(line.reason, line.reason)),
            f"P{line.priority}",
            line.year,  # None: a blank cell, which the funded total's SUMIFS leaves out
            line.quantity, line.unit_price_vnd, f"={QUANTITY_COL}{row}*{PRICE_COL}{row}", line.norm or "",
            line.legal_basis, ", ".join(str(i) for i in line.device_ids)]


def _format_money(sheet: Worksheet, columns: Iterable[str]) -> None:
    for column in columns:
        for cell in sheet[column][1:]:
            cell.number_format = VND_FORMAT


def _write_summary(sheet: Worksheet, lines_sheet: Worksheet, last: int, key_column: str,
                   key_headers: Sequence[str], keys: Sequence[tuple[str, ...]]) -> None:
    """One row per key (the first of its values is matched in the lines sheet's key_column), its total summed
    from the lines sheet, so that an edited line changes the summaries too."""
    _write_header(sheet, (*key_headers, _("Total (VND)")), (*([28] * len(key_headers)), 18))
    total_col = get_column_letter(len(key_headers) + 1)
    lines = quote_sheetname(lines_sheet.title)
    for row, values in enumerate(keys, start=2):
        sheet.append([*values, f"=SUMIFS({lines}!${TOTAL_COL}$2:${TOTAL_COL}${last},"
                               f"{lines}!${key_column}$2:${key_column}${last},A{row})"])
    total_row = sheet.max_row + 1
    sheet.append({1: _("Total"), len(key_headers) + 1: _column_sum(total_col, 2, total_row - 1)})
    _format_money(sheet, (total_col,))
    sheet[f"A{total_row}"].font = sheet[f"{total_col}{total_row}"].font = Font(bold=True)


def _write_transfers(sheet: Worksheet, report: PlanReport) -> None:
    _write_header(sheet, (_("Device id"), _("Category"), _("From unit"), _("From unit name"), _("To unit"),
                          _("To unit name"), _("Distance")), (10, 24, 12, 28, 12, 28, 10))
    for transfer in report.transfers:
        sheet.append([transfer.device_id, _category_name(report, transfer.category), transfer.from_unit,
                      report.unit_names.get(transfer.from_unit, transfer.from_unit), transfer.to_unit,
                      report.unit_names.get(transfer.to_unit, transfer.to_unit), transfer.distance])


def _write_comparison(sheet: Worksheet, report: PlanReport) -> None:
    """Each scenario's money, and what the reference (the first targeted scenario, else this report's)
    saves against it, as a formula over the totals column."""
    _write_header(sheet, (_("Scenario"), _("Kind"), _("Total (VND)"), _("Funded (VND)"), _("Approved"),
                          _("Saving by the reference (VND)")), (32, 28, 18, 18, 10, 22))
    reference = _reference_index(report)
    for row, scenario in enumerate(report.comparison, start=2):
        saving = f"=C{row}-$C${reference + 2}" if reference is not None else None
        sheet.append([scenario.name, str(KINDS.get(scenario.kind, scenario.kind)), scenario.total_vnd,
                      scenario.funded_vnd, _("Yes") if scenario.approved else _("No"), saving])
    _format_money(sheet, ("C", "D", "F"))
    if reference is not None:
        sheet.append([])
        sheet.append([_("Saving: how much less the reference scenario, %(name)s, costs than each scenario.",
                        name=report.comparison[reference].name)])


def _reference_index(report: PlanReport) -> int | None:
    for wanted in (lambda s: s.kind == "targeted", lambda s: s.id == report.scenario_id):
        for index, scenario in enumerate(report.comparison):
            if wanted(scenario):
                return index
    return None


def plan_pdf(report: PlanReport, *, font_dir: Path = DEJAVU_DIR) -> bytes:
    """A printable summary of the plan: who and what it covers, its totals, by year, priority and unit."""
    pdf = _new_pdf(font_dir)
    pdf.set_title(_("Budget plan: %(name)s", name=report.name))
    _write_heading(pdf, report)
    _write_totals(pdf, report)
    _write_table(pdf, _("By priority"),
                 (_("Priority"), _("Lines"), _("Quantity to buy"), _("Total"), _("Funded")),
                 _priority_rows(report), (30, 25, 25, 55, 55))
    _write_table(pdf, _("By unit"), (_("Unit"), _("Lines"), _("Total"), _("Funded")), _unit_rows(report),
                 (80, 20, 45, 45))
    pdf.ln(4)
    _write_text(pdf, _("Transfers between units: %(count)d", count=len(report.transfers)))
    return bytes(pdf.output())


def _new_pdf(font_dir: Path) -> FPDF:
    missing = [str(font_dir / name) for name in FONT_FILES.values() if not (font_dir / name).is_file()]
    if missing:
        raise RuntimeError(f"font file {', '.join(missing)} is missing: install the Debian package "
                           f"fonts-dejavu-core (make setup does)")
    pdf = FPDF(format="A4")
    for style, name in FONT_FILES.items():
        pdf.add_font("DejaVu", style=style, fname=str(font_dir / name))
    pdf.set_font("DejaVu", size=10)
    pdf.add_page()
    return pdf


def _amount(value_vnd: int) -> str:
    """Money as the reader writes it: 1.234.567 ₫ in Vietnamese, 1,234,567 VND in English."""
    locale = get_locale()
    if locale is not None and locale.language == "vi":
        return f"{value_vnd:,} ₫".replace(",", ".")
    return f"{value_vnd:,} VND"


def _day(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")  # the way Vietnamese administration writes dates, in both languages


def _write_text(pdf: FPDF, text: str, *, size: float = 10, bold: bool = False) -> None:
    pdf.set_font("DejaVu", style="B" if bold else "", size=size)
    pdf.multi_cell(0, size * 0.55, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _write_heading(pdf: FPDF, report: PlanReport) -> None:
    _write_text(pdf, _("Budget plan: %(name)s", name=report.name), size=16, bold=True)
    pdf.ln(2)
    _write_text(pdf, _("Unit: %(name)s (%(code)s)", name=report.unit_name, code=report.unit_code))
    _write_text(pdf, _("Catalog version: %(version)s", version=report.version_name))
    _write_text(pdf, _("Inventory judged on: %(day)s", day=_day(report.on)))
    if report.approved_by and report.approved_at:
        moment = to_user_timezone(report.approved_at)  # stored in UTC, read in the city's time
        _write_text(pdf, _("Approved by %(who)s on %(day)s at %(time)s", who=report.approved_by, day=_day(moment),
                           time=moment.strftime("%H:%M")))
    else:
        _write_text(pdf, _("Draft: not approved"))


def _write_totals(pdf: FPDF, report: PlanReport) -> None:
    pdf.ln(4)
    _write_text(pdf, _("Totals"), size=12, bold=True)
    _write_text(pdf, _("All lines: %(amount)s", amount=_amount(report.total_vnd)))
    _write_text(pdf, _("Funded: %(amount)s", amount=_amount(report.funded_vnd)))
    _write_text(pdf, _("Unfunded: %(amount)s", amount=_amount(report.total_vnd - report.funded_vnd)))
    _write_table(pdf, _("By year"), (_("Year"), _("Funded"), _("Cap")), _year_rows(report), (30, 55, 55))


def _year_rows(report: PlanReport) -> list[tuple[str, ...]]:
    caps = {report.first_year + i: cap for i, cap in enumerate(report.caps_vnd)}
    years = sorted(set(caps) | {line.year for line in report.lines if line.year is not None})
    return [(str(year), _amount(sum(line.total_vnd for line in report.lines if line.year == year)),
             _amount(caps[year]) if year in caps else _("no cap")) for year in years]


def _priority_rows(report: PlanReport) -> list[tuple[str, ...]]:
    return [(f"P{priority}", *_line_figures([line for line in report.lines if line.priority == priority],
                                            with_quantity=True))
            for priority in sorted({line.priority for line in report.lines})]


def _unit_rows(report: PlanReport) -> list[tuple[str, ...]]:
    """The units with the largest totals, then the others together."""
    by_unit: dict[str, list[PlanLine]] = {}
    for line in report.lines:  # one pass: a nation's plan has tens of thousands of lines
        by_unit.setdefault(line.unit_code, []).append(line)
    units = sorted(by_unit, key=lambda code: (-sum(line.total_vnd for line in by_unit[code]), code))
    rows = [(report.unit_names.get(code, code), *_line_figures(by_unit[code], with_quantity=False))
            for code in units[:TOP_UNITS]]
    if rest := units[TOP_UNITS:]:
        rows.append((_("Other units (%(count)d)", count=len(rest)),
                     *_line_figures([line for code in rest for line in by_unit[code]], with_quantity=False)))
    return rows


def _line_figures(lines: Sequence[PlanLine], *, with_quantity: bool) -> tuple[str, ...]:
    figures = [str(len(lines))]
    if with_quantity:
        figures.append(str(sum(line.quantity for line in lines)))
    figures += [_amount(sum(line.total_vnd for line in lines)),
                _amount(sum(line.total_vnd for line in lines if line.year is not None))]
    return tuple(figures)


def _write_table(pdf: FPDF, title: str, headers: Sequence[str], rows: Iterable[Sequence[str]],
                 widths: Sequence[int]) -> None:
    pdf.ln(4)
    _write_text(pdf, title, size=12, bold=True)
    pdf.set_font("DejaVu", size=9)
    align = ("LEFT", *(["RIGHT"] * (len(headers) - 1)))  # figures right-aligned, so that digits line up
    with pdf.table(col_widths=widths, width=sum(widths), align="LEFT", text_align=align) as table:
        for values in (headers, *rows):
            row = table.row()
            for value in values:
                row.cell(value)
