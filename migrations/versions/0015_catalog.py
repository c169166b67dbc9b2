"""the catalog: versions with their categories, approved models, requirements, upgrade parts and norms, and
the compliance of each device under the version in force

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05

New tables only; compliance is filled when a version is published (`flask seed` publishes the example).
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('catalog_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('published_by', sa.String(length=100), nullable=True),
    sa.Column('based_on_id', sa.Integer(), nullable=True),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('is_example', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['based_on_id'], ['catalog_version.id'], name=op.f('fk_catalog_version_based_on_id_catalog_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_version')),
    sa.UniqueConstraint('name', name=op.f('uq_catalog_version_name'))
    )
    op.create_index('uq_catalog_version_published_effective_on', 'catalog_version', ['effective_on'], unique=True,
                    sqlite_where=sa.text('published_at IS NOT NULL'), postgresql_where=sa.text('published_at IS NOT NULL'))
    op.create_table('catalog_category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_vi', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('group', sa.Enum('terminal', 'network', name='categorygroup', native_enum=False, length=32), nullable=False),
    sa.Column('device_classes', sa.JSON(), nullable=False),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('wired', sa.Boolean(), nullable=False),
    sa.Column('service_life_years', sa.Integer(), nullable=True),
    sa.Column('wear_rate_percent', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('life_legal_basis', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['catalog_version.id'], name=op.f('fk_catalog_category_version_id_catalog_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_category')),
    sa.UniqueConstraint('version_id', 'code', name='uq_catalog_category_version_code')
    )
    with op.batch_alter_table('catalog_category', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_category_version_id'), ['version_id'], unique=False)

    op.create_table('approved_model',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('vendor', sa.String(length=100), nullable=False),
    sa.Column('model_pattern', sa.String(length=200), nullable=False),
    sa.Column('price_vnd', sa.BigInteger(), nullable=True),
    sa.Column('end_of_sale', sa.Date(), nullable=True),
    sa.Column('end_of_support', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['catalog_category.id'], name=op.f('fk_approved_model_category_id_catalog_category'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['catalog_version.id'], name=op.f('fk_approved_model_version_id_catalog_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approved_model'))
    )
    with op.batch_alter_table('approved_model', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approved_model_version_id'), ['version_id'], unique=False)

    op.create_table('catalog_requirement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('spec', sa.String(length=32), nullable=False),
    sa.Column('op', sa.String(length=16), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('severity', sa.Enum('required', 'recommended', name='severity', native_enum=False, length=32), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['catalog_category.id'], name=op.f('fk_catalog_requirement_category_id_catalog_category'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['catalog_version.id'], name=op.f('fk_catalog_requirement_version_id_catalog_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_requirement'))
    )
    with op.batch_alter_table('catalog_requirement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_requirement_version_id'), ['version_id'], unique=False)

    op.create_table('norm',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('unit_kinds', sa.JSON(), nullable=False),
    sa.Column('basis', sa.String(length=32), nullable=False),
    sa.Column('every', sa.Integer(), nullable=False),
    sa.Column('each', sa.Integer(), nullable=False),
    sa.Column('spare_percent', sa.Integer(), nullable=False),
    sa.Column('minimum', sa.Integer(), nullable=False),
    sa.Column('max_quantity', sa.Integer(), nullable=True),
    sa.Column('max_unit_price_vnd', sa.BigInteger(), nullable=True),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['catalog_category.id'], name=op.f('fk_norm_category_id_catalog_category'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['catalog_version.id'], name=op.f('fk_norm_version_id_catalog_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_norm')),
    sa.UniqueConstraint('version_id', 'code', name='uq_norm_version_code')
    )
    with op.batch_alter_table('norm', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_norm_version_id'), ['version_id'], unique=False)

    op.create_table('upgrade_part',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('raises', sa.JSON(), nullable=False),
    sa.Column('adds', sa.Boolean(), nullable=False),
    sa.Column('price_vnd', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['catalog_category.id'], name=op.f('fk_upgrade_part_category_id_catalog_category'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['catalog_version.id'], name=op.f('fk_upgrade_part_version_id_catalog_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_upgrade_part')),
    sa.UniqueConstraint('version_id', 'code', name='uq_upgrade_part_version_code')
    )
    with op.batch_alter_table('upgrade_part', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_upgrade_part_version_id'), ['version_id'], unique=False)

    op.create_table('compliance',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('category_code', sa.String(length=32), nullable=True),
    sa.Column('approved_model_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('end_of_support', 'past_service_life', 'below_spec', 'unapproved_model', 'end_of_sale', 'unknown', 'compliant', name='compliancestatus', native_enum=False, length=32), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('judged_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_compliance_device_id_device'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('device_id', name=op.f('pk_compliance'))
    )
    with op.batch_alter_table('compliance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compliance_category_code'), ['category_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_compliance_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('compliance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compliance_status'))
        batch_op.drop_index(batch_op.f('ix_compliance_category_code'))

    op.drop_table('compliance')
    with op.batch_alter_table('upgrade_part', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_upgrade_part_version_id'))

    op.drop_table('upgrade_part')
    with op.batch_alter_table('norm', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_norm_version_id'))

    op.drop_table('norm')
    with op.batch_alter_table('catalog_requirement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_requirement_version_id'))

    op.drop_table('catalog_requirement')
    with op.batch_alter_table('approved_model', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approved_model_version_id'))

    op.drop_table('approved_model')
    with op.batch_alter_table('catalog_category', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_category_version_id'))

    op.drop_table('catalog_category')
    op.drop_index('uq_catalog_version_published_effective_on', table_name='catalog_version')
    op.drop_table('catalog_version')
