"""inventory agents: enrolments (a unit's secret, hashed) and the agents that reported under them

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

New tables only.
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agent_enrolment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('keep_last_user', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_by', sa.String(length=100), nullable=True),
    sa.Column('last_contact_at', sa.DateTime(), nullable=True),
    sa.Column('inventories', sa.Integer(), nullable=False),
    sa.Column('refusals', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_agent_enrolment_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_enrolment')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_agent_enrolment_secret_hash'))
    )
    with op.batch_alter_table('agent_enrolment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_enrolment_unit_id'), ['unit_id'], unique=False)

    op.create_table('agent_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.String(length=255), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('agent_version', sa.String(length=64), nullable=True),
    sa.Column('first_contact_at', sa.DateTime(), nullable=False),
    sa.Column('last_contact_at', sa.DateTime(), nullable=False),
    sa.Column('inventories', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_agent_report_device_id_device')),
    sa.ForeignKeyConstraint(['enrolment_id'], ['agent_enrolment.id'],
                            name=op.f('fk_agent_report_enrolment_id_agent_enrolment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_report')),
    sa.UniqueConstraint('enrolment_id', 'agent_id', name=op.f('uq_agent_report_enrolment_id'))
    )
    with op.batch_alter_table('agent_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_report_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_report_enrolment_id'), ['enrolment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('agent_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_report_enrolment_id'))
        batch_op.drop_index(batch_op.f('ix_agent_report_device_id'))
    op.drop_table('agent_report')
    with op.batch_alter_table('agent_enrolment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_enrolment_unit_id'))
    op.drop_table('agent_enrolment')
