"""Command line of the inventory: `flask export devices|units PATH`."""
from pathlib import Path

import click
from flask import Flask

from core.errors import DomainError
from inventory import transfer


def register(app: Flask) -> None:
    @app.cli.command("export")
    @click.argument("kind", type=click.Choice(["devices", "units"]))
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--unit", help="Only this unit and the units below it (devices).")
    def export(kind: str, path: Path, unit: str | None):
        """Export devices or units to PATH (.csv or .xlsx), whole or not at all."""
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in ("csv", "xlsx"):
            raise click.UsageError(f"{path}: the file name must end in .csv or .xlsx")
        with app.extensions["sessions"]() as session:
            content = (transfer.export_devices(session, unit_code=unit, fmt=fmt) if kind == "devices"
                       else transfer.export_units(session, fmt=fmt))
        try:
            transfer.write_atomically(path, content)
        except DomainError as error:
            raise click.ClickException(error.reason) from None
        click.echo(f"{kind} exported to {path} ({len(content)} bytes)")
