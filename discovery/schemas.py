"""What the discovery API accepts and returns. Secrets go in; only whether they are set comes out."""
from marshmallow import Schema, fields, validate

from discovery.models import AuthProtocol, PrivProtocol, SnmpVersion
from inventory.schemas import UtcDateTime

SECRET = validate.Length(min=1, max=128)


class CredentialSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    version = fields.Enum(SnmpVersion, by_value=True)
    username = fields.String(allow_none=True)
    auth_protocol = fields.Enum(AuthProtocol, by_value=True)
    priv_protocol = fields.Enum(PrivProtocol, by_value=True)
    has_community = fields.Function(lambda c: c.community_encrypted is not None)
    has_auth_key = fields.Function(lambda c: c.auth_key_encrypted is not None)
    has_priv_key = fields.Function(lambda c: c.priv_key_encrypted is not None)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class CredentialWriteSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    version = fields.Enum(SnmpVersion, by_value=True)
    community = fields.String(load_only=True, allow_none=True, validate=SECRET)
    username = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    auth_protocol = fields.Enum(AuthProtocol, by_value=True)
    auth_key = fields.String(load_only=True, allow_none=True, validate=validate.Length(min=8, max=128))
    priv_protocol = fields.Enum(PrivProtocol, by_value=True)
    priv_key = fields.String(load_only=True, allow_none=True, validate=validate.Length(min=8, max=128))


class CredentialCreateSchema(CredentialWriteSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    version = fields.Enum(SnmpVersion, by_value=True, required=True)
