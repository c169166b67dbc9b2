"""What the budget API returns: gaps per unit and category with the norms and devices behind each number, the
subtree's totals, and the transfer list."""
from marshmallow import Schema, fields, validate

from catalog.schemas import UnitRefSchema, VersionRefSchema

IDS = "Device ids, ascending."


class DayArgs(Schema):
    on = fields.Date(metadata={"description": "The day judged (default today); another day is judged on the spot."})


class UnitFactsSchema(Schema):
    """A unit and the facts its norms count from."""
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    staff_count = fields.Integer()
    leader_count = fields.Integer()
    specialist_count = fields.Integer()
    meeting_rooms = fields.Integer()
    sites = fields.Integer()
    archive_pages = fields.Integer()
    archive_deadline = fields.Date(allow_none=True)
    on_secure_network = fields.Boolean()


class GapSchema(Schema):
    unit_code = fields.String()
    category = fields.String()
    required = fields.Integer(metadata={"description": "What the norms require, summed over `norms`."})
    usable = fields.Integer(metadata={"description": "Held devices in use or spare that can serve: `usable_ids`."})
    shortfall = fields.Integer(metadata={"description": "Required minus usable, when more are required."})
    surplus = fields.Integer(metadata={"description": "Usable minus required, when more are usable."})
    replacements = fields.Integer(metadata={
        "description": "Due for replacement (out of support, past service life, broken): `replacement_ids`."})
    upgrade_candidates = fields.Integer(metadata={"description": "Below specification: `upgrade_ids`."})
    norms = fields.List(fields.String(), metadata={"description": "The codes of the norms behind `required`."})
    usable_ids = fields.List(fields.Integer(), metadata={"description": IDS})
    unknown_ids = fields.List(fields.Integer(), metadata={
        "description": "Usable ids whose compliance could not be judged for want of data (counted, flagged)."})
    replacement_ids = fields.List(fields.Integer(), metadata={"description": IDS})
    upgrade_ids = fields.List(fields.Integer(), metadata={"description": IDS})


class TotalSchema(GapSchema):
    units = fields.List(fields.String(), metadata={"description": "The units whose gaps are summed."})

    class Meta:
        exclude = ("unit_code",)


class UnitGapsSchema(Schema):
    unit = fields.Nested(UnitRefSchema)
    version = fields.Nested(VersionRefSchema)
    on = fields.Date()
    units = fields.List(fields.Nested(UnitFactsSchema), metadata={
        "description": "The active units of the subtree within your units, with their facts."})
    gaps = fields.List(fields.Nested(GapSchema), metadata={"description": "Per unit and category."})
    totals = fields.List(fields.Nested(TotalSchema), metadata={
        "description": "Per category over the subtree: shortfalls and surpluses are sums of the units' own."})
    reviews = fields.List(fields.Nested(lambda: GapReviewSchema()), metadata={
        "description": "The latest review of each reviewed gap of the subtree."})


class TransferSchema(Schema):
    device_id = fields.Integer()
    category = fields.String()
    from_unit = fields.String()
    to_unit = fields.String()
    distance = fields.Integer(metadata={"description": "Steps in the unit tree between the two units."})


class TransferListSchema(Schema):
    unit = fields.Nested(UnitRefSchema)
    version = fields.Nested(VersionRefSchema)
    on = fields.Date()
    transfers = fields.List(fields.Nested(TransferSchema))
    remaining = fields.List(fields.Nested(GapSchema), metadata={
        "description": "The shortfalls the transfers leave, per unit and category: what remains to upgrade or buy."})


class GapReviewSchema(Schema):
    unit_code = fields.Function(lambda review: review.unit.code)
    category = fields.String(attribute="category_code")
    state = fields.String(metadata={"description": "confirmed, disputed (out of the plans until resolved), upheld "
                                                   "(resolved: the gap stands), withdrawn (resolved: not a gap)."})
    shortfall = fields.Integer(metadata={"description": "The shortfall when it was reviewed."})
    comment = fields.String()
    reviewed_by = fields.String()
    reviewed_at = fields.DateTime()
    resolution = fields.String()
    resolved_by = fields.String(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)


class ReviewArgs(Schema):
    state = fields.String(required=True, validate=validate.OneOf(["confirmed", "disputed"]))
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


class ResolutionArgs(Schema):
    state = fields.String(required=True, validate=validate.OneOf(["upheld", "withdrawn"]))
    resolution = fields.String(load_default="", validate=validate.Length(max=2000))


class TransferArgs(Schema):
    unit = fields.String(required=True, validate=validate.Length(min=1, max=32), metadata={
        "description": "The unit whose subtree's transfer list proposes the transfer."})
    device_id = fields.Integer(required=True, validate=validate.Range(1, 2**31 - 1))
    to_unit = fields.String(required=True, validate=validate.Length(min=1, max=32))


MAX_YEARS = 10
MAX_VND = 10**15  # a thousand trillion dong: far above any city's budget, and inside a BigInteger


class PlanArgs(Schema):
    """What a plan is computed from; saved with a scenario."""
    kind = fields.String(load_default="targeted", validate=validate.OneOf(["targeted", "blanket_age",
                                                                          "standard_kit"]))
    first_year = fields.Integer(required=True, validate=validate.Range(2000, 2100))
    caps_vnd = fields.List(fields.Integer(validate=validate.Range(0, MAX_VND)),
                           load_default=list, validate=validate.Length(max=MAX_YEARS), metadata={
                               "description": "One cap per year from first_year; none: no cap."})
    max_share_percent = fields.Integer(load_default=50, validate=validate.Range(1, 100), metadata={
        "description": "An upgrade is chosen when it costs less than this share of a replacement."})
    older_than_years = fields.Integer(validate=validate.Range(0, 50), metadata={
        "description": "blanket_age: replace every device older than this."})
    kit = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=32)),
                      values=fields.Integer(validate=validate.Range(0, 1000)),
                      validate=validate.Length(max=50), metadata={
                          "description": "standard_kit: category -> quantity for every unit."})
    on = fields.Date(metadata={"description": "The day judged (default today)."})


class ScenarioArgs(PlanArgs):
    unit = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class ApprovalArgs(Schema):
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


class PlanLineSchema(Schema):
    unit_code = fields.String()
    category = fields.String()
    model = fields.String(allow_none=True)
    quantity = fields.Integer()
    unit_price_vnd = fields.Integer()
    # Computed, not read: a saved line (budget.models.ScenarioLine) has no total_vnd of its own.
    total_vnd = fields.Function(lambda line: line.quantity * line.unit_price_vnd, metadata={"type": "integer"})
    reason = fields.String(metadata={"description": "no_device, broken, end_of_support, upgrade, below_spec, "
                                                    "past_service_life, blanket or standard_kit."})
    priority = fields.Integer()
    norm = fields.String(allow_none=True)
    legal_basis = fields.String()
    year = fields.Integer(allow_none=True, metadata={"description": "The year whose cap funds it; null: unfunded."})
    device_ids = fields.List(fields.Integer())


class ExcludedGapSchema(Schema):
    unit_code = fields.String()
    category = fields.String()
    shortfall = fields.Integer()


class PlanSchema(Schema):
    """A plan computed and not saved."""
    unit = fields.Function(lambda plan: {"code": plan.subtree.unit.code, "name": plan.subtree.unit.name})
    on = fields.Function(lambda plan: plan.subtree.on.isoformat())
    lines = fields.List(fields.Nested(PlanLineSchema))
    transfers = fields.List(fields.Nested(TransferSchema))
    excluded = fields.List(fields.Nested(ExcludedGapSchema), metadata={
        "description": "Gaps left out because their review disputes them."})
    total_vnd = fields.Function(lambda plan: sum(line.total_vnd for line in plan.lines))


class ScenarioSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    unit = fields.Function(lambda s: {"code": s.unit.code, "name": s.unit.name})
    kind = fields.String()
    judged_on = fields.Date()
    version_id = fields.Integer()
    parameters = fields.Dict()
    total_vnd = fields.Integer()
    funded_vnd = fields.Integer()
    created_by = fields.String()
    created_at = fields.DateTime()
    approved_by = fields.String(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    approval_comment = fields.String()


class ScenarioDetailSchema(ScenarioSchema):
    lines = fields.List(fields.Nested(PlanLineSchema))
    transfers = fields.List(fields.Nested(TransferSchema))
    excluded = fields.List(fields.Nested(ExcludedGapSchema))


class DifferenceSchema(Schema):
    unit_code = fields.String()
    category = fields.String()
    reason = fields.String()
    approved_quantity = fields.Integer()
    approved_vnd = fields.Integer()
    now_quantity = fields.Integer()
    now_vnd = fields.Integer()


class ReadinessSchema(Schema):
    unit_code = fields.String()
    required = fields.Integer(metadata={"description": "Σ weight × required over the categories."})
    covered = fields.Integer(metadata={"description": "Σ weight × min(usable, required)."})
    score = fields.Float(allow_none=True, metadata={"description": "0-100; null when nothing is required."})


class FigureSchema(Schema):
    key = fields.String()
    count = fields.Integer()
    out_of = fields.Integer()
    percent = fields.Float(allow_none=True)


class SubtreeReadinessSchema(Schema):
    unit_code = fields.String()
    on = fields.Date()
    total = fields.Nested(ReadinessSchema)
    units = fields.List(fields.Nested(ReadinessSchema))
    figures = fields.List(fields.Nested(FigureSchema))
    history = fields.Function(lambda r: [{"day": day.isoformat(), "score": score} for day, score in r.history])
