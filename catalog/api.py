"""HTTP API of the catalog: versions and their content, norms per unit, and compliance.

Handlers are thin, as the inventory's are: the schema parses, a service acts in the request's session (and
records the change in the audit log), and the handler commits only when the service returned. Every write to
a sheet checks the whole version again (catalog.content.read_content), so that a category still used by a
model cannot go, and a refusal names every row and column at fault and stores nothing.

Rows are numbered as the sheet's spreadsheet numbers them: row 1 is the header, the first row is 2."""
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from catalog import compliance, content, reports, services
from catalog.cells import OP_SYMBOLS, OP_WORDS
from catalog.content import KEYS, SHEETS, CatalogRejected, numbered
from catalog.models import CatalogVersion
from catalog.schemas import (
    ROWS_MAX,
    CatalogRowSchema,
    ComplianceArgs,
    ComplianceDeviceArgs,
    DeviceComplianceSchema,
    DifferencesArgs,
    DifferencesSchema,
    InForceArgs,
    JudgedDevicePageSchema,
    NormArgs,
    RowKeyArgs,
    UnitComplianceSchema,
    UnitNormsSchema,
    VersionCreateSchema,
    VersionSchema,
    VersionUpdateSchema,
    explanations,
    row_key,
    row_problems,
)
from core.caller import caller_scope, current_caller
from core.db import request_session
from core.errors import InvalidInput, NotFound
from core.i18n import Reason
from core.jsonable import json_value
from core.permissions import Permission, requires
from inventory.transfer import RowProblem

catalog_blp = Blueprint("catalog", __name__, url_prefix="/api/catalog",
                        description="Catalog versions, categories, approved models, requirements, parts and norms")
compliance_blp = Blueprint("compliance", __name__, url_prefix="/api/compliance",
                           description="Compliance of devices with the catalog, and what the norms require of units")

VERSION = "/versions/<int(max=2147483647):version_id>"
SHEET = f"{VERSION}/<any({', '.join(SHEETS)}):sheet>"
REJECTED = "The rows were refused, nothing was stored; `details` lists every row, column and reason."


def _shown(session, versions: Iterable[CatalogVersion]) -> list[CatalogVersion]:
    """Each version with its status today (a transient attribute the schema reads)."""
    today = compliance.today()
    in_force = services.version_in_force(session, today)
    versions = list(versions)
    for version in versions:
        version.shown_status = services.version_status(version, today, in_force.id if in_force else None)
    return versions


def _one(session, version: CatalogVersion) -> CatalogVersion:
    return _shown(session, [version])[0]


@catalog_blp.route("/versions")
class Versions(MethodView):
    @requires(Permission.INVENTORY_READ)
    @catalog_blp.response(200, VersionSchema(many=True))
    def get(self):
        """Every catalog version, latest effective date first, with its status today and its rows per sheet."""
        session = request_session()
        return _shown(session, services.list_versions(session))

    @requires(Permission.CATALOG_MANAGE)
    @catalog_blp.arguments(VersionCreateSchema)
    @catalog_blp.response(201, VersionSchema)
    def post(self, args):
        """Create a draft, empty or as a copy of another version's content (`copy_of`)."""
        session = request_session()
        version = services.create_version(session, args, by=current_caller().name)
        session.commit()
        return _one(session, version)


@catalog_blp.route("/versions/in-force")
class VersionInForce(MethodView):
    @requires(Permission.INVENTORY_READ)
    @catalog_blp.arguments(InForceArgs, location="query")
    @catalog_blp.response(200, VersionSchema)
    def get(self, args):
        """The version in force on a day (`on`, default today): the latest published one effective by then."""
        session = request_session()
        return _one(session, services.version_or_in_force(session, None, args["on"] or compliance.today()))


@catalog_blp.route(VERSION)
class VersionById(MethodView):
    @requires(Permission.INVENTORY_READ)
    @catalog_blp.response(200, VersionSchema)
    def get(self, version_id):
        """One version."""
        session = request_session()
        return _one(session, services.get_version(session, version_id))

    @requires(Permission.CATALOG_MANAGE)
    @catalog_blp.arguments(VersionUpdateSchema)
    @catalog_blp.response(200, VersionSchema)
    def patch(self, args, version_id):
        """Rename a draft, or change its effective date, legal basis or note."""
        if not args:
            raise InvalidInput(Reason("nothing to change"), field="json")
        session = request_session()
        version = services.update_version(session, version_id, args, by=current_caller().name)
        session.commit()
        return _one(session, version)

    @requires(Permission.CATALOG_MANAGE)
    @catalog_blp.response(204)
    def delete(self, version_id):
        """Delete a draft and its content; a published version stays."""
        session = request_session()
        services.delete_version(session, version_id, by=current_caller().name)
        session.commit()


@catalog_blp.route(f"{VERSION}/publish")
class VersionPublish(MethodView):
    @requires(Permission.CATALOG_MANAGE)
    @catalog_blp.response(200, VersionSchema)
    def post(self, version_id):
        """Publish a draft: frozen from now, in force from its effective date. A version in force today judges
        every device at once. Refused when another published version takes effect on the same date (409), when
        it has no categories, or when devices in use would have no category under it (422)."""
        session = request_session()
        version = compliance.publish_and_judge(session, version_id, by=current_caller().name)
        session.commit()
        return _one(session, version)


@catalog_blp.route(f"{VERSION}/differences")
class VersionDifferences(MethodView):
    @requires(Permission.INVENTORY_READ)
    @catalog_blp.arguments(DifferencesArgs, location="query")
    @catalog_blp.response(200, DifferencesSchema)
    def get(self, args, version_id):
        """What changed from another version (`from`, default the one this was copied from) to this one, sheet
        by sheet: rows added and removed by key, and the cells changed as {before, after}."""
        session = request_session()
        version = services.get_version(session, version_id)
        other_id = args.get("from_id", version.based_on_id)
        if other_id is None:
            raise InvalidInput(Reason("%(name)s is not a copy of another version: say which version to compare "
                                      "it with, as ?from=<version id>", name=version.name), field="from")
        other = services.get_version(session, other_id)
        found = content.differences(services.load_content(other), services.load_content(version))
        return {"from_version": other, "to_version": version, "sheets": [
            {"sheet": d.sheet, "added": d.added, "removed": d.removed,
             "changed": [{"key": key, "cells": {column: {"before": json_value(before), "after": json_value(after)}
                                                for column, (before, after) in cells.items()}}
                         for key, cells in d.changed]} for d in found]}


@catalog_blp.route(SHEET)
class SheetRows(MethodView):
    @requires(Permission.INVENTORY_READ)
    @catalog_blp.response(200, CatalogRowSchema(many=True))
    def get(self, version_id, sheet):
        """A sheet's rows by column, as its CSV holds them (dates as YYYY-MM-DD); what a PUT takes back."""
        return _rows(services.get_version(request_session(), version_id), sheet)

    @requires(Permission.CATALOG_MANAGE)
    @catalog_blp.arguments(CatalogRowSchema(many=True))
    @catalog_blp.response(200, CatalogRowSchema(many=True))
    @catalog_blp.alt_response(422, description=REJECTED)
    def put(self, rows, version_id, sheet):
        """Replace a draft's whole sheet with these rows (the other sheets keep theirs). All or nothing: the
        version is checked as a whole, and every problem is reported."""
        return _write(version_id, sheet, lambda _current: rows)

    @requires(Permission.CATALOG_MANAGE)
    @catalog_blp.arguments(CatalogRowSchema)
    @catalog_blp.response(201, CatalogRowSchema(many=True))
    @catalog_blp.alt_response(422, description=REJECTED)
    def post(self, row, version_id, sheet):
        """Add one row to a draft's sheet; the answer is the sheet as stored."""
        return _write(version_id, sheet, lambda current: [*current, row])

    @requires(Permission.CATALOG_MANAGE)
    @catalog_blp.arguments(RowKeyArgs, location="query")
    @catalog_blp.response(200, CatalogRowSchema(many=True))
    @catalog_blp.alt_response(422, description=REJECTED)
    def delete(self, key, version_id, sheet):
        """Remove one row of a draft's sheet, named by its key in the query: `code` (categories, parts, norms),
        `vendor` and `model_pattern` (models), `category`, `spec` and `op` (requirements; op as the sheet shows
        it, >=, <=, = or in). Refused, naming the rows, when other rows still need it (a category's models)."""
        wanted = _wanted_key(sheet, key)

        def without(current: list[dict[str, Any]]) -> list[dict[str, Any]]:
            kept = [row for row in current if row_key(sheet, row) != wanted]
            if len(kept) == len(current):
                raise NotFound(Reason("the sheet %(sheet)s has no row %(key)s", sheet=sheet, key=" ".join(wanted)))
            return kept
        return _write(version_id, sheet, without)


def _rows(version: CatalogVersion, sheet: str) -> list[dict[str, Any]]:
    return [json_value(row) for row in services.sheet_rows(version, sheet)]


def _wanted_key(sheet: str, key: Mapping[str, str]) -> tuple[str, ...]:
    missing = [column for column in KEYS[sheet] if column not in key]
    if missing:
        raise InvalidInput(Reason("name the row to remove by %(columns)s", columns=", ".join(KEYS[sheet])),
                           field=missing[0])
    extra = sorted(set(key) - set(KEYS[sheet]))
    if extra:
        raise InvalidInput(Reason("a row of %(sheet)s is named by %(columns)s only", sheet=sheet,
                                  columns=", ".join(KEYS[sheet])), field=extra[0])
    if "op" in key:  # the sheet shows >=; at_least names the same operator
        key = {**key, "op": OP_SYMBOLS.get(OP_WORDS.get(key["op"], ""), key["op"])}
    return tuple(key[column] for column in KEYS[sheet])


def _write(version_id: int, sheet: str, rows_from: Callable[[list[dict[str, Any]]], list[Mapping[str, Any]]]
           ) -> list[dict[str, Any]]:
    """Replace a draft's sheet with `rows_from(its current rows)`, checked with the whole version; the rows as
    stored, or CatalogRejected with every problem (the JSON's own: unknown columns, cells that are not values,
    beside the sheets')."""
    session = request_session()
    version = services.get_version(session, version_id)
    current = _rows(version, sheet)
    # A published version: replace_content refuses it with its own message, whatever the rows.
    rows = numbered(current if version.published_at else rows_from(current))
    if len(rows) > ROWS_MAX:
        raise InvalidInput(Reason("a sheet takes at most %(most)s rows", most=ROWS_MAX), field="json")
    problems = row_problems(sheet, rows)
    refused = {(p.row, p.column.removeprefix(f"{sheet}.")) for p in problems}
    cells = [(number, {c: v for c, v in row.items() if (number, c) not in refused}) for number, row in rows]
    try:
        version = services.replace_content(session, version_id, {sheet: cells}, by=current_caller().name,
                                           source="edit")
    except CatalogRejected as rejected:
        # A cell refused here was left out of the rows read: its "a value is required" would say it twice.
        problems += [p for p in rejected.problems if p.column.partition(".")[0] != sheet
                     or (p.row, p.column.partition(".")[2]) not in refused]
    if problems:
        raise _rejected(problems)
    session.commit()
    session.expire(version)  # read back in the stored order (categories by rank)
    return _rows(version, sheet)


def _rejected(problems: Sequence[RowProblem]) -> CatalogRejected:
    """Every problem, sheet by sheet, row by row, in the sheet's columns' order; the input at fault is the
    request's JSON body (an import's is its file)."""
    sheets = list(SHEETS)

    def place(problem: RowProblem) -> tuple[int, int, int]:
        sheet, _, column = problem.column.partition(".")
        columns = SHEETS.get(sheet, ())
        return (sheets.index(sheet) if sheet in SHEETS else len(sheets), problem.row,
                columns.index(column) if column in columns else len(columns))
    rejected = CatalogRejected(sorted(problems, key=place))
    rejected.field = "json"
    return rejected


# ---- compliance -----------------------------------------------------------------------------------------------

@compliance_blp.route("/devices/<int(max=2147483647):device_id>")
class DeviceCompliance(MethodView):
    @requires(Permission.INVENTORY_READ)
    @compliance_blp.arguments(ComplianceArgs, location="query")
    @compliance_blp.response(200, DeviceComplianceSchema)
    def get(self, args, device_id):
        """A device's category, approved model, status, findings with their explanations, service life and
        wear, under the version in force (or `version`)."""
        return reports.device_compliance(request_session(), device_id, caller_scope(), version_id=args.get("version"))


@compliance_blp.route("/units/<string:code>")
class UnitCompliance(MethodView):
    @requires(Permission.INVENTORY_READ)
    @compliance_blp.arguments(ComplianceArgs, location="query")
    @compliance_blp.response(200, UnitComplianceSchema)
    def get(self, args, code):
        """Devices of a unit and the units below it, per category and status, with totals per status."""
        return reports.unit_compliance(request_session(), code, caller_scope(), version_id=args.get("version"))


@compliance_blp.route("/units/<string:code>/devices")
class UnitComplianceDevices(MethodView):
    @requires(Permission.INVENTORY_READ)
    @compliance_blp.arguments(ComplianceDeviceArgs, location="query")
    @compliance_blp.response(200, JudgedDevicePageSchema)
    def get(self, args, code):
        """The devices behind the counts, by id: filtered by status and category (`none`: without one)."""
        session = request_session()
        status = args.get("status")
        found, total = reports.compliance_devices(
            session, code, caller_scope(), status=status.value if status else None, category=args.get("category"),
            version_id=args.get("version"), page=args["page"], per_page=args["per_page"])
        items = [{"device": j.device, "category": j.category, "status": j.status, "findings": j.findings,
                  "explanations": explanations(j.findings, approved=j.model_id is not None)} for j in found]
        return {"total": total, "page": args["page"], "per_page": args["per_page"], "items": items}


@compliance_blp.route("/units/<string:code>/norms")
class UnitNorms(MethodView):
    @requires(Permission.INVENTORY_READ)
    @compliance_blp.arguments(NormArgs, location="query")
    @compliance_blp.response(200, UnitNormsSchema)
    def get(self, args, code):
        """What the norms of the version in force (or `version`) require of the unit on a day (`on`): each
        norm's quantity, the most the law allows, whether that cut it, and the totals per category."""
        return reports.unit_norms(request_session(), code, caller_scope(), version_id=args.get("version"),
                                  on=args["on"])
