"""Devices that a scan saw in another unit than their own, kept as relocations to confirm.

Called by `inventory.ingest` inside the batch's transaction, through Core on its connection like the rest
of ingestion. Rare (a device carried elsewhere, a MAC leaking across networks), so plain statements."""
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from inventory.merge import Sighting
from inventory.models import DeviceEvent, Relocation, RelocationStatus, Unit

RELOCATION = Relocation.__table__
EVENT = DeviceEvent.__table__
UNIT = Unit.__table__
# A rejected relocation stays the answer for its device and unit while the device is where it was: the
# scans that go on seeing it there are counted on it instead of asking again at every scan. Once the device
# has moved elsewhere, a sighting asks anew.
OPEN = (RelocationStatus.PENDING, RelocationStatus.REJECTED)


def record_sightings(connection: Connection, sightings: Sequence[Sighting]) -> list[int]:
    """Count each sighting on the open relocation of its device and unit, or raise a new one (with an
    event in the device's history); the ids of the relocations raised. Seeing a batch again changes
    nothing: only sightings later than the relocation's last one count."""
    if not sightings:
        return []
    by_pair: dict[tuple[int, int], list[Sighting]] = {}
    for sighting in sorted(sightings, key=lambda s: s.at):
        by_pair.setdefault((sighting.record.id, sighting.unit_id), []).append(sighting)
    known = _open_relocations(connection, {s.record.id: s.record.row["unit_id"] for s in sightings})
    raised = []
    for pair, seen in by_pair.items():
        relocation = known.get(pair)
        if relocation is None:
            raised.append(_raise(connection, seen))
        else:
            _count(connection, relocation, seen)
    return raised


def _open_relocations(connection: Connection, unit_of: dict[int, int]) -> dict[tuple[int, int], Any]:
    """The open relocation of each (device, unit that saw it), the latest; `unit_of`: each device's unit."""
    rows = connection.execute(select(RELOCATION.c.id, RELOCATION.c.device_id, RELOCATION.c.to_unit_id,
                                     RELOCATION.c.from_unit_id, RELOCATION.c.last_seen, RELOCATION.c.sightings)
                              .where(RELOCATION.c.device_id.in_(unit_of), RELOCATION.c.status.in_(OPEN))
                              .order_by(RELOCATION.c.id))
    return {(row.device_id, row.to_unit_id): row for row in rows if row.from_unit_id == unit_of[row.device_id]}


def _raise(connection: Connection, seen: Sequence[Sighting]) -> int:
    first, last = seen[0], seen[-1]
    device = first.record.row
    relocation_id = connection.execute(insert(RELOCATION).returning(RELOCATION.c.id), {
        "device_id": device["id"], "from_unit_id": device["unit_id"], "to_unit_id": first.unit_id,
        "status": RelocationStatus.PENDING, "method": last.method, "source": last.source,
        "first_seen": first.at, "last_seen": last.at, "sightings": len(seen), "seen": last.seen,
        "note": ""}).scalar_one()
    codes = dict(connection.execute(select(UNIT.c.id, UNIT.c.code)
                                    .where(UNIT.c.id.in_([device["unit_id"], first.unit_id]))).all())
    from_code, to_code = codes[device["unit_id"]], codes[first.unit_id]
    connection.execute(insert(EVENT), {  # unit ids as the history of a move keeps them, codes in the detail
        "device_id": device["id"], "at": first.at, "kind": "sighted", "field": "unit_id",
        "old_value": device["unit_id"], "new_value": first.unit_id, "method": first.method, "source": first.source,
        "detail": f"seen in {to_code} by {first.method} ({first.source or 'no source'}); stays in {from_code} "
                  f"until an officer of {to_code} or an administrator confirms relocation {relocation_id}"})
    return relocation_id


def _count(connection: Connection, relocation: Any, seen: Sequence[Sighting]) -> None:
    later = [s for s in seen if s.at > relocation.last_seen]
    if later:
        connection.execute(update(RELOCATION).where(RELOCATION.c.id == relocation.id).values(
            last_seen=later[-1].at, sightings=relocation.sightings + len(later), method=later[-1].method,
            source=later[-1].source, seen=later[-1].seen))
