"""compact provenance: a device's provenance grouped by who said it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

`device.provenance` was {field: {"method", "source", "at"}}, the same method, source and time repeated
for every field one observation said: three quarters of each device row. It becomes a list of
[method, source, at, [field, ...]] (`inventory.models.Provenance` reads and writes it as before). The
column stays JSON: only the values are rewritten. The conversions are copied here, not imported: a
migration must keep doing what it did whatever the code becomes.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

DEVICE = sa.table('device', sa.column('id', sa.Integer), sa.column('provenance', sa.JSON))


def upgrade() -> None:
    _rewrite(grouped_provenance)


def downgrade() -> None:
    _rewrite(provenance_by_field)


def grouped_provenance(by_field):
    groups = {}
    for name, said in by_field.items():
        groups.setdefault((said['method'], said['source'], said['at']), []).append(name)
    return [[*said, names] for said, names in groups.items()]


def provenance_by_field(groups):
    return {name: {'method': method, 'source': source, 'at': at}
            for method, source, at, names in groups for name in names}


def _rewrite(convert) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(DEVICE.c.id, DEVICE.c.provenance)).all()
    if rows:
        connection.execute(sa.update(DEVICE).where(DEVICE.c.id == sa.bindparam('b_id')),
                           [{'b_id': device_id, 'provenance': convert(provenance)} for device_id, provenance in rows])
