"""What every page shares (core/pages.py): forms read by the API's schemas, refusals placed next to their
field, page numbers, and numbers, money and dates in the page's language."""
import datetime as dt

import pytest
from flask import Flask
from flask_babel import Babel, force_locale
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.datastructures import MultiDict

from core.errors import Conflict, NotFound
from core.pages import Pagination, day, field_errors, form_values, load_form, moment, vnd


class SampleSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=10))
    staff_count = fields.Integer(validate=validate.Range(min=0))
    note = fields.String(allow_none=True)
    networks = fields.List(fields.String())


@pytest.fixture
def context():
    app = Flask(__name__)
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Ho_Chi_Minh"
    Babel(app)
    with app.test_request_context("/"):
        yield


def test_a_form_becomes_the_schemas_input(context):
    form = MultiDict([("csrf_token", "t"), ("name", " Ward 7 "), ("staff_count", ""), ("note", ""),
                      ("networks", "10.0.0.0/24\n\n10.0.1.0/24 "), ("networks", "127.0.0.1")])
    # Blank optional fields are left out (or None where the schema allows it); list fields take lines.
    assert form_values(SampleSchema(), form) == {"name": "Ward 7", "note": None,
                                                 "networks": ["10.0.0.0/24", "10.0.1.0/24", "127.0.0.1"]}
    assert load_form(SampleSchema(), form)["networks"] == ["10.0.0.0/24", "10.0.1.0/24", "127.0.0.1"]


def test_refusals_land_next_to_their_field(context):
    with pytest.raises(ValidationError) as refused:
        load_form(SampleSchema(), MultiDict([("staff_count", "-1"), ("networks", "x")]))
    assert field_errors(refused.value) == ({"name": ["Missing data for required field."],
                                            "staff_count": ["Must be greater than or equal to 0."]}, [])
    assert field_errors(Conflict("unit W1 is inactive", field="unit_code")) == \
        ({"unit_code": ["unit W1 is inactive"]}, [])
    assert field_errors(NotFound("device 7 does not exist")) == ({}, ["device 7 does not exist"])


def test_an_item_of_a_list_field_is_refused_on_the_field(context):
    class Strict(Schema):
        networks = fields.List(fields.Integer())
    with pytest.raises(ValidationError) as refused:
        load_form(Strict(), MultiDict([("networks", "1\nx")]))
    assert field_errors(refused.value) == ({"networks": ["Not a valid integer."]}, [])


def test_pages_of_a_long_list():
    page = Pagination(number=3, size=50, total=30_001)
    assert (page.pages, page.offset, page.first_item, page.last_item) == (601, 100, 101, 150)
    last = Pagination(number=601, size=50, total=30_001)
    assert (last.first_item, last.last_item) == (30_001, 30_001)
    assert (Pagination(1, 50, 0).pages, Pagination(1, 50, 0).first_item) == (1, 0)


def test_money_numbers_and_dates_in_each_language(context):
    moment_utc = dt.datetime(2026, 12, 5, 18, 30)  # stored in UTC; 01:30 the next day in Hanoi
    with force_locale("vi"):
        assert (vnd(15_000_000), day(dt.date(2026, 3, 9)), moment(moment_utc)) == \
            ("15.000.000\xa0₫", "09/03/2026", "06/12/2026 01:30")
    with force_locale("en"):
        assert (vnd(15_000_000), day(dt.date(2026, 3, 9))) == ("₫15,000,000", "09/03/2026")
    assert (vnd(None), day(None), moment(None)) == ("", "", "")
