"""scan scopes, their credentials, scan runs, SNMP targets and hosts found by sweeps

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scan_scope',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('networks', sa.Text(), nullable=False),
    sa.Column('exclusions', sa.Text(), nullable=False),
    sa.Column('snmp_port', sa.Integer(), nullable=False),
    sa.Column('methods', sa.String(length=32), nullable=False),
    sa.Column('schedule', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_scan_scope_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_scope')),
    sa.UniqueConstraint('name', name=op.f('uq_scan_scope_name'))
    )
    op.create_index(op.f('ix_scan_scope_unit_id'), 'scan_scope', ['unit_id'], unique=False)
    op.create_table('scope_credential',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('credential_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['credential_id'], ['snmp_credential.id'],
                            name=op.f('fk_scope_credential_credential_id_snmp_credential')),
    sa.ForeignKeyConstraint(['scope_id'], ['scan_scope.id'], name=op.f('fk_scope_credential_scope_id_scan_scope'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scope_credential')),
    sa.UniqueConstraint('scope_id', 'credential_id', name=op.f('uq_scope_credential_scope_id'))
    )
    op.create_index(op.f('ix_scope_credential_scope_id'), 'scope_credential', ['scope_id'], unique=False)
    op.create_table('scan_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.Enum('running', 'finished', 'failed', name='runstatus', native_enum=False, length=32),
              nullable=False),
    sa.Column('mode', sa.String(length=100), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('hosts_total', sa.Integer(), nullable=False),
    sa.Column('hosts_done', sa.Integer(), nullable=False),
    sa.Column('hosts_answered', sa.Integer(), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('missing', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['scope_id'], ['scan_scope.id'], name=op.f('fk_scan_run_scope_id_scan_scope'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_run'))
    )
    op.create_index(op.f('ix_scan_run_scope_id'), 'scan_run', ['scope_id'], unique=False)
    op.create_table('snmp_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=45), nullable=False),
    sa.Column('credential_id', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('ok', 'partial', 'failed', name='targetstatus', native_enum=False, length=32),
              nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('polled_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['credential_id'], ['snmp_credential.id'],
                            name=op.f('fk_snmp_target_credential_id_snmp_credential'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_snmp_target_device_id_device'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['scope_id'], ['scan_scope.id'], name=op.f('fk_snmp_target_scope_id_scan_scope'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_snmp_target')),
    sa.UniqueConstraint('scope_id', 'address', name=op.f('uq_snmp_target_scope_id'))
    )
    op.create_index(op.f('ix_snmp_target_scope_id'), 'snmp_target', ['scope_id'], unique=False)
    op.create_table('scan_host',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=45), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('last_seen', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_scan_host_device_id_device'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['scope_id'], ['scan_scope.id'], name=op.f('fk_scan_host_scope_id_scan_scope'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_host')),
    sa.UniqueConstraint('scope_id', 'address', name=op.f('uq_scan_host_scope_id'))
    )
    op.create_index(op.f('ix_scan_host_scope_id'), 'scan_host', ['scope_id'], unique=False)


def downgrade() -> None:
    op.drop_table('scan_host')
    op.drop_table('snmp_target')
    op.drop_table('scan_run')
    op.drop_table('scope_credential')
    op.drop_table('scan_scope')
