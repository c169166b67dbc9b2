"""Collectors, the server's side: issue (a token shown once) and revoke, the scopes each one scans, its
configuration, and the batches it sends, stored through the scans' own path (`store_swept`, `store_polled`)
as a run of trigger `collector`, exactly once per batch id.

Everything an operator asks is within their units (`scope`: unit ids, None for all); a collector itself is
known only by its token (`authenticate`): unknown is 401, revoked 403, and neither stores anything."""
import bisect
import datetime as dt
import ipaddress
import logging
import math
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import netaddr
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from core.audit import record
from core.encryption import SecretBox, digest
from core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, Unauthenticated
from core.i18n import Reason
from core.time import utcnow
from discovery.collectors import wire
from discovery.credentials import reveal
from discovery.models import (
    BatchStatus,
    Collector,
    CollectorBatch,
    RunStatus,
    RunTrigger,
    ScanRun,
    ScanScope,
)
from discovery.scans import store_swept
from discovery.scopes import scope_in_reach, scope_targets
from discovery.snmp.poll import store_polled
from inventory.observations import InvalidObservation
from inventory.schemas import UtcDateTime
from inventory.units import subtree_ids, unit_in_scope

log = logging.getLogger(__name__)

SILENT_AFTER = dt.timedelta(minutes=15)  # no contact for this long: the collector is shown as silent
TIME_BOUND = dt.timedelta(days=30)       # corrected times are kept within [now - 30 days, now]
RECENT_BATCHES = 100
_BATCH_ID = re.compile(r"^[0-9a-f]{32}$")
_INT32 = 2**31 - 1
# What each kind of scan makes: an nmap batch cannot carry SNMP's readings, which ingestion believes more.
KIND_METHODS = {"nmap": ("nmap", "arp"), "snmp": ("snmp", "fdb", "arp")}


class UnreadableBatch(DomainError):
    """A body that is no batch at all (not JSON, no valid batch_id): 400, nothing kept."""


@dataclass(frozen=True)
class Received:
    """What the server answers a batch: `status_code` (201, 200 duplicate, 422 rejected) and the JSON body."""
    status_code: int
    body: dict[str, Any]


# Issue, revoke, look up -------------------------------------------------------------------------------------

def issue(session: Session, box: SecretBox, unit_code: str, name: str, actor: str, *,
          scope: frozenset[int] | None = None) -> tuple[Collector, str]:
    """A new collector for one of the caller's units, and its token (shown this once; only its digest is kept,
    and the key of its credentials, encrypted)."""
    unit = unit_in_scope(session, unit_code, scope)
    name = name.strip()
    if not name:
        raise InvalidInput(Reason("a collector needs a name"), field="name")
    if session.scalars(select(Collector.id).where(Collector.name == name)).first() is not None:
        raise Conflict(Reason("collector %(name)r already exists", name=name), field="name")
    token = wire.TOKEN_PREFIX + secrets.token_urlsafe(32)
    collector = Collector(name=name, unit=unit, prefix=token[:12], token_hash=digest(token),
                          key_encrypted=box.encrypt(wire.credentials_key(token)), created_by=actor)
    session.add(collector)
    session.flush()
    record(session, actor, "collector.issue", "collector", collector.id,
           after={"unit": unit.code, "name": name, "prefix": collector.prefix})
    return collector, token


def revoke(session: Session, collector_id: int, actor: str, *, scope: frozenset[int] | None = None) -> Collector:
    """From now on its token gets 403 and nothing it sends is stored. Its scopes stay assigned to it (they are
    not scanned until assigned to another collector, or to none: the server's own schedule)."""
    collector = collector_in_scope(session, collector_id, scope)
    if collector.revoked_at is None:
        collector.revoked_at, collector.revoked_by = utcnow(), actor
        record(session, actor, "collector.revoke", "collector", collector.id,
               before={"revoked_at": None}, after={"revoked_at": collector.revoked_at.isoformat()})
    return collector


def collectors(session: Session, scope: frozenset[int] | None) -> list[Collector]:
    query = select(Collector).options(joinedload(Collector.unit)).order_by(Collector.name)
    if scope is not None:
        query = query.where(Collector.unit_id.in_(scope))
    return list(session.scalars(query))


def collector_in_scope(session: Session, collector_id: int, scope: frozenset[int] | None) -> Collector:
    """Another unit's collector is as absent as a missing one: 404."""
    collector = session.get(Collector, collector_id)
    if collector is None or (scope is not None and collector.unit_id not in scope):
        raise NotFound(Reason("collector %(id)s does not exist", id=collector_id), field="collector_id")
    return collector


def state_of(collector: Collector, now: dt.datetime | None = None) -> str:
    """never_seen, ok, silent (no contact for SILENT_AFTER) or revoked."""
    if collector.revoked_at is not None:
        return "revoked"
    if collector.last_contact_at is None:
        return "never_seen"
    return "silent" if (now or utcnow()) - collector.last_contact_at > SILENT_AFTER else "ok"


def assigned_scopes(session: Session, collector: Collector) -> list[ScanScope]:
    return list(session.scalars(select(ScanScope).where(ScanScope.collector_id == collector.id)
                                .options(joinedload(ScanScope.unit)).order_by(ScanScope.name)))


def assign_scopes(session: Session, collector_id: int, scope_ids: Sequence[int], actor: str, *,
                  scope: frozenset[int] | None = None) -> list[ScanScope]:
    """Exactly these scopes are scanned by the collector from now on (others it had go back to the server).
    Each must be in the caller's units and in the collector's unit or below it: a collector scans its site."""
    collector = collector_in_scope(session, collector_id, scope)
    if collector.revoked_at is not None:
        raise Conflict(Reason("collector %(name)s is revoked", name=collector.name), field="collector_id")
    site_units = subtree_ids(session, collector.unit.code)
    wanted = []
    for scope_id in dict.fromkeys(scope_ids):
        found = scope_in_reach(session, scope_id, scope)
        if found.unit_id not in site_units:
            raise InvalidInput(Reason("scan scope %(scope)s belongs to unit %(unit)s, outside unit %(site)s of "
                                      "collector %(collector)s and the units below it", scope=found.name,
                                      unit=found.unit.code, site=collector.unit.code, collector=collector.name),
                               field="scope_ids")
        wanted.append(found)
    before = [s.id for s in assigned_scopes(session, collector)]
    for released in assigned_scopes(session, collector):
        if released not in wanted:
            released.collector_id = None
    for found in wanted:
        found.collector_id = collector.id
    session.flush()
    after = sorted(s.id for s in wanted)
    if after != sorted(before):
        record(session, actor, "collector.assign_scopes", "collector", collector.id,
               before={"scope_ids": sorted(before)}, after={"scope_ids": after})
    return assigned_scopes(session, collector)


def batches(session: Session, collector: Collector, limit: int = RECENT_BATCHES) -> list[CollectorBatch]:
    """Its latest batches, newest first."""
    return list(session.scalars(select(CollectorBatch).where(CollectorBatch.collector_id == collector.id)
                                .order_by(CollectorBatch.received_at.desc(), CollectorBatch.id.desc()).limit(limit)))


def batch_of(session: Session, collector: Collector, batch_id: str) -> CollectorBatch:
    found = session.scalars(select(CollectorBatch).where(CollectorBatch.collector_id == collector.id,
                                                         CollectorBatch.batch_id == batch_id)).one_or_none()
    if found is None:
        raise NotFound(Reason("batch %(id)s of collector %(collector)s does not exist", id=batch_id,
                              collector=collector.name), field="batch_id")
    return found


# What a collector asks ---------------------------------------------------------------------------------------

def authenticate(session: Session, token: str | None) -> Collector:
    """The collector of a bearer token: unknown or malformed is 401, revoked 403; neither says more."""
    if not token or not token.startswith(wire.TOKEN_PREFIX):
        raise Unauthenticated(Reason("authentication required"))
    collector = session.scalars(select(Collector).where(Collector.token_hash == digest(token))
                                .options(joinedload(Collector.unit))).one_or_none()
    if collector is None:
        raise Unauthenticated(Reason("authentication required"))
    if collector.revoked_at is not None:
        raise Forbidden(Reason("forbidden"))
    return collector


def touch(collector: Collector, version: str | None, now: dt.datetime | None = None) -> None:
    """Every authenticated call: its last contact, and the version it says it runs."""
    collector.last_contact_at = now or utcnow()
    if version:
        collector.version = version.strip()[:50]


def config_for(session: Session, box: SecretBox, collector: Collector, now: dt.datetime | None = None) -> dict:
    """What the collector scans: its scopes, their credentials' secrets encrypted with its token's key."""
    key = box.decrypt(collector.key_encrypted)
    return {"collector": {"id": collector.id, "name": collector.name, "unit_code": collector.unit.code},
            "server_time": wire.iso(now or utcnow()),
            "scopes": [_scope_json(scope, box, key) for scope in assigned_scopes(session, collector)]}


def _scope_json(scope: ScanScope, box: SecretBox, key: str) -> dict:
    return {"id": scope.id, "name": scope.name, "unit_code": scope.unit.code, "networks": scope.networks,
            "exclusions": scope.exclusions, "snmp_port": scope.snmp_port,
            "methods": [m for m in scope.methods.split(",") if m], "schedule": scope.schedule,
            "paused": scope.paused, "network": scope.network.value,
            "credentials": [{"id": c.id, "name": c.name, "version": c.version.value, "username": c.username,
                             "auth_protocol": c.auth_protocol.value, "priv_protocol": c.priv_protocol.value,
                             "secrets": wire.encrypt_secrets(key, reveal(c, box))}
                            for c in (link.credential for link in scope.credentials)]}


def heartbeat(session: Session, collector: Collector, body: Any, now: dt.datetime | None = None) -> dict:
    """Its backlog, its last error and its clock, as it says them."""
    now = now or utcnow()
    if not isinstance(body, Mapping):
        raise wire.InvalidBatch("", Reason("a heartbeat is a JSON object"))
    try:
        values = wire.HeartbeatSchema().load(body)
    except ValidationError as error:
        raise wire.InvalidBatch(*wire.first_problem(error.messages)) from None
    touch(collector, values["version"], now)
    collector.backlog = values["backlog"]
    collector.last_error = values["last_error"]
    if values["backlog_full"]:
        collector.last_error = "; ".join(filter(None, [Reason("its backlog is full"), values["last_error"]]))
    if values["sent_at"] is not None:
        collector.clock_skew_s = skew_s(values["sent_at"], now)
    return {"server_time": wire.iso(now)}


def skew_s(sent_at: dt.datetime, now: dt.datetime) -> float:
    """The collector's clock minus the server's, to the second: the POST's own transit is noise below that."""
    return float(round((sent_at - now).total_seconds()))


# Batches ------------------------------------------------------------------------------------------------------

def receive_batch(session: Session, collector: Collector, body: Any, *, missing_after_scans: int,
                  now: dt.datetime | None = None) -> Received:
    """A batch as sent: stored as one run of its scope (201), ignored as a duplicate (200), or rejected whole
    and kept for an operator (422). In the caller's transaction, which commits whatever the answer; a body that
    is no batch at all raises UnreadableBatch (400) and nothing is kept."""
    now = now or utcnow()
    batch_id = body.get("batch_id") if isinstance(body, Mapping) else None
    if not isinstance(batch_id, str) or not _BATCH_ID.match(batch_id):
        raise UnreadableBatch(Reason("a batch is a JSON object whose batch_id is 32 lower-case hexadecimal digits"),
                              field="batch_id")
    earlier = _earlier(session, collector, batch_id)
    if earlier is not None:
        return _duplicate(collector, earlier)
    try:
        loaded = wire.load_batch(body)
        scope = _assigned_scope(session, collector, loaded)
        skew = skew_s(loaded["sent_at"], now)
        checked = _checked(loaded, scope, skew, now)
        with session.begin_nested():
            accepted = _store(session, collector, scope, loaded, checked, skew, now, missing_after_scans)
    except InvalidObservation as refusal:  # ingestion normalises every observation before it writes any
        refusal = _in_batch(refusal, checked.observed)
        return _reject(session, collector, body, batch_id, refusal, skew_s_or_none(body, now), now)
    except InvalidInput as refusal:  # a schema or domain refusal: nothing of the batch is in the inventory
        return _reject(session, collector, body, batch_id, refusal, skew_s_or_none(body, now), now)
    except IntegrityError:  # the same batch stored meanwhile by another request: that one counts
        earlier = _earlier(session, collector, batch_id)
        if earlier is None:
            raise  # another clash than this batch id's: the caller may try the whole batch again
        return _duplicate(collector, earlier)
    collector.batches, collector.clock_skew_s = Collector.batches + 1, skew  # in SQL: concurrent batches each count
    log.info("collector %s: batch %s stored as run %s (%s observations)", collector.id, batch_id,
             accepted.body["run_id"], accepted.body["observations"])
    return accepted


def _in_batch(refusal: InvalidObservation, observed: Sequence[tuple[str | None, Any]]) -> wire.InvalidBatch:
    """An observation that ingestion refused, named by its place in the batch as the collector sent it."""
    where = refusal.path or refusal.field or ""
    if where.split(".")[0] in observed[refusal.position][1].fields:  # a device field: under "fields" on the wire
        where = f"fields.{where}"
    return wire.InvalidBatch(".".join(filter(None, [f"observations[{refusal.position}].observation", where])),
                             refusal.problem)


def _earlier(session: Session, collector: Collector, batch_id: str) -> CollectorBatch | None:
    return session.scalars(select(CollectorBatch).where(CollectorBatch.collector_id == collector.id,
                                                        CollectorBatch.batch_id == batch_id)).one_or_none()


def _duplicate(collector: Collector, earlier: CollectorBatch) -> Received:
    collector.duplicates = Collector.duplicates + 1  # in SQL: resends at the same moment each count
    message = Reason("batch %(id)s was received already on %(at)s; ignored", id=earlier.batch_id,
                     at=earlier.received_at.strftime("%d/%m/%Y %H:%M:%S"))
    return Received(200, {"status": "duplicate", "batch_id": earlier.batch_id, "message": message})


def _assigned_scope(session: Session, collector: Collector, loaded: Mapping[str, Any]) -> ScanScope:
    scope = session.get(ScanScope, loaded["scope_id"])
    if scope is None or scope.collector_id != collector.id:
        raise wire.InvalidBatch("scope_id", Reason("scan scope %(id)s is not assigned to this collector",
                                                   id=loaded["scope_id"]))
    methods = [m for m in scope.methods.split(",") if m]
    if loaded["kind"] not in methods:
        raise wire.InvalidBatch("kind", Reason("scope %(scope)s does not allow %(kind)s (its methods: %(methods)s)",
                                               scope=scope.name, kind=loaded["kind"], methods=scope.methods))
    return scope


@dataclass(frozen=True)
class _Checked:
    observed: list  # (address, ObservedDevice), times corrected
    outcomes: list
    started_at: dt.datetime
    finished_at: dt.datetime


def _checked(loaded: Mapping[str, Any], scope: ScanScope, skew: float, now: dt.datetime) -> _Checked:
    """The batch's observations and outcomes as the scans' own, every time on the server's clock; the first
    address outside the scope, or twice in it, rejects the batch, named by its place. (A value that normalising
    refuses is refused by ingestion, before it writes anything: `_in_batch` names its place.)"""
    targets = _Ranges(scope_targets(scope.networks, scope.exclusions))
    kind = loaded["kind"]
    observed, addresses = [], set()
    for n, item in enumerate(loaded["observations"]):
        address = _address_in_scope(item["address"], targets, scope, f"observations[{n}].address",
                                    required=kind == "nmap")
        _once(address, addresses, f"observations[{n}].address")
        if item["observation"]["method"] not in KIND_METHODS[kind]:
            raise wire.InvalidBatch(f"observations[{n}].observation.method", Reason(
                "an %(kind)s batch carries %(methods)s observations, not %(method)s", kind=kind,
                methods=" or ".join([", ".join(KIND_METHODS[kind][:-1]), KIND_METHODS[kind][-1]]),
                method=item["observation"]["method"]))
        values = dict(item["observation"]) | {"observed_at": corrected(item["observation"]["observed_at"], skew, now)}
        observed.append((address, wire.observation_from_json(values, scope.unit.code)))
    outcomes, addresses = [], set()
    for n, item in enumerate(loaded["outcomes"]):
        _once(_address_in_scope(item["address"], targets, scope, f"outcomes[{n}].address", required=True),
              addresses, f"outcomes[{n}].address")
        outcomes.append(wire.outcome_from_json(item))
    if kind == "nmap" and outcomes:
        raise wire.InvalidBatch("outcomes", Reason("an nmap batch has no SNMP outcomes"))
    return _Checked(observed, outcomes, corrected(loaded["started_at"], skew, now),
                    corrected(loaded["finished_at"], skew, now))


def _once(address: str | None, seen: set[str], path: str) -> None:
    """An address is one host: the same one twice in a batch is a collector's mistake, not two devices."""
    if address is None:
        return
    if address in seen:
        raise wire.InvalidBatch(path, Reason("%(address)s is in the batch twice", address=address))
    seen.add(address)


class _Ranges:
    """A scope's addresses as sorted integer ranges: asking whether one of a batch's 500 addresses is in it is a
    bisection, where netaddr's IPSet would parse the address again each time."""

    def __init__(self, targets: netaddr.IPSet):
        self.ranges = {4: [], 6: []}
        for cidr in targets.iter_cidrs():
            self.ranges[cidr.version].append((cidr.first, cidr.last))

    def __contains__(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        ranges, value = self.ranges[address.version], int(address)
        at = bisect.bisect_right(ranges, (value, math.inf)) - 1
        return at >= 0 and ranges[at][0] <= value <= ranges[at][1]


def _address_in_scope(address: str | None, targets: _Ranges, scope: ScanScope, path: str, *,
                      required: bool) -> str | None:
    if address is None:
        if required:
            raise wire.InvalidBatch(path, Reason("an address is required here"))
        return None
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        raise wire.InvalidBatch(path, Reason("%(value)r is not an IP address", value=address)) from None
    if parsed not in targets:
        raise wire.InvalidBatch(path, Reason("%(address)s is not in scan scope %(scope)s", address=str(parsed),
                                             scope=scope.name))
    return str(parsed)


def corrected(moment: dt.datetime, skew: float, now: dt.datetime) -> dt.datetime:
    """A collector's time on the server's clock, within [now - 30 days, now]."""
    try:
        moment = moment - dt.timedelta(seconds=skew)
    except OverflowError:  # a clock set centuries off: past year 1 or 9999, the bound is all that is left
        return now - TIME_BOUND if skew > 0 else now
    return min(max(moment, now - TIME_BOUND), now)


def skew_s_or_none(body: Any, now: dt.datetime) -> float | None:
    """The clock skew of a rejected batch, when its sent_at can be read."""
    try:
        return skew_s(UtcDateTime().deserialize(body.get("sent_at")), now)
    except (ValidationError, AttributeError, TypeError):
        return None


def _store(session: Session, collector: Collector, scope: ScanScope, loaded: Mapping[str, Any], checked: _Checked,
           skew: float, now: dt.datetime, missing_after_scans: int) -> Received:
    kind = loaded["kind"]
    run = ScanRun(scope_id=scope.id, kind=kind, status=RunStatus.FINISHED, mode=loaded["mode"],
                  trigger=RunTrigger.COLLECTOR, worker=f"collector {collector.name}"[:100],
                  queued_at=checked.started_at, started_at=checked.started_at, finished_at=checked.finished_at,
                  heartbeat_at=now, hosts_total=loaded["hosts_total"], errors=[])
    session.add(run)
    session.flush()
    if kind == "nmap":
        result = store_swept(session, scope, run, checked.observed, missing_after_scans)
    else:
        result = store_polled(session, scope, run, checked.observed, checked.outcomes, missing_after_scans)
    run.relocations = len(result.relocations_raised)
    for relocation_id in result.relocations_raised:
        record(session, f"collector {collector.name}", "relocation.raise", "relocation", relocation_id,
               detail=f"run {run.id} of scope {scope.name} of {scope.unit.code} saw a device of another unit")
    session.add(CollectorBatch(collector_id=collector.id, batch_id=loaded["batch_id"], sequence=loaded["sequence"],
                               scope_id=scope.id, run_id=run.id, status=BatchStatus.ACCEPTED,
                               observations=len(checked.observed), collected_at=checked.finished_at,
                               sent_at=loaded["sent_at"], received_at=now))
    session.flush()
    return Received(201, {"status": "accepted", "batch_id": loaded["batch_id"], "run_id": run.id,
                          "observations": len(checked.observed), "created": result.created,
                          "changed": result.changed, "unchanged": result.unchanged, "missing": result.missing})


def _reject(session: Session, collector: Collector, body: Mapping[str, Any], batch_id: str, refusal: InvalidInput,
            skew: float | None, now: dt.datetime) -> Received:
    """Kept with its body and reason for an operator; the collector drops it (resending cannot help)."""
    scope_id = body.get("scope_id")
    scope_id = scope_id if isinstance(scope_id, int) and session.get(ScanScope, scope_id) is not None else None
    sequence = body.get("sequence")
    session.add(CollectorBatch(collector_id=collector.id, batch_id=batch_id, scope_id=scope_id,
                               sequence=sequence if isinstance(sequence, int) and 0 < sequence <= _INT32 else 0,
                               status=BatchStatus.REJECTED, reason=refusal.reason, body=dict(body),
                               received_at=now))
    session.flush()
    collector.rejected, collector.last_error = Collector.rejected + 1, refusal.reason
    if skew is not None:
        collector.clock_skew_s = skew
    log.warning("collector %s: batch %s rejected: %s", collector.id, batch_id, refusal.reason)
    answer = {"status": "rejected", "batch_id": batch_id, "message": refusal.reason}
    if refusal.field:
        answer["errors"] = {"json": {refusal.field: [getattr(refusal, "problem", refusal.reason)]}}
    return Received(422, answer)
