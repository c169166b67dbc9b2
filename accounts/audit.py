"""The audit log: one entry per change, written in the same transaction as the change itself,
so that a change and its entry are stored together or not at all."""
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import AuditEntry
from inventory.models import utcnow


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def record(session: Session, actor: str, action: str, target_type: str, target_id: object = "", *,
           before: Any = None, after: Any = None, detail: str = "") -> AuditEntry:
    entry = AuditEntry(at=utcnow(), actor=actor, action=action, target_type=target_type,
                       target_id=str(target_id), before=before, after=after, detail=detail)
    session.add(entry)
    session.flush()
    return entry


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
