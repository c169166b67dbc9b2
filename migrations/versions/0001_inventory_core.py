"""inventory core: units, devices, interfaces, links, observations, history

Revision ID: 0001
Revises: 
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reorganisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('merge', 'split', name='reorganisationkind', native_enum=False, length=32), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('source_codes', sa.JSON(), nullable=False),
    sa.Column('target_codes', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reorganisation'))
    )
    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('city', 'agency', 'ward', 'commune', 'department', 'other', name='unitkind', native_enum=False, length=32), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('staff_count', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('successor_id', sa.Integer(), nullable=True),
    sa.Column('dissolved_on', sa.Date(), nullable=True),
    sa.Column('is_example', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['unit.id'], name=op.f('fk_unit_parent_id_unit')),
    sa.ForeignKeyConstraint(['successor_id'], ['unit.id'], name=op.f('fk_unit_successor_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit')),
    sa.UniqueConstraint('code', name=op.f('uq_unit_code'))
    )
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_parent_id'), ['parent_id'], unique=False)

    op.create_table('device',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('device_class', sa.Enum('switch', 'router', 'firewall', 'wireless', 'printer', 'scanner', 'ups', 'server', 'workstation', 'laptop', 'nas', 'camera', 'phone', 'video-conference', 'other', name='deviceclass', native_enum=False, length=32), nullable=False),
    sa.Column('vendor', sa.String(length=100), nullable=True),
    sa.Column('model', sa.String(length=200), nullable=True),
    sa.Column('serial', sa.String(length=64), nullable=True),
    sa.Column('hostname', sa.String(length=255), nullable=True),
    sa.Column('firmware', sa.String(length=255), nullable=True),
    sa.Column('os', sa.String(length=255), nullable=True),
    sa.Column('specs', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('in_use', 'spare', 'broken', 'retired', 'missing', name='devicestatus', native_enum=False, length=32), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('purchase_date', sa.Date(), nullable=True),
    sa.Column('purchase_price_vnd', sa.BigInteger(), nullable=True),
    sa.Column('warranty_end', sa.Date(), nullable=True),
    sa.Column('first_seen', sa.DateTime(), nullable=False),
    sa.Column('last_seen', sa.DateTime(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('provenance', sa.JSON(), nullable=False),
    sa.Column('scope_key', sa.String(length=64), nullable=True),
    sa.Column('missed_scans', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_device_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device')),
    sa.UniqueConstraint('serial', name=op.f('uq_device_serial'))
    )
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_device_class'), ['device_class'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_last_seen'), ['last_seen'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_scope_key'), ['scope_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_status'), ['status'], unique=False)
        batch_op.create_index('ix_device_hostname_unit', ['hostname', 'unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_vendor'), ['vendor'], unique=False)

    op.create_table('device_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=True),
    sa.Column('old_value', sa.JSON(), nullable=True),
    sa.Column('new_value', sa.JSON(), nullable=True),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_device_event_device_id_device')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_event'))
    )
    with op.batch_alter_table('device_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_event_device_id'), ['device_id'], unique=False)

    op.create_table('interface',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('mac', sa.String(length=17), nullable=True),
    sa.Column('ips', sa.JSON(), nullable=False),
    sa.Column('speed_mbps', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_interface_device_id_device')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interface'))
    )
    with op.batch_alter_table('interface', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interface_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interface_mac'), ['mac'], unique=False)

    op.create_table('link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('port', sa.String(length=100), nullable=False),
    sa.Column('remote_device_id', sa.Integer(), nullable=False),
    sa.Column('remote_port', sa.String(length=100), nullable=False),
    sa.Column('protocol', sa.String(length=16), nullable=False),
    sa.Column('first_seen', sa.DateTime(), nullable=False),
    sa.Column('last_seen', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_link_device_id_device')),
    sa.ForeignKeyConstraint(['remote_device_id'], ['device.id'], name=op.f('fk_link_remote_device_id_device')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link')),
    sa.UniqueConstraint('device_id', 'port', 'remote_device_id', 'remote_port', name='uq_link_ends')
    )
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_remote_device_id'), ['remote_device_id'], unique=False)

    op.create_table('observation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('observed_at', sa.DateTime(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_observation_device_id_device')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observation')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_observation_fingerprint'))
    )
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observation_device_id'), ['device_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observation_device_id'))

    op.drop_table('observation')
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_remote_device_id'))
        batch_op.drop_index(batch_op.f('ix_link_device_id'))

    op.drop_table('link')
    with op.batch_alter_table('interface', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interface_mac'))
        batch_op.drop_index(batch_op.f('ix_interface_device_id'))

    op.drop_table('interface')
    with op.batch_alter_table('device_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_event_device_id'))

    op.drop_table('device_event')
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_vendor'))
        batch_op.drop_index(batch_op.f('ix_device_unit_id'))
        batch_op.drop_index('ix_device_hostname_unit')
        batch_op.drop_index(batch_op.f('ix_device_status'))
        batch_op.drop_index(batch_op.f('ix_device_scope_key'))
        batch_op.drop_index(batch_op.f('ix_device_last_seen'))
        batch_op.drop_index(batch_op.f('ix_device_device_class'))

    op.drop_table('device')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_parent_id'))

    op.drop_table('unit')
    op.drop_table('reorganisation')
