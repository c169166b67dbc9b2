"""Discovery's records: SNMP credentials (communities and keys stored only encrypted, see
core.encryption), scan scopes, scan runs and the last poll of each SNMP address."""
import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    Unicode,
    UniqueConstraint,
)
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
    schedule: Mapped[str | None] = mapped_column(String(100))  # cron expression or interval (discovery.schedule)
    paused: Mapped[bool] = mapped_column(default=False)  # its schedule does not run until resumed
    # Scanned at its site by this collector (on the collector's own schedule), not by the server's workers.
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("collector.id", ondelete="SET NULL"), index=True)
    # Which network these addresses are: each device a scan of the scope sees carries it (Device.network).
    network: Mapped[ScopeNetwork] = mapped_column(default=ScopeNetwork.OTHER)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    unit: Mapped[Unit] = relationship()
    credentials: Mapped[list["ScopeCredential"]] = relationship(
        order_by="ScopeCredential.position", cascade="all, delete-orphan")
    # Not stored: filled by discovery.scopes.with_schedule from the scheduler's job store, for display.
    next_run_at = None  # dt.datetime | None
    schedule_status = "by_hand"


class ScopeCredential(Base):
    __tablename__ = "scope_credential"
    __table_args__ = (UniqueConstraint("scope_id", "credential_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int] = mapped_column(ForeignKey("scan_scope.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("snmp_credential.id"))
    position: Mapped[int]
    credential: Mapped[Credential] = relationship()


class RunStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for a worker
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


ACTIVE_RUN = ("queued", "running")


class RunTrigger(enum.StrEnum):
    MANUAL = "manual"        # someone asked for it (API, page, command line)
    SCHEDULE = "schedule"    # the scope's schedule
    RETRY = "retry"          # again, after a run whose worker stopped
    COLLECTOR = "collector"  # run at its site by a collector, which sent what it found


class ScanRun(Base):
    """One scan or poll of a scope: queued, then its progress while it runs, then what it found and what
    went wrong. At most one run of a scope is queued or running (the partial unique index is the lock
    that several processes share)."""

    __tablename__ = "scan_run"
    __table_args__ = (Index("uq_scan_run_active_scope", "scope_id", unique=True,
                            sqlite_where=Column("status").in_(ACTIVE_RUN),
                            postgresql_where=Column("status").in_(ACTIVE_RUN)),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int] = mapped_column(ForeignKey("scan_scope.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # snmp, nmap
    status: Mapped[RunStatus] = mapped_column(default=RunStatus.RUNNING)
    mode: Mapped[str] = mapped_column(String(100), default="")
    trigger: Mapped[RunTrigger] = mapped_column(default=RunTrigger.MANUAL)
    attempt: Mapped[int] = mapped_column(default=1)  # 2 and more: retries of a run whose worker stopped
    retry_of: Mapped[int | None] = mapped_column(ForeignKey("scan_run.id", ondelete="SET NULL"))
    worker: Mapped[str] = mapped_column(String(100), default="")  # host:pid of the process carrying it through
    queued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)  # when a worker took it
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


class Collector(Base):
    """A collector at a site: it scans the scopes assigned to it near their networks and sends what it
    finds in batches. It authenticates with a token shown once (kept as its digest); the credentials it
    needs travel encrypted with a key derived from that token, which the server keeps encrypted at rest."""

    __tablename__ = "collector"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)  # the unit at whose site it runs
    prefix: Mapped[str] = mapped_column(String(16))  # the token's first characters, to tell tokens apart
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_encrypted: Mapped[str] = mapped_column(Text, info={"encrypted": True})
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    # What the collector said at its last contact.
    last_contact_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    version: Mapped[str] = mapped_column(String(50), default="")
    backlog: Mapped[int] = mapped_column(default=0)  # batches waiting on its disk
    clock_skew_s: Mapped[float | None] = mapped_column(Float)  # its clock minus the server's
    last_error: Mapped[str] = mapped_column(Text, default="")
    batches: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    unit: Mapped[Unit] = relationship()


class BatchStatus(enum.StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class CollectorBatch(Base):
    """A batch a collector sent, by its id: a batch id seen again is ignored (delivery exactly once). A
    rejected batch keeps its body for an operator."""

    __tablename__ = "collector_batch"
    __table_args__ = (UniqueConstraint("collector_id", "batch_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    collector_id: Mapped[int] = mapped_column(ForeignKey("collector.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(default=0)  # the collector's own count: batches are replayed in order
    scope_id: Mapped[int | None] = mapped_column(ForeignKey("scan_scope.id", ondelete="SET NULL"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("scan_run.id", ondelete="SET NULL"))
    status: Mapped[BatchStatus]
    reason: Mapped[str] = mapped_column(Text, default="")
    observations: Mapped[int] = mapped_column(default=0)
    collected_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # the collector's clock, bounded
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # the collector's clock, as it said
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    body: Mapped[dict | None] = mapped_column(JSON)  # a rejected batch as it came


# APScheduler's SQLAlchemy job store, in the application's database: declared here (as APScheduler 3.11
# defines it) so that migrations create it and the API reads each scope's next run time from it.
scheduler_jobs = Table("apscheduler_jobs", Base.metadata,
                       Column("id", Unicode(191), primary_key=True),
                       Column("next_run_time", Float(25), index=True),
                       Column("job_state", LargeBinary, nullable=False))
