"""What the catalog API accepts and returns: versions, the rows of their sheets, compliance and norms."""
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from marshmallow import INCLUDE, Schema, fields, validate

from catalog.content import KEYS, SHEETS
from catalog.explain import explain_all
from catalog.models import ComplianceStatus
from catalog.reports import norms_by_code
from catalog.rules import STATUS_ORDER
from core.i18n import Reason
from inventory.schemas import DeviceSchema, UtcDateTime
from inventory.transfer import RowProblem

ID = validate.Range(min=1, max=2_147_483_647)
NAME = validate.Length(min=1, max=100)
LONG_TEXT = validate.Length(max=2000)
ROWS_MAX = 10_000  # rows a sheet takes in one request: ten times the largest catalog we know


class VersionRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class VersionSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    effective_on = fields.Date()
    status = fields.String(attribute="shown_status", metadata={
        "description": "Today: draft (editable), scheduled (published, effective later), in_force, or superseded."})
    published_at = UtcDateTime(allow_none=True)
    published_by = fields.String(allow_none=True)
    based_on_id = fields.Integer(allow_none=True, metadata={"description": "The version it was copied from."})
    legal_basis = fields.String()
    note = fields.String()
    is_example = fields.Boolean(metadata={"description": "The example shipped with the service: adapt it first."})
    counts = fields.Function(lambda v: {sheet: len(getattr(v, sheet)) for sheet in SHEETS}, metadata={
        "description": "Rows per sheet: categories, models, requirements, parts, norms."})


class VersionCreateSchema(Schema):
    name = fields.String(required=True, validate=NAME)
    effective_on = fields.Date(required=True, metadata={"description": "In force from this day once published."})
    legal_basis = fields.String(load_default="", validate=LONG_TEXT, metadata={
        "description": "The decision that issues the catalog."})
    note = fields.String(load_default="", validate=LONG_TEXT)
    copy_of = fields.Integer(load_default=None, allow_none=True, validate=ID, metadata={
        "description": "A version whose content the draft starts with; null: an empty draft."})


class VersionUpdateSchema(Schema):
    """Only the fields given change; a draft only."""
    name = fields.String(validate=NAME)
    effective_on = fields.Date()
    legal_basis = fields.String(validate=LONG_TEXT)
    note = fields.String(validate=LONG_TEXT)


class InForceArgs(Schema):
    on = fields.Date(load_default=None, metadata={"description": "The day (YYYY-MM-DD); default: today."})


class DifferencesArgs(Schema):
    from_id = fields.Integer(data_key="from", validate=ID, metadata={
        "description": "The version to compare with; default: the one this version was copied from."})


_COLUMNS = {column: fields.Raw(allow_none=True) for columns in SHEETS.values() for column in columns}


class CatalogRowSchema(Schema.from_dict(_COLUMNS, name="CatalogColumns")):
    """One row of a sheet, by column, its values as the sheet's CSV holds them (text, numbers, true/false or
    null); each sheet takes its own columns only, and its rows are checked with the whole version."""

    class Meta:
        unknown = INCLUDE  # a column of another sheet, or of none, is refused as a row problem, with the others


class RowKeyArgs(Schema):
    """Which row to remove, by its key: code (categories, parts, norms); vendor and model_pattern (models);
    category, spec and op (requirements), as the sheet shows them."""
    code = fields.String(validate=validate.Length(min=1, max=200))
    vendor = fields.String(validate=validate.Length(min=1, max=200))
    model_pattern = fields.String(validate=validate.Length(min=1, max=200))
    category = fields.String(validate=validate.Length(min=1, max=200))
    spec = fields.String(validate=validate.Length(min=1, max=200))
    op = fields.String(validate=validate.Length(min=1, max=200))


def row_problems(sheet: str, rows: Sequence[tuple[int, Mapping[str, Any]]]) -> list[RowProblem]:
    """What the sheet's own reading cannot see in JSON rows: a column the sheet does not have, a cell that is
    not a value (an object or a list)."""
    problems = []
    for number, row in rows:
        for column, value in row.items():
            if column not in SHEETS[sheet]:
                problems.append(RowProblem(number, f"{sheet}.{column}", Reason(
                    "%(column)r is not a column of this sheet; its columns are %(columns)s", column=column,
                    columns=", ".join(SHEETS[sheet]))))
            elif isinstance(value, dict | list):
                problems.append(RowProblem(number, f"{sheet}.{column}", Reason(
                    "a cell holds text, a number, true or false, or null")))
    return problems


def row_key(sheet: str, row: Mapping[str, Any]) -> tuple[str, ...]:
    """A row's key as text (differences' KEYS): what a removal names it by."""
    return tuple("" if row.get(column) is None else str(row[column]) for column in KEYS[sheet])


# ---- differences ----------------------------------------------------------------------------------------------

class ChangedRowSchema(Schema):
    key = fields.String()
    cells = fields.Dict(metadata={"description": "Column: {before, after}."})


class SheetDifferenceSchema(Schema):
    sheet = fields.String()
    added = fields.List(fields.String(), metadata={"description": "Keys of rows only in this version."})
    removed = fields.List(fields.String(), metadata={"description": "Keys of rows only in the other version."})
    changed = fields.List(fields.Nested(ChangedRowSchema))


class DifferencesSchema(Schema):
    from_version = fields.Nested(VersionRefSchema, data_key="from")
    to_version = fields.Nested(VersionRefSchema, data_key="to")
    sheets = fields.List(fields.Nested(SheetDifferenceSchema))


# ---- compliance -----------------------------------------------------------------------------------------------

class ComplianceArgs(Schema):
    version = fields.Integer(validate=ID, metadata={"description": "A catalog version; default: the one in force."})


class CategoryRefSchema(Schema):
    code = fields.String()
    name_vi = fields.String()
    name_en = fields.String()


class ApprovedModelRefSchema(Schema):
    id = fields.Integer()
    vendor = fields.String()
    model_pattern = fields.String()
    price_vnd = fields.Integer(allow_none=True)
    end_of_sale = fields.Date(allow_none=True)
    end_of_support = fields.Date(allow_none=True)


class WearSchema(Schema):
    original_vnd = fields.Integer()
    rate_percent = fields.Float(metadata={"description": "Yearly wear, percent of the original price."})
    years_used = fields.Integer()
    accumulated_vnd = fields.Integer()
    remaining_vnd = fields.Integer()


STATUSES = ", ".join(s for s in STATUS_ORDER)


def explanations(findings: Sequence[Mapping[str, Any]], *, approved: bool) -> list[str]:
    """The findings in words, in the request's language (the API's: English)."""
    return [reason.translated() for reason in explain_all(list(findings), approved=approved)]


class DeviceComplianceSchema(Schema):
    device_id = fields.Function(lambda c: c.device.id)
    unit_code = fields.Function(lambda c: c.device.unit.code)
    version = fields.Nested(VersionRefSchema)
    category = fields.Nested(CategoryRefSchema, allow_none=True)
    approved_model = fields.Nested(ApprovedModelRefSchema, attribute="model", allow_none=True)
    status = fields.String(metadata={"description": f"One of {STATUSES}: the worst finding of required severity."})
    findings = fields.List(fields.Dict(), metadata={
        "description": "What the judgement found, as stored: status, spec, op, found, required, severity, on ..."})
    explanations = fields.Method("_explanations", metadata={"description": "Each finding in words."})
    judged_on = fields.Date()
    life_ends_on = fields.Date(allow_none=True, metadata={"description": "When its legal service life ends."})
    wear = fields.Nested(WearSchema, allow_none=True, metadata={
        "description": "Its value as a public asset; null without a purchase price and date."})

    def _explanations(self, judged) -> list[str]:
        return explanations(judged.findings, approved=judged.model is not None)


class UnitRefSchema(Schema):
    code = fields.String()
    name = fields.String()


class UnitComplianceSchema(Schema):
    unit = fields.Nested(UnitRefSchema)
    version = fields.Nested(VersionRefSchema)
    counts = fields.Method("_counts", metadata={
        "description": "Devices per category (null: none) and status: [{category, status, devices}]."})
    totals = fields.Method("_totals", metadata={"description": "Devices per status, worst first."})
    devices = fields.Function(lambda c: sum(c.counts.values()))

    def _counts(self, found) -> list[dict[str, Any]]:
        order = {category: i for i, category in enumerate(found.categories())}
        keys = sorted(found.counts, key=lambda k: (order[k[0]], STATUS_ORDER.index(k[1])))
        return [{"category": category, "status": status, "devices": found.counts[category, status]}
                for category, status in keys]

    def _totals(self, found) -> dict[str, int]:
        totals = found.by_status()
        return {status: totals[status] for status in STATUS_ORDER if status in totals}


class ComplianceDeviceArgs(ComplianceArgs):
    status = fields.Enum(ComplianceStatus, by_value=True)
    category = fields.String(validate=validate.Length(min=1, max=32), metadata={
        "description": "A category code, or none for devices without a category."})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class JudgedDeviceRefSchema(DeviceSchema):
    """Enough of a device to recognise it (the fields `JudgedDeviceSchema` keeps); GET /api/devices/<id> has the
    rest. A class of its own: the API document names each schema once."""


class JudgedDeviceSchema(Schema):
    device = fields.Nested(JudgedDeviceRefSchema(only=("id", "unit_code", "device_class", "vendor", "model",
                                                       "serial", "hostname", "status")))
    category = fields.String(allow_none=True)
    status = fields.String()
    findings = fields.List(fields.Dict())
    explanations = fields.List(fields.String())


class JudgedDevicePageSchema(Schema):
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    items = fields.List(fields.Nested(JudgedDeviceSchema))


# ---- norms ----------------------------------------------------------------------------------------------------

class NormArgs(ComplianceArgs):
    on = fields.Date(load_default=None, metadata={
        "description": "The day the quantities are for (archive deadlines count from it); default: today."})


def number(value: Fraction) -> int | float:
    """A count as JSON writes it: whole when it is (22), else a decimal (412.5)."""
    return int(value) if value.denominator == 1 else float(value)


class NormQuantitySchema(Schema):
    norm = fields.String()
    category = fields.String()
    basis = fields.String()
    basis_value = fields.Raw(metadata={"description": "What the norm counts for this unit (a number)."})
    computed = fields.Integer(metadata={"description": "What the rule gives before the maximum."})
    maximum = fields.Integer(allow_none=True, metadata={"description": "The most the law allows this unit."})
    required = fields.Integer()
    capped = fields.Boolean(metadata={"description": "Whether the maximum cut the computed quantity."})
    max_unit_price_vnd = fields.Integer(allow_none=True)
    legal_basis = fields.String()


class UnitNormsSchema(Schema):
    unit = fields.Nested(UnitRefSchema)
    version = fields.Nested(VersionRefSchema)
    on = fields.Date()
    quantities = fields.Method("_quantities", metadata={"description": "Each norm that applies to the unit's kind."})
    totals = fields.Method("_totals", metadata={"description": "Required quantity per category."})

    def _quantities(self, found) -> list[dict[str, Any]]:
        norms = norms_by_code(found.version)
        return NormQuantitySchema(many=True).dump([
            {"norm": q.norm, "category": q.category, "basis": norms[q.norm].basis,
             "basis_value": number(q.basis_value), "computed": q.computed, "maximum": q.maximum,
             "required": q.required, "capped": q.capped, "max_unit_price_vnd": norms[q.norm].max_unit_price_vnd,
             "legal_basis": norms[q.norm].legal_basis} for q in found.quantities])

    def _totals(self, found) -> dict[str, int]:
        return found.totals()

