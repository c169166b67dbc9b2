"""relocations to confirm: devices a scan saw in another unit than their own

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

Before, a scan that saw a device of unit W2 (by its serial or a MAC) from a scope of unit W1 moved the
device into W1 when its method outranked the one that had placed it. Now the device stays and a
relocation waits for an officer of W1 or an administrator (`inventory.relocations`).
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('relocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('from_unit_id', sa.Integer(), nullable=False),
    sa.Column('to_unit_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'confirmed', 'rejected', 'superseded', name='relocationstatus', native_enum=False,
                                length=32), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('first_seen', sa.DateTime(), nullable=False),
    sa.Column('last_seen', sa.DateTime(), nullable=False),
    sa.Column('sightings', sa.Integer(), nullable=False),
    sa.Column('seen', sa.JSON(), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_relocation_device_id_device')),
    sa.ForeignKeyConstraint(['from_unit_id'], ['unit.id'], name=op.f('fk_relocation_from_unit_id_unit')),
    sa.ForeignKeyConstraint(['to_unit_id'], ['unit.id'], name=op.f('fk_relocation_to_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relocation'))
    )
    op.create_index(op.f('ix_relocation_to_unit_id'), 'relocation', ['to_unit_id'], unique=False)
    op.create_index(op.f('ix_relocation_status'), 'relocation', ['status'], unique=False)
    op.create_index('ix_relocation_device_to_unit', 'relocation', ['device_id', 'to_unit_id', 'status'],
                    unique=False)
    # Existing runs raised none: the server default fills them.
    with op.batch_alter_table('scan_run') as batch:
        batch.add_column(sa.Column('relocations', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('scan_run') as batch:
        batch.drop_column('relocations')
    op.drop_table('relocation')
