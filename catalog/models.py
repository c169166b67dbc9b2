"""Catalog versions and what each holds (categories with their service life, approved models, minimum
requirements, upgrade parts, norms), and the compliance of each device under the version in force.

A version is edited while it is a draft and frozen once published, so that a judgement recorded under it
keeps meaning what it meant; the next guidance is a new version, usually a copy of the last one."""
import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from core.time import utcnow


class CategoryGroup(enum.StrEnum):
    TERMINAL = "terminal"
    NETWORK = "network"


class Severity(enum.StrEnum):
    REQUIRED = "required"        # a device that misses it is below specification
    RECOMMENDED = "recommended"  # said in the judgement, never decides it


class ComplianceStatus(enum.StrEnum):
    """Worst first: a device's status is the worst of its findings (rules.STATUS_ORDER)."""
    END_OF_SUPPORT = "end_of_support"
    PAST_SERVICE_LIFE = "past_service_life"
    BELOW_SPEC = "below_spec"
    UNAPPROVED_MODEL = "unapproved_model"
    END_OF_SALE = "end_of_sale"
    UNKNOWN = "unknown"
    COMPLIANT = "compliant"


class CatalogVersion(Base):
    """One issue of the guidance ("Danh mục 2026"): in force from its effective date once published, until
    a later published version takes effect."""

    __tablename__ = "catalog_version"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    effective_on: Mapped[dt.date] = mapped_column(Date)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # None: a draft, editable
    published_by: Mapped[str | None] = mapped_column(String(100))
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_version.id"))
    legal_basis: Mapped[str] = mapped_column(Text, default="")  # the decision that issues it
    note: Mapped[str] = mapped_column(Text, default="")
    is_example: Mapped[bool] = mapped_column(default=False)  # loaded by `flask seed`: adapt before relying on it
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    categories: Mapped[list["Category"]] = relationship(back_populates="version", cascade="all, delete-orphan",
                                                        order_by="Category.rank")
    models: Mapped[list["ApprovedModel"]] = relationship(cascade="all, delete-orphan", order_by="ApprovedModel.id")
    requirements: Mapped[list["Requirement"]] = relationship(cascade="all, delete-orphan",
                                                             order_by="Requirement.id")
    parts: Mapped[list["UpgradePart"]] = relationship(cascade="all, delete-orphan", order_by="UpgradePart.id")
    norms: Mapped[list["Norm"]] = relationship(cascade="all, delete-orphan", order_by="Norm.id")

    # Exactly one version in force at a date: the database holds to it even when two publish at once.
    __table_args__ = (Index("uq_catalog_version_published_effective_on", "effective_on", unique=True,
                            sqlite_where=text("published_at IS NOT NULL"),
                            postgresql_where=text("published_at IS NOT NULL")),)


class Category(Base):
    """A kind of equipment the norms count (desktop PC, access switch ...), with the device classes (and,
    where a class is ambiguous, the specs) that put a device in it, and its legal service life."""

    __tablename__ = "catalog_category"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("catalog_version.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name_vi: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    group: Mapped[CategoryGroup]
    device_classes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Specs a device of those classes must also have to be of this category: [{"spec", "op", "value"}].
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    rank: Mapped[int] = mapped_column(default=0)  # categories are tried in this order; the first that fits wins
    wired: Mapped[bool] = mapped_column(default=False)  # takes a wired switch port (norms of switches count them)
    service_life_years: Mapped[int | None]
    wear_rate_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    life_legal_basis: Mapped[str] = mapped_column(Text, default="")

    version: Mapped[CatalogVersion] = relationship(back_populates="categories")
    __table_args__ = (UniqueConstraint("version_id", "code", name="uq_catalog_category_version_code"),)


class ApprovedModel(Base):
    """A model the guidance approves: vendor, model or glob pattern ("WS-C2960*"), reference price, dates."""

    __tablename__ = "approved_model"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("catalog_version.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("catalog_category.id", ondelete="CASCADE"))
    vendor: Mapped[str] = mapped_column(String(100))
    model_pattern: Mapped[str] = mapped_column(String(200))
    price_vnd: Mapped[int | None] = mapped_column(BigInteger)  # reference unit price, whole dong
    end_of_sale: Mapped[dt.date | None] = mapped_column(Date)
    end_of_support: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")

    category: Mapped[Category] = relationship()


class Requirement(Base):
    """A minimum a category's devices must meet, over the spec registry: RAM at least 8 GB, SSD, PoE..."""

    __tablename__ = "catalog_requirement"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("catalog_version.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("catalog_category.id", ondelete="CASCADE"))
    spec: Mapped[str] = mapped_column(String(32))  # a registry name, or firmware_version, cpu_generation
    op: Mapped[str] = mapped_column(String(16))  # at_least, at_most, is, one_of
    value: Mapped[Any] = mapped_column(JSON)  # typed as the registry stores the spec; a list for one_of
    severity: Mapped[Severity] = mapped_column(default=Severity.REQUIRED)

    category: Mapped[Category] = relationship()


class UpgradePart(Base):
    """A part that raises a device's specs (a RAM module adds 8 GB; an SSD replaces the disk), with its price,
    for the budget's choice between upgrading and replacing."""

    __tablename__ = "upgrade_part"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("catalog_version.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("catalog_category.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    raises: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"ram_gb": 8} or {"storage_gb": 256, "storage_kind": "ssd"}
    adds: Mapped[bool] = mapped_column(default=False)  # True: numbers add to the device's (RAM); False: replace
    price_vnd: Mapped[int] = mapped_column(BigInteger)

    category: Mapped[Category] = relationship()
    __table_args__ = (UniqueConstraint("version_id", "code", name="uq_upgrade_part_version_code"),)


class Norm(Base):
    """How many of a category a unit needs, from its facts, and the most the law allows: a maximum quantity
    and a maximum unit price per position or office (Decision 50/2017/QĐ-TTg's form), with its legal basis.

    required = ceil(basis × (100 + spare_percent) / 100 / every) × each, at least `minimum`, at most
    `max_quantity` for each group of `every` counted (per person, per room, per unit: the law's form)."""

    __tablename__ = "norm"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("catalog_version.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("catalog_category.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    unit_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every kind
    basis: Mapped[str] = mapped_column(String(32))  # a unit fact, or unit, wired_ports, archive_pages_per_day
    every: Mapped[int] = mapped_column(default=1)
    each: Mapped[int] = mapped_column(default=1)
    spare_percent: Mapped[int] = mapped_column(default=0)
    minimum: Mapped[int] = mapped_column(default=0)
    max_quantity: Mapped[int | None]
    max_unit_price_vnd: Mapped[int | None] = mapped_column(BigInteger)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")

    category: Mapped[Category] = relationship()
    __table_args__ = (UniqueConstraint("version_id", "code", name="uq_norm_version_code"),)


class Compliance(Base):
    """A device's judgement under the version in force, as last computed, with the version and day it used.

    The version and the model are plain ids, not foreign keys: judgements are only ever stored under a published
    version, which can be neither changed nor deleted, and the two checks per row were a third of the time
    PostgreSQL took to store 50,000 judgements (bench/compliance.py)."""

    __tablename__ = "compliance"
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), primary_key=True)
    version_id: Mapped[int]
    category_code: Mapped[str | None] = mapped_column(String(32), index=True)
    approved_model_id: Mapped[int | None]
    status: Mapped[ComplianceStatus] = mapped_column(index=True)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    judged_on: Mapped[dt.date] = mapped_column(Date)  # the day its dates were compared with
