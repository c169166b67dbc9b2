"""Command line of the catalog: `flask catalog list|export|import|publish|recompute`."""
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from catalog import compliance, services, transfer
from catalog.content import SHEETS, CatalogRejected
from catalog.models import Compliance
from core.errors import DomainError
from inventory.tables import table_limits
from inventory.transfer import write_atomically

catalog_cli = AppGroup("catalog", help="The equipment catalog, its norms and the compliance of devices.")
ACTOR = "command line"  # who the audit log says did it


def register(app: Flask) -> None:
    app.cli.add_command(catalog_cli)


@catalog_cli.command("list")
def list_versions():
    """Every catalog version, the latest effective first, with its status today."""
    with _session() as session, session.begin():
        on = compliance.today()
        in_force = services.version_in_force(session, on)
        for version in services.list_versions(session):
            status = services.version_status(version, on, in_force.id if in_force else None)
            click.echo(f"{version.id}\t{version.name}\t{version.effective_on:%d/%m/%Y}\t{status}")


@catalog_cli.command("export")
@click.argument("version_id", type=int)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sheet", type=click.Choice(list(SHEETS)), help="Only this sheet (then PATH may end in .csv).")
def export(version_id: int, path: Path, sheet: str | None):
    """Export catalog version VERSION_ID to PATH: a workbook of all its sheets (.xlsx), or one sheet."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("xlsx", "csv") or (fmt == "csv" and sheet is None):
        raise click.UsageError(f"{path}: the file name must end in .xlsx (or .csv with --sheet)")
    try:
        with _session() as session, session.begin():
            version = services.get_version(session, version_id)
            content = transfer.export_version(version) if sheet is None else \
                transfer.export_sheet(version, sheet, fmt)
        write_atomically(path, content)
    except DomainError as error:
        raise click.ClickException(error.reason) from None
    click.echo(f"catalog version {version_id} exported to {path} ({len(content)} bytes)")


@catalog_cli.command("import")
@click.argument("version_id", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sheet", type=click.Choice(list(SHEETS)), help="The sheet a .csv file holds (a workbook: only "
                                                               "this sheet of it).")
def import_(version_id: int, path: Path, sheet: str | None):
    """Replace the sheets of draft VERSION_ID with those of PATH (.xlsx, or .csv with --sheet): all or nothing."""
    limits = table_limits(current_app.config)
    try:
        with _session() as session, session.begin():
            report = transfer.import_workbook(session, version_id, path.name, path.read_bytes(), by=ACTOR,
                                              limits=limits, sheet=sheet)
    except CatalogRejected as rejected:
        for problem in rejected.problems:
            click.echo(f"row {problem.row}, {problem.column}: {problem.reason}")
        raise click.ClickException(f"catalog version {version_id} is unchanged: "
                                   f"{len(rejected.problems)} problems") from None
    except DomainError as error:
        raise click.ClickException(error.reason) from None
    rows = ", ".join(f"{count} {name}" for name, count in report.rows.items())
    click.echo(f"catalog version {version_id} imported from {path.name}: {rows}")


@catalog_cli.command("publish")
@click.argument("version_id", type=int)
def publish(version_id: int):
    """Publish draft VERSION_ID; when that puts it in force today, judge every device under it."""
    try:
        with _session() as session, session.begin():
            version = compliance.publish_and_judge(session, version_id, by=ACTOR)
            on = compliance.today()
            in_force = services.version_in_force(session, on)
            status = services.version_status(version, on, in_force.id if in_force else None)
            judged = session.scalar(select(func.count()).select_from(Compliance)
                                    .where(Compliance.version_id == version.id))
            name, effective_on = version.name, version.effective_on
    except DomainError as error:
        raise click.ClickException(error.reason) from None
    if status == "in_force":
        click.echo(f"{name} published and in force: {judged} devices judged under it")
    else:
        click.echo(f"{name} published ({status}, effective {effective_on:%d/%m/%Y}): no device judged under it")


@catalog_cli.command("recompute")
def recompute():
    """Judge every device again under the version in force today."""
    with _session() as session, session.begin():
        judged = compliance.recompute_all(session)
        version = services.version_in_force(session, compliance.today())
        name = version.name if version else None
    if name is None:
        click.echo("no catalog version is in force today: no device judged")
    else:
        click.echo(f"{judged} devices judged under {name}")


def _session():
    return current_app.extensions["sessions"]()  # AppGroup's commands run in the application's context
