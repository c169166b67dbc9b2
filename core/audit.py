"""The audit log: one entry per change, written in the same transaction as the change itself, so that a
change and its entry are stored together or not at all. Every package records here; accounts lists it."""
import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.caller import current_caller
from core.db import Base, request_session
from core.time import utcnow


class AuditEntry(Base):
    """Who changed what, when, from what to what. Rows are never updated or deleted: the database
    refuses it (triggers in the migration)."""

    __tablename__ = "audit_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64), default="")
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")


def record(session: Session, actor: str, action: str, target_type: str, target_id: object = "", *,
           before: Any = None, after: Any = None, detail: str = "") -> AuditEntry:
    entry = AuditEntry(at=utcnow(), actor=actor, action=action, target_type=target_type,
                       target_id=str(target_id), before=before, after=after, detail=detail)
    session.add(entry)
    session.flush()
    return entry


def audit(action: str, target_type: str, target_id: object = "", *, before=None, after=None, detail: str = "") -> None:
    """Record the caller's change in the audit log, in the request's transaction."""
    record(request_session(), current_caller().name, action, target_type, target_id, before=before, after=after,
           detail=detail)
