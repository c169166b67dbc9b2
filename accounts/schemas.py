"""What the accounts API accepts and returns. Password hashes and token values never leave."""
from marshmallow import Schema, fields, validate

from accounts.models import Role
from core.i18n import SchemaMessage
from core.permissions import Permission
from inventory.schemas import CODE, PageArgs, PageSchema, UtcDateTime

USERNAME = validate.Regexp(r"^[a-z0-9][a-z0-9._-]{1,63}$",
                           error=SchemaMessage("2 to 64 lower-case letters, digits, '.', '_' or '-'"))
PASSWORD = validate.Length(min=12, max=200, error=SchemaMessage("a password needs 12 to 200 characters"))


class SignInSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.Enum(Role, by_value=True)
    active = fields.Boolean()
    unit_codes = fields.Function(lambda u: [unit.code for unit in u.units])
    created_at = UtcDateTime()


class SessionSchema(Schema):
    user = fields.Nested(UserSchema)
    permissions = fields.List(fields.String())
    csrf_token = fields.String()


class PasswordChangeSchema(Schema):
    old_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))
    new_password = fields.String(required=True, load_only=True, validate=PASSWORD)


class PasswordChangedSchema(Schema):
    sessions_ended = fields.Integer(metadata={"description": "Your other sessions, signed out."})
    tokens_revoked = fields.Integer(metadata={"description": "Your API tokens, all revoked."})


class UserCreateSchema(Schema):
    username = fields.String(required=True, validate=USERNAME)
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    password = fields.String(required=True, load_only=True, validate=PASSWORD)
    role = fields.Enum(Role, by_value=True, required=True)
    unit_codes = fields.List(fields.String(validate=CODE), load_default=list, validate=validate.Length(max=200))


class UserUpdateSchema(Schema):
    display_name = fields.String(validate=validate.Length(min=1, max=200))
    password = fields.String(load_only=True, validate=PASSWORD)
    role = fields.Enum(Role, by_value=True)
    unit_codes = fields.List(fields.String(validate=CODE), validate=validate.Length(max=200))
    active = fields.Boolean()


class UserUpdatedSchema(UserSchema):
    tokens_revoked = fields.Integer(metadata={
        "description": "The user's API tokens revoked by this change: a new password revokes them all."})


class TokenSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    user = fields.Function(lambda t: t.user.username)
    permissions = fields.List(fields.String())
    created_at = UtcDateTime()
    expires_at = UtcDateTime(allow_none=True)
    last_used_at = UtcDateTime(allow_none=True)
    revoked_at = UtcDateTime(allow_none=True)
    parent_id = fields.Integer(allow_none=True, metadata={
        "description": "The token that created this one, if any: revoking it revokes this one too."})


class NewTokenSchema(TokenSchema):
    token = fields.String(attribute="value_shown_once",
                          metadata={"description": "The token itself: shown this once, never again."})


class TokenCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    password = fields.String(load_only=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "Your current password: required from a signed-in session, not from an API token."})
    permissions = fields.List(fields.Enum(Permission, by_value=True), required=True,
                              validate=validate.Length(min=1, max=len(Permission)))
    expires_at = UtcDateTime(load_default=None, allow_none=True, metadata={
        "description": "Default: TOKEN_DEFAULT_LIFETIME_DAYS from now; at most TOKEN_MAX_LIFETIME_DAYS from now, "
                       "and for a token created with a token, no later than that token's own expiry."})


class AuditExportArgs(Schema):
    actor = fields.String(validate=validate.Length(min=1, max=100))
    action = fields.String(validate=validate.Length(min=1, max=64))
    target_type = fields.String(validate=validate.Length(min=1, max=32), metadata={
        "description": "What the change touched: user, token, device, unit, file, ..."})
    target_id = fields.String(validate=validate.Length(min=1, max=64), metadata={
        "description": "Which one: a user's or device's id, a unit's code, a file's name."})
    since = UtcDateTime()
    until = UtcDateTime()


class AuditArgs(AuditExportArgs, PageArgs):
    pass


class AuditEntrySchema(Schema):
    id = fields.Integer()
    at = UtcDateTime()
    actor = fields.String()
    action = fields.String()
    target_type = fields.String()
    target_id = fields.String()
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)
    detail = fields.String()


class AuditPageSchema(PageSchema):
    items = fields.List(fields.Nested(AuditEntrySchema))
