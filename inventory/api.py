"""HTTP API of the inventory: units and reorganisations, devices and history, import and export.

Handlers are thin: the schema parses, a service acts in the request's session within the caller's
unit scope, the change is audited, and the handler commits only when the service returned; any
error leaves the session uncommitted and the teardown discards it."""
from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from core.audit import audit
from core.caller import caller_scope, current_caller
from core.db import request_session
from core.errors import InvalidInput
from core.i18n import Reason
from core.permissions import Permission, requires
from inventory import devices, relocations, transfer, units
from inventory.observations import ObservedInterface
from inventory.schemas import (
    DeviceCreateSchema,
    DeviceListArgs,
    DevicePageSchema,
    DeviceSchema,
    DeviceWriteSchema,
    ExportArgs,
    HistoryPageSchema,
    ImportArgs,
    ImportFileSchema,
    ImportReportSchema,
    LinkSchema,
    MergeSchema,
    MoveDeviceSchema,
    PageArgs,
    RelocationDecisionSchema,
    RelocationListArgs,
    RelocationPageSchema,
    RelocationSchema,
    ReorganisationSchema,
    SplitSchema,
    UnitCreateSchema,
    UnitListArgs,
    UnitSchema,
    UnitTreeSchema,
    UnitUpdateSchema,
)
from inventory.tables import table_limits

units_blp = Blueprint("units", __name__, url_prefix="/api/units", description="The organisation tree")
devices_blp = Blueprint("devices", __name__, url_prefix="/api/devices", description="Devices and their history")
transfer_blp = Blueprint("transfer", __name__, url_prefix="/api", description="Import and export")


@units_blp.route("")
class Units(MethodView):
    @requires(Permission.INVENTORY_READ)
    @units_blp.arguments(UnitListArgs, location="query")
    @units_blp.response(200, UnitSchema(many=True))
    def get(self, args):
        """List units, inactive (merged or split) ones included unless asked otherwise."""
        return units.list_units(request_session(), include_inactive=args["include_inactive"], scope=caller_scope())

    @requires(Permission.UNITS_MANAGE)
    @units_blp.arguments(UnitCreateSchema)
    @units_blp.response(201, UnitSchema)
    def post(self, args):
        """Create a unit."""
        session = request_session()
        unit = units.create_unit_audited(session, args, by=current_caller().name)
        session.commit()
        return unit


@units_blp.route("/tree")
class UnitTree(MethodView):
    @requires(Permission.INVENTORY_READ)
    @units_blp.response(200, UnitTreeSchema(many=True))
    def get(self):
        """The active organisation as a tree, from its roots (for a unit officer, from their units)."""
        scope = caller_scope()
        visible = units.list_units(request_session(), include_inactive=False, scope=scope)
        return [u for u in visible if u.parent is None or (scope is not None and u.parent_id not in scope)]


@units_blp.route("/<string:code>")
class UnitByCode(MethodView):
    @requires(Permission.INVENTORY_READ)
    @units_blp.response(200, UnitSchema)
    def get(self, code):
        """One unit."""
        return units.unit_in_scope(request_session(), code, caller_scope(), field="code")

    @requires(Permission.UNITS_MANAGE)
    @units_blp.arguments(UnitUpdateSchema)
    @units_blp.response(200, UnitSchema)
    def patch(self, args, code):
        """Rename, re-count or move a unit in the tree."""
        session = request_session()
        unit = units.update_unit_audited(session, code, args, by=current_caller().name)
        session.commit()
        return unit


@units_blp.route("/merge")
class UnitMerge(MethodView):
    @requires(Permission.UNITS_MANAGE)
    @units_blp.arguments(MergeSchema)
    @units_blp.response(201, ReorganisationSchema)
    def post(self, args):
        """Merge units into an existing or a new unit; their devices and sub-units move there."""
        session = request_session()
        record = units.merge_units_audited(session, args, by=current_caller().name)
        session.commit()
        return record


@units_blp.route("/<string:code>/split")
class UnitSplit(MethodView):
    @requires(Permission.UNITS_MANAGE)
    @units_blp.arguments(SplitSchema)
    @units_blp.response(201, ReorganisationSchema)
    def post(self, args, code):
        """Split a unit into new units; devices go where `device_targets` says, the rest to the first."""
        session = request_session()
        record = units.split_unit_audited(session, code, args, by=current_caller().name)
        session.commit()
        return record


@devices_blp.route("")
class Devices(MethodView):
    @requires(Permission.INVENTORY_READ)
    @devices_blp.arguments(DeviceListArgs, location="query")
    @devices_blp.response(200, DevicePageSchema)
    def get(self, args):
        """Find devices: by unit (with the units below it), class, status, vendor or free text."""
        wanted = devices.DeviceFilter(unit_code=args.get("unit"), device_class=args.get("device_class"),
                                      status=args.get("status"), vendor=args.get("vendor"), text=args.get("q"),
                                      unit_ids=caller_scope())
        sort = args["sort"]
        return devices.list_devices(request_session(), wanted, sort=sort.lstrip("-"),
                                    descending=sort.startswith("-"), page=args["page"],
                                    page_size=args["page_size"])

    @requires(Permission.INVENTORY_WRITE)
    @devices_blp.arguments(DeviceCreateSchema)
    @devices_blp.response(201, DeviceSchema)
    def post(self, args):
        """Record a device by hand; a known serial or MAC merges into that device."""
        session = request_session()
        unit_code = args.pop("unit_code")
        interfaces = [ObservedInterface(name=i.get("name"), mac=i.get("mac"), ips=tuple(i.get("ips", ())),
                                        speed_mbps=i.get("speed_mbps")) for i in args.pop("interfaces")]
        specs = args.pop("specs", None)
        device = devices.record_device(session, unit_code, args, by=current_caller().name, scope=caller_scope(),
                                       specs=specs, interfaces=interfaces)
        audit("device.record", "device", device.id, after=devices.device_summary(device))
        session.commit()
        return device


@devices_blp.route("/<int(max=2147483647):device_id>")
class DeviceById(MethodView):
    @requires(Permission.INVENTORY_READ)
    @devices_blp.response(200, DeviceSchema)
    def get(self, device_id):
        """One device with its interfaces and the source of every field."""
        return devices.get_device(request_session(), device_id, caller_scope())

    @requires(Permission.INVENTORY_WRITE)
    @devices_blp.arguments(DeviceWriteSchema)
    @devices_blp.response(200, DeviceSchema)
    def patch(self, args, device_id):
        """Correct a device's fields by hand; the change is kept in its history."""
        if not args:
            raise InvalidInput(Reason("nothing to change"), field="json")
        session = request_session()
        device = devices.edit_device(session, device_id, args, by=current_caller().name, scope=caller_scope())
        session.commit()
        return device


@devices_blp.route("/<int(max=2147483647):device_id>/unit")
class DeviceUnit(MethodView):
    @requires(Permission.INVENTORY_WRITE)
    @devices_blp.arguments(MoveDeviceSchema)
    @devices_blp.response(200, DeviceSchema)
    def put(self, args, device_id):
        """Move a device to another unit."""
        session = request_session()
        device = devices.reassign_device(session, device_id, args["unit_code"], by=current_caller().name,
                                         scope=caller_scope())
        session.commit()
        return device


@devices_blp.route("/<int(max=2147483647):device_id>/history")
class DeviceHistory(MethodView):
    @requires(Permission.INVENTORY_READ)
    @devices_blp.arguments(PageArgs, location="query")
    @devices_blp.response(200, HistoryPageSchema)
    def get(self, args, device_id):
        """What changed on a device, newest first."""
        return devices.device_history(request_session(), device_id, scope=caller_scope(), page=args["page"],
                                      page_size=args["page_size"])


@devices_blp.route("/<int(max=2147483647):device_id>/links")
class DeviceLinks(MethodView):
    @requires(Permission.INVENTORY_READ)
    @devices_blp.response(200, LinkSchema(many=True))
    def get(self, device_id):
        """The device's neighbours, either end."""
        return devices.device_links(request_session(), device_id, caller_scope())


@transfer_blp.route("/imports/devices")
class DeviceImport(MethodView):
    @requires(Permission.INVENTORY_WRITE)
    @transfer_blp.arguments(ImportArgs, location="query")
    @transfer_blp.arguments(ImportFileSchema, location="files")
    @transfer_blp.response(200, ImportReportSchema)
    @transfer_blp.alt_response(422, description="The file was rejected; `details` lists row, column and reason.")
    def post(self, args, files):
        """Import devices from a CSV or XLSX file: all rows or none, with every rejected row reported."""
        return _run_import("devices", files["file"], args["dry_run"])


@transfer_blp.route("/imports/units")
class UnitImport(MethodView):
    @requires(Permission.UNITS_MANAGE)
    @transfer_blp.arguments(ImportArgs, location="query")
    @transfer_blp.arguments(ImportFileSchema, location="files")
    @transfer_blp.response(200, ImportReportSchema)
    @transfer_blp.alt_response(422, description="The file was rejected; `details` lists row, column and reason.")
    def post(self, args, files):
        """Import units from a CSV or XLSX file: new codes are created, known ones updated."""
        return _run_import("units", files["file"], args["dry_run"])


def _run_import(kind: str, upload, dry_run: bool) -> transfer.ImportReport:
    """One import at a time (IMPORTS_AT_ONCE); a dry run reports and rolls back, a real one is audited and
    committed. The imports page confirms through the same `transfer.import_file`."""
    session = request_session()
    with transfer.one_import_at_a_time(current_app.extensions["import_slots"]):
        report = transfer.import_file(session, kind, upload.filename or "", upload.read(), by=current_caller().name,
                                      limits=table_limits(current_app.config), scope=caller_scope(), dry_run=dry_run)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return report


MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@transfer_blp.route("/exports/<any(devices, units):kind>")
class Export(MethodView):
    @requires(Permission.INVENTORY_READ)
    @transfer_blp.arguments(ExportArgs, location="query")
    @transfer_blp.response(200, description="The file, as CSV or XLSX.")
    def get(self, args, kind):
        """Export devices (of a unit and the units below it) or units, in the import's columns."""
        session = request_session()
        fmt = args["format"]
        if kind == "devices":
            content = transfer.export_devices(session, unit_code=args.get("unit"), fmt=fmt, scope=caller_scope())
        else:
            content = transfer.export_units(session, fmt=fmt, scope=caller_scope())
        return Response(content, mimetype=MEDIA_TYPES[fmt],
                        headers={"Content-Disposition": f"attachment; filename={kind}.{fmt}"})


relocations_blp = Blueprint("relocations", __name__, url_prefix="/api/relocations",
                            description="Devices seen in another unit, waiting for a person to confirm the move")


@relocations_blp.route("")
class Relocations(MethodView):
    @requires(Permission.INVENTORY_READ)
    @relocations_blp.arguments(RelocationListArgs, location="query")
    @relocations_blp.response(200, RelocationPageSchema)
    def get(self, args):
        """Relocations of your units' devices and of devices your units' scans saw, newest sighting first."""
        scope = caller_scope()
        found = relocations.list_relocations(request_session(), scope=scope, status=args.get("status"),
                                             unit_code=args.get("unit"), page=args["page"],
                                             page_size=args["page_size"])
        for relocation in found.items:
            _mark_readable(relocation, scope)
        return found


@relocations_blp.route("/<int(max=2147483647):relocation_id>")
class RelocationById(MethodView):
    @requires(Permission.INVENTORY_READ)
    @relocations_blp.response(200, RelocationSchema)
    def get(self, relocation_id):
        """One relocation: the device, where it belongs, which unit saw it, how and since when."""
        scope = caller_scope()
        return _mark_readable(relocations.get_relocation(request_session(), relocation_id, scope), scope)


@relocations_blp.route("/<int(max=2147483647):relocation_id>/<any(confirm, reject):decision>")
class RelocationDecision(MethodView):
    @requires(Permission.INVENTORY_WRITE)
    @relocations_blp.arguments(RelocationDecisionSchema)
    @relocations_blp.response(200, RelocationSchema)
    def post(self, args, relocation_id, decision):
        """Confirm (the device moves to the unit that saw it, in its history) or reject (it stays).
        An officer of the unit that saw the device, or an administrator."""
        session, scope = request_session(), caller_scope()
        relocation = relocations.answer_relocation(session, relocation_id, relocations.Decision(decision),
                                                   by=current_caller().name, scope=scope, note=args["note"])
        session.commit()
        return _mark_readable(relocation, scope)


def _mark_readable(relocation, scope: frozenset[int] | None):
    """Whether the caller may read the device itself (then its record is shown): a transient attribute."""
    relocation.device_readable_by_caller = scope is None or relocation.device.unit_id in scope
    return relocation
