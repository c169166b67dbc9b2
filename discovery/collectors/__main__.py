"""`python -m discovery.collectors --server URL [--token T | env COLLECTOR_TOKEN] [--data-dir DIR]
[--backlog-max N] [--allowlist CIDRS] [--config-every S] [--snmp-timeout S] [--snmp-retries N] [--once]`:
the collector at a site (see discovery.collectors.client), without a Flask application. Logs go to stderr,
one line per run and per batch."""
import click

from discovery.collectors.commands import collector_options, run_collector


@click.command(help="A collector at a site: scans its assigned scopes and sends what it finds to the server.")
@collector_options
def main(**options):
    run_collector(**options)


if __name__ == "__main__":
    main(prog_name="python -m discovery.collectors")
