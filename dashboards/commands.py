"""Command line of the dashboards: `flask dashboards record` records the devices' lifecycle and the units' scan
coverage for today, as the workers do every night (READINESS_RECORD_AT, with the budget's readiness)."""
import click
from flask import Flask, current_app
from flask.cli import AppGroup

from core.daily import register_daily_task
from dashboards import records

dashboards_cli = AppGroup("dashboards", help="What the dashboards draw from.")
ACTOR = "command line"


def register(app: Flask) -> None:
    app.cli.add_command(dashboards_cli)
    register_daily_task(app, "dashboards", "READINESS_RECORD_AT", records.record_day)


@dashboards_cli.command("record")
def record():
    """Record the devices' lifecycle and the units' scan coverage for today, replacing the last record."""
    with current_app.extensions["sessions"]() as session, session.begin():
        rows = records.record_day(session, ACTOR)
    click.echo(f"dashboards: {rows} lifecycle and coverage counts recorded")
