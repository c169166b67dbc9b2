"""What the budget API returns: gaps per unit and category with the norms and devices behind each number, the
subtree's totals, and the transfer list."""
from marshmallow import Schema, fields

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
