"""Command line of the plumbing: the schema (`flask db upgrade`) and secrets at rest (`flask secrets ...`)."""
import click
from flask import Flask

from core.audit import record
from core.db import migrate
from core.encryption import new_key, rotate_all


def register(app: Flask) -> None:
    db = click.Group("db", help="Database schema.")
    app.cli.add_command(db)

    @db.command("upgrade")
    def db_upgrade():
        """Apply the migrations the database lacks."""
        migrate(app.extensions["engine"])
        click.echo("database schema is current")

    secrets_group = click.Group("secrets", help="Secrets at rest.")
    app.cli.add_command(secrets_group)

    @secrets_group.command("rotate")
    def secrets_rotate():
        """Re-encrypt every stored secret with the first of SECRETS_KEYS (then the others can go)."""
        with app.extensions["sessions"]() as session, session.begin():
            count = rotate_all(session, app.extensions["secret_box"])
            record(session, "command line", "secrets.rotate", "secrets", detail=f"{count} values re-encrypted")
        click.echo(f"{count} secrets re-encrypted with the first key; older keys may now be removed")

    @secrets_group.command("new-key")
    def secrets_new_key():
        """Print a new key to put first in SECRETS_KEYS."""
        click.echo(new_key())
