"""Merging a batch of observations into device records held as plain rows.

Pure: no database. `inventory.ingest` reads the rows a batch could touch, lets a `Merger` apply the
observations to them and writes back what changed. Plain dicts instead of ORM objects: attribute
instrumentation and the unit of work cost more than the merge itself."""
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import Conflict
from core.i18n import Reason
from core.jsonable import json_value
from core.time import as_utc
from inventory.models import DeviceClass, DeviceStatus
from inventory.observations import DEVICE_FIELDS, METHOD_RANK, ObservedDevice, ObservedInterface
from inventory.specs import COMPANIONS
from inventory.versions import normalise_version

log = logging.getLogger(__name__)

# Methods whose unit is a person's statement (a record, an edit, a spreadsheet), checked against the
# caller's units before ingestion: they move a device. Any other method that sees a device of a unit
# outside its own unit's subtree reports a sighting and changes nothing of the device: not its unit, not
# its fields (another unit's scan must not rename or re-place it), until someone decides
# (`inventory.relocations`). A unit's scan that sees a device of a unit below it (an agency's scope over
# its departments) describes it as usual, and the device stays in its unit.
MOVED_BY_PEOPLE = frozenset({"manual", "import"})

TRACKED = (*DEVICE_FIELDS, "unit_id")
# The columns a merge reads and writes: all of the device's. firmware_version follows firmware (untracked: the
# history has the firmware's change).
DEVICE_COLUMNS = ("id", *TRACKED, "firmware_version", "specs", "first_seen", "last_seen", "source", "provenance",
                  "scope_key", "missed_scans", "network")
INTERFACE_COLUMNS = ("id", "device_id", "name", "mac", "ips", "speed_mbps")


class DeviceRecord:
    """One device as the batch sees it: its `device` row and `interface` rows, as column → value dicts."""

    __slots__ = ("row", "interfaces", "stored_row", "stored_interfaces")

    def __init__(self, row: dict[str, Any], interfaces: list[dict[str, Any]], *, stored: bool):
        self.row = row
        self.interfaces = interfaces
        # The rows as read (None for a device the batch creates), for the UPDATEs and the history.
        # The merge replaces a JSON value rather than changing it in place: shallow copies stay as read.
        self.stored_row = dict(row) if stored else None
        self.stored_interfaces = {i["id"]: dict(i) for i in interfaces}

    @property
    def id(self) -> int | None:
        return self.row["id"]

    def changed_columns(self) -> dict[str, Any]:
        """The id and the changed columns of a stored device; empty if the batch changed none or created it."""
        if self.stored_row is None:
            return {}
        changed = {name: value for name, value in self.row.items() if value != self.stored_row[name]}
        return {"id": self.id} | changed if changed else {}

    def changed_interfaces(self) -> list[dict[str, Any]]:
        """The id and the changed columns of each stored interface the batch changed."""
        changed = []
        for interface in self.interfaces:
            stored = self.stored_interfaces.get(interface["id"])  # None: added by this batch
            if stored is not None and interface != stored:
                changed.append({"id": interface["id"]} | {name: value for name, value in interface.items()
                                                          if value != stored[name]})
        return changed

    def new_interfaces(self) -> list[dict[str, Any]]:
        return [i for i in self.interfaces if i["id"] is None]


@dataclass(frozen=True)
class Sighting:
    """A known device seen by an observation of another unit than its own, and what it saw."""
    record: DeviceRecord
    unit_id: int  # the unit whose scan saw it
    method: str
    source: str
    at: dt.datetime
    seen: dict[str, Any]  # identity as observed: serial, host name, vendor, model, MACs and addresses


def seen_by(o: ObservedDevice) -> dict[str, Any]:
    """What an observation says of a device's identity: all that a unit that saw it is shown of it until
    it may read the device itself."""
    said = {name: o.fields[name] for name in ("serial", "hostname", "vendor", "model") if o.fields.get(name)}
    macs = sorted({i.mac for i in o.interfaces if i.mac})
    ips = sorted({ip for i in o.interfaces for ip in i.ips})
    return said | ({"macs": macs} if macs else {}) | ({"ips": ips} if ips else {})


class Merger:
    """Matches observations to device records and merges their fields into them."""

    def __init__(self, unit_ids: Mapping[str, int], candidates: Sequence[DeviceRecord],
                 covers: Callable[[int, int], bool] = lambda unit_id, other_id: unit_id == other_id):
        self.unit_ids = unit_ids
        self.covers = covers  # covers(a, b): unit b is a or below it
        self.by_serial: dict[str, DeviceRecord] = {}
        self.by_mac: dict[str, DeviceRecord] = {}
        self.by_host: dict[tuple[int, str], DeviceRecord] = {}
        self.by_id = {record.id: record for record in candidates}
        self.new: list[DeviceRecord] = []
        self.touched: dict[DeviceRecord, None] = {}  # insertion-ordered set
        self.sightings: list[Sighting] = []
        for record in candidates:
            self._index(record)

    def apply(self, observation: ObservedDevice) -> DeviceRecord:
        unit_id: int | None = self.unit_ids[observation.unit_code]
        record = self._match(observation)
        if record is None:
            record = self._create(observation)
        elif record.row["unit_id"] != unit_id and observation.method not in MOVED_BY_PEOPLE:
            if not self.covers(unit_id, record.row["unit_id"]):
                self.sightings.append(Sighting(record, unit_id, observation.method, observation.source,
                                               observation.observed_at, seen_by(observation)))
                return record
            unit_id = None  # a device of a unit below the scan's: described, and left in its unit
        self.touched[record] = None
        row = record.row
        said_fields = observation.fields.items() if unit_id is None else \
            (("unit_id", unit_id), *observation.fields.items())
        # Provenance is replaced once per observation, not once per field: each replacement copies it whole.
        said = [name for name, value in said_fields
                if self._merge_field(record, name, value, observation)]
        if said:
            row["source"] = observation.method
        if "firmware" in said:
            row["firmware_version"] = firmware_version(row["firmware"])
        specs_before = row["specs"]
        said += [f"specs.{key}" for key, value in observation.specs.items()
                 if _merge_spec(row, key, value, observation)]
        _withdraw_stale_companions(row, specs_before, observation)
        if said:
            said_by = _said_by(observation)  # one dict for all: provenance entries are replaced, never changed
            row["provenance"] = {**row["provenance"], **dict.fromkeys(said, said_by)}
        for interface in observation.interfaces:
            _merge_interface(record, interface)
        if observation.observed_at > row["last_seen"]:
            row["last_seen"] = observation.observed_at
        if observation.observed_at < row["first_seen"]:
            row["first_seen"] = observation.observed_at
        if row["status"] is DeviceStatus.MISSING and "status" not in observation.fields:
            row["status"] = DeviceStatus.IN_USE  # seen again
        self._index(record)
        return record

    def _match(self, o: ObservedDevice) -> DeviceRecord | None:
        if o.device_id is not None:
            return self.by_id[o.device_id]
        if o.serial and o.serial in self.by_serial:
            return self.by_serial[o.serial]
        for mac in o.macs:
            if mac in self.by_mac:
                return self.by_mac[mac]
        if o.hostname:
            return self.by_host.get((self.unit_ids[o.unit_code], o.hostname))
        return None

    def _create(self, o: ObservedDevice) -> DeviceRecord:
        row = dict.fromkeys(DEVICE_COLUMNS) | {
            "unit_id": self.unit_ids[o.unit_code], "first_seen": o.observed_at,
            "last_seen": o.observed_at, "source": o.method, "device_class": DeviceClass.OTHER,
            "status": DeviceStatus.IN_USE, "specs": {}, "provenance": {}, "missed_scans": 0}
        record = DeviceRecord(row, [], stored=False)
        self.new.append(record)
        return record

    def _index(self, record: DeviceRecord) -> None:
        row = record.row
        if row["serial"]:
            self.by_serial.setdefault(row["serial"], record)
        for interface in record.interfaces:
            if interface["mac"]:
                self.by_mac.setdefault(interface["mac"], record)
        if row["hostname"]:
            self.by_host.setdefault((row["unit_id"], row["hostname"]), record)

    def _merge_field(self, record: DeviceRecord, name: str, value: Any, o: ObservedDevice) -> bool:
        """Whether the field took the observation's value (the caller records who said it)."""
        row = record.row
        said = row["provenance"].get(name)
        if not _outranks(o, said):
            return False
        if said is not None and said["method"] == o.method and row[name] == value:
            return False  # the same source saying the same again: nothing to record
        if name == "serial" and value and self.by_serial.get(value, record) is not record:
            owner = self.by_serial[value].id
            if o.method == "manual":
                raise Conflict(Reason("serial %(serial)s is already device %(id)s's", serial=value, id=owner),
                               field="serial")
            # Another device already carries this serial: the observation matched this one by MAC or
            # name, so one of the two records is wrong. Keep both as they are and say so.
            log.warning("serial %s observed on device %s is already device %s's; not moved", value, record.id, owner)
            return False
        row[name] = value
        return True


def firmware_version(firmware: str | None) -> str | None:
    """The version inside the firmware text, as `inventory.versions` compares it; None without one."""
    return normalise_version(firmware) if firmware else None


def _merge_spec(row: dict[str, Any], key: str, value: Any, o: ObservedDevice) -> bool:
    said = row["provenance"].get(f"specs.{key}")
    if value is None or not _outranks(o, said):
        return False
    if said is not None and said["method"] == o.method and row["specs"].get(key) == value:
        return False
    row["specs"] = {**row["specs"], key: value}
    return True


def _withdraw_stale_companions(row: dict[str, Any], before: Mapping[str, Any], o: ObservedDevice) -> None:
    """An observation that changes a spec (Windows 10 Pro to Windows 11 Pro) and says nothing of its companions
    (the version 22H2) leaves them describing what was there before: those it outranks go, and the history
    shows them going. Restating a value unchanged withdraws nothing."""
    changed = {key for key in o.specs if before.get(key) is not None and before.get(key) != row["specs"].get(key)}
    stale = {key for group in COMPANIONS if group & changed for key in group - o.specs.keys()
             if key in row["specs"] and _outranks(o, row["provenance"].get(f"specs.{key}"))}
    if stale:
        row["specs"] = {key: value for key, value in row["specs"].items() if key not in stale}
        withdrawn = {f"specs.{key}" for key in stale}
        row["provenance"] = {name: said for name, said in row["provenance"].items() if name not in withdrawn}


def _merge_interface(record: DeviceRecord, observed: ObservedInterface) -> None:
    existing = next((i for i in record.interfaces if observed.mac and i["mac"] == observed.mac), None) or \
        next((i for i in record.interfaces if observed.name and i["name"] == observed.name and
              (i["mac"] is None or observed.mac is None)), None)
    if existing is None:
        record.interfaces.append({"id": None, "device_id": record.id, "name": observed.name, "mac": observed.mac,
                                  "ips": list(observed.ips), "speed_mbps": observed.speed_mbps})
        return
    if observed.name and existing["name"] != observed.name:
        existing["name"] = observed.name
    if observed.mac and existing["mac"] != observed.mac:
        existing["mac"] = observed.mac
    if observed.ips and set(observed.ips) - set(existing["ips"]):
        existing["ips"] = list(dict.fromkeys([*existing["ips"], *observed.ips]))
    if observed.speed_mbps is not None and existing["speed_mbps"] != observed.speed_mbps:
        existing["speed_mbps"] = observed.speed_mbps


def snapshot(record: DeviceRecord) -> dict[str, Any]:
    """The tracked values, specs and interfaces of a record, as its history stores them."""
    values = {name: json_value(record.row[name]) for name in TRACKED}
    values.update({f"specs.{k}": v for k, v in (record.row["specs"] or {}).items()})
    values["interfaces"] = _interface_list(record.interfaces)
    return values


def changes(record: DeviceRecord) -> dict[str, tuple[Any, Any]]:
    """(old, new) of each tracked field, spec and of the interfaces the batch changed in a stored device.

    From the columns that differ: a snapshot of every field of every device would cost more than the
    rest of the history."""
    old_row, new_row = record.stored_row, record.row
    found = {name: (json_value(old_row[name]), json_value(new_row[name]))
             for name in TRACKED if old_row[name] != new_row[name]}
    old_specs, new_specs = old_row["specs"] or {}, new_row["specs"] or {}
    found.update({f"specs.{key}": (old_specs.get(key), new_specs.get(key))
                  for key in old_specs.keys() | new_specs.keys() if old_specs.get(key) != new_specs.get(key)})
    if record.new_interfaces() or record.changed_interfaces():
        old_interfaces = _interface_list(record.stored_interfaces.values())
        new_interfaces = _interface_list(record.interfaces)
        if old_interfaces != new_interfaces:
            found["interfaces"] = (old_interfaces, new_interfaces)
    return found


def _interface_list(interfaces: Iterable[dict[str, Any]]) -> list[list[Any]]:
    """Interfaces in a fixed order, whatever order they were stored in, as JSON has them."""
    return [list(i) for i in sorted((i["mac"] or "", i["name"] or "", tuple(i["ips"] or ()), i["speed_mbps"] or 0)
                                    for i in interfaces)]


def _outranks(o: ObservedDevice, current: dict[str, Any] | None) -> bool:
    if current is None:
        return True
    rank, current_rank = METHOD_RANK[o.method], METHOD_RANK.get(current["method"], 0)
    # Compared as times: ISO text orders alike only while every writer writes the same precision and no zone.
    return rank > current_rank or (rank == current_rank and o.observed_at >= as_utc(current["at"]))


def _said_by(o: ObservedDevice) -> dict[str, str]:
    return {"method": o.method, "source": o.source, "at": o.observed_at.isoformat()}
