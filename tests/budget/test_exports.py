"""The finance exports of a plan (budget/exports.py): the workbook's formulas give the report's own totals, and
the PDF reads in the reader's language and money format. No database: the report is built by hand."""
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import Babel, force_locale
from openpyxl import load_workbook
from pypdf import PdfReader

from budget.exports import plan_pdf, plan_workbook
from budget.plans import PlanLine
from budget.reallocation import Transfer
from budget.report import PlanReport, ScenarioTotal

TRANSLATIONS = Path(__file__).resolve().parent.parent.parent / "translations"
BASIS = "Quyết định 50/2017/QĐ-TTg"
LINES = (
    PlanLine("P-BN", "desktop", "Dell OptiPlex 7020", 5, 15_500_000, "no_device", 1, "N-01", BASIS, 2027),
    PlanLine("P-BN", "printer", "HP LaserJet M211", 2, 6_200_000, "past_service_life", 3, "N-03", BASIS, None,
             (11, 12)),
    PlanLine("P-DK", "desktop", "RAM 16 GB + SSD 512 GB", 3, 2_450_000, "upgrade", 2, "N-01", BASIS, 2027,
             (21, 22, 23)),
    PlanLine("P-DK", "core_switch", "Cisco C9300", 1, 48_000_000, "end_of_support", 1, "N-07", BASIS, 2028, (31,)),
    PlanLine("Q1", "printer", "HP LaserJet M211", 4, 6_200_000, "broken", 2, "N-03", BASIS, 2028, (41, 42, 43, 44)),
)
UNIT_NAMES = {"Q1": "Ủy ban nhân dân Quận 1", "P-BN": "Phường Bến Nghé", "P-DK": "Phường Đa Kao"}
CATEGORY_NAMES = {"desktop": "Máy tính để bàn", "printer": "Máy in", "core_switch": "Thiết bị chuyển mạch lõi"}
COMPARISON = (
    ScenarioTotal(7, "Kế hoạch có mục tiêu 2027", "targeted", 170_050_000, 157_650_000, True),
    ScenarioTotal(8, "Thay thế đồng loạt 5 năm", "blanket_age", 412_300_000, 170_000_000, False),
    ScenarioTotal(9, "Bộ trang bị chuẩn", "standard_kit", 265_000_000, 160_000_000, False),
)
LINE_HEADERS = ["Unit code", "Unit name", "Category", "Model", "Reason", "Priority", "Year", "Quantity to buy",
                "Unit price (VND)", "Total (VND)", "Norm", "Legal basis", "Device ids"]


def plan_report(**changes) -> PlanReport:
    values = dict(scenario_id=7, name="Kế hoạch có mục tiêu 2027", kind="targeted", unit_code="Q1",
                  unit_name="Ủy ban nhân dân Quận 1", on=dt.date(2026, 11, 2), version_name="Danh mục 2026.2",
                  caps_vnd=(90_000_000, 80_000_000), first_year=2027, lines=LINES,
                  transfers=(Transfer(51, "desktop", "Q1", "P-BN", 1), Transfer(52, "printer", "P-DK", "P-BN", 2)),
                  comparison=COMPARISON, unit_names=UNIT_NAMES, category_names=CATEGORY_NAMES,
                  approved_by="Nguyễn Văn An", approved_at=dt.datetime(2026, 11, 20, 8, 30))
    return PlanReport(**(values | changes))


@pytest.fixture
def context():
    """A request of an application that reads the project's catalogue, in the city's time zone (no database)."""
    app = Flask(__name__)
    app.config.update(BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS), BABEL_DEFAULT_TIMEZONE="Asia/Ho_Chi_Minh")
    Babel(app)
    with app.test_request_context("/"):
        yield


def workbook_of(report: PlanReport, language: str = "en"):
    with force_locale(language):
        return load_workbook(io.BytesIO(plan_workbook(report)))


# A formula evaluator for exactly the forms budget/exports.py writes: A1*B1, A1-B1, SUM(range),
# SUMIFS(sums, keys, criterion) with a cell or "<>" (not blank) as the criterion.
def value(workbook, sheet, reference: str):
    sheet, reference = _located(workbook, sheet, reference)
    content = sheet[reference].value
    return evaluate(workbook, sheet, content[1:]) if isinstance(content, str) and content.startswith("=") else content


def values(workbook, sheet, cells: str) -> list:
    sheet, cells = _located(workbook, sheet, cells)
    return [value(workbook, sheet, cell.coordinate) for (cell,) in sheet[cells]]  # one column each


def _located(workbook, sheet, reference: str):
    if match := re.fullmatch(r"'((?:[^']|'')+)'!(.+)", reference):
        return workbook[match[1].replace("''", "'")], match[2].replace("$", "")
    return sheet, reference.replace("$", "")


def evaluate(workbook, sheet, formula: str):
    if match := re.fullmatch(r"SUM\(([^,]+)\)", formula):
        return sum(v for v in values(workbook, sheet, match[1]) if v is not None)
    if match := re.fullmatch(r"SUMIFS\(([^,]+),([^,]+),([^,]+)\)", formula):
        sums, keys = values(workbook, sheet, match[1]), values(workbook, sheet, match[2])
        wanted = None if match[3] == '"<>"' else value(workbook, sheet, match[3])
        return sum(s for s, k in zip(sums, keys, strict=True) if (k is not None if wanted is None else k == wanted))
    if match := re.fullmatch(r"(\$?[A-Z]+\$?\d+)([*-])(\$?[A-Z]+\$?\d+)", formula):
        left, right = value(workbook, sheet, match[1]), value(workbook, sheet, match[3])
        return left * right if match[2] == "*" else left - right
    raise AssertionError(f"a formula the evaluator does not know: ={formula}")


def column(sheet, letter: str) -> list:
    return [cell.value for cell in sheet[letter]]


def test_sheets_and_headers_in_english(context):
    workbook = workbook_of(plan_report())
    assert workbook.sheetnames == ["Summary by unit", "Summary by category", "Lines", "Transfers", "Upgrades",
                                   "Scenario comparison"]
    assert [c.value for c in workbook["Lines"][1]] == LINE_HEADERS
    assert [c.value for c in workbook["Upgrades"][1]] == LINE_HEADERS
    assert [c.value for c in workbook["Summary by unit"][1]] == ["Unit code", "Unit name", "Total (VND)"]
    assert [c.value for c in workbook["Summary by category"][1]] == ["Category", "Total (VND)"]
    assert [c.value for c in workbook["Transfers"][1]] == ["Device id", "Category", "From unit", "From unit name",
                                                           "To unit", "To unit name", "Distance"]
    assert [c.value for c in workbook["Scenario comparison"][1]] == [
        "Scenario", "Kind", "Total (VND)", "Funded (VND)", "Approved", "Saving by the reference (VND)"]
    assert all(workbook[name].freeze_panes == "A2" for name in workbook.sheetnames)


def test_lines_sheet_holds_each_line_and_formulas(context):
    sheet = workbook_of(plan_report())["Lines"]
    assert [c.value for c in sheet[3]] == ["P-BN", "Phường Bến Nghé", "Máy in", "HP LaserJet M211",
                                           "Past service life", "P3", None, 2, 6_200_000, "=H3*I3", "N-03", BASIS,
                                           "11, 12"]
    assert column(sheet, "J")[1:] == ["=H2*I2", "=H3*I3", "=H4*I4", "=H5*I5", "=H6*I6", "=SUM(J2:J6)",
                                      '=SUMIFS(J2:J6,G2:G6,"<>")', "=J7-J8"]
    assert column(sheet, "A")[6:] == ["Total", "Funded", "Unfunded"]
    assert sheet["J2"].number_format == sheet["I2"].number_format == sheet["J7"].number_format == '#,##0 "₫"'


def test_formulas_give_the_reports_totals(context):
    report = plan_report()
    workbook = workbook_of(report)
    lines = workbook["Lines"]
    assert (report.total_vnd, report.funded_vnd) == (170_050_000, 157_650_000)
    assert [value(workbook, lines, f"J{row}") for row in range(2, 7)] == [line.total_vnd for line in LINES]
    assert value(workbook, lines, "J7") == report.total_vnd
    assert value(workbook, lines, "J8") == report.funded_vnd
    assert value(workbook, lines, "J9") == 12_400_000  # the unfunded printers

    by_unit = workbook["Summary by unit"]
    assert [(c.value, n.value, value(workbook, by_unit, t.coordinate)) for c, n, t in by_unit.iter_rows(min_row=2)] \
        == [("P-BN", "Phường Bến Nghé", 89_900_000), ("P-DK", "Phường Đa Kao", 55_350_000),
            ("Q1", "Ủy ban nhân dân Quận 1", 24_800_000), ("Total", None, report.total_vnd)]
    by_category = workbook["Summary by category"]
    assert [(c.value, value(workbook, by_category, t.coordinate)) for c, t in by_category.iter_rows(min_row=2)] \
        == [("Máy in", 37_200_000), ("Máy tính để bàn", 84_850_000), ("Thiết bị chuyển mạch lõi", 48_000_000),
            ("Total", report.total_vnd)]
    assert by_unit["C2"].value == "=SUMIFS('Lines'!$J$2:$J$6,'Lines'!$A$2:$A$6,A2)"

    upgrades = workbook["Upgrades"]
    assert [c.value for c in upgrades[2]][:6] == ["P-DK", "Phường Đa Kao", "Máy tính để bàn",
                                                  "RAM 16 GB + SSD 512 GB", "Upgrade", "P2"]
    assert value(workbook, upgrades, "J3") == 7_350_000 and upgrades["A3"].value == "Total"


def test_comparison_saving_against_the_first_targeted_scenario(context):
    workbook = workbook_of(plan_report())
    sheet = workbook["Scenario comparison"]
    rows = [[c.value for c in row][:5] for row in sheet.iter_rows(min_row=2, max_row=4)]
    assert rows == [["Kế hoạch có mục tiêu 2027", "Targeted", 170_050_000, 157_650_000, "Yes"],
                    ["Thay thế đồng loạt 5 năm", "Blanket replacement by age", 412_300_000, 170_000_000, "No"],
                    ["Bộ trang bị chuẩn", "Standard kit", 265_000_000, 160_000_000, "No"]]
    assert column(sheet, "F")[1:4] == ["=C2-$C$2", "=C3-$C$2", "=C4-$C$2"]
    assert [value(workbook, sheet, f"F{row}") for row in (2, 3, 4)] == [0, 242_250_000, 94_950_000]
    assert sheet["A6"].value == ("Saving: how much less the reference scenario, Kế hoạch có mục tiêu 2027, costs "
                                 "than each scenario.")


def test_without_a_targeted_scenario_the_reports_own_is_the_reference(context):
    comparison = (COMPARISON[1], COMPARISON[2])
    workbook = workbook_of(plan_report(scenario_id=9, kind="standard_kit", comparison=comparison))
    sheet = workbook["Scenario comparison"]
    assert [value(workbook, sheet, f"F{row}") for row in (2, 3)] == [147_300_000, 0]


def test_transfers_sheet(context):
    sheet = workbook_of(plan_report())["Transfers"]
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=2)] == [
        [51, "Máy tính để bàn", "Q1", "Ủy ban nhân dân Quận 1", "P-BN", "Phường Bến Nghé", 1],
        [52, "Máy in", "P-DK", "Phường Đa Kao", "P-BN", "Phường Bến Nghé", 2]]


def test_a_plan_without_lines_totals_zero(context):
    workbook = workbook_of(plan_report(lines=(), comparison=()))
    assert [c.value for c in workbook["Lines"]["A2":"J4"][0]][::9] == ["Total", 0]
    assert value(workbook, workbook["Lines"], "J4") == 0
    assert [c.value for c in workbook["Summary by unit"][2]] == ["Total", None, 0]


def pdf_text(report: PlanReport, language: str, **options) -> str:
    with force_locale(language):
        document = plan_pdf(report, **options)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)


def test_pdf_in_vietnamese_has_the_unit_names_and_dotted_amounts(context):
    text = pdf_text(plan_report(), "vi")
    assert "Phường Bến Nghé" in text and "Ủy ban nhân dân Quận 1" in text
    assert "170.050.000 ₫" in text and "157.650.000 ₫" in text
    assert "VND" not in text


def test_pdf_in_english(context):
    text = pdf_text(plan_report(), "en")
    for expected in ("Budget plan: Kế hoạch có mục tiêu 2027", "Unit: Ủy ban nhân dân Quận 1 (Q1)",
                     "Catalog version: Danh mục 2026.2", "Inventory judged on: 02/11/2026",
                     "Approved by Nguyễn Văn An on 20/11/2026 at 15:30",  # 08:30 UTC in Ho Chi Minh City
                     "All lines: 170,050,000 VND", "Funded: 157,650,000 VND", "Unfunded: 12,400,000 VND",
                     "Transfers between units: 2", "Phường Bến Nghé"):
        assert expected in text
    assert re.search(r"2027\s+84,850,000 VND\s+90,000,000 VND", text)  # the year, its funded lines, its cap
    assert re.search(r"P1\s+2\s+6\s+125,500,000 VND\s+125,500,000 VND", text)
    assert re.search(r"Phường Bến Nghé\s+2\s+89,900,000 VND\s+77,500,000 VND", text)
    assert "₫" not in text


def test_pdf_of_a_draft(context):
    assert "Draft: not approved" in pdf_text(plan_report(approved_by=None, approved_at=None), "en")


def test_missing_font_names_the_debian_package(context, tmp_path):
    with pytest.raises(RuntimeError, match=r"DejaVuSans\.ttf.*fonts-dejavu-core"):
        pdf_text(plan_report(), "en", font_dir=tmp_path)
