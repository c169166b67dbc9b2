"""Command line of a collector at a site: `flask --app app collector run --server URL [--token T] ...`, the same
as `python -m discovery.collectors --server URL ...` (which needs no Flask application)."""
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask

from core.errors import DomainError
from discovery.allowlist import parse_targets
from discovery.collectors import client, wire
from discovery.collectors.backlog import DEFAULT_MAX_BATCHES
from discovery.snmp.poll import PollSettings


def collector_options(command: Callable) -> Callable:
    """The collector's options, shared by both commands."""
    options = [
        click.option("--server", required=True, metavar="URL", help="The server's base URL, e.g. https://readiness.example"),
        click.option("--token", envvar="COLLECTOR_TOKEN", required=True, metavar="TOKEN",
                     help="The collector's token, shown once when it was issued (or the environment's "
                          "COLLECTOR_TOKEN, which keeps it out of the process list)."),
        click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
                     default=Path(client.DEFAULT_DATA_DIR), show_default=True,
                     help="Where the backlog and the cached configuration are kept."),
        click.option("--backlog-max", type=click.IntRange(min=1), default=DEFAULT_MAX_BATCHES, show_default=True,
                     help="Batches kept while the server does not take them; past it, scans wait."),
        click.option("--allowlist", default=client.DEFAULT_ALLOWLIST, show_default=True, metavar="CIDRS",
                     help="The networks this collector may scan, whatever the server assigns."),
        click.option("--config-every", type=click.FloatRange(min=1), default=60.0, show_default=True, metavar="S",
                     help="Seconds between two fetches of the configuration."),
        click.option("--snmp-timeout", type=click.FloatRange(min=0.1, max=60), default=1.0, show_default=True,
                     metavar="S", help="Seconds an SNMP request waits for its answer (a slow link: more)."),
        click.option("--snmp-retries", type=click.IntRange(min=0, max=5), default=1, show_default=True,
                     help="Times an unanswered SNMP request is sent again."),
        click.option("--once", is_flag=True,
                     help="Scan every assigned scope once, send the backlog, and exit (tests, cron)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def run_collector(server: str, token: str, data_dir: Path, backlog_max: int, allowlist: str, config_every: float,
                  snmp_timeout: float, snmp_retries: int, once: bool) -> None:
    """Run the collector with these options; exits with its status (0, 1 failed, 3 the token refused)."""
    if not token.startswith(wire.TOKEN_PREFIX):
        raise click.BadParameter(f"a collector's token starts with {wire.TOKEN_PREFIX}", param_hint="--token")
    try:
        parse_targets(allowlist, field="allowlist")
    except DomainError as error:
        raise click.BadParameter(error.reason, param_hint="--allowlist") from None
    client.configure_logging()
    status = client.run(client.Options(server=server, token=token, data_dir=data_dir, backlog_max=backlog_max,
                                       allowlist=allowlist, config_every_s=config_every, once=once,
                                       poll=PollSettings(timeout=snmp_timeout, retries=snmp_retries)))
    raise SystemExit(status)


def register(app: Flask) -> None:
    group = click.Group("collector", help="A collector at a site: scans its assigned scopes and sends what it finds.")
    app.cli.add_command(group)

    @group.command("run")
    @collector_options
    def run(**options):
        """Run the collector: fetch its scopes from the server, scan them on their schedules, send the batches."""
        run_collector(**options)
