"""snmp credentials

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('snmp_credential',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Enum('v1', 'v2c', 'v3', name='snmpversion', native_enum=False, length=32), nullable=False),
    sa.Column('community_encrypted', sa.Text(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('auth_protocol', sa.Enum('none', 'md5', 'sha', 'sha224', 'sha256', 'sha384', 'sha512', name='authprotocol', native_enum=False, length=32), nullable=False),
    sa.Column('auth_key_encrypted', sa.Text(), nullable=True),
    sa.Column('priv_protocol', sa.Enum('none', 'des', 'aes128', 'aes192', 'aes256', name='privprotocol', native_enum=False, length=32), nullable=False),
    sa.Column('priv_key_encrypted', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_snmp_credential')),
    sa.UniqueConstraint('name', name=op.f('uq_snmp_credential_name'))
    )


def downgrade() -> None:
    op.drop_table('snmp_credential')
