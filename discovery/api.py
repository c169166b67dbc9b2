"""HTTP API of discovery: SNMP credentials (secrets are accepted, never returned)."""
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from accounts.encryption import SecretBox
from accounts.permissions import Permission, requires
from accounts.web import audit
from discovery import credentials
from discovery.schemas import CredentialCreateSchema, CredentialSchema, CredentialWriteSchema
from inventory.db import request_session

credentials_blp = Blueprint("credentials", __name__, url_prefix="/api/credentials",
                            description="SNMP credentials, stored encrypted")


def secret_box() -> SecretBox:
    return current_app.extensions["secret_box"]


@credentials_blp.route("")
class Credentials(MethodView):
    @requires(Permission.SCANS_MANAGE)
    @credentials_blp.response(200, CredentialSchema(many=True))
    def get(self):
        """SNMP credentials, without their secrets."""
        return credentials.list_credentials(request_session())

    @requires(Permission.SCANS_MANAGE)
    @credentials_blp.arguments(CredentialCreateSchema)
    @credentials_blp.response(201, CredentialSchema)
    def post(self, args):
        """Store an SNMP credential; its community or keys are encrypted and never shown again."""
        session = request_session()
        credential = credentials.save_credential(session, secret_box(), args)
        audit("credential.create", "credential", credential.id, after=CredentialSchema().dump(credential))
        session.commit()
        return credential


@credentials_blp.route("/<int(max=2147483647):credential_id>")
class CredentialById(MethodView):
    @requires(Permission.SCANS_MANAGE)
    @credentials_blp.response(200, CredentialSchema)
    def get(self, credential_id):
        """One credential, without its secrets."""
        return credentials.get_credential(request_session(), credential_id)

    @requires(Permission.SCANS_MANAGE)
    @credentials_blp.arguments(CredentialWriteSchema)
    @credentials_blp.response(200, CredentialSchema)
    def patch(self, args, credential_id):
        """Change a credential; secrets not given are kept."""
        session = request_session()
        before = CredentialSchema().dump(credentials.get_credential(session, credential_id))
        credential = credentials.save_credential(session, secret_box(), args, credential_id)
        changed = sorted(k for k in args if k in credentials.SECRET_FIELDS)
        audit("credential.update", "credential", credential.id, before=before,
              after=CredentialSchema().dump(credential), detail=f"secrets replaced: {', '.join(changed)}" if changed else "")
        session.commit()
        return credential
