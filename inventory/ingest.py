"""The one way into the inventory: a batch of observations, merged into one record per device.

Every source writes through `ingest`. It matches each observation to a device (serial, then any
known MAC, then unit + host name, and only then creates one), keeps for every field which method
said it and when, writes one history entry per real change, stores each distinct observation
once, and marks devices that complete scans of their scope no longer see as missing. It runs in the
caller's transaction and never commits: a batch is stored whole or not at all."""
import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session, selectinload

from inventory.errors import Conflict, InvalidInput
from inventory.models import (Device, DeviceClass, DeviceEvent, DeviceStatus, Interface, Link, Observation,
                              Unit)
from inventory.observations import (DATE_FIELDS, DEVICE_FIELDS, METHOD_RANK, ObservedDevice, evidence_of,
                                    fingerprint, normalise)

log = logging.getLogger(__name__)

CHUNK = 900  # bound parameters per IN (...): well inside SQLite's and PostgreSQL's limits
INGEST_LOCK_KEY = 0x1A9E57  # PostgreSQL advisory lock taken by every ingestion transaction
TRACKED = (*DEVICE_FIELDS, "unit_id")


@dataclass(frozen=True)
class IngestBatch:
    observations: Sequence[ObservedDevice]
    # A scan of a whole scope says which devices of that scope it did *not* see.
    scope_key: str | None = None
    complete_scan: bool = False


@dataclass
class IngestResult:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    missing: int = 0      # devices that became missing with this batch
    reappeared: int = 0
    observations_stored: int = 0
    device_ids: list[int] = field(default_factory=list)  # one per observation, in order


def ingest(session: Session, batch: IngestBatch, *, missing_after_scans: int = 3) -> IngestResult:
    """Merge a batch of observations into the inventory and return what it changed."""
    if batch.complete_scan and not batch.scope_key:
        raise InvalidInput("a complete scan must name its scope", field="scope_key")
    observations = [normalise(o, position=n) for n, o in enumerate(batch.observations)]
    _one_batch_at_a_time(session)
    units = _units_by_code(session, observations)
    merger = _Merger(session, units, _load_candidates(session, observations, units))
    devices = [merger.apply(o) for o in sorted(observations, key=lambda o: o.observed_at)]
    order = sorted(range(len(observations)), key=lambda n: observations[n].observed_at)
    by_position = dict(zip(order, devices))
    for device in merger.touched:
        device.missed_scans = 0
        if batch.scope_key:
            device.scope_key = batch.scope_key
    session.flush()  # assigns ids to new devices and interfaces

    result = IngestResult(device_ids=[by_position[n].id for n in range(len(observations))])
    merger.write_history(result)
    result.observations_stored = _store_observations(session, observations, [by_position[n] for n in
                                                                             range(len(observations))])
    _store_links(session, merger, observations, by_position)
    if batch.complete_scan:
        result.missing = _mark_unseen(session, batch.scope_key, {d.id for d in merger.touched},
                                      missing_after_scans, max(o.observed_at for o in observations)
                                      if observations else None)
    log.info("ingested %d observations: %d created, %d changed, %d unchanged, %d missing",
             len(observations), result.created, result.changed, result.unchanged, result.missing)
    return result


def _one_batch_at_a_time(session: Session) -> None:
    """Two overlapping batches would each miss the devices the other is creating and make duplicates
    of them (a MAC has no unique constraint to stop that), so batches take turns, until commit."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": INGEST_LOCK_KEY})
    else:
        # SQLite: any write statement takes the database's write lock, which a reader's snapshot lacks.
        session.execute(text("UPDATE unit SET id = id WHERE 1 = 0"))


def _units_by_code(session: Session, observations: Sequence[ObservedDevice]) -> dict[str, Unit]:
    codes = {o.unit_code for o in observations}
    units = {u.code: u for chunk in chunks(codes) for u in session.scalars(select(Unit).where(Unit.code.in_(chunk)))}
    for n, o in enumerate(observations):
        unit = units.get(o.unit_code)
        if unit is None:
            raise InvalidInput(f"observations[{n}]: unit {o.unit_code!r} does not exist", field="unit_code")
        if not unit.active:
            successor = f", merged into {unit.successor.code}" if unit.successor else ""
            raise InvalidInput(f"observations[{n}]: unit {unit.code} is inactive{successor}", field="unit_code")
    return units


def _load_candidates(session: Session, observations: Sequence[ObservedDevice],
                     units: dict[str, Unit]) -> list[Device]:
    """Every stored device that any observation of the batch could be, in a few queries."""
    serials = {o.serial for o in observations if o.serial}
    macs = {m for o in observations for m in o.macs} | {nb.remote_mac for o in observations
                                                        for nb in o.neighbours if nb.remote_mac}
    serials |= {nb.remote_serial for o in observations for nb in o.neighbours if nb.remote_serial}
    hostnames = {o.hostname for o in observations if o.hostname}
    hostnames |= {nb.remote_hostname for o in observations for nb in o.neighbours if nb.remote_hostname}
    ids: set[int] = {o.device_id for o in observations if o.device_id is not None}
    for chunk in chunks(serials):
        ids.update(session.scalars(select(Device.id).where(Device.serial.in_(chunk))))
    for chunk in chunks(macs):
        ids.update(session.scalars(select(Interface.device_id).where(Interface.mac.in_(chunk))))
    for chunk in chunks(hostnames):
        ids.update(session.scalars(select(Device.id).where(Device.hostname.in_(chunk))))
    devices = [d for chunk in chunks(ids) for d in session.scalars(
        # populate_existing: a device the caller loaded before the lock is re-read as committed now
        select(Device).where(Device.id.in_(chunk)).options(selectinload(Device.interfaces))
        .execution_options(populate_existing=True))]
    known = {d.id for d in devices}
    for n, o in enumerate(observations):
        if o.device_id is not None and o.device_id not in known:
            raise InvalidInput(f"observations[{n}]: device {o.device_id} does not exist", field="device_id")
    return devices


class _Merger:
    """Matches observations to devices and merges their fields, remembering what each was before."""

    def __init__(self, session: Session, units: dict[str, Unit], candidates: Sequence[Device]):
        self.session = session
        self.units = units
        self.by_serial: dict[str, Device] = {}
        self.by_mac: dict[str, Device] = {}
        self.by_host: dict[tuple[int, str], Device] = {}
        self.by_id: dict[int, Device] = {d.id: d for d in candidates}
        self.before: dict[Device, dict[str, Any]] = {}  # field values before this batch; absent = new
        self.new: list[Device] = []
        self.touched: dict[Device, None] = {}  # insertion-ordered set
        for device in candidates:
            self.before[device] = _snapshot(device)
            self._index(device)

    def apply(self, observation: ObservedDevice) -> Device:
        device = self._match(observation) or self._create(observation)
        self.touched[device] = None
        unit = self.units[observation.unit_code]
        # Provenance is replaced once per observation, not once per field: each replacement copies it whole.
        said = [name for name, value in (("unit_id", unit.id), *observation.fields.items())
                if self._merge_field(device, name, value, observation)]
        if said:
            device.source = observation.method
        said += [f"specs.{key}" for key, value in observation.specs.items()
                 if self._merge_spec(device, key, value, observation)]
        if said:
            device.provenance = {**device.provenance, **{name: _said_by(observation) for name in said}}
        for interface in observation.interfaces:
            self._merge_interface(device, interface)
        if observation.observed_at > device.last_seen:
            device.last_seen = observation.observed_at
        if observation.observed_at < device.first_seen:
            device.first_seen = observation.observed_at
        if device.status is DeviceStatus.MISSING and "status" not in observation.fields:
            device.status = DeviceStatus.IN_USE  # seen again
        self._index(device)
        return device

    def _match(self, o: ObservedDevice) -> Device | None:
        if o.device_id is not None:
            return self.by_id[o.device_id]
        if o.serial and o.serial in self.by_serial:
            return self.by_serial[o.serial]
        for mac in o.macs:
            if mac in self.by_mac:
                return self.by_mac[mac]
        if o.hostname:
            return self.by_host.get((self.units[o.unit_code].id, o.hostname))
        return None

    def _create(self, o: ObservedDevice) -> Device:
        device = Device(unit=self.units[o.unit_code], first_seen=o.observed_at, last_seen=o.observed_at,
                        source=o.method, device_class=DeviceClass.OTHER, status=DeviceStatus.IN_USE,
                        specs={}, provenance={}, missed_scans=0, interfaces=[])
        self.session.add(device)
        self.new.append(device)
        return device

    def _index(self, device: Device) -> None:
        if device.serial:
            self.by_serial.setdefault(device.serial, device)
        for interface in device.interfaces:
            if interface.mac:
                self.by_mac.setdefault(interface.mac, device)
        if device.hostname:
            self.by_host.setdefault((device.unit_id or device.unit.id, device.hostname), device)

    def _merge_field(self, device: Device, name: str, value: Any, o: ObservedDevice) -> bool:
        """Whether the field took the observation's value (the caller records who said it)."""
        said = device.provenance.get(name)
        if not _outranks(o, said):
            return False
        current = device.unit_id if name == "unit_id" else getattr(device, name)
        if said is not None and said["method"] == o.method and current == value:
            return False  # the same source saying the same again: nothing to record
        if name == "serial" and value and self.by_serial.get(value, device) is not device:
            if o.method == "manual":
                raise Conflict(f"serial {value} is already device {self.by_serial[value].id}'s", field="serial")
            # Another device already carries this serial: the observation matched this one by MAC or
            # name, so one of the two records is wrong. Keep both as they are and say so.
            log.warning("serial %s observed on device %s is already device %s's; not moved",
                        value, device.id, self.by_serial[value].id)
            return False
        if name == "unit_id":
            device.unit = self.units[o.unit_code]
        else:
            setattr(device, name, value)
        return True

    def _merge_spec(self, device: Device, key: str, value: Any, o: ObservedDevice) -> bool:
        said = device.provenance.get(f"specs.{key}")
        if value is None or not _outranks(o, said):
            return False
        if said is not None and said["method"] == o.method and device.specs.get(key) == value:
            return False
        device.specs = {**device.specs, key: value}
        return True

    def _merge_interface(self, device: Device, observed) -> None:
        existing = next((i for i in device.interfaces if observed.mac and i.mac == observed.mac), None) or \
            next((i for i in device.interfaces if observed.name and i.name == observed.name and
                  (i.mac is None or observed.mac is None)), None)
        if existing is None:
            device.interfaces.append(Interface(name=observed.name, mac=observed.mac, ips=list(observed.ips),
                                               speed_mbps=observed.speed_mbps))
            return
        if observed.name and existing.name != observed.name:
            existing.name = observed.name
        if observed.mac and existing.mac != observed.mac:
            existing.mac = observed.mac
        if observed.ips and set(observed.ips) - set(existing.ips):
            existing.ips = list(dict.fromkeys([*existing.ips, *observed.ips]))
        if observed.speed_mbps is not None and existing.speed_mbps != observed.speed_mbps:
            existing.speed_mbps = observed.speed_mbps

    def write_history(self, result: IngestResult) -> None:
        """One event per device created, per field changed, per move and per interface added."""
        events: list[dict[str, Any]] = []
        for device in self.touched:
            before = self.before.get(device)
            said = device.provenance
            if before is None:
                result.created += 1
                events.append(_event(device, "created", method=device.source,
                                     new_value={k: v for k, v in _snapshot(device).items() if v not in (None, {})}))
                continue
            changes = _changes(before, _snapshot(device))
            for name, (old, new) in changes.items():
                kind = {"unit_id": "moved", "status": "status", "interfaces": "interfaces"}.get(name, "changed")
                origin = said.get(name) or said.get(f"specs.{name[6:]}", {})
                events.append(_event(device, kind, field=name, old_value=old, new_value=new,
                                     method=origin.get("method", device.source), source=origin.get("source", "")))
            if changes:
                result.changed += 1
            else:
                result.unchanged += 1
            if before["status"] == DeviceStatus.MISSING and device.status is DeviceStatus.IN_USE:
                result.reappeared += 1
        if events:
            # Core executemany: the ORM's bulk path costs more per row than the insert itself.
            self.session.execute(insert(DeviceEvent.__table__), events)


def _snapshot(device: Device) -> dict[str, Any]:
    values = {name: getattr(device, name) for name in TRACKED}
    for name in _AS_TEXT:  # dates and enums as JSON has them; the other fields are JSON already
        if values[name] is not None:
            values[name] = _plain(values[name])
    values["unit_id"] = device.unit_id if device.unit_id is not None else device.unit.id
    values.update({f"specs.{k}": v for k, v in (device.specs or {}).items()})
    values["interfaces"] = sorted((i.mac or "", i.name or "", tuple(i.ips or ()), i.speed_mbps or 0)
                                  for i in device.interfaces)
    return values


_AS_TEXT = ("device_class", "status", *DATE_FIELDS)


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    changes = {}
    for name in before.keys() | after.keys():
        old, new = before.get(name), after.get(name)
        if old != new:
            if name == "interfaces":
                old = [list(i) for i in old or []]
                new = [list(i) for i in new or []]
            changes[name] = (old, new)
    return changes


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value.value if hasattr(value, "value") and not isinstance(value, int) else value


def _outranks(o: ObservedDevice, current: dict[str, Any] | None) -> bool:
    if current is None:
        return True
    rank, current_rank = METHOD_RANK[o.method], METHOD_RANK.get(current["method"], 0)
    return rank > current_rank or (rank == current_rank and o.observed_at.isoformat() >= current["at"])


def _said_by(o: ObservedDevice) -> dict[str, str]:
    return {"method": o.method, "source": o.source, "at": o.observed_at.isoformat()}


def _event(device: Device, kind: str, **values: Any) -> dict[str, Any]:
    return {"device_id": device.id, "at": device.last_seen, "kind": kind, "field": None, "old_value": None,
            "new_value": None, "method": "", "source": "", "detail": ""} | values


def _store_observations(session: Session, observations: Sequence[ObservedDevice],
                        devices: Sequence[Device]) -> int:
    rows = {}
    for o, device in zip(observations, devices):
        evidence = evidence_of(o)
        print_ = fingerprint(o, evidence)
        rows.setdefault(print_, {"device_id": device.id, "method": o.method, "source": o.source,
                                 "observed_at": o.observed_at, "evidence": evidence, "fingerprint": print_})
    for chunk in chunks(rows):
        for known in session.scalars(select(Observation.fingerprint).where(Observation.fingerprint.in_(chunk))):
            del rows[known]
    if rows:
        session.execute(insert(Observation.__table__), list(rows.values()))
    return len(rows)


def _store_links(session: Session, merger: _Merger, observations: Sequence[ObservedDevice],
                 by_position: dict[int, Device]) -> None:
    wanted: dict[tuple[int, str, int, str], tuple[str, dt.datetime]] = {}
    for n, o in enumerate(observations):
        for nb in o.neighbours:
            remote = (merger.by_serial.get(nb.remote_serial or "") or merger.by_mac.get(nb.remote_mac or "")
                      or merger.by_host.get((merger.units[o.unit_code].id, nb.remote_hostname or "")))
            if remote is None:
                remote = _find_remote(session, nb)
            if remote is not None and remote.id != by_position[n].id:
                wanted[(by_position[n].id, nb.port, remote.id, nb.remote_port)] = (nb.protocol, o.observed_at)
    if not wanted:
        return
    existing = {(l.device_id, l.port, l.remote_device_id, l.remote_port): l for l in session.scalars(
        select(Link).where(Link.device_id.in_({key[0] for key in wanted})))}
    for key, (protocol, seen) in wanted.items():
        link = existing.get(key)
        if link is None:
            session.add(Link(device_id=key[0], port=key[1], remote_device_id=key[2], remote_port=key[3],
                             protocol=protocol, first_seen=seen, last_seen=seen))
        elif seen > link.last_seen:
            link.last_seen = seen
    session.flush()


def _find_remote(session: Session, nb) -> Device | None:
    """A neighbour not described in this batch: by its serial or MAC among stored devices."""
    if nb.remote_serial:
        device = session.scalars(select(Device).where(Device.serial == nb.remote_serial)).first()
        if device:
            return device
    if nb.remote_mac:
        return session.scalars(select(Device).join(Interface).where(Interface.mac == nb.remote_mac)).first()
    return None


def _mark_unseen(session: Session, scope_key: str, seen: set[int], missing_after_scans: int,
                 scanned_at: dt.datetime | None) -> int:
    """Count one more missed scan for each device of the scope this scan did not see."""
    # Ids first: a complete scan usually sees its whole scope, and then no device needs loading.
    unseen_ids = set(session.scalars(select(Device.id).where(Device.scope_key == scope_key))) - seen
    unseen = [d for chunk in chunks(unseen_ids) for d in session.scalars(select(Device).where(Device.id.in_(chunk)))]
    events, became_missing = [], 0
    for device in unseen:
        device.missed_scans += 1
        if device.missed_scans >= missing_after_scans and device.status is DeviceStatus.IN_USE:
            device.status = DeviceStatus.MISSING
            became_missing += 1
            events.append({"device_id": device.id, "at": scanned_at or device.last_seen, "kind": "status",
                           "field": "status", "old_value": "in_use", "new_value": "missing",
                           "method": "scan", "source": scope_key,
                           "detail": f"not seen in {device.missed_scans} complete scans of {scope_key}"})
    if events:
        session.execute(insert(DeviceEvent), events)
    session.flush()
    return became_missing


def chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]
