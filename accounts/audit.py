"""Reading the audit log (core.audit writes it)."""
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditEntry


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def list_entries(session: Session, wanted: AuditFilter, *, page: int = 1, page_size: int = 100
                 ) -> tuple[list[AuditEntry], int]:
    query = select(AuditEntry)
    if wanted.actor:
        query = query.where(AuditEntry.actor == wanted.actor)
    if wanted.action:
        query = query.where(AuditEntry.action == wanted.action)
    if wanted.since:
        query = query.where(AuditEntry.at >= wanted.since)
    if wanted.until:
        query = query.where(AuditEntry.at < wanted.until)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    entries = session.scalars(query.order_by(AuditEntry.id.desc()).offset((page - 1) * page_size).limit(page_size))
    return list(entries), total or 0
