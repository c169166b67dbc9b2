"""Command line of accounts: `flask users password NAME`, and the first administrator that `flask seed`
creates."""
import secrets

import click
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Role, User
from accounts.services import create_user, find_user, update_user
from core.audit import record


def register(app: Flask) -> None:
    users = click.Group("users", help="Accounts.")
    app.cli.add_command(users)

    @users.command("password")
    @click.argument("username")
    @click.password_option()
    def users_password(username: str, password: str):
        """Set a user's password (ends their sessions)."""
        with app.extensions["sessions"]() as session, session.begin():
            user = find_user(session, username)
            update_user(session, user.id, {"password": password})
            record(session, "command line", "user.update", "user", user.id, detail="password changed")
        click.echo(f"password of {username} changed")


def create_first_admin(session: Session) -> str | None:
    """An administrator with a random password, once, in a database without accounts."""
    if session.scalars(select(User.id).limit(1)).first() is not None:
        return None
    password = secrets.token_urlsafe(12)
    create_user(session, "admin", "Administrator", password, Role.ADMIN)
    record(session, "command line", "user.create", "user", "admin", detail="first administrator")
    return password


def report_first_admin(password: str | None) -> None:
    if password:
        click.echo(f"first administrator: user name 'admin', password '{password}' (shown once; change it "
                   "after signing in, or set another with `flask --app app users password admin`)")
    else:
        click.echo("administrator: already created; `flask --app app users password admin` sets a new password")
