"""marshmallow's own messages (core.i18n.SchemaMessage): the API keeps marshmallow's exact English, a page
shows them in its language, through the catalogue's msgids (no matching of texts)."""
import copy
import enum
import pickle
import string
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import Babel, force_locale
from marshmallow import Schema, ValidationError, fields, validate

from core.i18n import SchemaMessage, shown
from core.pages import field_errors
from inventory.schemas import UnitCreateSchema
from tests.conftest import table_contents

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Item(Schema):
    name = fields.String()


@pytest.fixture
def context():
    """A request of an application that reads the project's catalogue (no database)."""
    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app)
    with app.test_request_context("/"):
        yield


def refusal(check, value) -> str:
    """The one message `check` (a field or a validator) gives for `value`."""
    with pytest.raises(ValidationError) as refused:
        check.deserialize(value) if isinstance(check, fields.Field) else check(value)
    [message] = refused.value.messages
    return message


def schema_refusal(schema: Schema, data) -> str:
    with pytest.raises(ValidationError) as refused:
        schema.load(data)
    [message] = [m for messages in refused.value.messages.values() for m in messages]
    return message


# (what refuses, the value, marshmallow 4.4's English, the page's Vietnamese)
CASES = [
    (fields.String(), None, "Field may not be null.", "Trường này không được để trống."),
    (fields.String(), 5, "Not a valid string.", "Không phải chuỗi ký tự hợp lệ."),
    (fields.String(), b"\xff", "Not a valid utf-8 string.", "Không phải chuỗi ký tự UTF-8 hợp lệ."),
    (fields.Integer(), "abc", "Not a valid integer.", "Không phải số nguyên hợp lệ."),
    (fields.Integer(), float("inf"), "Number too large.", "Số quá lớn."),
    (fields.Float(), "abc", "Not a valid number.", "Không phải số hợp lệ."),
    (fields.Boolean(), "maybe", "Not a valid boolean.", "Không phải giá trị có/không hợp lệ."),
    (fields.Date(), "2026-13-40", "Not a valid date.", "Ngày không hợp lệ."),
    (fields.DateTime(), "next tuesday", "Not a valid datetime.", "Ngày giờ không hợp lệ."),
    (fields.AwareDateTime(), "2026-01-01T08:00:00", "Not a valid aware datetime.",
     "Ngày giờ không hợp lệ: cần ghi rõ múi giờ."),
    (fields.NaiveDateTime(), "2026-01-01T08:00:00+07:00", "Not a valid naive datetime.",
     "Ngày giờ không hợp lệ: không được ghi múi giờ."),
    (fields.Enum(Colour, by_value=True), "blue", "Must be one of: red, green.",
     "Phải là một trong các giá trị: red, green."),
    (fields.List(fields.String()), "x", "Not a valid list.", "Không phải danh sách hợp lệ."),
    (fields.Nested(Item, many=True), "x", "Invalid type.", "Kiểu dữ liệu không hợp lệ."),
    (fields.Dict(), "x", "Not a valid mapping type.", "Không phải tập hợp cặp tên–giá trị hợp lệ."),
    (validate.Range(min=0), -1, "Must be greater than or equal to 0.", "Phải lớn hơn hoặc bằng 0."),
    (validate.Range(min=0, min_inclusive=False), 0, "Must be greater than 0.", "Phải lớn hơn 0."),
    (validate.Range(max=5), 9, "Must be less than or equal to 5.", "Phải nhỏ hơn hoặc bằng 5."),
    (validate.Range(max=5, max_inclusive=False), 5, "Must be less than 5.", "Phải nhỏ hơn 5."),
    (validate.Range(min=0, max=1_000_000), -1, "Must be greater than or equal to 0 and less than or equal to 1000000.",
     "Phải lớn hơn hoặc bằng 0 và nhỏ hơn hoặc bằng 1000000."),
    (validate.Range(min=1, max=500, min_inclusive=False, max_inclusive=False), 500,
     "Must be greater than 1 and less than 500.", "Phải lớn hơn 1 và nhỏ hơn 500."),
    (validate.Length(max=32), "x" * 33, "Longer than maximum length 32.", "Dài hơn độ dài tối đa 32."),
    (validate.Length(min=12), "short", "Shorter than minimum length 12.", "Ngắn hơn độ dài tối thiểu 12."),
    (validate.Length(min=2, max=100), ["W1"], "Length must be between 2 and 100.", "Độ dài phải từ 2 đến 100."),
    (validate.Length(equal=3), "ab", "Length must be 3.", "Độ dài phải bằng 3."),
    (validate.OneOf(["a", "b"]), "c", "Must be one of: a, b.", "Phải là một trong các giá trị: a, b."),
    (validate.ContainsOnly(["a", "b"]), ["a", "c"], "One or more of the choices you made was not in: a, b.",
     "Có lựa chọn không thuộc danh sách: a, b."),
    (validate.Regexp(r"^\d+$"), "x", "String does not match expected pattern.",
     "Chuỗi ký tự không đúng định dạng yêu cầu."),
]  # "Missing data for required field." comes from a schema: see test_a_schemas_own_messages


@pytest.mark.parametrize(("check", "value", "english", "vietnamese"), CASES,
                         ids=[english for _, _, english, _ in CASES])
def test_each_message_keeps_its_english_and_has_its_vietnamese(context, check, value, english, vietnamese):
    message = refusal(check, value)
    assert isinstance(message, SchemaMessage)
    assert message == english and str(message) == english  # what the API answers, byte for byte
    with force_locale("vi"):
        assert shown(message) == vietnamese
    with force_locale("en"):
        assert shown(message) == english


@pytest.mark.parametrize(("data", "english", "vietnamese"), [
    ({}, "Missing data for required field.", "Bắt buộc phải nhập."),
    ({"name": "x", "colour": "red"}, "Unknown field.", "Trường không xác định."),
    ("not an object", "Invalid input type.", "Kiểu dữ liệu đầu vào không hợp lệ."),
])
def test_a_schemas_own_messages(context, data, english, vietnamese):
    class Named(Schema):
        name = fields.String(required=True)
    message = schema_refusal(Named(), data)
    assert (message, type(message)) == (english, SchemaMessage)
    with force_locale("vi"):
        assert shown(message) == vietnamese


def test_the_message_for_a_failed_validator(context):
    """marshmallow 4.4 keeps "validator_failed" for fields that raise it themselves (make_error)."""
    [message] = fields.String().make_error("validator_failed").messages
    assert (message, type(message)) == ("Invalid value.", SchemaMessage)
    with force_locale("vi"):
        assert shown(message) == "Giá trị không hợp lệ."


def test_outside_a_request_a_message_is_english():
    message = refusal(validate.Range(min=0, max=10), 11)
    assert message.translated() == "Must be greater than or equal to 0 and less than or equal to 10."


def test_a_message_the_schema_writes_itself_is_left_alone():
    message = refusal(validate.Regexp(r"^\d{1,12}$", error="a device id"), "x")
    assert (message, type(message)) == ("a device id", str)
    assert refusal(fields.Integer(error_messages={"invalid": "a whole number"}), "x") == "a whole number"


def test_a_message_stays_itself_when_copied_or_pickled():
    message = refusal(validate.Range(min=0, max=1_000_000), -1)
    for copied in (copy.deepcopy(message), pickle.loads(pickle.dumps(message))):
        assert (type(copied), copied, copied.msgid, copied.stages) == \
            (SchemaMessage, message, message.msgid, message.stages)


def test_a_value_that_looks_like_a_placeholder_is_not_filled_again(context):
    message = refusal(validate.OneOf(["{choices}"]), "x")
    assert message == "Must be one of: {choices}."
    with force_locale("vi"):
        assert shown(message) == "Phải là một trong các giá trị: {choices}."


def installed_messages() -> list[SchemaMessage]:
    """Every SchemaMessage core.i18n put in marshmallow's classes."""
    found = [m for cls in vars(fields).values() if isinstance(cls, type)
             for m in cls.__dict__.get("default_error_messages", {}).values()]
    found += [m for cls in vars(validate).values() if isinstance(cls, type) for m in vars(cls).values()]
    found += list(Schema._default_error_messages.values())
    return [m for m in found if isinstance(m, SchemaMessage)]


def test_every_installed_message_is_translated_with_the_same_placeholders(context):
    messages = {m.msgid for m in installed_messages()}
    assert len(messages) == 32  # 17 of fields, 13 of validators (OneOf shares Enum's), 2 of Schema
    with force_locale("vi"):
        for msgid in messages:
            vietnamese = SchemaMessage(msgid).translated()
            assert vietnamese != msgid, msgid
            assert placeholders(vietnamese) == placeholders(msgid), msgid


def placeholders(text: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


STAFF = {"code": "W3", "name": "Ward Three", "kind": "ward", "parent_code": "C", "staff_count": -1}
STAFF_EN = "Must be greater than or equal to 0 and less than or equal to 1000000."
STAFF_VI = "Phải lớn hơn hoặc bằng 0 và nhỏ hơn hoặc bằng 1000000."


def test_a_field_of_the_inventory_schemas_speaks_vietnamese_on_a_page(context):
    """inventory/schemas.py makes its fields when it is imported: the messages were installed before."""
    with pytest.raises(ValidationError) as refused:
        UnitCreateSchema().load(STAFF | {"kind": "village", "name": ""})
    with force_locale("vi"):
        assert field_errors(refused.value) == ({
            "staff_count": [STAFF_VI], "name": ["Độ dài phải từ 1 đến 200."],
            "kind": ["Phải là một trong các giá trị: city, agency, ward, commune, department, other."]}, [])


def test_the_api_answers_english_and_a_page_shows_vietnamese(org, client, engine, app):
    before = table_contents(engine)
    response = client.post("/api/units", json=STAFF)
    assert (response.status_code, response.json["errors"]) == (422, {"json": {"staff_count": [STAFF_EN]}})
    assert table_contents(engine) == before
    with pytest.raises(ValidationError) as refused:
        UnitCreateSchema().load(STAFF)
    with app.test_request_context("/units"):  # a page: Vietnamese unless asked otherwise
        assert field_errors(refused.value) == ({"staff_count": [STAFF_VI]}, [])
    with app.test_request_context("/units?lang=en"):
        assert field_errors(refused.value) == ({"staff_count": [STAFF_EN]}, [])
