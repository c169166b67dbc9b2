"""Command line of the inventory agents: `flask agents import DIR --unit CODE` stores the inventory files that
`fusioninventory-agent --local DIR` or `fusioninventory-inventory` wrote at a unit without network access to the
server, as their agents' reports would be (the API and the agents page do the same)."""
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from agents import services
from core.errors import DomainError

agents_cli = AppGroup("agents", help="Inventory agents' enrolments and offline inventories.")
ACTOR = "command line"  # who the audit log says did it
PATTERNS = ("*.xml", "*.ocs", "*.xml.gz", "*.ocs.gz")  # what the agents write, plain or compressed


def register(app: Flask) -> None:
    app.cli.add_command(agents_cli)


@agents_cli.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--unit", "unit_code", required=True, help="The unit whose PCs the inventories describe.")
def import_directory(directory: Path, unit_code: str):
    """Store every inventory file in DIRECTORY (*.xml, *.ocs, plain or gzip) as the unit's; refused files are
    named with their reason and leave nothing behind."""
    paths = sorted({path for pattern in PATTERNS for path in directory.glob(pattern)})
    if not paths:
        raise click.ClickException(f"no inventory file ({', '.join(PATTERNS)}) in {directory}")
    try:
        with current_app.extensions["sessions"]() as session, session.begin(), \
                click.progressbar(paths, label="inventory files", show_pos=True) as shown:
            results = services.import_files(session, unit_code, ((path.name, path.read_bytes()) for path in shown),
                                            by=ACTOR, scope=None)
    except DomainError as error:
        raise click.ClickException(error.reason) from None
    for result in results:
        if result.refused:
            click.echo(f"{result.name}: refused: {result.refused}", err=True)
    stored = sum(1 for result in results if result.device_id)
    click.echo(f"{stored} of {len(results)} inventory files stored for unit {unit_code}")

