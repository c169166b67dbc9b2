"""unit facts and networks: what the equipment norms count from, and which network a scope and a device are on

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08

A unit had its staff only. The catalog's norms count from more: of the staff, the leaders and the specialists;
the meeting rooms; the sites the unit works from; the pages of records still to digitise and their deadline;
and whether the unit must be on the dedicated secure network (mạng chuyên dùng). Existing units get the
defaults (none of each, one site, no deadline, not on the secure network) through server defaults, and keep
them there, as the models' defaults do for new rows.

A scan scope says which network it covers (`secure`, `internet` or `other`; existing scopes: `other`), and a
device records the network of the scope whose scan last saw it (`device.network`, NULL until a scan sees it):
the catalog counts a device as connected to the secure network from the device alone.
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def unit_facts() -> list[sa.Column]:
    """New each time: a column belongs to the one table it was added with (a downgrade and upgrade again, in
    one process, would add it twice)."""
    return [
        sa.Column('leader_count', sa.Integer(), server_default='0', nullable=False),
        sa.Column('specialist_count', sa.Integer(), server_default='0', nullable=False),
        sa.Column('meeting_rooms', sa.Integer(), server_default='0', nullable=False),
        sa.Column('sites', sa.Integer(), server_default='1', nullable=False),
        sa.Column('archive_pages', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('archive_deadline', sa.Date(), nullable=True),
        sa.Column('on_secure_network', sa.Boolean(), server_default=sa.false(), nullable=False),
    ]


def upgrade() -> None:
    # Plain ADD and DROP COLUMN, SQLite too (3.35 and later drop a column in place): batch mode would copy each
    # table, and with SQLite's foreign keys on, dropping the old `unit` or `scan_scope` would fail on the rows
    # that point to it or delete them (a scope's runs and targets cascade); the device's copy would lose its
    # search triggers.
    for column in unit_facts():
        op.add_column('unit', column)
    op.add_column('scan_scope', sa.Column('network', sa.Enum('secure', 'internet', 'other', name='scopenetwork',
                                                             native_enum=False, length=32),
                                          server_default='other', nullable=False))
    op.add_column('device', sa.Column('network', sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column('device', 'network')
    op.drop_column('scan_scope', 'network')
    for column in reversed(unit_facts()):
        op.drop_column('unit', column.name)
