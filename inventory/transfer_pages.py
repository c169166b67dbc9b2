"""Imports and exports on pages: upload units or devices, read the dry run's report row by row, confirm;
download the column templates and a unit's devices.

An upload is always checked first: the same reading, limits, rules and merge as the API's import
(`transfer.check_file`, a dry run rolled back), in the same IMPORTS_AT_ONCE slot. A file that would import is
kept on the server for its uploader, so that confirming does not upload it again: one file per user, under the
instance folder (PENDING_IMPORTS_FOLDER), named by a random id, deleted on confirmation, when the user uploads
another, or after an hour. Confirming imports it through `transfer.import_file`, as the API does."""
import datetime as dt
import json
import logging
import re
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from marshmallow import ValidationError

from core.caller import caller_scope, current_caller
from core.cells import cell_text
from core.db import request_session
from core.errors import DomainError, InvalidInput, NotFound
from core.i18n import shown
from core.pages import day, field_errors, navigation, render_page, section
from core.permissions import Permission, requires
from inventory import transfer
from inventory.api import MEDIA_TYPES
from inventory.labels import DEVICE_CLASSES, UNIT_KINDS, label
from inventory.models import Unit
from inventory.schemas import ExportArgs
from inventory.tables import table_limits
from inventory.units import list_units

log = logging.getLogger(__name__)
blp = Blueprint("transfer_pages", __name__, template_folder="templates")
navigation(blp, "transfer_pages.imports", _l("Imports and exports"), Permission.INVENTORY_READ, order=40)

KEPT_S = 3600  # an upload waits this long for its confirmation
UPLOAD_ID = re.compile(r"^(\d{1,10})-[A-Za-z0-9_-]{32}$")  # <user id>-<random>
SHOWN_PROBLEMS = 1000  # a report lists this many problems, and counts the rest
SHOWN_ROWS = 500
SHOWN_CELL = 200  # characters of a cell in a report
# The columns a report shows of each row: which unit or device it is (transfer's own names); a unit's facts too,
# those the file has, since they are what a units import changes.
SHOWN_COLUMNS = {"devices": ("unit_code", "device_class", "vendor", "model", "serial", "hostname"),
                 "units": transfer.UNIT_COLUMNS}
WRITE_PERMISSION = {"devices": Permission.INVENTORY_WRITE, "units": Permission.UNITS_MANAGE}
# The columns each import accepts, as transfer checks them: (required, allowed, prefix of the specifications).
ACCEPTED = {"devices": (transfer.DEVICE_HEADER["required"], transfer.DEVICE_HEADER["allowed"], transfer.SPEC_PREFIX),
            "units": (transfer.UNIT_HEADER["required"], transfer.UNIT_HEADER["allowed"], None)}
KIND_TITLES = {"devices": _l("Import devices"), "units": _l("Import units")}
OUTCOMES = {"create": _l("new"), "change": _l("changes the unit"), "unchanged": _l("unchanged")}
NOT_KEPT = _l("This upload is no longer kept (an hour at most, until it is imported or another file is uploaded); "
              "upload the file again.")


# ---- the page ------------------------------------------------------------------------------------------------

@blp.get("/imports")
@requires(Permission.INVENTORY_READ)
def imports():
    return _imports_page()


def _imports_page(status: int = 200, errors: dict[str, list[str]] | None = None,
                  export_errors: dict[str, list[str]] | None = None, export_values: dict[str, str] | None = None):
    caller = current_caller()
    units = list_units(request_session(), include_inactive=False, scope=caller_scope())
    return render_page(
        "inventory/transfer_imports.html", status=status, errors=errors or {}, export_errors=export_errors or {},
        export_values=export_values or {}, unit_options=[(u.code, f"{u.code} · {u.name}") for u in units],
        importable=[kind for kind in transfer.IMPORT_KINDS if caller.may(WRITE_PERMISSION[kind])],
        kind_titles=KIND_TITLES, accepted=ACCEPTED, breadcrumbs=[(_("Imports and exports"), None)])


# ---- checking an upload, and confirming it ------------------------------------------------------------------

@blp.post("/imports/devices")
@requires(Permission.INVENTORY_WRITE)
def check_devices():
    return _check("devices")


@blp.post("/imports/units")
@requires(Permission.UNITS_MANAGE)
def check_units():
    return _check("units")


def _check(kind: str):
    """The dry run of an uploaded file, as a report; a file that would import is kept for its confirmation."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _imports_page(422, errors={kind: [_("Choose a CSV or XLSX file to upload.")]})
    filename, content = upload.filename, upload.read()
    session = request_session()
    try:
        with transfer.one_import_at_a_time(current_app.extensions["import_slots"]):
            check = transfer.check_file(session, kind, filename, content, by=current_caller().name,
                                        limits=table_limits(current_app.config), scope=caller_scope())
            session.rollback()  # a dry run
    except DomainError as error:  # busy, unreadable, past a limit: said next to the file's field
        session.rollback()
        if error.field != "file":
            raise
        return _imports_page(error.status_code, errors={kind: [shown(error.reason)]})
    try:
        upload_id = _keep(kind, filename, content) if check.report is not None else None
    except (InvalidInput, OSError):  # the folder cannot be written (full, read-only): the path is the operator's
        log.error("pending imports: could not keep an upload in %s", _folder_path())
        return _imports_page(503, errors={kind: [_("The upload could not be kept for its confirmation; try "
                                                   "again later, or import it through the API.")]})
    return _report(check, upload_id)


@blp.post("/imports/devices/confirm")
@requires(Permission.INVENTORY_WRITE)
def confirm_devices():
    return _confirm("devices")


@blp.post("/imports/units/confirm")
@requires(Permission.UNITS_MANAGE)
def confirm_units():
    return _confirm("units")


def _confirm(kind: str):
    """Import the kept upload for real, as the API's import does (audited, committed), and forget it."""
    upload_id = request.form.get("upload", "")
    filename, content = _claim(upload_id, kind)  # a second click (or tab) finds it gone: imported once
    session = request_session()
    options = {"by": current_caller().name, "limits": table_limits(current_app.config), "scope": caller_scope()}
    with transfer.one_import_at_a_time(current_app.extensions["import_slots"]):
        try:
            report = transfer.import_file(session, kind, filename, content, dry_run=False, **options)
        except transfer.ImportRejected:  # the inventory changed since the check: its report, as it is now
            session.rollback()
            check = transfer.check_file(session, kind, filename, content, **options)
            session.rollback()
            return _report(check, None)
        session.commit()
    flash(_("%(file)s imported: %(rows)s rows, %(created)s created, %(changed)s changed, %(unchanged)s unchanged.",
            file=filename, rows=report.rows, created=report.created, changed=report.changed,
            unchanged=report.unchanged), "success")
    return redirect(url_for("transfer_pages.imports"))


def _report(check: transfer.ImportCheck, upload_id: str | None):
    columns = [c for c in SHOWN_COLUMNS[check.kind] if any(c in row.cells for row in check.rows[:SHOWN_ROWS])]
    return render_page(
        "inventory/transfer_report.html", status=200 if check.report is not None else 422, check=check,
        upload_id=upload_id, problems=check.problems[:SHOWN_PROBLEMS],
        more_problems=max(0, len(check.problems) - SHOWN_PROBLEMS), rows=check.rows[:SHOWN_ROWS],
        more_rows=max(0, len(check.rows) - SHOWN_ROWS), columns=columns, cell=_cell, outcome=_outcome,
        kind_titles=KIND_TITLES, accepted=ACCEPTED, errors={},
        breadcrumbs=[(_("Imports and exports"), url_for("transfer_pages.imports")),
                     (_("Check of %(file)s", file=check.filename), None)])


def _cell(row: transfer.RowOutcome, column: str) -> str:
    """A cell as the report shows it: a code as its label in the page's language, a date cell as its day, long
    text cut."""
    cell = row.cells.get(column)
    value = day(cell) if isinstance(cell, dt.date) else cell_text(cell)
    if column == "device_class" and value:
        value = label(DEVICE_CLASSES, value.lower())
    elif column == "kind" and value:
        value = label(UNIT_KINDS, value.lower())
    return value if len(value) <= SHOWN_CELL else value[:SHOWN_CELL] + "…"


def _outcome(row: transfer.RowOutcome) -> str:
    if row.outcome == "update":
        return _("updates device %(id)s", id=row.device_id)
    return str(OUTCOMES[row.outcome])


# ---- uploads kept for their confirmation ---------------------------------------------------------------------

def _folder_path() -> Path:
    return Path(current_app.config["PENDING_IMPORTS_FOLDER"] or Path(current_app.instance_path) / "pending-imports")


def _folder() -> Path:
    """The folder of kept uploads, the expired ones deleted."""
    folder = _folder_path()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for described in folder.glob("*.json"):  # an hour is all an upload waits
        try:
            expired = time.time() - described.stat().st_mtime > KEPT_S
        except FileNotFoundError:  # confirmed or swept by another request meanwhile
            continue
        if expired:
            _forget(described.stem)
    return folder


def _keep(kind: str, filename: str, content: bytes) -> str:
    """Keep the upload for the caller, in place of any they kept before; its id."""
    folder, user_id = _folder(), current_caller().user_id
    for earlier in folder.glob(f"{user_id}-*.json"):
        _forget(earlier.stem)
    upload_id = f"{user_id}-{secrets.token_urlsafe(24)}"
    transfer.write_atomically(folder / f"{upload_id}.upload", content)
    # The description last: an upload without one is never read, and is swept with the expired ones.
    transfer.write_atomically(folder / f"{upload_id}.json", json.dumps({"kind": kind, "filename": filename}).encode())
    return upload_id


def _claim(upload_id: str, kind: str) -> tuple[str, bytes]:
    """Take the caller's kept upload of `kind` out of the folder: its file name and content. Another user's, one
    of another kind, or one already taken (renaming is atomic: of two confirmations at once, one finds it) is
    not found."""
    match = UPLOAD_ID.fullmatch(upload_id)
    if match is None or int(match[1]) != current_caller().user_id:
        raise NotFound(str(NOT_KEPT), field="upload")
    folder = _folder()
    described, claimed = folder / f"{upload_id}.json", folder / f"{upload_id}.claimed"
    try:
        if json.loads(described.read_text()).get("kind") != kind:
            raise NotFound(str(NOT_KEPT), field="upload")  # left for the import of its own kind
        described.rename(claimed)
        filename = json.loads(claimed.read_text())["filename"]
        content = (folder / f"{upload_id}.upload").read_bytes()
    except (OSError, ValueError, KeyError):
        raise NotFound(str(NOT_KEPT), field="upload") from None
    finally:
        if claimed.exists():
            claimed.unlink(missing_ok=True)
            (folder / f"{upload_id}.upload").unlink(missing_ok=True)
    return filename, content


def _forget(upload_id: str) -> None:
    folder = _folder_path()
    for suffix in (".json", ".upload"):
        (folder / f"{upload_id}{suffix}").unlink(missing_ok=True)


# ---- downloads -----------------------------------------------------------------------------------------------

@blp.get("/imports/templates/<any(devices, units):kind>.<any(csv, xlsx):fmt>")
@requires(Permission.INVENTORY_READ)
def column_template(kind: str, fmt: str):
    """An empty sheet with the columns an import accepts."""
    return _download(transfer.column_template(kind, fmt), f"{kind}-template.{fmt}", fmt)


@blp.get("/imports/exports/<any(devices, units):kind>")
@requires(Permission.INVENTORY_READ)
def export(kind: str):
    """The caller's devices (of a unit and the units below it) or units, through the API's export."""
    given = {name: value for name in ("format", "unit") if (value := request.args.get(name, "").strip())}
    try:
        args = ExportArgs().load(given)
    except ValidationError as error:
        return _imports_page(422, export_errors=field_errors(error)[0], export_values=given)
    session, fmt = request_session(), args["format"]
    if kind == "devices":
        content = transfer.export_devices(session, unit_code=args.get("unit"), fmt=fmt, scope=caller_scope())
        name = f"devices-{args['unit']}.{fmt}" if args.get("unit") else f"devices.{fmt}"
    else:
        content, name = transfer.export_units(session, fmt=fmt, scope=caller_scope()), f"units.{fmt}"
    return _download(content, name, fmt)


def _download(content: bytes, name: str, fmt: str) -> Response:
    return Response(content, mimetype=MEDIA_TYPES[fmt], headers={"Content-Disposition": f"attachment; filename={name}"})


def unit_exports(unit: Unit, **_objects: Any) -> Markup:
    """The unit page's section: its devices (and those of the units below it) as a spreadsheet."""
    return Markup(render_template("inventory/transfer_unit_section.html", unit=unit))


section(blp, "unit", unit_exports, order=90)
