"""Enrolments and what their agents send: issue and revoke (an administrator, or a unit officer for their own
units), receive a PROLOG or an INVENTORY over HTTP, import inventory files written offline. An inventory goes
through the one ingestion path (inventory.ingest) as an observation of method `agent`, in the enrolment's
unit: a PC known in another unit raises a relocation to confirm instead of moving."""
import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from agents.inventory import AgentRefusal, Message, agent_version, decode, observation, parse, reply
from agents.models import AgentReport, Enrolment
from core.audit import record
from core.encryption import digest
from core.errors import Forbidden, NotFound, Unauthenticated
from core.i18n import Reason
from core.time import utcnow
from inventory.ingest import IngestBatch, ingest
from inventory.units import unit_in_scope

PROLOG_FREQ_HOURS = 24  # agents come back once a day


def issue(session: Session, unit_code: str, name: str, *, by: str, scope: frozenset[int] | None,
          keep_last_user: bool = False) -> tuple[Enrolment, str]:
    """A new enrolment of one of the caller's units, and its secret (shown this once, never stored)."""
    unit = unit_in_scope(session, unit_code, scope)
    secret = secrets.token_urlsafe(24)
    enrolment = Enrolment(unit=unit, name=name, prefix=secret[:8], secret_hash=digest(secret),
                          keep_last_user=keep_last_user, created_by=by, refusals={})
    session.add(enrolment)
    session.flush()
    record(session, by, "agent_enrolment.issue", "agent_enrolment", enrolment.id,
           after={"unit": unit.code, "name": name, "prefix": enrolment.prefix, "keep_last_user": keep_last_user})
    return enrolment, secret


def revoke(session: Session, enrolment_id: int, *, by: str, scope: frozenset[int] | None) -> Enrolment:
    """From now on its agents get 403 and nothing they send is stored."""
    enrolment = enrolment_in_scope(session, enrolment_id, scope)
    if enrolment.revoked_at is None:
        enrolment.revoked_at, enrolment.revoked_by = utcnow(), by
        record(session, by, "agent_enrolment.revoke", "agent_enrolment", enrolment.id,
               before={"revoked_at": None}, after={"revoked_at": enrolment.revoked_at.isoformat()})
    return enrolment


def enrolments(session: Session, scope: frozenset[int] | None) -> list[Enrolment]:
    query = select(Enrolment).order_by(Enrolment.id)
    if scope is not None:
        query = query.where(Enrolment.unit_id.in_(scope))
    return list(session.scalars(query))


def enrolment_in_scope(session: Session, enrolment_id: int, scope: frozenset[int] | None) -> Enrolment:
    """Another unit's enrolment is as absent as a missing one: 404."""
    enrolment = session.get(Enrolment, enrolment_id)
    if enrolment is None or (scope is not None and enrolment.unit_id not in scope):
        raise NotFound(Reason("enrolment %(id)s does not exist", id=enrolment_id))
    return enrolment


def reports(session: Session, enrolment: Enrolment) -> list[AgentReport]:
    """The agents that reported under an enrolment, the latest first."""
    return list(session.scalars(select(AgentReport).where(AgentReport.enrolment_id == enrolment.id)
                                .order_by(AgentReport.last_contact_at.desc(), AgentReport.id)))


def reports_of_device(session: Session, device_id: int) -> list[AgentReport]:
    return list(session.scalars(select(AgentReport).where(AgentReport.device_id == device_id)
                                .order_by(AgentReport.last_contact_at.desc())))


def authenticate(session: Session, secret: str) -> Enrolment:
    """The enrolment of a secret: unknown is 401, revoked is 403, neither says more."""
    enrolment = session.scalars(select(Enrolment).where(Enrolment.secret_hash == digest(secret))
                                .options(joinedload(Enrolment.unit))).one_or_none()
    if enrolment is None:
        raise Unauthenticated(Reason("unknown enrolment"))
    if enrolment.revoked_at is not None:
        raise Forbidden(Reason("this enrolment is revoked"))
    return enrolment


def receive(session: Session, enrolment: Enrolment, body: bytes, *, at: dt.datetime | None = None) -> bytes:
    """An agent's request under an enrolment, and the reply to it: a PROLOG is told to send its inventory, an
    inventory is stored.
    A refusal (AgentRefusal) stores nothing; the caller counts it with `count_refusal`."""
    at = at or utcnow()
    message = parse(decode(body))
    if message.query == "PROLOG":  # read only: the inventory that follows records the contact
        return reply("SEND", prolog_freq_hours=PROLOG_FREQ_HOURS)
    _store(session, enrolment, message, at)
    return reply(prolog_freq_hours=PROLOG_FREQ_HOURS)


def count_refusal(session: Session, enrolment_id: int, refusal: AgentRefusal) -> None:
    """Count why an agent was refused, on its enrolment (in a transaction of its own: nothing else is kept). The
    row is read locked: agents refused at the same moment each count."""
    enrolment = session.scalars(select(Enrolment).where(Enrolment.id == enrolment_id).with_for_update()
                                .execution_options(populate_existing=True)).one()
    refusals = dict(enrolment.refusals or {})
    refusals[refusal.code] = refusals.get(refusal.code, 0) + 1
    enrolment.refusals, enrolment.last_contact_at = refusals, utcnow()


@dataclass(frozen=True)
class Imported:
    name: str
    device_id: int | None = None
    refused: str | None = None  # why the file was refused, nothing stored of it


def import_files(session: Session, unit_code: str, files: Iterable[tuple[str, bytes]], *, by: str,
                 scope: frozenset[int] | None) -> list[Imported]:
    """Inventories written by `fusioninventory-agent --local DIR` or `fusioninventory-inventory`, for a unit
    without network access to the server: each as an agent's report would be, in the unit given. A file that is
    refused is named with its reason; the others are stored."""
    unit = unit_in_scope(session, unit_code, scope)
    enrolment = _import_enrolment(session, unit, by)
    enrolment.last_contact_at = utcnow()
    results = []
    for name, body in files:
        try:
            with session.begin_nested():
                message = parse(decode(body))
                if message.query != "INVENTORY":
                    raise AgentRefusal("unsupported", Reason("the file holds a %(query)s, not an inventory",
                                                             query=message.query))
                device_id = _store(session, enrolment, message, utcnow())
            results.append(Imported(name, device_id))
        except AgentRefusal as refusal:
            results.append(Imported(name, refused=refusal.reason))
    record(session, by, "agent.import", "unit", unit.code,
           detail=f"{sum(1 for r in results if r.device_id)} of {len(results)} inventory files stored")
    return results


def _import_enrolment(session: Session, unit, by: str) -> Enrolment:
    """Imported files are kept under an enrolment of their own per unit, which no agent can report with: its
    secret is thrown away."""
    name = "imported files"
    found = session.scalars(select(Enrolment).where(Enrolment.unit_id == unit.id, Enrolment.name == name,
                                                    Enrolment.prefix == "import")).first()
    if found is None:
        found = Enrolment(unit=unit, name=name, prefix="import", secret_hash=digest(secrets.token_urlsafe(32)),
                          created_by=by, refusals={})
        session.add(found)
        session.flush()
    return found


def _store(session: Session, enrolment: Enrolment, message: Message, at: dt.datetime) -> int:
    """The inventory ingested in the enrolment's unit, its agent's report updated: the device's id."""
    observed = observation(message, enrolment.unit.code, at, keep_user=enrolment.keep_last_user)
    result = ingest(session, IngestBatch([observed]))
    device_id = result.device_ids[0]
    report = session.scalars(select(AgentReport).where(AgentReport.enrolment_id == enrolment.id,
                                                       AgentReport.agent_id == message.agent_id)).one_or_none()
    if report is None:
        report = AgentReport(enrolment_id=enrolment.id, agent_id=message.agent_id, first_contact_at=at, inventories=1)
        session.add(report)
    else:  # counted in SQL (inventories = inventories + 1): reports at the same moment each count
        report.inventories = AgentReport.inventories + 1
    report.device_id, report.last_contact_at = device_id, at
    report.agent_version = agent_version(message.content)
    enrolment.inventories, enrolment.last_contact_at = Enrolment.inventories + 1, at
    return device_id

