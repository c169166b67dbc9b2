"""Discovery's records: SNMP credentials (communities and keys stored only encrypted, see
core.encryption), scan scopes, scan runs and the last poll of each SNMP address."""
import datetime as dt
import enum

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from core.time import utcnow
from inventory.models import Unit


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


class ScopeNetwork(enum.StrEnum):
    SECURE = "secure"      # the dedicated secure network of state agencies (mạng máy tính chuyên dùng)
    INTERNET = "internet"  # the office network connected to the Internet (mạng nội bộ kết nối Internet)
    OTHER = "other"


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


class ScanScope(Base):
    """What may be scanned for a unit: its networks less the exclusions, with which SNMP credentials
    (tried in order) and on which port. The server's allowlist bounds every scope."""

    __tablename__ = "scan_scope"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    networks: Mapped[str] = mapped_column(Text)
    exclusions: Mapped[str] = mapped_column(Text, default="")
    snmp_port: Mapped[int] = mapped_column(default=161)
    methods: Mapped[str] = mapped_column(String(32), default="nmap,snmp")  # comma-separated: nmap, snmp
    schedule: Mapped[str | None] = mapped_column(String(100))  # cron expression, for the scheduler
    # Which network these addresses are: each device a scan of the scope sees carries it (Device.network).
    network: Mapped[ScopeNetwork] = mapped_column(default=ScopeNetwork.OTHER)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    unit: Mapped[Unit] = relationship()
    credentials: Mapped[list["ScopeCredential"]] = relationship(
        order_by="ScopeCredential.position", cascade="all, delete-orphan")


class ScopeCredential(Base):
    __tablename__ = "scope_credential"
    __table_args__ = (UniqueConstraint("scope_id", "credential_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int] = mapped_column(ForeignKey("scan_scope.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("snmp_credential.id"))
    position: Mapped[int]
    credential: Mapped[Credential] = relationship()


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class ScanRun(Base):
    """One scan or poll of a scope: progress while it runs, then what it found and what went wrong."""

    __tablename__ = "scan_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int] = mapped_column(ForeignKey("scan_scope.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # snmp, nmap
    status: Mapped[RunStatus] = mapped_column(default=RunStatus.RUNNING)
    mode: Mapped[str] = mapped_column(String(100), default="")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The worker's last sign of life, written while the run is `running`: a run whose heartbeat is older
    # than RUN_STALE_AFTER_S lost its process (a crash, a restart) and is failed (scans.fail_abandoned_runs).
    heartbeat_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    hosts_total: Mapped[int] = mapped_column(default=0)
    hosts_done: Mapped[int] = mapped_column(default=0)
    hosts_answered: Mapped[int] = mapped_column(default=0)
    requests: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    missing: Mapped[int] = mapped_column(default=0)
    relocations: Mapped[int] = mapped_column(default=0)  # devices of other units seen: relocations raised
    errors: Mapped[list] = mapped_column(JSON, default=list)  # [{"address": ..., "reason": ...}]


class TargetStatus(enum.StrEnum):
    OK = "ok"
    PARTIAL = "partial"  # answered, but a walk had to stop (the reason says which)
    FAILED = "failed"


class SnmpTarget(Base):
    """The last poll of one address of a scope: the credential that worked (tried first next time),
    the device it is, and what went wrong if anything."""

    __tablename__ = "snmp_target"
    __table_args__ = (UniqueConstraint("scope_id", "address"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int] = mapped_column(ForeignKey("scan_scope.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(45))
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("snmp_credential.id", ondelete="SET NULL"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id", ondelete="SET NULL"))
    status: Mapped[TargetStatus]
    reason: Mapped[str] = mapped_column(Text, default="")
    requests: Mapped[int] = mapped_column(default=0)
    polled_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    credential: Mapped[Credential | None] = relationship()


class ScanHost(Base):
    """A host a sweep of the scope found at an address: the device it is, so that a host with no MAC
    and no name (a loopback service, a host behind a router) is the same device at the next sweep."""

    __tablename__ = "scan_host"
    __table_args__ = (UniqueConstraint("scope_id", "address"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int] = mapped_column(ForeignKey("scan_scope.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(45))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id", ondelete="SET NULL"))
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
