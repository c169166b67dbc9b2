"""Command line of the budget: `flask budget readiness` records every unit's readiness and the city's headline
figures for a day (today by default). The workers' scheduler also records them every night
(READINESS_RECORD_AT), as the dashboards read them."""
import datetime as dt

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from budget import scores
from core.daily import register_daily_task
from core.errors import DomainError

budget_cli = AppGroup("budget", help="Gaps, plans and readiness.")
ACTOR = "command line"  # who the audit log says did it
FIGURE_NAMES = {"secure_network_staff": "staff with a usable computer on the secure network",
                "wards_with_vc": "wards and communes with a working video-conference endpoint",
                "archive_scanners": "units with the scanners their archive digitisation needs"}


def register(app: Flask) -> None:
    app.cli.add_command(budget_cli)
    register_daily_task(app, "readiness", "READINESS_RECORD_AT",
                        lambda session, actor: scores.record_day(session, by=actor))


@budget_cli.command("readiness")
@click.option("--on", "day", type=click.DateTime(formats=["%Y-%m-%d"]), help="The day (YYYY-MM-DD); default today.")
def record_readiness(day: dt.datetime | None):
    """Record every active unit's readiness and the city's headline figures for the day, replacing that day's."""
    try:
        with current_app.extensions["sessions"]() as session, session.begin():
            count, figures = scores.record_day(session, day.date() if day else None, by=ACTOR)
    except DomainError as error:
        raise click.ClickException(error.reason) from None
    click.echo(f"readiness recorded for {count} units")
    for figure in figures:
        percent = "-" if figure.percent is None else f"{figure.percent}%"
        click.echo(f"{FIGURE_NAMES[figure.key]}: {figure.count} of {figure.out_of} ({percent})")
