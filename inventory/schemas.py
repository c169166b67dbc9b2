"""What the inventory API accepts and returns."""
import datetime as dt

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.i18n import Reason, SchemaMessage
from inventory.devices import SORTABLE
from inventory.models import DeviceClass, DeviceStatus, RelocationStatus, UnitKind
from inventory.specs import ALIASES, SPECS

CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$",
                       error=SchemaMessage("1 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit"))
TEXT = validate.Length(min=1, max=200)
HEADCOUNT = validate.Range(min=0, max=1_000_000)
# Pages of records to digitise: a city's archive runs to hundreds of millions; the bound keeps it inside BIGINT.
ARCHIVE_PAGES = validate.Range(min=0, max=10**10)
SPECS_STORED = ("Specifications by the registry's names, typed: numbers, true/false, text (inventory/specs.py): "
                + ", ".join(f"{name} ({spec.unit})" if spec.unit else name for name, spec in SPECS.items()) + ".")
SPECS_WRITTEN = ("Specifications by name (or " + ", ".join(ALIASES) + "), as typed values or as people write "
                 "them ('8 GB', '512GB SSD', 'Windows 10 Pro 22H2'); stored typed under the registry's names. "
                 "A name it does not know or a value it cannot read is refused (422) at specs.<name>, with the "
                 "expected form.")


class WholeNumber(fields.Integer):
    """A whole number, as a number or as text ("22", from a form). One with a fraction (2.5) is refused as not an
    integer, where marshmallow's Integer would cut it to 2."""

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class UtcDateTime(fields.DateTime):
    """A time stored naive in UTC (models.utcnow). Sent with its offset, as the document's
    "format": "date-time" (RFC 3339) requires: 2026-11-02T08:00:00+00:00. Received with any offset
    (Hanoi's +07:00) and converted; one without an offset is taken as UTC."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return super()._serialize(value, attr, obj, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


class UnitSchema(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.Enum(UnitKind, by_value=True)
    parent_code = fields.Function(lambda u: u.parent.code if u.parent else None)
    staff_count = fields.Integer()
    leader_count = fields.Integer()
    specialist_count = fields.Integer()
    meeting_rooms = fields.Integer()
    sites = fields.Integer()
    archive_pages = fields.Integer()
    archive_deadline = fields.Date(allow_none=True)
    on_secure_network = fields.Boolean()
    active = fields.Boolean()
    successor_code = fields.Function(lambda u: u.successor.code if u.successor else None)
    dissolved_on = fields.Date(allow_none=True)
    is_example = fields.Boolean()


class UnitTreeSchema(UnitSchema):
    children = fields.Function(lambda u: UnitTreeSchema(many=True).dump([c for c in u.children if c.active]))


class UnitListArgs(Schema):
    include_inactive = fields.Boolean(load_default=True)


class NewUnitSchema(Schema):
    """A new unit: one created, or one a merge or split creates (a merge adds the merged units' staff and facts
    to its own). The facts beside the staff default as inventory.units.NewUnit's do."""
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=TEXT)
    kind = fields.Enum(UnitKind, by_value=True, required=True)
    staff_count = WholeNumber(load_default=0, validate=HEADCOUNT)
    leader_count = WholeNumber(load_default=0, validate=HEADCOUNT, metadata={
        "description": "Staff holding a leadership position (their norms differ); with specialist_count, at most "
                       "staff_count."})
    specialist_count = WholeNumber(load_default=0, validate=HEADCOUNT, metadata={
        "description": "Specialists and professional staff; with leader_count, at most staff_count."})
    meeting_rooms = WholeNumber(load_default=0, validate=HEADCOUNT)
    sites = WholeNumber(load_default=1, validate=HEADCOUNT, metadata={
        "description": "Buildings or sites the unit works from."})
    archive_pages = WholeNumber(load_default=0, validate=ARCHIVE_PAGES, metadata={
        "description": "Pages of records still to digitise."})
    archive_deadline = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "When the digitisation must be done (YYYY-MM-DD); null: not known."})
    on_secure_network = fields.Boolean(load_default=False, metadata={
        "description": "Whether the unit must be on the dedicated secure network (mạng chuyên dùng)."})


class UnitCreateSchema(NewUnitSchema):
    parent_code = fields.String(load_default=None, allow_none=True, validate=CODE)


class MergedUnitSchema(NewUnitSchema):
    """The new unit a merge creates: the merged units' staff and facts are added to its own, so that its sites
    start at none too (two wards of one site each make a unit of two sites, not three)."""
    sites = WholeNumber(load_default=0, validate=HEADCOUNT, metadata={
        "description": "Sites beside the merged units' own, which are added."})


class UnitUpdateSchema(Schema):
    """Only the fields given change."""
    name = fields.String(validate=TEXT)
    kind = fields.Enum(UnitKind, by_value=True)
    parent_code = fields.String(allow_none=True, validate=CODE)
    staff_count = WholeNumber(validate=HEADCOUNT)
    leader_count = WholeNumber(validate=HEADCOUNT)
    specialist_count = WholeNumber(validate=HEADCOUNT)
    meeting_rooms = WholeNumber(validate=HEADCOUNT)
    sites = WholeNumber(validate=HEADCOUNT)
    archive_pages = WholeNumber(validate=ARCHIVE_PAGES)
    archive_deadline = fields.Date(allow_none=True)
    on_secure_network = fields.Boolean()


class MergeSchema(Schema):
    sources = fields.List(fields.String(validate=CODE), required=True, validate=validate.Length(min=1, max=500))
    into_code = fields.String(validate=CODE)
    into_new = fields.Nested(MergedUnitSchema)
    parent_code = fields.String(validate=CODE)
    effective_on = fields.Date(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=2000))

    @validates_schema
    def one_target(self, data, **_kwargs):
        if ("into_code" in data) == ("into_new" in data):
            raise ValidationError(Reason("give exactly one of into_code and into_new"), field_name="into_code")


class SplitSchema(Schema):
    targets = fields.List(fields.Nested(NewUnitSchema), required=True, validate=validate.Length(min=2, max=100))
    device_targets = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^\d{1,12}$",
                                                                             error=SchemaMessage("a device id"))),
                                 values=fields.String(validate=CODE), load_default=dict)
    effective_on = fields.Date(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class ReorganisationSchema(Schema):
    id = fields.Integer()
    kind = fields.String(attribute="kind.value")
    effective_on = fields.Date()
    source_codes = fields.List(fields.String())
    target_codes = fields.List(fields.String())
    note = fields.String()
    recorded_at = UtcDateTime()


class InterfaceSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(allow_none=True, validate=validate.Length(max=100))
    mac = fields.String(allow_none=True, validate=validate.Length(max=32))
    ips = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list,
                      validate=validate.Length(max=64))
    # Mbit/s; the bound (a petabit) keeps the number inside the BIGINT column.
    speed_mbps = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=10**9))


class DeviceSchema(Schema):
    id = fields.Integer()
    unit_code = fields.Function(lambda d: d.unit.code)
    device_class = fields.Enum(DeviceClass, by_value=True)
    vendor = fields.String(allow_none=True)
    model = fields.String(allow_none=True)
    serial = fields.String(allow_none=True)
    hostname = fields.String(allow_none=True)
    firmware = fields.String(allow_none=True)
    firmware_version = fields.String(allow_none=True, dump_only=True, metadata={
        "description": "The version inside firmware (e.g. 12.2(55)SE3), which compares; set with firmware."})
    os = fields.String(allow_none=True)
    specs = fields.Dict(keys=fields.String(), metadata={"description": SPECS_STORED})
    status = fields.Enum(DeviceStatus, by_value=True)
    location = fields.String(allow_none=True)
    purchase_date = fields.Date(allow_none=True)
    purchase_price_vnd = fields.Integer(allow_none=True)
    warranty_end = fields.Date(allow_none=True)
    first_seen = UtcDateTime()
    last_seen = UtcDateTime()
    source = fields.String()
    provenance = fields.Dict()
    network = fields.String(allow_none=True, dump_only=True, metadata={
        "description": "The network the scope of the scan that last saw it covers: secure (the dedicated secure "
                       "network), internet or other; null until a scan sees it."})
    interfaces = fields.List(fields.Nested(InterfaceSchema))


class DeviceWriteSchema(Schema):
    """A person's record of a device. On create, `unit_code` is required."""
    unit_code = fields.String(validate=CODE)
    device_class = fields.Enum(DeviceClass, by_value=True)
    vendor = fields.String(allow_none=True, validate=validate.Length(max=100))
    model = fields.String(allow_none=True, validate=TEXT)
    serial = fields.String(allow_none=True, validate=validate.Length(max=64))
    hostname = fields.String(allow_none=True, validate=validate.Length(max=253))
    firmware = fields.String(allow_none=True, validate=validate.Length(max=255))
    os = fields.String(allow_none=True, validate=validate.Length(max=255))
    specs = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=64)),
                        values=fields.Raw(allow_none=True), validate=validate.Length(max=50),
                        metadata={"description": SPECS_WRITTEN})
    status = fields.Enum(DeviceStatus, by_value=True)
    location = fields.String(allow_none=True, validate=TEXT)
    purchase_date = fields.Date(allow_none=True)
    purchase_price_vnd = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=10**15))
    warranty_end = fields.Date(allow_none=True)


class DeviceCreateSchema(DeviceWriteSchema):
    unit_code = fields.String(required=True, validate=CODE)
    interfaces = fields.List(fields.Nested(InterfaceSchema), load_default=list, validate=validate.Length(max=512))


class MoveDeviceSchema(Schema):
    unit_code = fields.String(required=True, validate=CODE)


class DeviceListArgs(Schema):
    unit = fields.String(validate=CODE)
    device_class = fields.Enum(DeviceClass, by_value=True, data_key="class")
    status = fields.Enum(DeviceStatus, by_value=True)
    vendor = fields.String(validate=validate.Length(min=1, max=100))
    q = fields.String(validate=validate.Length(min=1, max=100))
    sort = fields.String(load_default="id", validate=validate.OneOf(
        [*SORTABLE, *(f"-{key}" for key in SORTABLE)]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class PageSchema(Schema):
    """One page of a longer list; subclasses say what the items are."""
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class DevicePageSchema(PageSchema):
    items = fields.List(fields.Nested(DeviceSchema))


class DeviceEventSchema(Schema):
    id = fields.Integer()
    at = UtcDateTime()
    kind = fields.String()
    field = fields.String(allow_none=True)
    old_value = fields.Raw(allow_none=True)
    new_value = fields.Raw(allow_none=True)
    method = fields.String()
    source = fields.String()
    detail = fields.String()


class HistoryPageSchema(PageSchema):
    items = fields.List(fields.Nested(DeviceEventSchema))


END_HIDDEN = "null: a device of a unit that is not yours; its port is still shown"


class LinkSchema(Schema):
    id = fields.Integer()
    device_id = fields.Integer(allow_none=True, metadata={"description": END_HIDDEN})
    port = fields.String()
    remote_device_id = fields.Integer(allow_none=True, metadata={"description": END_HIDDEN})
    remote_port = fields.String()
    protocol = fields.String()
    first_seen = UtcDateTime()
    last_seen = UtcDateTime()


class ImportArgs(Schema):
    dry_run = fields.Boolean(load_default=False)


class ImportFileSchema(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)


class ImportReportSchema(Schema):
    kind = fields.String()
    rows = fields.Integer()
    created = fields.Integer()
    changed = fields.Integer()
    unchanged = fields.Integer()
    dry_run = fields.Boolean()


class ExportArgs(Schema):
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "xlsx"]))
    unit = fields.String(validate=CODE)


# The device as its unit recorded it, enough to recognise it: only for a caller who may read it.
RELOCATED_DEVICE = DeviceSchema(only=("id", "unit_code", "device_class", "vendor", "model", "serial", "hostname"))


class RelocationSchema(Schema):
    id = fields.Integer()
    status = fields.Enum(RelocationStatus, by_value=True)
    device = fields.Method("_device", allow_none=True, metadata={
        "description": "The device as recorded; null for a caller who may not read it yet (see `seen`)."})
    seen = fields.Dict(metadata={"description": "What the latest sighting observed: serial, hostname, vendor, "
                                                "model, macs, ips."})
    from_unit_code = fields.Function(lambda r: r.from_unit.code)
    to_unit_code = fields.Function(lambda r: r.to_unit.code,
                                   metadata={"description": "The unit whose scan saw the device."})
    method = fields.String(metadata={"description": "How the latest sighting was made: snmp, nmap, fdb ..."})
    source = fields.String()
    first_seen = UtcDateTime()
    last_seen = UtcDateTime()
    sightings = fields.Integer()
    decided_by = fields.String(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)
    note = fields.String()


    def _device(self, relocation):
        # Fails closed: a path that did not mark the caller's right to read the device shows nothing of it.
        if not getattr(relocation, "device_readable_by_caller", False):
            return None
        return RELOCATED_DEVICE.dump(relocation.device)


class RelocationPageSchema(PageSchema):
    items = fields.List(fields.Nested(RelocationSchema))


class RelocationListArgs(PageArgs):
    status = fields.Enum(RelocationStatus, by_value=True)
    unit = fields.String(validate=CODE, metadata={"description": "This unit and the units below it."})


class RelocationDecisionSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=1000))
