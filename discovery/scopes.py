"""Scan scopes: a unit's networks less exclusions, with SNMP credentials in the order to try them.
Every scope is checked against the allowlist when it is written and again when it is scanned."""
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from discovery.allowlist import parse_targets, require_allowed
from discovery.credentials import get_credential
from discovery.models import ScanScope, ScopeCredential
from inventory.errors import Conflict, InvalidInput, NotFound
from inventory.units import get_unit


def find_scope(session: Session, name: str) -> ScanScope:
    scope = session.scalars(select(ScanScope).where(ScanScope.name == name)).first()
    if scope is None:
        raise NotFound(f"scan scope {name!r} does not exist", field="scope")
    return scope


def create_scope(session: Session, *, unit_code: str, name: str, networks: str, allowlist: str,
                 exclusions: str = "", snmp_port: int = 161, credential_ids: Sequence[int] = ()) -> ScanScope:
    unit = get_unit(session, unit_code)
    if session.scalars(select(ScanScope.id).where(ScanScope.name == name)).first() is not None:
        raise Conflict(f"scan scope {name!r} already exists", field="name")
    targets = parse_targets(networks)
    if exclusions.strip() and not targets - parse_targets(exclusions, field="exclusions"):
        raise InvalidInput("the exclusions leave nothing of the networks to scan", field="exclusions")
    require_allowed(targets, allowlist)
    if not 1 <= snmp_port <= 65535:
        raise InvalidInput(f"{snmp_port} is not a UDP port (1 to 65535)", field="snmp_port")
    if len(set(credential_ids)) != len(credential_ids):
        raise InvalidInput("a credential is listed twice", field="credential_ids")
    scope = ScanScope(unit_id=unit.id, name=name, networks=networks, exclusions=exclusions, snmp_port=snmp_port)
    scope.credentials = [ScopeCredential(credential=get_credential(session, credential_id), position=position)
                         for position, credential_id in enumerate(credential_ids)]
    session.add(scope)
    session.flush()
    return scope
