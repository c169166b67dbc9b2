"""Inventory agents' records: the enrolments a unit's agents report under (a secret in the URL, only its hash
kept) and each agent that reported, with the device it describes."""
import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from core.time import utcnow
from inventory.models import Device, Unit


class Enrolment(Base):
    """The secret a unit's agents report with (`fusioninventory-agent --server URL/agents/SECRET`). The unit of
    a reporting PC is the enrolment's, never what the PC says. Only a SHA-256 hash of the secret is kept: it is
    shown once, when issued."""

    __tablename__ = "agent_enrolment"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to recognise it in a list
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    keep_last_user: Mapped[bool] = mapped_column(default=False)  # the last logged-in user is personal data
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    last_contact_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    inventories: Mapped[int] = mapped_column(default=0)  # accepted
    refusals: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # reason code → count

    unit: Mapped[Unit] = relationship()


class AgentReport(Base):
    """One agent (its DEVICEID) under one enrolment: when it last reported, its version, the device it is."""

    __tablename__ = "agent_report"
    __table_args__ = (UniqueConstraint("enrolment_id", "agent_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("agent_enrolment.id"), index=True)
    agent_id: Mapped[str] = mapped_column(String(255))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"), index=True)
    agent_version: Mapped[str | None] = mapped_column(String(64))
    first_contact_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_contact_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    inventories: Mapped[int] = mapped_column(default=0)

    enrolment: Mapped[Enrolment] = relationship()
    device: Mapped[Device | None] = relationship()
