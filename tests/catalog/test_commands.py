"""`flask catalog list|export|import|publish|recompute`: what each prints, exactly, and what a refusal leaves."""
import datetime as dt
import io

import openpyxl
import pytest

from catalog.compliance import today
from catalog.examples import load_example_catalog
from catalog.services import create_version
from inventory.devices import record_device
from tests.conftest import table_contents

EXAMPLE_NAME = "Danh mục mẫu 2026"


@pytest.fixture
def example(org):
    """The example catalog, in force, over three devices of W1."""
    with org() as session, session.begin():
        for n in range(3):
            record_device(session, "W1", {"serial": f"PC-{n}", "device_class": "workstation", "vendor": "Dell",
                                          "model": "OptiPlex 7090"}, by="tests")
        return load_example_catalog(session).id


def new_draft(sessions, name: str, effective_on: dt.date) -> int:
    with sessions() as session, session.begin():
        return create_version(session, {"name": name, "effective_on": effective_on}, by="tests").id


def catalog(app, *args: str):
    return app.test_cli_runner().invoke(args=["catalog", *map(str, args)])


def test_export_import_publish_and_recompute(app, sessions, example, tmp_path):
    on = today()
    assert catalog(app, "list").output == f"{example}\t{EXAMPLE_NAME}\t01/01/2026\tin_force\n"
    path = tmp_path / "danh-muc.xlsx"
    result = catalog(app, "export", example, path)
    assert (result.exit_code, result.output) == (
        0, f"catalog version {example} exported to {path} ({path.stat().st_size} bytes)\n")
    assert openpyxl.load_workbook(io.BytesIO(path.read_bytes())).sheetnames == [
        "version", "categories", "models", "requirements", "parts", "norms"]

    draft = new_draft(sessions, "Danh mục 2026 sửa đổi", on)
    result = catalog(app, "import", draft, path)
    assert (result.exit_code, result.output) == (0, (f"catalog version {draft} imported from danh-muc.xlsx: "
                                                     "18 categories, 39 models, 18 requirements, 4 parts, 15 norms\n"))
    assert catalog(app, "list").output == (f"{draft}\tDanh mục 2026 sửa đổi\t{on:%d/%m/%Y}\tdraft\n"
                                           f"{example}\t{EXAMPLE_NAME}\t01/01/2026\tin_force\n")

    result = catalog(app, "publish", draft)
    assert (result.exit_code, result.output) == (
        0, "Danh mục 2026 sửa đổi published and in force: 3 devices judged under it\n")
    result = catalog(app, "recompute")
    assert (result.exit_code, result.output) == (0, "3 devices judged under Danh mục 2026 sửa đổi\n")
    assert catalog(app, "list").output == (f"{draft}\tDanh mục 2026 sửa đổi\t{on:%d/%m/%Y}\tin_force\n"
                                           f"{example}\t{EXAMPLE_NAME}\t01/01/2026\tsuperseded\n")


def test_one_sheet_exports_and_imports_as_csv(app, sessions, example, tmp_path):
    path = tmp_path / "models.csv"
    assert catalog(app, "export", example, path, "--sheet", "models").exit_code == 0
    assert path.read_bytes().decode("utf-8-sig").splitlines()[1] == "desktop,Dell,OptiPlex *,9900000,,,"
    draft = new_draft(sessions, "Danh mục 2027", dt.date(2027, 1, 1))
    categories = tmp_path / "categories.csv"
    catalog(app, "export", example, categories, "--sheet", "categories")
    assert catalog(app, "import", draft, categories, "--sheet", "categories").output == \
        f"catalog version {draft} imported from categories.csv: 18 categories\n"
    assert catalog(app, "import", draft, path, "--sheet", "models").output == \
        f"catalog version {draft} imported from models.csv: 39 models\n"
    result = catalog(app, "export", example, path)
    assert (result.exit_code, result.output.splitlines()[-1]) == (
        2, f"Error: {path}: the file name must end in .xlsx (or .csv with --sheet)")


def test_a_refused_import_prints_every_problem_and_changes_nothing(app, engine, sessions, example, tmp_path):
    draft = new_draft(sessions, "Danh mục 2027", dt.date(2027, 1, 1))
    book = openpyxl.Workbook()
    models = book.active
    models.title = "models"
    for row in [["category", "vendor", "model_pattern", "price_vnd"], ["desktop", "Dell", "OptiPlex *", -5], [],
                ["server", "Dell", "PowerEdge *", None]]:
        models.append(row)
    path = tmp_path / "sai.xlsx"
    book.save(path)
    before = table_contents(engine)
    result = catalog(app, "import", draft, path)
    assert (result.exit_code, result.output) == (1, (
        "row 2, models.category: there is no category 'desktop' in this catalog\n"
        "row 2, models.price_vnd: '-5' is negative; an amount in VND is 0 or more\n"
        "row 4, models.category: there is no category 'server' in this catalog\n"
        f"Error: catalog version {draft} is unchanged: 3 problems\n"))
    assert table_contents(engine) == before


def test_refusals_of_the_services_are_the_commands_errors(app, engine, sessions, example, tmp_path):
    path = tmp_path / "danh-muc.xlsx"
    catalog(app, "export", example, path)
    published = f"{EXAMPLE_NAME} is published and can no longer change; create a new version from it"
    before = table_contents(engine)
    for args, message in [
            (("import", example, path), published),
            (("import", 99, path), "catalog version 99 does not exist"),
            (("publish", example), published),
            (("export", 99, path), "catalog version 99 does not exist")]:
        result = catalog(app, *args)
        assert (result.exit_code, result.output) == (1, f"Error: {message}\n")
    assert table_contents(engine) == before


def test_a_version_taking_effect_later_is_published_without_judging(app, sessions, example, tmp_path):
    path = tmp_path / "danh-muc.xlsx"
    catalog(app, "export", example, path)
    later = new_draft(sessions, "Danh mục 2030", dt.date(2030, 1, 1))
    catalog(app, "import", later, path)
    assert catalog(app, "publish", later).output == \
        "Danh mục 2030 published (scheduled, effective 01/01/2030): no device judged under it\n"
    assert catalog(app, "recompute").output == f"3 devices judged under {EXAMPLE_NAME}\n"


def test_recompute_without_a_version_in_force(app, org):
    result = catalog(app, "recompute")
    assert (result.exit_code, result.output) == (0, "no catalog version is in force today: no device judged\n")
    assert catalog(app, "list").output == ""
