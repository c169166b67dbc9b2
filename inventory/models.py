"""Units, devices, interfaces, links, observations and history: what the city really has."""
import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from core.time import utcnow


class Provenance(TypeDecorator):
    """Who said each field's value: {"model": {"method": "snmp", "source": "scan 7", "at": "..."}}.

    Stored grouped by who said it, `[["snmp", "scan 7", "...", ["model", "vendor"]], ...]`: one observation
    says many fields, and repeating its method, source and time for each made provenance three quarters
    of a device row (1 KB of 1.4), rewritten and read again with every ingestion of the device."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: dict[str, dict[str, str]] | None, dialect) -> list[list[Any]] | None:
        return None if value is None else grouped_provenance(value)

    def process_result_value(self, value: list[list[Any]] | None, dialect) -> dict[str, dict[str, str]] | None:
        return None if value is None else provenance_by_field(value)


def grouped_provenance(by_field: dict[str, dict[str, str]]) -> list[list[Any]]:
    """Fields grouped by who said them (method, source, time), in the order they come."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for name, said in by_field.items():
        groups.setdefault((said["method"], said["source"], said["at"]), []).append(name)
    return [[*said, names] for said, names in groups.items()]


def provenance_by_field(groups: list[list[Any]]) -> dict[str, dict[str, str]]:
    """One dict per group, shared by its fields: entries are replaced, never changed in place."""
    by_field: dict[str, dict[str, str]] = {}
    for method, source, at, names in groups:
        by_field.update(dict.fromkeys(names, {"method": method, "source": source, "at": at}))
    return by_field


class UnitKind(enum.StrEnum):
    CITY = "city"
    AGENCY = "agency"
    WARD = "ward"
    COMMUNE = "commune"
    DEPARTMENT = "department"
    OTHER = "other"


class ReorganisationKind(enum.StrEnum):
    MERGE = "merge"
    SPLIT = "split"


class DeviceClass(enum.StrEnum):
    SWITCH = "switch"
    ROUTER = "router"
    FIREWALL = "firewall"
    WIRELESS = "wireless"
    PRINTER = "printer"
    SCANNER = "scanner"
    UPS = "ups"
    PDU = "pdu"  # a managed power distribution unit
    SERVER = "server"
    WORKSTATION = "workstation"
    LAPTOP = "laptop"
    NAS = "nas"
    STORAGE = "storage"  # a storage array (SAN), beside a NAS
    CAMERA = "camera"
    PHONE = "phone"
    VIDEO_CONFERENCE = "video-conference"
    OTHER = "other"


class DeviceStatus(enum.StrEnum):
    IN_USE = "in_use"
    SPARE = "spare"
    BROKEN = "broken"
    RETIRED = "retired"
    MISSING = "missing"  # unseen for N complete scans of its scope; never deleted


class Unit(Base):
    """A ward, commune, agency or department of the city, in a tree; merged units stay, inactive."""

    __tablename__ = "unit"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[UnitKind]
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    staff_count: Mapped[int] = mapped_column(default=0)
    # The unit's facts the equipment norms count from (the catalog reads them): of its staff, how many hold a
    # leadership position and how many are specialists (their norms differ); its meeting rooms and the sites it
    # works from; the pages of records still to digitise (BigInteger: a large archive passes 2**31) and by when
    # (None: no deadline known); and whether it must be on the dedicated secure network (mạng chuyên dùng).
    leader_count: Mapped[int] = mapped_column(default=0)
    specialist_count: Mapped[int] = mapped_column(default=0)
    meeting_rooms: Mapped[int] = mapped_column(default=0)
    sites: Mapped[int] = mapped_column(default=1)
    archive_pages: Mapped[int] = mapped_column(BigInteger, default=0)
    archive_deadline: Mapped[dt.date | None] = mapped_column(Date)
    on_secure_network: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    # Set when the unit is merged into or split into others: where its devices went.
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    dissolved_on: Mapped[dt.date | None] = mapped_column(Date)
    is_example: Mapped[bool] = mapped_column(default=False)  # loaded by `flask seed`, replaceable

    parent: Mapped["Unit | None"] = relationship(remote_side=[id], foreign_keys=[parent_id],
                                                 back_populates="children")
    children: Mapped[list["Unit"]] = relationship(foreign_keys=[parent_id], back_populates="parent")
    successor: Mapped["Unit | None"] = relationship(remote_side=[id], foreign_keys=[successor_id])
    devices: Mapped[list["Device"]] = relationship(back_populates="unit")


class Reorganisation(Base):
    """One merge or split, as decided: which units went into which, from which date."""

    __tablename__ = "reorganisation"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReorganisationKind]
    effective_on: Mapped[dt.date] = mapped_column(Date)
    source_codes: Mapped[list[str]] = mapped_column(JSON)
    target_codes: Mapped[list[str]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Device(Base):
    """One physical device, however many scans, imports and people have described it."""

    __tablename__ = "device"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    device_class: Mapped[DeviceClass] = mapped_column(default=DeviceClass.OTHER, index=True)
    vendor: Mapped[str | None] = mapped_column(String(100), index=True)
    model: Mapped[str | None] = mapped_column(String(200))
    serial: Mapped[str | None] = mapped_column(String(64), unique=True)
    hostname: Mapped[str | None] = mapped_column(String(255))
    firmware: Mapped[str | None] = mapped_column(String(255))
    # The version inside `firmware` (inventory.versions.normalise_version), set by ingestion with it, so that
    # "firmware at least X" can be checked (version_key); None when the text holds no version.
    firmware_version: Mapped[str | None] = mapped_column(String(255))
    os: Mapped[str | None] = mapped_column(String(255))
    # By the specification registry's names, typed: {"ram_gb": 8, "storage_kind": "ssd"} (inventory/specs.py).
    specs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[DeviceStatus] = mapped_column(default=DeviceStatus.IN_USE, index=True)
    location: Mapped[str | None] = mapped_column(String(200))
    purchase_date: Mapped[dt.date | None] = mapped_column(Date)
    # Whole dong (VND has no minor unit); BigInteger because plan totals pass 2**31.
    purchase_price_vnd: Mapped[int | None] = mapped_column(BigInteger)
    warranty_end: Mapped[dt.date | None] = mapped_column(Date)
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    source: Mapped[str] = mapped_column(String(32))  # the method that last described it
    # For each field, who said its current value: {"model": {"method": "snmp", "source": "...", "at": "..."}}.
    provenance: Mapped[dict[str, Any]] = mapped_column(Provenance, default=dict)
    # The scan scope that last saw it and how many complete scans of that scope since have not.
    scope_key: Mapped[str | None] = mapped_column(String(64), index=True)
    missed_scans: Mapped[int] = mapped_column(default=0)
    # The network the scope of the scan that last saw it covers (discovery's ScopeNetwork: secure, internet,
    # other), set with scope_key: later packages learn which devices are on the dedicated network from here,
    # without reading discovery. None: no scan has seen it.
    network: Mapped[str | None] = mapped_column(String(16))

    unit: Mapped[Unit] = relationship(back_populates="devices")
    interfaces: Mapped[list["Interface"]] = relationship(back_populates="device", cascade="all, delete-orphan",
                                                         order_by="Interface.id")

    __table_args__ = (Index("ix_device_hostname_unit", "hostname", "unit_id"),)


class SearchTerm(Base):
    """What the free-text search looks in: a device's serial, model, vendor, host name and location (part
    "device"), or one interface's MAC and addresses, the JSON text of `ips` (part "interface:<its id>"),
    the values joined by U+001F, which no field holds.

    Database triggers write these rows (migration 0009), whoever writes the device or interface; never
    write them. Rows of their own, not a column of the device: a device seen again with nothing new to
    search for is not written here, and so not re-indexed."""

    __tablename__ = "search_term"
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), primary_key=True)
    part: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)

    # PostgreSQL: a trigram index serves ILIKE '%q%'. SQLite has no such index (this one is a B-tree there,
    # of no use to '%q%'): it reads the narrow table through (two rows a device; a free-text list request
    # at 50,000 devices takes 40 to 55 ms there, bench/ingest.py).
    __table_args__ = (Index("ix_search_term_value", "value", postgresql_using="gin",
                            postgresql_ops={"value": "gin_trgm_ops"}),)


class Interface(Base):
    """A port or network interface of a device: name, MAC, addresses, speed."""

    __tablename__ = "interface"
    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    mac: Mapped[str | None] = mapped_column(String(17), index=True)  # aa:bb:cc:dd:ee:ff
    ips: Mapped[list[str]] = mapped_column(JSON, default=list)
    speed_mbps: Mapped[int | None] = mapped_column(BigInteger)

    device: Mapped[Device] = relationship(back_populates="interfaces")


class Link(Base):
    """A cable between two devices, as a neighbour protocol or a forwarding table showed it."""

    __tablename__ = "link"
    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"), index=True)
    port: Mapped[str] = mapped_column(String(100), default="")
    remote_device_id: Mapped[int] = mapped_column(ForeignKey("device.id"), index=True)
    remote_port: Mapped[str] = mapped_column(String(100), default="")
    protocol: Mapped[str] = mapped_column(String(16))  # lldp, cdp, fdb, manual
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("device_id", "port", "remote_device_id", "remote_port",
                                       name="uq_link_ends"),)


class Observation(Base):
    """One piece of evidence from one method at one time, kept as it arrived."""

    __tablename__ = "observation"
    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"), index=True)
    method: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(200), default="")
    observed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    # A hash of method, source, time and evidence: the same observation twice is stored once. Unique with
    # the time in front (migration 0008): a batch's new entries share a few pages of the index.
    fingerprint: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("observed_at", "fingerprint", name="uq_observation_observed_at"),)


class DeviceEvent(Base):
    """The history of a device: created, a field changed, moved, missing, reappeared."""

    __tablename__ = "device_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    field: Mapped[str | None] = mapped_column(String(64))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    method: Mapped[str] = mapped_column(String(32), default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class RelocationStatus(enum.StrEnum):
    PENDING = "pending"      # seen in another unit; the device stays where it is until someone decides
    CONFIRMED = "confirmed"  # the device was moved to the unit that saw it
    REJECTED = "rejected"    # not moved; later sightings from the same unit are counted, not raised again
    SUPERSEDED = "superseded"  # a merge or split made the device's unit and the one that saw it one unit


class Relocation(Base):
    """A device seen by a scan of another unit than its own: the move waits for a person's decision.

    A scan may see a device that really moved (a laptop carried to another office) or a MAC that leaks
    across networks; either way a scan never moves a device by itself. One row per device and unit
    that saw it, counting the sightings, until an officer of that unit or an administrator decides."""

    __tablename__ = "relocation"
    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"))  # the index below starts with it
    from_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    to_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    status: Mapped[RelocationStatus] = mapped_column(default=RelocationStatus.PENDING, index=True)
    # Who saw it: the method and its source (a scope, a collector) of the first and the latest sighting.
    method: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(200), default="")
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime)
    sightings: Mapped[int] = mapped_column(default=1)
    # What the latest sighting observed of the device (serial, host name, MACs, addresses ...): what the unit
    # that saw it is shown, rather than the other unit's record, until it may read the device.
    seen: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(Text, default="")

    device: Mapped[Device] = relationship()
    from_unit: Mapped[Unit] = relationship(foreign_keys=[from_unit_id])
    to_unit: Mapped[Unit] = relationship(foreign_keys=[to_unit_id])

    # At most one open question per device and unit that saw it, however many scans see it again.
    __table_args__ = (Index("ix_relocation_device_to_unit", "device_id", "to_unit_id", "status"),)
