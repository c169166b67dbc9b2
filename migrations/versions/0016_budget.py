"""the budget: officers' reviews of gaps, saved scenarios with their lines and approval, readiness per unit and
day, and the city's headline figures per day

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06

New tables only.
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('headline_figure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('out_of', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_headline_figure')),
    sa.UniqueConstraint('day', 'key', name=op.f('uq_headline_figure_day'))
    )
    with op.batch_alter_table('headline_figure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_headline_figure_day'), ['day'], unique=False)

    op.create_table('budget_scenario',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('targeted', 'blanket_age', 'standard_kit', name='scenariokind', native_enum=False, length=32), nullable=False),
    sa.Column('judged_on', sa.Date(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('transfers', sa.JSON(), nullable=False),
    sa.Column('excluded', sa.JSON(), nullable=False),
    sa.Column('total_vnd', sa.BigInteger(), nullable=False),
    sa.Column('funded_vnd', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('approved_by', sa.String(length=100), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('approval_comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_budget_scenario_unit_id_unit')),
    sa.ForeignKeyConstraint(['version_id'], ['catalog_version.id'], name=op.f('fk_budget_scenario_version_id_catalog_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_scenario'))
    )
    with op.batch_alter_table('budget_scenario', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_scenario_unit_id'), ['unit_id'], unique=False)

    op.create_table('gap_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('category_code', sa.String(length=32), nullable=False),
    sa.Column('state', sa.Enum('confirmed', 'disputed', 'upheld', 'withdrawn', name='reviewstate', native_enum=False, length=32), nullable=False),
    sa.Column('shortfall', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('reviewed_by', sa.String(length=100), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(), nullable=False),
    sa.Column('resolution', sa.Text(), nullable=False),
    sa.Column('resolved_by', sa.String(length=100), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_gap_review_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gap_review')),
    sa.UniqueConstraint('unit_id', 'category_code', name=op.f('uq_gap_review_unit_id'))
    )
    with op.batch_alter_table('gap_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gap_review_unit_id'), ['unit_id'], unique=False)

    op.create_table('readiness_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('required', sa.Integer(), nullable=False),
    sa.Column('covered', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_readiness_score_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_readiness_score')),
    sa.UniqueConstraint('unit_id', 'day', name=op.f('uq_readiness_score_unit_id'))
    )
    with op.batch_alter_table('readiness_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_readiness_score_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_readiness_score_unit_id'), ['unit_id'], unique=False)

    op.create_table('budget_scenario_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scenario_id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('model', sa.Text(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_vnd', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('norm', sa.Text(), nullable=True),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('device_ids', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['scenario_id'], ['budget_scenario.id'], name=op.f('fk_budget_scenario_line_scenario_id_budget_scenario'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_scenario_line'))
    )
    with op.batch_alter_table('budget_scenario_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_scenario_line_scenario_id'), ['scenario_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('budget_scenario_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_scenario_line_scenario_id'))

    op.drop_table('budget_scenario_line')
    with op.batch_alter_table('readiness_score', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_readiness_score_unit_id'))
        batch_op.drop_index(batch_op.f('ix_readiness_score_day'))

    op.drop_table('readiness_score')
    with op.batch_alter_table('gap_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gap_review_unit_id'))

    op.drop_table('gap_review')
    with op.batch_alter_table('budget_scenario', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_scenario_unit_id'))

    op.drop_table('budget_scenario')
    with op.batch_alter_table('headline_figure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_headline_figure_day'))

    op.drop_table('headline_figure')
