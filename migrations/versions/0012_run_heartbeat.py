"""scan runs' heartbeat: a run left `running` by a crash is failed once its worker has been silent too long

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05

A run is a thread of the process that started it; a crash or a restart left it `running` for ever, and
its scope could never be scanned again. `scan_run.heartbeat_at` is written at the start, at each progress
write and by a heartbeat thread while the run works; a run whose heartbeat is older than RUN_STALE_AFTER_S
is failed (`discovery.scans.fail_abandoned_runs`). Existing runs get their last known time, the end of a
finished run or the start of the others: a run still `running` from before this revision is failed at the
next start of the service or of a run of its scope.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('scan_run') as batch:
        batch.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE scan_run SET heartbeat_at = COALESCE(finished_at, started_at)")
    with op.batch_alter_table('scan_run') as batch:
        batch.alter_column('heartbeat_at', existing_type=sa.DateTime(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('scan_run') as batch:
        batch.drop_column('heartbeat_at')
