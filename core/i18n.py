"""Which language a request speaks, and messages that can be shown in it.

Pages speak Vietnamese unless the user asked for English (?lang=en, then a cookie); the API speaks English,
the language of its documentation and of the programs that read it.

A refusal's reason is a `Reason`: a string holding its English text (what the API answers, and what logs
and stored records keep), which also remembers its message id and values, so that a page can show it in the
page's language: `Reason("unit %(code)r does not exist", code=code)`. pybabel extracts `Reason(...)` and
`SchemaMessage(...)` calls into the catalogue like `_()` (see the README's "Translations")."""
from typing import Any

from flask import request
from flask_babel import gettext

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
API_LANGUAGE = "en"


def select_locale() -> str:
    wanted = request.args.get("lang") or request.cookies.get("lang")
    if request.path.startswith("/api/"):
        return API_LANGUAGE
    return wanted if wanted in LANGUAGES else DEFAULT_LANGUAGE


class Reason(str):
    """A message for people: its English text, and its message id with the values that fill it."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> "Reason":
        text = super().__new__(cls, msgid % params if params else msgid)
        text.msgid, text.params = msgid, params
        return text

    def translated(self) -> str:
        """The message in the request's language (outside a request: English); so are its values that are
        messages themselves ("specs.ram_gb: <the problem>")."""
        if not self.params:
            return gettext(self.msgid)
        return gettext(self.msgid, **{name: _in_language(value) for name, value in self.params.items()})

    def __reduce__(self):  # pickled and copied as what it is, not as a plain string
        return _rebuild_reason, (type(self), self.msgid, self.params)


def _rebuild_reason(cls: type, msgid: str, params: dict[str, Any]) -> Reason:
    return cls(msgid, **params)


def shown(message: Any) -> str:
    """A message as a page shows it: in the page's language when it knows its message id, else as it is."""
    return message.translated() if isinstance(message, Reason) else str(message)


class SchemaMessage(Reason):
    """One of marshmallow's own messages, which marshmallow fills with `str.format` (`Field.make_error`,
    the validators' `_format_error`), sometimes in two stages (Range: the comparison at `__init__`, the
    bounds at each call). Its value is the English text marshmallow would have made; it remembers the msgid
    and each stage's values, so that `translated()` fills the translated msgid the same way."""

    stages: tuple[tuple[tuple[Any, ...], dict[str, Any]], ...]

    def __new__(cls, msgid: str, /) -> "SchemaMessage":
        message = super().__new__(cls, msgid)
        message.stages = ()
        return message

    def format(self, /, *args: Any, **values: Any) -> "SchemaMessage":
        filled = str.__new__(type(self), str.format(self, *args, **values))  # marshmallow's English, exactly
        filled.msgid, filled.params, filled.stages = self.msgid, {}, self.stages + ((args, values),)
        return filled

    def translated(self) -> str:
        text = gettext(self.msgid)
        for args, values in self.stages:  # a value that is itself a message (Range's "greater than") too
            text = text.format(*(_in_language(a) for a in args), **{k: _in_language(v) for k, v in values.items()})
        return text

    def __reduce__(self):
        return _rebuild_schema_message, (type(self), self.msgid, self.stages)


def _in_language(value: Any) -> Any:
    return value.translated() if isinstance(value, Reason) else value  # others as they are: {input!r}, {max:,}


def _rebuild_schema_message(cls: type, msgid: str, stages: tuple) -> SchemaMessage:
    message = cls(msgid)
    for args, values in stages:
        message = message.format(*args, **values)
    return message


def install_schema_messages() -> None:
    """Make marshmallow's default messages SchemaMessages, for the fields and validators our schemas use.

    The English texts stay marshmallow 4.4's, byte for byte (the API answers them). A message a schema passes
    itself (`error=...`, `error_messages=...`) is left alone. Must run before any field or validator exists:
    a field copies its class's `default_error_messages` in `Field.__init__`, Range, OneOf and Regexp read
    their messages in `__init__`, and our schemas create theirs when their module is imported — hence the
    call in core/__init__.py, which every such module imports first. Idempotent."""
    from marshmallow import Schema, fields, validate

    _messages(fields.Field, required=SchemaMessage("Missing data for required field."),
              null=SchemaMessage("Field may not be null."), validator_failed=SchemaMessage("Invalid value."))
    _messages(fields.Nested, type=SchemaMessage("Invalid type."))
    _messages(fields.List, invalid=SchemaMessage("Not a valid list."))
    _messages(fields.String, invalid=SchemaMessage("Not a valid string."),
              invalid_utf8=SchemaMessage("Not a valid utf-8 string."))
    _messages(fields.Number, invalid=SchemaMessage("Not a valid number."), too_large=SchemaMessage("Number too large."))
    _messages(fields.Integer, invalid=SchemaMessage("Not a valid integer."))
    _messages(fields.Boolean, invalid=SchemaMessage("Not a valid boolean."))
    # marshmallow says "Not a valid {obj_type}." with obj_type "datetime": one msgid per type instead, so that
    # the type's name is translated with its sentence (the English is the same).
    _messages(fields.DateTime, invalid=SchemaMessage("Not a valid datetime."))
    _messages(fields.AwareDateTime, invalid_awareness=SchemaMessage("Not a valid aware datetime."))
    _messages(fields.NaiveDateTime, invalid_awareness=SchemaMessage("Not a valid naive datetime."))
    _messages(fields.Date, invalid=SchemaMessage("Not a valid date."))
    _messages(fields.Mapping, invalid=SchemaMessage("Not a valid mapping type."))
    _messages(fields.Enum, unknown=SchemaMessage("Must be one of: {choices}."))

    validate.Range.message_min = SchemaMessage("Must be {min_op} {{min}}.")
    validate.Range.message_max = SchemaMessage("Must be {max_op} {{max}}.")
    validate.Range.message_all = SchemaMessage("Must be {min_op} {{min}} and {max_op} {{max}}.")
    validate.Range.message_gte = SchemaMessage("greater than or equal to")
    validate.Range.message_gt = SchemaMessage("greater than")
    validate.Range.message_lte = SchemaMessage("less than or equal to")
    validate.Range.message_lt = SchemaMessage("less than")
    validate.Length.message_min = SchemaMessage("Shorter than minimum length {min}.")
    validate.Length.message_max = SchemaMessage("Longer than maximum length {max}.")
    validate.Length.message_all = SchemaMessage("Length must be between {min} and {max}.")
    validate.Length.message_equal = SchemaMessage("Length must be {equal}.")
    validate.OneOf.default_message = SchemaMessage("Must be one of: {choices}.")
    validate.ContainsOnly.default_message = SchemaMessage("One or more of the choices you made was not in: {choices}.")
    validate.Regexp.default_message = SchemaMessage("String does not match expected pattern.")

    # A schema's own messages (a nested item that is not an object, a field it does not know) are merged
    # when each schema is instantiated; marshmallow keeps them in this class attribute.
    Schema._default_error_messages = {**Schema._default_error_messages, "type": SchemaMessage("Invalid input type."),
                                      "unknown": SchemaMessage("Unknown field.")}


def _messages(field_class: type, **messages: SchemaMessage) -> None:
    """Replace some of a field class's own default messages, keeping the others (and those it inherits)."""
    field_class.default_error_messages = {**field_class.__dict__.get("default_error_messages", {}), **messages}
