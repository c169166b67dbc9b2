"""An SNMP poll of a scope: every address of it, with the scope's credentials in order (the one that
worked last time first), then one batch of observations into the inventory.

`poll_addresses` is the network part (no database); `observations_by_address` and `outcome_of` what it
found, as a collector at a site sends it too; `store_polled` the database part, in the caller's transaction
(`discovery.scans` runs them all; the server runs the last for a collector's batch). A host that does not
answer costs its timeout budget per credential tried and never holds up the others (bounded concurrency
across hosts)."""
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.encryption import SecretBox
from core.errors import InvalidInput
from core.time import utcnow
from discovery.bindings import address_bindings, bind
from discovery.credentials import reveal
from discovery.models import ScanRun, ScanScope, SnmpTarget, TargetStatus
from discovery.snmp import identify as ident
from discovery.snmp.client import Access, Agent, SnmpFault, gather_bounded, new_engine
from discovery.snmp.collect import Readings, collect, scalar
from discovery.snmp.terminals import access_port_sightings, arp_table, interface_names, neighbours
from inventory.ingest import IngestBatch, IngestResult, ingest
from inventory.observations import ObservedDevice, ObservedInterface, ObservedNeighbour, normalise_hostname

log = logging.getLogger(__name__)

MANAGEMENT_INTERFACE = "SNMP management address"  # the polled address, where no interface lists it


@dataclass(frozen=True)
class PollSettings:
    timeout: float = 1.0      # seconds per request
    retries: int = 1
    concurrency: int = 32     # hosts polled at once


@dataclass
class HostPoll:
    """What polling one address gave: readings, or the reason there are none."""
    address: str
    credential_id: int | None = None
    readings: Readings | None = None
    reason: str = ""
    problems: list[str] = field(default_factory=list)
    requests: int = 0
    silent: bool = False  # no credential got any answer: likely no SNMP agent there at all

    @property
    def explanation(self) -> str:
        """Why there are no readings, or what cut them short; empty when all went well."""
        return self.reason if self.readings is None else "; ".join(self.problems)

    @property
    def status(self) -> TargetStatus:
        if self.readings is None:
            return TargetStatus.FAILED
        return TargetStatus.PARTIAL if self.problems else TargetStatus.OK


@dataclass(frozen=True)
class PollOutcome:
    """What the server keeps of polling one address (its SnmpTarget and the run's errors): plain values,
    the same whether the poll ran here or at a collector's site."""
    address: str
    answered: bool
    credential_id: int | None
    status: TargetStatus
    explanation: str
    requests: int
    silent: bool


def outcome_of(poll: HostPoll) -> PollOutcome:
    return PollOutcome(poll.address, poll.readings is not None, poll.credential_id, poll.status, poll.explanation,
                       poll.requests, poll.silent)


def accesses_of(scope: ScanScope, box: SecretBox) -> list[tuple[int, Access]]:
    """(credential id, plain credential) in the scope's order; the secrets live only in the returned list."""
    found = []
    for link in scope.credentials:
        credential = link.credential
        secrets = reveal(credential, box)
        found.append((credential.id, Access(credential.name, credential.version, secrets.community,
                                            credential.username, credential.auth_protocol, secrets.auth_key,
                                            credential.priv_protocol, secrets.priv_key)))
    return found


async def poll_addresses(addresses: Sequence[str], port: int, accesses: Sequence[tuple[int, Access]],
                         remembered: dict[str, int], settings: PollSettings,
                         progress: Callable[[int, int], None] = lambda done, total: None) -> list[HostPoll]:
    engine = new_engine()
    done = 0

    async def one(address: str) -> HostPoll:
        nonlocal done
        result = await poll_host(engine, address, port, _in_order(accesses, remembered.get(address)), settings)
        done += 1
        progress(done, len(addresses))
        return result
    return await gather_bounded([one(address) for address in addresses], settings.concurrency)


def _in_order(accesses: Sequence[tuple[int, Access]], first: int | None) -> list[tuple[int, Access]]:
    return sorted(accesses, key=lambda pair: pair[0] != first)  # stable: the rest keep the scope's order


async def poll_host(engine, address: str, port: int, accesses: Iterable[tuple[int, Access]],
                    settings: PollSettings) -> HostPoll:
    """Try each credential until one answers, then read everything."""
    result = HostPoll(address)
    reasons, kinds = [], []
    for credential_id, access in accesses:
        agent = Agent(engine, address, port, access, timeout=settings.timeout, retries=settings.retries)
        try:
            await agent.get("1.3.6.1.2.1.1.2.0")  # sysObjectID: does this credential open the door?
            result.readings = await collect(agent)
            result.credential_id, result.problems = credential_id, agent.problems
            result.requests += agent.requests
            return result
        except SnmpFault as fault:
            result.requests += agent.requests
            reasons.append(f"{access.name}: {fault.reason}")
            kinds.append(fault.kind)
            if result.readings is None and fault.kind == "error":
                break  # the agent answers, and answers errors: other credentials won't change that
        except Exception as error:  # an answer pysnmp could not make sense of: this host only
            result.requests += agent.requests
            reasons.append(f"{access.name}: unreadable answer ({type(error).__name__}: {error})")
            kinds.append("garbage")
            break
    result.silent = all(kind == "timeout" for kind in kinds)
    result.reason = "; ".join(reasons) or "no SNMP credential in this scope"
    return result


def observations_by_address(polls: Sequence[HostPoll], unit_code: str,
                            at: dt.datetime) -> list[tuple[str | None, ObservedDevice]]:
    """One observation per device that answered, with the address polled, and one per terminal found
    behind their switches, with None (a terminal was not polled, only seen)."""
    answered = [p for p in polls if p.readings is not None]
    devices = [_device_observation(p, unit_code, at) for p in answered]
    own_macs = {i.mac for o in devices for i in o.interfaces if i.mac}
    ip_by_mac: dict[str, set[str]] = {}
    for p in answered:
        for mac, ips in arp_table(p.readings).items():
            ip_by_mac.setdefault(mac, set()).update(ips)
    terminals = {}
    for p, device in zip(answered, devices):
        for sighting in access_port_sightings(p.address, p.readings, ip_by_mac, own_macs):
            terminals.setdefault(sighting.mac, _terminal_observation(sighting, device, unit_code, at))
    return [(p.address, device) for p, device in zip(answered, devices)] + [(None, t) for t in terminals.values()]


def _device_observation(poll: HostPoll, unit_code: str, at: dt.datetime) -> ObservedDevice:
    readings = poll.readings
    findings = ident.identify(readings)
    fields = {name: finding.value for name, finding in findings.items()}
    raw: dict[str, Any] = {"address": poll.address, "sources": ident.describe(findings),
                           "sysObjectID": ".".join(map(str, scalar(readings, "sysObjectID") or ()))}
    hostname = valid_hostname(fields.get("hostname"))
    if fields.get("hostname") and hostname is None:
        raw["sysName"] = fields["hostname"]  # not a host name (spaces, say): kept as said, not matched on
    fields["hostname"] = hostname
    if poll.problems:
        raw["problems"] = poll.problems
    specs = ident.specs(readings)
    raw["sources"] |= {f"specs.{name}": finding.source for name, finding in specs.items()}
    return ObservedDevice(method="snmp", observed_at=at, unit_code=unit_code, source=f"snmp {poll.address}",
                          fields={k: v for k, v in fields.items() if v is not None},
                          specs={name: finding.value for name, finding in specs.items()},
                          interfaces=_interfaces(readings, poll.address),
                          neighbours=tuple(_neighbours(readings)), raw=raw)


def _interfaces(readings: Readings, address: str) -> tuple[ObservedInterface, ...]:
    """One interface per MAC (a switch's VLAN interfaces share the chassis MAC), plus the polled
    address's interface even without a MAC, so the device is found by its address."""
    names = interface_names(readings)  # as terminals behind a port are seen behind it
    ips: dict[int, list[str]] = {}
    for index, if_index in (readings.get("ipAdEntIfIndex") or {}).items():
        # The row index is the address's four octets; agents that index otherwise (seen: five numbers, one)
        # name no address, and one bad address would refuse the device's whole observation.
        if len(index) == 4 and all(0 <= octet <= 255 for octet in index):
            ips.setdefault(if_index, []).append(".".join(map(str, index)))
    found: dict[str, ObservedInterface] = {}
    for index, value in sorted((readings.get("ifPhysAddress") or {}).items()):
        mac = ident.mac_text(value)
        if mac and mac not in found:
            found[mac] = ObservedInterface(name=names.get(index[0]), mac=mac, ips=tuple(ips.get(index[0], ())),
                                           speed_mbps=_speed(readings, index))
    if not any(address in i.ips for i in found.values()):
        # Named, so that the next poll finds this interface again instead of adding another.
        found[address] = ObservedInterface(name=MANAGEMENT_INTERFACE, mac=None, ips=(address,))
    return tuple(found.values())


def _speed(readings: Readings, index: tuple[int, ...]) -> int | None:
    high = (readings.get("ifHighSpeed") or {}).get(index)
    if isinstance(high, int) and high > 0:
        return high
    speed = (readings.get("ifSpeed") or {}).get(index)
    return speed // 1_000_000 if isinstance(speed, int) and speed >= 1_000_000 else None


def _neighbours(readings: Readings) -> list[ObservedNeighbour]:
    found = []
    for n in neighbours(readings):
        hostname = valid_hostname(n.remote_hostname)
        if hostname or n.remote_mac:
            found.append(ObservedNeighbour(n.protocol, port=n.port, remote_port=n.remote_port,
                                           remote_mac=n.remote_mac, remote_hostname=hostname))
    return found


def _terminal_observation(sighting, switch: ObservedDevice, unit_code: str, at: dt.datetime) -> ObservedDevice:
    fields = {"vendor": sighting.vendor} if sighting.vendor else {}
    switch_mac = next((i.mac for i in switch.interfaces if i.mac), None)
    link = ObservedNeighbour("fdb", port="", remote_port=sighting.port, remote_serial=switch.serial,
                             remote_mac=switch_mac, remote_hostname=switch.hostname)
    return ObservedDevice(method="fdb", observed_at=at, unit_code=unit_code,
                          source=f"fdb {sighting.switch_address} {sighting.port}", fields=fields,
                          interfaces=(ObservedInterface(mac=sighting.mac, ips=sighting.ips),),
                          neighbours=(link,) if (switch.serial or switch_mac or switch.hostname) else (),
                          raw={"switch": sighting.switch_address, "port": sighting.port,
                               "sources": {"vendor": "MAC address prefix (IEEE registry)"} if fields else {}})


def valid_hostname(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return normalise_hostname(value)
    except InvalidInput:
        return None


def store_polls(session: Session, scope: ScanScope, run: ScanRun, polls: Sequence[HostPoll],
                missing_after_scans: int) -> IngestResult:
    """A poll that ran here, stored as `store_polled` stores one sent by a collector."""
    return store_polled(session, scope, run, observations_by_address(polls, scope.unit.code, utcnow()),
                        [outcome_of(poll) for poll in polls], missing_after_scans)


def store_polled(session: Session, scope: ScanScope, run: ScanRun,
                 observed: Sequence[tuple[str | None, ObservedDevice]], outcomes: Sequence[PollOutcome],
                 missing_after_scans: int) -> IngestResult:
    """Ingest what answered as one complete scan of the scope, remember each address's credential and
    device, and fill the run's counts; in the caller's transaction. An address that was a device before
    names it, for devices with nothing else to match them by."""
    targets = {t.address: t for t in session.scalars(select(SnmpTarget).where(SnmpTarget.scope_id == scope.id))}
    bindings = address_bindings(session, scope)
    observed = [(address, bind(observation, address, bindings.get(address)) if address else observation)
                for address, observation in observed]
    batch = IngestBatch([observation for _address, observation in observed], scope_key=f"snmp:{scope.id}",
                        complete_scan=True, network=scope.network.value)
    result = ingest(session, batch, missing_after_scans=missing_after_scans)
    _record_targets(session, scope, outcomes, targets, _device_ids_by_address(observed, result.device_ids),
                    utcnow())
    run.hosts_done, run.hosts_answered = len(outcomes), sum(o.answered for o in outcomes)
    run.requests = sum(o.requests for o in outcomes)
    run.created, run.changed, run.unchanged, run.missing = result.created, result.changed, result.unchanged, \
        result.missing
    run.errors = [{"address": o.address, "reason": o.explanation} for o in outcomes if _is_news(o, targets)]
    return result


def remembered_credentials(session: Session, scope: ScanScope) -> dict[str, int]:
    return {t.address: t.credential_id for t in session.scalars(select(SnmpTarget).where(
        SnmpTarget.scope_id == scope.id, SnmpTarget.credential_id.is_not(None)))}


def _is_news(outcome: PollOutcome, targets: dict[str, SnmpTarget]) -> bool:
    """A silent address that never answered is just not an SNMP device; a device that answered
    before and not now, an agent refusing credentials or a walk cut short is news."""
    if outcome.answered:
        return bool(outcome.explanation)
    return not outcome.silent or outcome.address in targets


def _device_ids_by_address(observed: Sequence[tuple[str | None, ObservedDevice]],
                           device_ids: Sequence[int]) -> dict[str, int]:
    """The device each polled address was ingested as. Ingest gives one id per observation, in the
    batch's order; each observation carries its own address, so no place in the batch is assumed."""
    return {address: device_id for (address, _observation), device_id in zip(observed, device_ids, strict=True)
            if address is not None}


def _record_targets(session: Session, scope: ScanScope, outcomes: Sequence[PollOutcome],
                    targets: dict[str, SnmpTarget], device_ids: Mapping[str, int], at: dt.datetime) -> None:
    for outcome in outcomes:
        target = targets.get(outcome.address)
        if target is None:
            if outcome.silent:
                continue  # nothing there, and nothing ever was: no record of every silent address
            target = SnmpTarget(scope_id=scope.id, address=outcome.address)
            session.add(target)
        target.status, target.polled_at, target.requests = outcome.status, at, outcome.requests
        target.reason = outcome.explanation
        if outcome.answered:
            target.credential_id, target.device_id = outcome.credential_id, device_ids[outcome.address]
    session.flush()
