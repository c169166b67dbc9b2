"""Secrets at rest (SNMP communities and keys): encrypted with a key from configuration. Secrets the service
only checks (API tokens, session keys, agents' enrolments) are kept as their `digest` alone.

Keys are Fernet keys (AES-128-CBC with HMAC-SHA256). `SECRETS_KEYS` lists them, newest first: the
first encrypts, every one decrypts. Rotation: put a new key first, run `flask --app app secrets
rotate` (every encrypted column is re-encrypted with it, in one transaction), then drop the old key.
Columns holding ciphertext say so with `info={"encrypted": True}`, which is how rotation finds them."""
import hashlib
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.db import Base
from core.errors import DomainError
from core.i18n import Reason


class SecretsKeyError(DomainError):
    status_code = 500


UNDECRYPTABLE = Reason("a stored secret cannot be decrypted with the configured SECRETS_KEYS")


class SecretBox:
    def __init__(self, keys: Sequence[str]):
        if not keys:
            raise SecretsKeyError(Reason("no secrets key is configured (SECRETS_KEYS)"))
        try:
            self._fernet = MultiFernet([Fernet(key.strip().encode()) for key in keys])
        except ValueError:
            raise SecretsKeyError(Reason("SECRETS_KEYS holds a key that is not a Fernet key (32 url-safe base64 "
                                         "bytes)")) from None

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise SecretsKeyError(UNDECRYPTABLE) from None

    def rotate(self, ciphertext: str) -> str:
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken:
            raise SecretsKeyError(UNDECRYPTABLE) from None


def digest(secret: str) -> str:
    """The SHA-256 of a secret the service shows once and then only checks: what is stored in its place."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key() -> str:
    return Fernet.generate_key().decode()


def keys_from_config(value: str) -> list[str]:
    return [key.strip() for key in value.split(",") if key.strip()]


def encrypted_columns() -> list:
    return [column for table in Base.metadata.sorted_tables for column in table.columns
            if column.info.get("encrypted")]


def rotate_all(session: Session, box: SecretBox) -> int:
    """Re-encrypt every stored secret with the first key; returns how many values were rewritten."""
    rewritten = 0
    for column in encrypted_columns():
        table = column.table
        key = list(table.primary_key.columns)[0]
        for row_id, ciphertext in session.execute(select(key, column).where(column.is_not(None))):
            session.execute(update(table).where(key == row_id).values({column.name: box.rotate(ciphertext)}))
            rewritten += 1
    return rewritten
