"""scans that run by themselves: queued runs (one active per scope), schedules paused, APScheduler's job
store, and collectors at sites with the batches they sent

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

A run is queued first and taken by a worker; the partial unique index on a scope's queued or running run
is the lock every process shares. Before it is built, a scope that somehow had two runs `running` keeps its
newest. APScheduler's table is created here with the schema APScheduler 3.11 gives it (its own start then
finds it).
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

ACTIVE = "status IN ('queued', 'running')"


def upgrade() -> None:
    op.create_table('collector',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('key_encrypted', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_by', sa.String(length=100), nullable=True),
    sa.Column('last_contact_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.String(length=50), nullable=False),
    sa.Column('backlog', sa.Integer(), nullable=False),
    sa.Column('clock_skew_s', sa.Float(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('batches', sa.Integer(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_collector_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collector')),
    sa.UniqueConstraint('name', name=op.f('uq_collector_name')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_collector_token_hash'))
    )
    op.create_index(op.f('ix_collector_unit_id'), 'collector', ['unit_id'], unique=False)

    # Batch mode copies each table on SQLite; migrations/env.py turns SQLite's foreign keys off meanwhile, so
    # that dropping the old scan_scope deletes none of the runs and targets that point to it.
    with op.batch_alter_table('scan_scope') as batch:
        batch.add_column(sa.Column('paused', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column('collector_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_scan_scope_collector_id'), ['collector_id'], unique=False)
        batch.create_foreign_key(batch.f('fk_scan_scope_collector_id_collector'), 'collector', ['collector_id'],
                                 ['id'], ondelete='SET NULL')
    with op.batch_alter_table('scan_run') as batch:
        batch.add_column(sa.Column('trigger', sa.Enum('manual', 'schedule', 'retry', 'collector', name='runtrigger',
                                                      native_enum=False, length=32),
                                   server_default='manual', nullable=False))
        batch.add_column(sa.Column('attempt', sa.Integer(), server_default='1', nullable=False))
        batch.add_column(sa.Column('retry_of', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('worker', sa.String(length=100), server_default='', nullable=False))
        batch.add_column(sa.Column('queued_at', sa.DateTime(), nullable=True))
        batch.create_foreign_key(batch.f('fk_scan_run_retry_of_scan_run'), 'scan_run', ['retry_of'], ['id'],
                                 ondelete='SET NULL')
    op.execute("UPDATE scan_run SET queued_at = started_at")
    op.execute("UPDATE scan_run SET status = 'failed' WHERE status = 'running' AND id NOT IN "
               "(SELECT newest FROM (SELECT MAX(id) AS newest FROM scan_run WHERE status = 'running' "
               "GROUP BY scope_id) AS active)")
    with op.batch_alter_table('scan_run') as batch:
        batch.alter_column('queued_at', existing_type=sa.DateTime(), nullable=False)
    op.create_index('uq_scan_run_active_scope', 'scan_run', ['scope_id'], unique=True,
                    sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))

    op.create_table('collector_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collector_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.String(length=64), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('accepted', 'rejected', name='batchstatus', native_enum=False, length=32),
              nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('observations', sa.Integer(), nullable=False),
    sa.Column('collected_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('body', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['collector_id'], ['collector.id'], name=op.f('fk_collector_batch_collector_id_collector'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['scan_run.id'], name=op.f('fk_collector_batch_run_id_scan_run'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['scope_id'], ['scan_scope.id'], name=op.f('fk_collector_batch_scope_id_scan_scope'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collector_batch')),
    sa.UniqueConstraint('collector_id', 'batch_id', name=op.f('uq_collector_batch_collector_id'))
    )
    op.create_index(op.f('ix_collector_batch_collector_id'), 'collector_batch', ['collector_id'], unique=False)
    op.create_index(op.f('ix_collector_batch_scope_id'), 'collector_batch', ['scope_id'], unique=False)

    op.create_table('apscheduler_jobs',
    sa.Column('id', sa.Unicode(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_apscheduler_jobs'))
    )
    op.create_index(op.f('ix_apscheduler_jobs_next_run_time'), 'apscheduler_jobs', ['next_run_time'], unique=False)


def downgrade() -> None:
    op.drop_table('apscheduler_jobs')
    op.drop_table('collector_batch')
    op.drop_index('uq_scan_run_active_scope', table_name='scan_run')
    with op.batch_alter_table('scan_run') as batch:
        batch.drop_constraint(batch.f('fk_scan_run_retry_of_scan_run'), type_='foreignkey')
        for column in ('queued_at', 'worker', 'retry_of', 'attempt', 'trigger'):
            batch.drop_column(column)
    with op.batch_alter_table('scan_scope') as batch:
        batch.drop_constraint(batch.f('fk_scan_scope_collector_id_collector'), type_='foreignkey')
        batch.drop_index(batch.f('ix_scan_scope_collector_id'))
        batch.drop_column('collector_id')
        batch.drop_column('paused')
    op.drop_index(op.f('ix_collector_unit_id'), table_name='collector')
    op.drop_table('collector')
