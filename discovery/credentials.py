"""SNMP credentials: checked, encrypted on the way in, and decrypted only for a poll.

Nothing here returns or logs a secret; `SecretValues` exists only inside a poller's call."""
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import record
from core.encryption import SecretBox
from core.errors import Conflict, InvalidInput, NotFound
from core.i18n import Reason
from core.time import utcnow
from discovery.models import AuthProtocol, Credential, PrivProtocol, SnmpVersion
from discovery.schemas import CredentialSchema

SECRET_FIELDS = ("community", "auth_key", "priv_key")
MIN_KEY_LENGTH = 8  # RFC 3414: a v3 password shorter than 8 characters is refused by agents


@dataclass(frozen=True)
class SecretValues:
    community: str | None
    auth_key: str | None
    priv_key: str | None


def get_credential(session: Session, credential_id: int) -> Credential:
    credential = session.get(Credential, credential_id)
    if credential is None:
        raise NotFound(Reason("credential %(id)s does not exist", id=credential_id), field="credential_id")
    return credential


def list_credentials(session: Session) -> list[Credential]:
    return list(session.scalars(select(Credential).order_by(Credential.name)))


def save_credential(session: Session, box: SecretBox, values: Mapping[str, Any],
                    credential_id: int | None = None) -> Credential:
    """Create a credential, or change one (secrets not given are kept), after checking it adds up."""
    credential = get_credential(session, credential_id) if credential_id is not None else Credential()
    name = values.get("name", credential.name)
    clash = session.scalars(select(Credential.id).where(Credential.name == name, Credential.id != credential.id)).first()
    if clash is not None:
        raise Conflict(Reason("credential %(name)r already exists", name=name), field="name")
    for field in ("name", "version", "username", "auth_protocol", "priv_protocol"):
        if field in values:
            setattr(credential, field, values[field])
    for field in SECRET_FIELDS:
        if field in values:
            setattr(credential, f"{field}_encrypted", box.encrypt(values[field]) if values[field] else None)
    credential.auth_protocol = credential.auth_protocol or AuthProtocol.NONE
    credential.priv_protocol = credential.priv_protocol or PrivProtocol.NONE
    _check(credential)
    credential.updated_at = utcnow()
    session.add(credential)
    session.flush()
    return credential


def write_credential(session: Session, box: SecretBox, values: Mapping[str, Any], credential_id: int | None,
                     actor: str) -> Credential:
    """Create (credential_id None) or change a credential, audited as `actor` without its secrets (only which
    were replaced): the one path of the API and the pages. The caller commits."""
    before = CredentialSchema().dump(get_credential(session, credential_id)) if credential_id is not None else None
    credential = save_credential(session, box, values, credential_id)
    after = CredentialSchema().dump(credential)
    if credential_id is None:
        record(session, actor, "credential.create", "credential", credential.id, after=after)
    else:
        replaced = sorted(k for k in values if k in SECRET_FIELDS)
        record(session, actor, "credential.update", "credential", credential.id, before=before, after=after,
               detail=f"secrets replaced: {', '.join(replaced)}" if replaced else "")
    return credential


def reveal(credential: Credential, box: SecretBox) -> SecretValues:
    """The plain secrets, for the poller's request only."""
    def plain(ciphertext: str | None) -> str | None:
        return box.decrypt(ciphertext) if ciphertext else None
    return SecretValues(plain(credential.community_encrypted), plain(credential.auth_key_encrypted),
                        plain(credential.priv_key_encrypted))


def _check(credential: Credential) -> None:
    if credential.version in (SnmpVersion.V1, SnmpVersion.V2C):
        if not credential.community_encrypted:
            raise InvalidInput(Reason("SNMP %(version)s needs a community", version=credential.version.value),
                               field="community")
        return
    if not credential.username:
        raise InvalidInput(Reason("SNMPv3 needs a user name"), field="username")
    if credential.auth_protocol is AuthProtocol.NONE and credential.priv_protocol is not PrivProtocol.NONE:
        raise InvalidInput(Reason("SNMPv3 privacy (encryption) needs authentication too"), field="priv_protocol")
    if credential.auth_protocol is not AuthProtocol.NONE and not credential.auth_key_encrypted:
        raise InvalidInput(Reason("SNMPv3 authentication needs an auth_key"), field="auth_key")
    if credential.priv_protocol is not PrivProtocol.NONE and not credential.priv_key_encrypted:
        raise InvalidInput(Reason("SNMPv3 privacy needs a priv_key"), field="priv_key")
