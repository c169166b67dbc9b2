"""What the agents API takes and returns: enrolments (the secret only in the answer that issues it), the agents
that reported, and the result of importing inventory files."""
from marshmallow import Schema, fields, validate


class EnrolmentArgs(Schema):
    unit_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100),
                         metadata={"description": "What the enrolment is for, e.g. 'PCs of the ward office'."})
    keep_last_user = fields.Boolean(load_default=False, metadata={
        "description": "Store the last logged-in user each PC reports (personal data; off by default)."})


class EnrolmentSchema(Schema):
    id = fields.Integer()
    unit_code = fields.Function(lambda enrolment: enrolment.unit.code)
    name = fields.String()
    prefix = fields.String(metadata={"description": "The secret's first characters, to recognise it."})
    keep_last_user = fields.Boolean()
    created_by = fields.String()
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    last_contact_at = fields.DateTime(allow_none=True)
    inventories = fields.Integer(metadata={"description": "Inventories accepted."})
    refusals = fields.Dict(keys=fields.String(), values=fields.Integer(),
                           metadata={"description": "Requests refused, by reason."})


class IssuedEnrolmentSchema(EnrolmentSchema):
    secret = fields.String(metadata={"description": "Shown this once; only its hash is kept."})
    server_url = fields.String(metadata={"description": "What to give `fusioninventory-agent --server`."})


class AgentReportSchema(Schema):
    agent_id = fields.String()
    device_id = fields.Integer(allow_none=True)
    agent_version = fields.String(allow_none=True)
    first_contact_at = fields.DateTime()
    last_contact_at = fields.DateTime()
    inventories = fields.Integer()


class InventoryFilesSchema(Schema):
    files = fields.List(fields.Raw(metadata={"type": "string", "format": "binary"}), required=True)


class ImportedSchema(Schema):
    name = fields.String()
    device_id = fields.Integer(allow_none=True)
    refused = fields.String(allow_none=True)
