"""One SNMP agent, spoken to over pysnmp's asyncio API: GETs and GETBULK walks, each request counted.

A request costs at most `timeout * (retries + 1)` seconds; what an agent does wrong (silence, an
authentication failure, an error status, OIDs that do not increase, a walk that does not end) becomes
an `SnmpFault` or a `problem` with a reason a person can act on, never a hang or a crash."""
import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyasn1.type import univ
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
    next_cmd,
)
from pysnmp.hlapi.v3arch.asyncio import auth as usm
from pysnmp.proto import rfc1902, rfc1905

from discovery.models import AuthProtocol, PrivProtocol, SnmpVersion

Oid = tuple[int, ...]

AUTH_PROTOCOLS = {
    AuthProtocol.NONE: usm.USM_AUTH_NONE, AuthProtocol.MD5: usm.USM_AUTH_HMAC96_MD5,
    AuthProtocol.SHA: usm.USM_AUTH_HMAC96_SHA, AuthProtocol.SHA224: usm.USM_AUTH_HMAC128_SHA224,
    AuthProtocol.SHA256: usm.USM_AUTH_HMAC192_SHA256, AuthProtocol.SHA384: usm.USM_AUTH_HMAC256_SHA384,
    AuthProtocol.SHA512: usm.USM_AUTH_HMAC384_SHA512,
}
PRIV_PROTOCOLS = {
    PrivProtocol.NONE: usm.USM_PRIV_NONE, PrivProtocol.DES: usm.USM_PRIV_CBC56_DES,
    PrivProtocol.AES128: usm.USM_PRIV_CFB128_AES, PrivProtocol.AES192: usm.USM_PRIV_CFB192_AES,
    PrivProtocol.AES256: usm.USM_PRIV_CFB256_AES,
}
# What pysnmp reports for a v3 agent refusing us, said the way an administrator fixes it.
AUTH_FAILURES = {
    "unknown usm user": "SNMPv3 user unknown to the agent",
    "wrong snmp pdu digest": "SNMPv3 authentication failed (wrong auth key or protocol)",
    "unsupported security level": "SNMPv3 security level not supported by the agent for this user",
    "decryption error": "SNMPv3 decryption failed (wrong priv key or protocol)",
    "not in time window": "SNMPv3 engine time out of window",
    "unknown snmp engine id": "SNMPv3 engine ID unknown",
}
MAX_VARBINDS = 60       # per response: snmpsim answers at most 64, small agents fewer
MAX_WALK_ROWS = 50_000  # a walk past this is a loop in disguise, not a table


@dataclass(frozen=True)
class _NoSuchName:
    position: int  # of the varbind the SNMPv1 agent has no value for


class SnmpFault(Exception):
    """The agent could not be spoken to at all: no answer, refused credentials, an error status."""

    def __init__(self, reason: str, *, kind: str):
        super().__init__(reason)
        self.reason, self.kind = reason, kind


@dataclass(frozen=True)
class Access:
    """The plain credential for one request, built from a stored `Credential` right before a poll."""
    name: str
    version: SnmpVersion
    community: str | None = None
    username: str | None = None
    auth_protocol: AuthProtocol = AuthProtocol.NONE
    auth_key: str | None = None
    priv_protocol: PrivProtocol = PrivProtocol.NONE
    priv_key: str | None = None

    def auth_data(self) -> CommunityData | UsmUserData:
        if self.version is SnmpVersion.V3:
            return UsmUserData(self.username, self.auth_key, self.priv_key,
                               authProtocol=AUTH_PROTOCOLS[self.auth_protocol],
                               privProtocol=PRIV_PROTOCOLS[self.priv_protocol])
        return CommunityData(self.community, mpModel=0 if self.version is SnmpVersion.V1 else 1)

    def __repr__(self) -> str:  # never the secrets, whatever prints this
        return f"Access({self.name!r}, {self.version.value})"


class Agent:
    """The agent at one address and port, with one credential. `requests` counts what was sent."""

    def __init__(self, engine: SnmpEngine, address: str, port: int, access: Access, *,
                 timeout: float = 1.0, retries: int = 1, max_repetitions: int = 50):
        self.engine, self.address, self.port, self.access = engine, address, port, access
        self.timeout, self.retries = timeout, retries
        self.max_repetitions = max_repetitions
        self.requests = 0
        self.problems: list[str] = []  # what went wrong in a walk that still returned something
        self._auth = access.auth_data()
        self._target: UdpTransportTarget | None = None

    async def get(self, *oids: str) -> dict[Oid, Any]:
        """The values of these instances; absent ones are left out."""
        wanted = list(oids)
        while wanted:
            reply = await self._send(get_cmd, *(ObjectType(ObjectIdentity(oid)) for oid in wanted))
            if not isinstance(reply, _NoSuchName):
                return {tuple(name): plain(value) for name, value in reply if not _absent(value)}
            wanted.pop(reply.position)
        return {}

    async def walk(self, *subtrees: str) -> dict[str, list[tuple[Oid, Any]]]:
        """Every (OID, value) under each subtree, in order.

        All the subtrees go in the same requests, as columns of one table do: a GETBULK names each
        subtree not yet finished, with as many repetitions as fit in one response, so a device costs a
        few requests, not one per value or per subtree (SNMPv1 has no GETBULK: one GETNEXT per row).
        A subtree stops, with a problem noted, when the agent answers an OID that does not increase
        or it grows past any real table; the other subtrees go on."""
        roots = {subtree: _oid(subtree) for subtree in subtrees}
        rows: dict[str, list[tuple[Oid, Any]]] = {subtree: [] for subtree in subtrees}
        last = dict(roots)
        active = list(subtrees)
        while active:
            repetitions = max(1, min(self.max_repetitions, MAX_VARBINDS // len(active)))
            asked = [ObjectType(ObjectIdentity(last[subtree])) for subtree in active]
            if self.access.version is SnmpVersion.V1:
                reply = await self._send(next_cmd, *asked)
            else:
                reply = await self._send(bulk_cmd, 0, repetitions, *asked)
            if isinstance(reply, _NoSuchName):  # SNMPv1: this subtree ran off the end of the MIB
                active.pop(reply.position)
                continue
            if not reply:
                break
            done: set[str] = set()
            for position, (name, value) in enumerate(reply):
                subtree = active[position % len(active)]
                if subtree in done:
                    continue
                oid = tuple(name)
                if oid[:len(roots[subtree])] != roots[subtree] or isinstance(value, rfc1905.EndOfMibView):
                    done.add(subtree)
                elif oid <= last[subtree]:
                    self.problems.append(f"walk of {subtree} stopped: the agent answered {_dotted(oid)} "
                                         f"after {_dotted(last[subtree])} (OIDs not increasing)")
                    done.add(subtree)
                elif len(rows[subtree]) >= MAX_WALK_ROWS:
                    self.problems.append(f"walk of {subtree} stopped after {MAX_WALK_ROWS} values "
                                         f"(it does not end)")
                    done.add(subtree)
                else:
                    if not _absent(value):
                        rows[subtree].append((oid, plain(value)))
                    last[subtree] = oid
            active = [subtree for subtree in active if subtree not in done]
        return rows

    async def _send(self, command, *args) -> list[tuple[Any, Any]]:
        if self._target is None:
            self._target = await UdpTransportTarget.create((self.address, self.port), timeout=self.timeout,
                                                           retries=self.retries)
        self.requests += 1
        error_indication, error_status, error_index, var_binds = await command(
            self.engine, self._auth, self._target, ContextData(), *args, lookupMib=False)
        if error_indication:
            raise _fault(str(error_indication), self)
        if error_status:
            status = error_status.prettyPrint() if hasattr(error_status, "prettyPrint") else str(error_status)
            if status == "noSuchName" and self.access.version is SnmpVersion.V1 and int(error_index):
                # SNMPv1's way of saying "end of the MIB" or "no such instance", for one of the varbinds
                return _NoSuchName(int(error_index) - 1)
            raise SnmpFault(f"agent answered error {status}", kind="error")
        return [(name, value) for name, value in var_binds]


def _fault(indication: str, agent: Agent) -> SnmpFault:
    if "timeout" in indication.lower() or "no snmp response" in indication.lower():
        budget = agent.timeout * (agent.retries + 1)
        what = "community" if agent.access.version is not SnmpVersion.V3 else "credential"
        return SnmpFault(f"no SNMP answer within {budget:g} s (host down, filtered, or wrong {what})",
                         kind="timeout")
    for key, reason in AUTH_FAILURES.items():
        if key in indication.lower():
            return SnmpFault(reason, kind="auth")
    return SnmpFault(f"SNMP failure: {indication}", kind="garbage")


def _absent(value: Any) -> bool:
    return isinstance(value, (rfc1905.NoSuchObject, rfc1905.NoSuchInstance, rfc1905.EndOfMibView))


def plain(value: Any) -> Any:
    """A pysnmp value as plain Python: bytes for strings, int for numbers, tuple for OIDs, str for IPs."""
    if isinstance(value, rfc1902.IpAddress):
        return ".".join(str(b) for b in value.asOctets())
    if isinstance(value, rfc1902.OctetString):
        return value.asOctets()
    if isinstance(value, univ.ObjectIdentifier):
        return tuple(value)
    if isinstance(value, rfc1902.Integer) or hasattr(value, "__int__"):
        return int(value)
    return value.prettyPrint()


def _oid(dotted: str) -> Oid:
    return tuple(int(n) for n in dotted.strip(".").split("."))


def _dotted(oid: Sequence[int]) -> str:
    return ".".join(map(str, oid))


def new_engine() -> SnmpEngine:
    return SnmpEngine()


async def gather_bounded(coroutines, limit: int) -> list[Any]:
    """Run the coroutines at most `limit` at a time; results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(coroutine):
        async with gate:
            return await coroutine
    return await asyncio.gather(*(one(c) for c in coroutines))
