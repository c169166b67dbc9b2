"""catalog/transfer.py: a catalog version exported as a workbook and imported back into a draft, all or nothing,
every problem named by sheet, column and row as the spreadsheet shows it, within the bounds of every upload."""
import datetime as dt
import io

import openpyxl
import pytest

from catalog.content import SHEETS, CatalogContent, CatalogRejected
from catalog.examples import load_example_catalog
from catalog.services import create_version, get_version, load_content
from catalog.transfer import (
    CatalogImportReport,
    export_sheet,
    export_version,
    import_workbook,
)
from core.errors import Conflict, InvalidInput, NotFound
from inventory.tables import TableLimits
from inventory.transfer import RowProblem
from tests.conftest import table_contents
from tests.inventory import upload_attacks

LIMITS = TableLimits(rows=100_000, cells=3_000_000, xml_bytes=128 * 2**20)
EXAMPLE_ROWS = {"categories": 18, "models": 39, "requirements": 18, "parts": 4, "norms": 15}
EXAMPLE_NAME = "Danh mục mẫu 2026"


@pytest.fixture
def example(sessions):
    with sessions() as session, session.begin():
        return load_example_catalog(session).id


def new_draft(sessions, name: str = "Danh mục 2027") -> int:
    with sessions() as session, session.begin():
        return create_version(session, {"name": name, "effective_on": dt.date(2027, 1, 1)}, by="tests").id


@pytest.fixture
def draft(sessions, example):
    """A draft holding a copy of the example, imported from its export."""
    version_id = new_draft(sessions)
    import_file(sessions, version_id, "danh-muc.xlsx", exported(sessions, example))
    return version_id


def exported(sessions, version_id: int) -> bytes:
    with sessions() as session:
        return export_version(get_version(session, version_id), "xlsx")


def import_file(sessions, version_id: int, filename: str, content: bytes, *, limits: TableLimits = LIMITS,
                sheet: str | None = None) -> CatalogImportReport:
    with sessions() as session, session.begin():
        return import_workbook(session, version_id, filename, content, by="tests", limits=limits, sheet=sheet)


def content_of(sessions, version_id: int):
    with sessions() as session:
        return load_content(get_version(session, version_id))


def workbook(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def refused(engine, sessions, version_id: int, filename: str, content: bytes, **kwargs) -> list[RowProblem]:
    """The problems of an import that must change nothing at all (no row, no audit entry)."""
    before = table_contents(engine)
    with pytest.raises(CatalogRejected) as rejected:
        import_file(sessions, version_id, filename, content, **kwargs)
    assert table_contents(engine) == before
    return rejected.value.problems


def test_the_export_has_a_sheet_per_part_under_its_columns(sessions, example):
    book = openpyxl.load_workbook(io.BytesIO(exported(sessions, example)))
    assert book.sheetnames == ["version", "categories", "models", "requirements", "parts", "norms"]
    assert [[c.value for c in row] for row in book["version"].iter_rows()] == [
        ["name", "effective_on", "legal_basis", "note", "status"],
        [EXAMPLE_NAME, dt.datetime(2026, 1, 1), ("Ví dụ: Hướng dẫn danh mục thiết bị đầu cuối và hạ tầng mạng của "
                                                 "Văn phòng UBND thành phố (thay bằng văn bản đang có hiệu lực)"),
         "Dữ liệu mẫu - cần điều chỉnh trước khi sử dụng", "in_force"]]
    for name, columns in SHEETS.items():
        assert [c.value for c in book[name][1]] == list(columns)
        assert book[name].max_row == EXAMPLE_ROWS[name] + 1
    models = {(row[1].value, row[2].value): row for row in book["models"].iter_rows(min_row=2)}
    catalyst = models["Cisco", "WS-C3560G-*"]
    assert [c.value for c in catalyst] == ["core_switch", "Cisco", "WS-C3560G-*", None, dt.datetime(2013, 1, 26),
                                           dt.datetime(2018, 1, 31), "Catalyst 3560G: hết hỗ trợ"]
    assert catalyst[5].is_date and catalyst[5].number_format == "yyyy-mm-dd"
    optiplex = models["Dell", "OptiPlex *"]
    assert (optiplex[3].value, optiplex[3].data_type) == (9_900_000, "n")
    desktop = next(book["categories"].iter_rows(min_row=2, max_row=2, values_only=True))
    assert desktop == ("desktop", "Máy vi tính để bàn", "Desktop computer", "terminal", "workstation", None, 10, "yes",
                       5, 20, "Ví dụ theo Thông tư 23/2023/TT-BTC (kiểm tra văn bản hiện hành)")


def test_an_export_imported_into_an_empty_draft_gives_the_same_content(sessions, example):
    version_id = new_draft(sessions)
    assert content_of(sessions, version_id) == CatalogContent()
    report = import_file(sessions, version_id, "danh-muc.xlsx", exported(sessions, example))
    assert report == CatalogImportReport(version_id, EXAMPLE_ROWS)
    assert content_of(sessions, version_id) == content_of(sessions, example)


def test_one_sheet_travels_alone_as_csv_or_xlsx(engine, sessions, example):
    with sessions() as session:
        version = get_version(session, example)
        models_csv = export_sheet(version, "models", "csv")
        norms_xlsx = export_sheet(version, "norms", "xlsx")
        with pytest.raises(NotFound, match="^'colours' is not a sheet of a catalog; its sheets are categories, "
                                           "models, requirements, parts, norms$"):
            export_sheet(version, "colours", "csv")
        with pytest.raises(InvalidInput, match="^'ods' is not a format; use csv or xlsx$"):
            export_sheet(version, "models", "ods")
        with pytest.raises(InvalidInput, match="^a whole catalog version exports as an XLSX workbook only; export "
                                               "one sheet at a time as CSV$"):
            export_version(version, "csv")
    assert models_csv.decode("utf-8-sig").splitlines()[:2] == [
        "category,vendor,model_pattern,price_vnd,end_of_sale,end_of_support,note", "desktop,Dell,OptiPlex *,9900000,,,"]
    assert openpyxl.load_workbook(io.BytesIO(norms_xlsx)).sheetnames == ["norms"]
    version_id = new_draft(sessions)
    import_file(sessions, version_id, "categories.csv", export_sheet_of(sessions, example, "categories", "csv"),
                sheet="categories")
    assert import_file(sessions, version_id, "models.csv", models_csv, sheet="models").rows == {"models": 39}
    assert import_file(sessions, version_id, "norms.xlsx", norms_xlsx).rows == {"norms": 15}
    content, example_content = content_of(sessions, version_id), content_of(sessions, example)
    assert (content.categories, content.models, content.norms, content.requirements, content.parts) == \
        (example_content.categories, example_content.models, example_content.norms, (), ())
    before = table_contents(engine)
    with pytest.raises(InvalidInput, match=r"^a CSV file holds one sheet: say which one \(categories, models, "
                                           r"requirements, parts, norms\)$"):
        import_file(sessions, version_id, "models.csv", models_csv)
    with pytest.raises(InvalidInput, match="^the workbook has no sheet 'models'$"):
        import_file(sessions, version_id, "norms.xlsx", norms_xlsx, sheet="models")
    with pytest.raises(InvalidInput, match=r"^the workbook holds none of a catalog's sheets \(categories, models, "
                                           r"requirements, parts, norms\)$"):
        import_file(sessions, version_id, "version.xlsx", workbook({"version": [["name"], ["Danh mục 2027"]]}))
    with pytest.raises(InvalidInput, match="^'models.ods': only .csv and .xlsx files can be imported$"):
        import_file(sessions, version_id, "models.ods", models_csv)
    assert table_contents(engine) == before


def export_sheet_of(sessions, version_id: int, sheet: str, fmt: str) -> bytes:
    with sessions() as session:
        return export_sheet(get_version(session, version_id), sheet, fmt)


def test_every_problem_of_every_sheet_is_listed_and_nothing_changes(engine, sessions, draft):
    bad = workbook({
        "version": [["name"], ["ignored on import"]],
        "categories": [["code", "name_vi", "name_en", "group", "device_classes", "rank"],
                       ["desktop", "Máy vi tính để bàn", "Desktop computer", "terminal", "workstation", 10],
                       ["monitor", "Màn hình", "Monitor", "terminal", None, 30]],
        "models": [["category", "vendor", "model_pattern", "price_vnd", "end_of_support"],
                   ["desktop", "Dell", "OptiPlex *", 9_900_000, None],
                   [None, None, None, None, None],  # blank: skipped, and counted as the spreadsheet counts it
                   ["server", "Dell", "PowerEdge *", None, None],
                   ["desktop", "Dell", "OptiPlex 7*", -5, dt.date(2030, 1, 31)]],
        "requirements": [["category", "spec", "op", "value"], ["desktop", "ram_gb", ">=", "8 kg"]],
        "parts": [["code", "category", "name", "raises", "adds", "price_vnd"]],
        "norms": [["code", "category", "basis"], ["pc-staff", "desktop", "staff_count"],
                  ["pc-staff", "desktop", "floors"]]})
    before = content_of(sessions, draft)
    assert refused(engine, sessions, draft, "sai.xlsx", bad) == [
        RowProblem(4, "models.category", "there is no category 'server' in this catalog"),
        RowProblem(5, "models.price_vnd", "'-5' is negative; an amount in VND is 0 or more"),
        RowProblem(5, "models.model_pattern", "Dell 'OptiPlex 7*' overlaps 'OptiPlex *' on row 2: a device would "
                                              "match both"),
        RowProblem(2, "requirements.value", "cannot read '8 kg' as RAM; write it like '8 GB' or '8192 MB'"),
        RowProblem(3, "norms.code", "norm 'pc-staff' is already on row 2"),
        RowProblem(3, "norms.basis", "'floors' is not a unit fact a norm can count; use one of staff_count, "
                                     "leader_count, specialist_count, other_staff, meeting_rooms, sites, "
                                     "archive_pages, on_secure_network, unit, wired_ports, archive_pages_per_day")]
    assert content_of(sessions, draft) == before


def test_a_sheet_no_catalog_has_is_refused_by_its_name(engine, sessions, draft):
    content = workbook({"models": [["category", "vendor", "model_pattern"], ["desktop", "HP", "EliteDesk *"]],
                        "Sheet1": [["anything"]]})
    assert refused(engine, sessions, draft, "them.xlsx", content) == [RowProblem(
        1, "Sheet1", "'Sheet1' is not a sheet of a catalog; its sheets are categories, models, requirements, parts, "
                     "norms")]


def test_columns_that_would_lose_values_are_refused(engine, sessions, draft):
    content = workbook({"models": [["category", "vendor", "model_pattern", "vendor"],
                                   ["desktop", "HP", "EliteDesk *", "HP", None, "a note of my own"]]})
    assert refused(engine, sessions, draft, "notes.xlsx", content) == [
        RowProblem(1, "models.(no name)", "values are in a column without a name; name it (category, vendor, "
                                          "model_pattern, price_vnd, end_of_sale, end_of_support, note) or delete "
                                          "them"),
        RowProblem(1, "models.vendor", "the column 'vendor' appears twice")]


def test_an_empty_sheet_is_a_sheet_without_its_columns(engine, sessions, draft):
    assert refused(engine, sessions, draft, "empty.xlsx", workbook({"requirements": []})) == [
        RowProblem(1, "requirements.category", "the sheet has no column 'category'"),
        RowProblem(1, "requirements.spec", "the sheet has no column 'spec'"),
        RowProblem(1, "requirements.op", "the sheet has no column 'op'"),
        RowProblem(1, "requirements.value", "the sheet has no column 'value'")]


def test_a_sheet_the_file_lacks_keeps_its_rows(sessions, draft, example):
    content = workbook({"requirements": [["category", "spec", "op", "value", "severity"],
                                         ["desktop", "ram_gb", ">=", "16 GB", "required"]]})
    assert import_file(sessions, draft, "ram.xlsx", content).rows == {"requirements": 1}
    after, before = content_of(sessions, draft), content_of(sessions, example)
    assert [(r.category, r.spec, r.op, r.value) for r in after.requirements] == [("desktop", "ram_gb", "at_least", 16)]
    assert (after.categories, after.models, after.parts, after.norms) == \
        (before.categories, before.models, before.parts, before.norms)


def test_a_published_version_is_refused(engine, sessions, example):
    before = table_contents(engine)
    with pytest.raises(Conflict, match=f"^{EXAMPLE_NAME} is published and can no longer change; create a new version "
                                       "from it$"):
        import_file(sessions, example, "danh-muc.xlsx", exported(sessions, example))
    assert table_contents(engine) == before


def test_a_text_that_looks_like_a_formula_comes_back_as_the_same_text(sessions, draft):
    models = export_sheet_of(sessions, draft, "models", "csv").decode("utf-8-sig").replace(
        "desktop,Dell,OptiPlex *,9900000,,,", "desktop,Dell,OptiPlex *,9900000,,,=1+1", 1)
    import_file(sessions, draft, "models.csv", models.encode(), sheet="models")
    assert content_of(sessions, draft).models[0].note == "=1+1"
    content = exported(sessions, draft)
    cell = openpyxl.load_workbook(io.BytesIO(content))["models"]["G2"]
    assert (cell.value, cell.data_type) == ("'=1+1", "s")  # shown as text, never run
    again = new_draft(sessions, "Danh mục 2028")
    import_file(sessions, again, "danh-muc.xlsx", content)
    assert content_of(sessions, again).models[0].note == "=1+1"
    assert content_of(sessions, again) == content_of(sessions, draft)


@pytest.mark.parametrize(("filename", "content", "limits", "message"), [
    ("bomb.xlsx", upload_attacks.shared_strings_bomb_xlsx(unpacked_bytes=2 * 2**20),
     TableLimits(rows=100, cells=1_000, xml_bytes=2**20),
     "'bomb.xlsx' unpacks to more than 1 MiB; at most 1 MiB per import"),
    ("rows.xlsx", workbook({"models": [["category", "vendor", "model_pattern"]]
                            + [["desktop", "Acme", f"A{n}"] for n in range(30)]}),
     TableLimits(rows=20, cells=10_000, xml_bytes=2**20),
     "'rows.xlsx' has more than 20 rows; at most 20 per import"),
    ("cells.xlsx", workbook({"parts": [["code", "category", "name"]], "norms": [["code", "category", "basis"]]
                             + [["n", "desktop", "unit"]] * 5}),
     TableLimits(rows=100, cells=20, xml_bytes=2**20),
     "'cells.xlsx' has more than 20 cells; at most 20 per import"),
    ("broken.xlsx", b"PK\x03\x04 not a workbook", TableLimits(rows=100, cells=1_000, xml_bytes=2**20),
     r"the file is not a readable XLSX workbook \(BadZipFile\)"),
    ("rows.csv", ("category,vendor,model_pattern\n" + "desktop,Acme,A\n" * 21).encode(),
     TableLimits(rows=20, cells=10_000, xml_bytes=2**20),
     "'rows.csv' has more than 20 rows; at most 20 per import"),
])
def test_the_bounds_of_every_upload_hold(engine, sessions, draft, filename, content, limits, message):
    before = table_contents(engine)
    with pytest.raises(InvalidInput, match=f"^{message}$") as refusal:
        import_file(sessions, draft, filename, content, limits=limits, sheet="models" if filename.endswith("csv")
                    else None)
    assert refusal.value.field == "file"
    assert table_contents(engine) == before

