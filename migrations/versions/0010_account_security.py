"""account security: sessions kept on the server, and the token that created a token

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

`user_session` holds each signed-in browser: the signed cookie carries a random key whose SHA-256 hash
is kept here, so that signing out ends the session for every copy of the cookie, and sessions have an
absolute lifetime and an idle timeout (`accounts.services.caller_for_session`). The address it was
opened from spares the user the per-account sign-in delays that failures elsewhere bring.

`user_account.session_version`, which a password change bumped to end the sessions signed before it, goes:
ending a user's `user_session` rows does that now (the cookies signed before this revision carry no key and
are refused: everyone signs in once more).

`api_token.parent_id` names the token that created a token: revoking a token revokes those it created.
Tokens made before this revision have none. Those made without an expiry get one: their creation plus
365 days, the default TOKEN_MAX_LIFETIME_DAYS (one older than that ends now); a token that never expires
is what the lifetimes exist to prevent. The downgrade keeps the expiries given.
"""
import datetime as dt

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# app.py's default TOKEN_MAX_LIFETIME_DAYS, copied: a migration must not change with the settings of the day.
TOKEN_MAX_LIFETIME = dt.timedelta(days=365)


def upgrade() -> None:
    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_user_session_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_user_session_key_hash'))
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)

    # Not a batch: copying user_account, which other tables reference, breaks their foreign keys on SQLite,
    # which has dropped a column in place since 3.35.
    op.drop_column('user_account', 'session_version')

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_api_token_parent_id_api_token'), 'api_token', ['parent_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_api_token_parent_id'), ['parent_id'], unique=False)
    _give_tokens_an_expiry()


def _give_tokens_an_expiry() -> None:
    """Computed in Python: SQLite and PostgreSQL add days to a time differently."""
    tokens = sa.table('api_token', sa.column('id', sa.Integer()), sa.column('created_at', sa.DateTime()),
                      sa.column('expires_at', sa.DateTime()))
    connection = op.get_bind()
    ends = [{'token_id': token_id, 'ends': created_at + TOKEN_MAX_LIFETIME} for token_id, created_at in
            connection.execute(sa.select(tokens.c.id, tokens.c.created_at).where(tokens.c.expires_at.is_(None)))]
    if ends:
        connection.execute(tokens.update().where(tokens.c.id == sa.bindparam('token_id'))
                           .values(expires_at=sa.bindparam('ends')), ends)


def downgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_parent_id'))
        batch_op.drop_constraint(batch_op.f('fk_api_token_parent_id_api_token'), type_='foreignkey')
        batch_op.drop_column('parent_id')

    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))

    op.drop_table('user_session')

    op.add_column('user_account', sa.Column('session_version', sa.Integer(), nullable=False, server_default='1'))
