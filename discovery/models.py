"""SNMP credentials. Communities and keys are stored only encrypted (see accounts.encryption)."""
import datetime as dt
import enum

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from inventory.db import Base
from inventory.models import utcnow


class SnmpVersion(enum.StrEnum):
    V1 = "v1"
    V2C = "v2c"
    V3 = "v3"


class AuthProtocol(enum.StrEnum):
    NONE = "none"
    MD5 = "md5"
    SHA = "sha"
    SHA224 = "sha224"
    SHA256 = "sha256"
    SHA384 = "sha384"
    SHA512 = "sha512"


class PrivProtocol(enum.StrEnum):
    NONE = "none"
    DES = "des"
    AES128 = "aes128"
    AES192 = "aes192"
    AES256 = "aes256"


class Credential(Base):
    """How to speak SNMP to a device: a community (v1, v2c) or a user with keys (v3)."""

    __tablename__ = "snmp_credential"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    version: Mapped[SnmpVersion]
    community_encrypted: Mapped[str | None] = mapped_column(Text, info={"encrypted": True})
    username: Mapped[str | None] = mapped_column(String(64))
    auth_protocol: Mapped[AuthProtocol] = mapped_column(default=AuthProtocol.NONE)
    auth_key_encrypted: Mapped[str | None] = mapped_column(Text, info={"encrypted": True})
    priv_protocol: Mapped[PrivProtocol] = mapped_column(default=PrivProtocol.NONE)
    priv_key_encrypted: Mapped[str | None] = mapped_column(Text, info={"encrypted": True})
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
