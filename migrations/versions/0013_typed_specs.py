"""typed specs and firmware versions: device specs under the registry's names and types, device.firmware_version

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

Specs were stored as each source named and wrote them: SNMP's cpu_count, memory_mb and disk_gb, imports'
spec:ram_gb as text ("8 GB"), spec:cpu, ports... Every device's specs are read again through the registry
(inventory/specs.py) and stored under its names, typed (ram_gb 7.8, not memory_mb 7972), as every source now
writes them. Provenance follows: `specs.memory_mb` becomes `specs.ram_gb`, and a spec a value implies
(storage_kind from "512GB SSD") gets the provenance of that value.

Nothing is lost. A value the registry cannot read, or a name it does not know, leaves the specs and goes into
the device's history: an event of kind `spec_refused`, its field the spec as it was named (`specs.note`), its
old value the value, its detail the registry's reason. One spec named twice (memory_mb from a scan and
spec:ram_gb from an import) keeps the value the merge would have kept, the higher-ranked method's and then the
later one's; a different value under the other name goes into the history the same way, whole. A spec a value
only implies (the kind of "512GB SSD") gives way to one stated under its own name, as in the registry.

`device.firmware_version` is new: the version inside `firmware` (inventory/versions.py), filled here for
every device and from now on by ingestion whenever firmware is set.

The registry, the version reader and the provenance's stored form are the code's own, imported; the method
ranks are copied, as they were when this was written. Downgrade drops firmware_version and leaves the specs typed: the code before
this revision stored any name and value, these included.
"""
import datetime as dt
import json

import sqlalchemy as sa
from alembic import op

from core.time import as_utc
from inventory.merge import firmware_version
from inventory.models import grouped_provenance, provenance_by_field
from inventory.specs import SPECS, InvalidSpec, installed_ram_gb, parse_specs, spec_name

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

DEVICE = sa.table('device', sa.column('id', sa.Integer), sa.column('firmware', sa.String),
                  sa.column('firmware_version', sa.String), sa.column('specs', sa.JSON),
                  sa.column('provenance', sa.JSON))
EVENT = sa.table('device_event', sa.column('device_id', sa.Integer), sa.column('at', sa.DateTime),
                 sa.column('kind', sa.String), sa.column('field', sa.String), sa.column('old_value', sa.JSON),
                 sa.column('new_value', sa.JSON), sa.column('method', sa.String), sa.column('source', sa.String),
                 sa.column('detail', sa.Text))
# inventory/observations.py's METHOD_RANK when this was written: who wins when two names say one spec.
METHOD_RANK = {"manual": 50, "snmp": 40, "collector": 35, "import": 30, "nmap": 20, "fdb": 10, "arp": 10}
EARLIEST = dt.datetime.min


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite too): batch mode would copy the device table and drop its search triggers.
    op.add_column('device', sa.Column('firmware_version', sa.String(length=255), nullable=True))
    connection = op.get_bind()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    updates, events = [], []
    for device_id, firmware, specs, provenance in connection.execute(
            sa.select(DEVICE.c.id, DEVICE.c.firmware, DEVICE.c.specs, DEVICE.c.provenance).order_by(DEVICE.c.id)):
        by_field = provenance_by_field(provenance or [])
        typed, typed_by_field, refused = typed_specs(specs or {}, by_field)
        version = firmware_version(firmware)
        if version is None and _json(typed) == _json(specs or {}) and typed_by_field == by_field:
            continue  # already as the registry stores it (JSON text: 8.0 is not 8, nor 1 true)
        updates.append({'b_id': device_id, 'firmware_version': version, 'specs': typed,
                        'provenance': grouped_provenance(typed_by_field)})
        events += [{'device_id': device_id, 'at': now, 'kind': 'spec_refused', 'field': f'specs.{key}',
                    'old_value': value, 'new_value': None, 'method': 'migration', 'source': 'migration 0013',
                    'detail': reason} for key, value, reason in refused]
    if updates:
        connection.execute(sa.update(DEVICE).where(DEVICE.c.id == sa.bindparam('b_id')), updates)
    if events:
        connection.execute(sa.insert(EVENT), events)


def downgrade() -> None:
    op.drop_column('device', 'firmware_version')


def typed_specs(specs: dict, by_field: dict) -> tuple[dict, dict, list[tuple[str, object, str]]]:
    """(specs under the registry's names, provenance with those names, [(key, value, reason) not kept]).

    The registry's rule, across every key stored: a spec a key states beats one a key only implies. Among
    the keys stating one spec, the merge's order decides (higher-ranked method, then later); a key whose
    statement lost with another value is not kept, whole."""
    readings, refused = [], []
    for key in sorted(specs, key=lambda k: _said_rank(by_field.get(f'specs.{k}')), reverse=True):
        try:
            readings.append((key, spec_name(key), parse_specs(_as_installed({key: specs[key]}))))
        except InvalidSpec as error:
            refused.append((key, specs[key], error.reason))
    typed, said_by = {}, {}  # spec name -> value, and the key it came from
    kept = []
    for key, name, found in readings:
        if name not in found:
            continue  # a blank value states nothing
        if name in typed and typed[name] != found[name]:
            first = said_by[name]
            reason = f"{key}: {name} is given twice, as {first!r} and {key!r}; {first!r} is kept"
            refused.append((key, specs[key], reason))
            continue
        typed.setdefault(name, found[name])
        said_by.setdefault(name, key)
        kept.append((key, name, found))
    for key, name, found in kept:
        for other, value in found.items():
            if other not in typed:
                typed[other], said_by[other] = value, key
    typed = {name: typed[name] for name in SPECS if name in typed}
    provenance = {field: said for field, said in by_field.items() if not field.startswith('specs.')}
    provenance |= {f'specs.{name}': by_field[f'specs.{key}'] for name, key in said_by.items()
                   if f'specs.{key}' in by_field}
    return typed, provenance, refused


def _as_installed(spec: dict) -> dict:
    """SNMP's memory_mb was what the system can use; the registry's ram_gb is what is installed, as SNMP now
    stores it."""
    value = spec.get('memory_mb')
    return {'ram_gb': installed_ram_gb(value)} if isinstance(value, int | float) and value > 0 else spec


def _json(value) -> str:
    return json.dumps(value, sort_keys=True)


def _said_rank(said: dict | None) -> tuple[int, dt.datetime]:
    if said is None:
        return 0, EARLIEST
    return METHOD_RANK.get(said['method'], 0), as_utc(said['at'])


