"""Scan scopes: a unit's networks less exclusions, with SNMP credentials in the order to try them.
Every scope is checked against the allowlist when it is written and again when it is scanned."""
from collections.abc import Mapping, Sequence
from typing import Any

import netaddr
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from core.audit import record
from core.errors import Conflict, InvalidInput, NotFound
from core.i18n import Reason
from discovery.allowlist import parse_targets, require_allowed
from discovery.credentials import get_credential
from discovery.models import ScanRun, ScanScope, ScopeCredential, ScopeNetwork, SnmpTarget
from discovery.schedule import next_run_times, trigger_of
from discovery.schemas import ScopeSchema
from inventory.changes import units_reorganised
from inventory.models import Unit
from inventory.units import get_unit, unit_in_scope


@units_reorganised.connect
def follow_reorganisation(session: Session, *, successors: Mapping[int, int], kind: str, by: str, **_) -> None:
    """A merged or split unit's scan scopes go to its successor, which answers for those networks now; each
    move is audited as the reorganisation's author. (A split's scopes go to the recorded successor, the first
    new unit: who scans which network after a split is then the officers' to edit.)"""
    for scope in session.scalars(select(ScanScope).where(ScanScope.unit_id.in_(successors)).order_by(ScanScope.id)):
        old, new = session.get(Unit, scope.unit_id), session.get(Unit, successors[scope.unit_id])
        scope.unit_id = new.id
        record(session, by, "scope.follow_reorganisation", "scan_scope", scope.id, before={"unit_code": old.code},
               after={"unit_code": new.code}, detail=f"{kind}: {old.code} -> {new.code}")
    session.flush()


def find_scope(session: Session, name: str) -> ScanScope:
    scope = session.scalars(select(ScanScope).where(ScanScope.name == name)).first()
    if scope is None:
        raise NotFound(Reason("scan scope %(name)r does not exist", name=name), field="scope")
    return scope


def get_scope(session: Session, scope_id: int) -> ScanScope:
    scope = session.get(ScanScope, scope_id)
    if scope is None:
        raise NotFound(Reason("scan scope %(id)s does not exist", id=scope_id), field="scope_id")
    return scope


def create_scope(session: Session, *, unit_code: str, name: str, networks: str, allowlist: str,
                 exclusions: str = "", snmp_port: int = 161, credential_ids: Sequence[int] = (),
                 methods: str = "nmap,snmp", schedule: str | None = None,
                 network: ScopeNetwork = ScopeNetwork.OTHER) -> ScanScope:
    return save_scope(session, None, allowlist, {
        "unit_code": unit_code, "name": name, "networks": networks, "exclusions": exclusions, "snmp_port": snmp_port,
        "credential_ids": list(credential_ids), "methods": methods, "schedule": schedule, "network": network})


def save_scope(session: Session, scope_id: int | None, allowlist: str, values: Mapping[str, Any]) -> ScanScope:
    """Create a scope (scope_id None) or change the values given, after checking the whole adds up."""
    scope = get_scope(session, scope_id) if scope_id is not None else ScanScope(exclusions="", snmp_port=161,
                                                                                   methods="nmap,snmp",
                                                                                   network=ScopeNetwork.OTHER)
    if "unit_code" in values:
        scope.unit_id = get_unit(session, values["unit_code"]).id
    name = values.get("name", scope.name)
    clash = session.scalars(select(ScanScope.id).where(ScanScope.name == name, ScanScope.id != scope.id)).first()
    if clash is not None:
        raise Conflict(Reason("scan scope %(name)r already exists", name=name), field="name")
    for key in ("name", "networks", "exclusions", "snmp_port", "methods", "schedule", "network"):
        if key in values:
            setattr(scope, key, values[key])
    _check(session, scope, allowlist)
    if "credential_ids" in values:
        _set_credentials(session, scope, values["credential_ids"])
    session.add(scope)
    session.flush()
    return scope


def write_scope(session: Session, scope_id: int | None, values: Mapping[str, Any], allowlist: str,
                unit_ids: frozenset[int] | None, actor: str) -> ScanScope:
    """Create (scope_id None) or change a scope for a caller whose units are `unit_ids`, audited as `actor`:
    the one path of the API and the pages. The caller commits."""
    before = None
    if scope_id is not None:
        before = ScopeSchema().dump(scope_in_reach(session, scope_id, unit_ids))
    if "unit_code" in values:
        unit_in_scope(session, values["unit_code"], unit_ids)
    scope = save_scope(session, scope_id, allowlist, values)
    action = "scope.create" if scope_id is None else "scope.update"
    record(session, actor, action, "scan_scope", scope.id, before=before, after=ScopeSchema().dump(scope))
    return scope


def scope_targets(networks: str, exclusions: str) -> netaddr.IPSet:
    """The addresses a scope covers: its networks less its exclusions."""
    targets = parse_targets(networks)
    if exclusions.strip():
        targets -= parse_targets(exclusions, field="exclusions")
    return targets


def _check(session: Session, scope: ScanScope, allowlist: str) -> None:
    targets = scope_targets(scope.networks, scope.exclusions)
    if not targets:
        raise InvalidInput(Reason("the exclusions leave nothing of the networks to scan"), field="exclusions")
    require_allowed(targets, allowlist)
    if not 1 <= scope.snmp_port <= 65535:
        raise InvalidInput(Reason("%(port)s is not a UDP port (1 to 65535)", port=scope.snmp_port), field="snmp_port")
    methods = [m for m in scope.methods.split(",") if m]
    unknown = sorted(set(methods) - {"nmap", "snmp"})
    if unknown or not methods:
        raise InvalidInput(Reason("methods must be nmap, snmp or both, comma-separated; not %(methods)r",
                                  methods=scope.methods), field="methods")
    if scope.schedule:
        trigger_of(scope.schedule)
    check_no_overlap(session, scope.networks, scope.exclusions, scope.id)


def _set_credentials(session: Session, scope: ScanScope, credential_ids: Sequence[int]) -> None:
    if len(set(credential_ids)) != len(credential_ids):
        raise InvalidInput(Reason("a credential is listed twice"), field="credential_ids")
    credentials = [get_credential(session, credential_id) for credential_id in credential_ids]
    scope.credentials.clear()
    session.flush()  # the old positions go before the new ones take their places
    scope.credentials.extend(ScopeCredential(credential=c, position=n) for n, c in enumerate(credentials))


def check_no_overlap(session: Session, networks: str, exclusions: str, scope_id: int | None = None) -> None:
    """Two scopes covering the same address would scan it twice and count it missing in both."""
    mine = scope_targets(networks, exclusions)
    for other in session.scalars(select(ScanScope).where(ScanScope.id != (scope_id or 0))):
        shared = mine & scope_targets(other.networks, other.exclusions)
        if shared:
            first = next(iter(shared.iter_cidrs()))
            raise Conflict(Reason("%(first)s is already in scope %(scope)s", first=str(first), scope=other.name),
                           field="networks")


def list_scopes(session: Session, unit_ids: frozenset[int] | None, *, unit_id: int | None = None) -> list[ScanScope]:
    """The scopes of the caller's units (`unit_ids`, None: all), or of one unit, with their units loaded."""
    query = select(ScanScope).options(selectinload(ScanScope.unit)).order_by(ScanScope.name)
    if unit_ids is not None:
        query = query.where(ScanScope.unit_id.in_(unit_ids))
    if unit_id is not None:
        query = query.where(ScanScope.unit_id == unit_id)
    return list(session.scalars(query))


def last_runs(session: Session, scope_ids: Sequence[int]) -> dict[int, ScanRun]:
    """Each scope's latest run, by scope id (a scope never run has none), in one query."""
    if not scope_ids:
        return {}
    latest = select(func.max(ScanRun.id)).where(ScanRun.scope_id.in_(scope_ids)).group_by(ScanRun.scope_id)
    return {run.scope_id: run for run in session.scalars(select(ScanRun).where(ScanRun.id.in_(latest)))}


def scope_in_reach(session: Session, scope_id: int, unit_ids: frozenset[int] | None) -> ScanScope:
    """The scope, if the caller's units include its unit; otherwise, as for one that is not there, 404."""
    scope = session.get(ScanScope, scope_id)
    if scope is None or (unit_ids is not None and scope.unit_id not in unit_ids):
        raise NotFound(Reason("scan scope %(id)s does not exist", id=scope_id), field="scope_id")
    return scope


def with_schedule(session: Session, scopes: Sequence[ScanScope]) -> Sequence[ScanScope]:
    """The scopes, each with where its schedule stands (`schedule_status`) and its next run time as the
    workers' scheduler holds it (`next_run_at`, UTC), for the API and the pages."""
    next_runs = next_run_times(session, [scope.id for scope in scopes])
    for scope in scopes:
        scope.next_run_at = None if scope.paused else next_runs.get(scope.id)  # the worker pauses its job soon after
        scope.schedule_status = ("by_hand" if not scope.schedule else "collector" if scope.collector_id else
                                 "paused" if scope.paused else "scheduled" if scope.next_run_at else
                                 "waiting_for_worker")
    return scopes


def set_paused(session: Session, scope: ScanScope, paused: bool, actor: str) -> ScanScope:
    """Pause or resume the scope's schedule (runs asked for by hand still run); audited."""
    if not scope.schedule:
        raise Conflict(Reason("scope %(scope)s has no schedule to pause or resume", scope=scope.name),
                       field="schedule")
    if scope.paused != paused:
        scope.paused = paused
        record(session, actor, "scope.pause" if paused else "scope.resume", "scan_scope", scope.id,
               detail=f"schedule {scope.schedule}")
    session.flush()
    return scope


def list_runs(session: Session, scope: ScanScope, limit: int = 50) -> list[ScanRun]:
    return list(session.scalars(select(ScanRun).where(ScanRun.scope_id == scope.id)
                                .order_by(ScanRun.id.desc()).limit(limit)))


def list_targets(session: Session, scope: ScanScope, *, offset: int = 0, limit: int | None = None) -> list[SnmpTarget]:
    """The scope's SNMP addresses in order (a page of them, given `limit`), with their credentials loaded."""
    return list(session.scalars(select(SnmpTarget).where(SnmpTarget.scope_id == scope.id)
                                .options(selectinload(SnmpTarget.credential))
                                .order_by(SnmpTarget.address, SnmpTarget.id).offset(offset).limit(limit)))


def count_targets(session: Session, scope: ScanScope) -> int:
    return session.scalar(select(func.count()).select_from(SnmpTarget).where(SnmpTarget.scope_id == scope.id))


def run_in_reach(session: Session, run_id: int, unit_ids: frozenset[int] | None) -> ScanRun:
    run = session.get(ScanRun, run_id)
    if run is None:
        raise NotFound(Reason("scan run %(id)s does not exist", id=run_id), field="run_id")
    scope_in_reach(session, run.scope_id, unit_ids)  # someone else's run is as absent as their scope
    return run
