"""Reading the audit log (core.audit writes it)."""
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.schemas import AuditEntrySchema
from core.audit import AuditEntry
from core.cells import csv_document


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    target_type: str | None = None  # user, token, device, unit, file, ...
    target_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def list_entries(session: Session, wanted: AuditFilter, *, page: int = 1, page_size: int = 100
                 ) -> tuple[list[AuditEntry], int]:
    query = select(AuditEntry)
    if wanted.actor:
        query = query.where(AuditEntry.actor == wanted.actor)
    if wanted.action:
        query = query.where(AuditEntry.action == wanted.action)
    if wanted.target_type:
        query = query.where(AuditEntry.target_type == wanted.target_type)
    if wanted.target_id:
        query = query.where(AuditEntry.target_id == wanted.target_id)
    if wanted.since:
        query = query.where(AuditEntry.at >= wanted.since)
    if wanted.until:
        query = query.where(AuditEntry.at < wanted.until)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    entries = session.scalars(query.order_by(AuditEntry.id.desc()).offset((page - 1) * page_size).limit(page_size))
    return list(entries), total or 0


def export_csv(session: Session, wanted: AuditFilter) -> bytes:
    """The matching entries as CSV, oldest first: the API's export and the audit page's link."""
    entries, _ = list_entries(session, wanted, page_size=10**9)
    columns = list(AuditEntrySchema().fields)
    # Through the exports' cells (JSON for before and after, quoting): a target or detail such as an
    # upload's file name is the user's text.
    rows = ([row[c] for c in columns] for row in AuditEntrySchema(many=True).dump(reversed(entries)))
    return csv_document(columns, rows)


def recorded_values(session: Session) -> dict[str, list[str]]:
    """The actors, actions and target types the log holds, for the audit page's filters (indexed columns but
    the target type: the log has a few dozen of them, read once per page)."""
    return {name: list(session.scalars(select(column).distinct().order_by(column)))
            for name, column in (("actor", AuditEntry.actor), ("action", AuditEntry.action),
                                 ("target_type", AuditEntry.target_type))}
