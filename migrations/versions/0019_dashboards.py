"""dashboards: each unit's part of the headline figures beside its readiness, and the gaps, the devices'
lifecycle and the units' scan coverage as last recorded

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06

Rows recorded before this migration get zero parts: their days keep the city's figures in headline_figure,
and a subtree's figures start with the next recording.
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

PARTS = ('staff', 'secure_staff', 'ward', 'ward_vc', 'needs_scanners', 'scanners_ok')


def upgrade() -> None:
    with op.batch_alter_table('readiness_score', schema=None) as batch_op:
        for name in PARTS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default='0'))
    op.create_table('gap_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('category_code', sa.String(length=32), nullable=False),
    sa.Column('required', sa.Integer(), nullable=False),
    sa.Column('usable', sa.Integer(), nullable=False),
    sa.Column('shortfall', sa.Integer(), nullable=False),
    sa.Column('surplus', sa.Integer(), nullable=False),
    sa.Column('replacements', sa.Integer(), nullable=False),
    sa.Column('upgrades', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_gap_record_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gap_record')),
    sa.UniqueConstraint('unit_id', 'category_code', name=op.f('uq_gap_record_unit_id'))
    )
    op.create_table('lifecycle_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('category_code', sa.String(length=32), nullable=False),
    sa.Column('bought', sa.Date(), nullable=True),
    sa.Column('end_of_support', sa.Date(), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_lifecycle_record_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lifecycle_record'))
    )
    with op.batch_alter_table('lifecycle_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lifecycle_record_unit_id'), ['unit_id'], unique=False)
    op.create_table('coverage_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('last_seen', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_coverage_record_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coverage_record'))
    )
    with op.batch_alter_table('coverage_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coverage_record_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    op.drop_table('coverage_record')
    op.drop_table('lifecycle_record')
    op.drop_table('gap_record')
    with op.batch_alter_table('readiness_score', schema=None) as batch_op:
        for name in reversed(PARTS):
            batch_op.drop_column(name)
