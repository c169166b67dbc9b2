"""A version's rows checked all at once (catalog/content.py, catalog/cells.py): pure, no database."""
import pytest

from catalog.content import CatalogRejected, numbered, read_content
from catalog.examples import example_sheets


def rejected(**replaced) -> list[tuple[int, str, str]]:
    """The problems of the example catalog with some sheets replaced, as (row, sheet.column, reason)."""
    sheets = example_sheets() | {name: numbered(rows) for name, rows in replaced.items()}
    with pytest.raises(CatalogRejected) as refused:
        read_content(sheets)
    return [(p.row, p.column, str(p.reason)) for p in refused.value.problems]


def test_the_example_catalog_reads_whole():
    content = read_content(example_sheets())
    assert (len(content.categories), len(content.models), len(content.requirements), len(content.parts),
            len(content.norms)) == (18, 39, 18, 4, 15)


NORM = {"code": "pc", "category": "desktop", "basis": "staff_count", "max_quantity": "1",
        "max_unit_price_vnd": "10000000"}


def test_a_model_no_norm_of_its_category_can_buy_is_refused():
    models = [{"category": "desktop", "vendor": "Dell", "model_pattern": "OptiPlex *", "price_vnd": "10.500.000"},
              {"category": "desktop", "vendor": "HP", "model_pattern": "ProDesk *", "price_vnd": "9800000"},
              {"category": "server", "vendor": "Dell", "model_pattern": "PowerEdge *", "price_vnd": "145000000"}]
    assert rejected(models=models, norms=[NORM]) == [
        (2, "models.price_vnd", "10.500.000 VND is above the 10.000.000 VND that the norms of desktop allow for one "
                                "item")]
    # A norm of the category without a maximum price lets any price through; so does a category no norm counts.
    read_content(example_sheets() | {"models": numbered(models), "norms": numbered(
        [NORM, {"code": "pc-2", "category": "desktop", "basis": "leader_count"}])})


@pytest.mark.parametrize(("cell", "reason"), [
    (12.345, "'12.345' is not whole dong; VND has no smaller unit"),  # a spreadsheet's number, not thousands
    ("-5", "'-5' is negative; an amount in VND is 0 or more"),
    ("15,5", "'15,5' is not an amount in VND (whole dong, like 15000000)"),
    ("NaN", "'NaN' is not an amount in VND (whole dong, like 15000000)"),
])
def test_amounts_in_vnd_are_whole_dong(cell, reason):
    models = [{"category": "server", "vendor": "Dell", "model_pattern": "PowerEdge *", "price_vnd": cell}]
    assert rejected(models=models) == [(2, "models.price_vnd", reason)]


def test_grouped_thousands_are_read_in_text():
    models = [{"category": "server", "vendor": "Dell", "model_pattern": "PowerEdge *", "price_vnd": "145.000.000"}]
    content = read_content(example_sheets() | {"models": numbered(models)})
    assert content.models[0].price_vnd == 145_000_000


def test_a_norm_requires_at_least_one_item_per_group_and_a_minimum_within_its_maximum():
    norms = [NORM | {"each": "0"}, NORM | {"code": "pc-2", "minimum": "3", "max_quantity": "2"}]
    assert rejected(norms=norms) == [
        (2, "norms.each", "'0' is not a whole number from 1 to 1000000"),
        (3, "norms.minimum", "the minimum 3 is above the maximum quantity 2")]
