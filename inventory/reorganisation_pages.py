"""The reorganisation pages: merging units into one, and splitting a unit into new ones.

A first POST previews what moves where, counted; a second with confirm=1 does it. Forms are read by the API's
own schemas and changed by the same audited services as the API's handlers (inventory.units); the tree, the
breadcrumbs and the form helpers are the unit pages' (inventory.unit_pages)."""
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import to_user_timezone
from marshmallow import ValidationError

from core.caller import current_caller
from core.db import request_session
from core.errors import DomainError
from core.pages import refusal_status, render_page
from core.permissions import Permission, requires
from inventory import units as service
from inventory.labels import DEVICE_CLASSES, DEVICE_STATUSES, UNIT_KINDS, label
from inventory.models import Unit
from inventory.schemas import MergeSchema, SplitSchema
from inventory.unit_pages import (
    Organisation,
    active,
    breadcrumbs,
    errors,
    kind_options,
    organisation,
    unit_options,
)

blp = Blueprint("reorganisation_pages", __name__, template_folder="templates")

SPLIT_ROWS = 2        # new units a split form starts with; "add a row" adds one more
SPLIT_MAX_ROWS = 100  # SplitSchema's limit
SPLIT_DEVICES_LISTED = 1000  # devices of the split unit that can be sent one by one; the rest go to the first
NEW_UNIT_FIELDS = ("code", "name", "kind", "staff_count")
MERGE_FIELDS = ("sources", "into_code", "new_code", "new_name", "new_kind", "parent_code", "effective_on", "note")
CARRIED_OVER = {"csrf_token", "confirm", "change", "add_row"}  # what a preview's hidden fields leave out


def _today() -> dt.date:
    return to_user_timezone(dt.datetime.now(dt.UTC)).date()


def _carried() -> list[tuple[str, str]]:
    """The submitted fields, for the preview's hidden inputs: confirming sends exactly what was previewed."""
    return [(name, value) for name, value in request.form.items(multi=True) if name not in CARRIED_OVER]


def _form_dict(form, *, lists: Iterable[str] = ()) -> dict[str, Any]:
    values: dict[str, Any] = {name: form.get(name, "") for name in form}
    values.update({name: form.getlist(name) for name in lists})
    return values


# Merge.

def _merge_input(form: Mapping) -> dict[str, Any]:
    """MergeSchema's input from the form: a radio button says whether the target is an existing or a new unit."""
    data: dict[str, Any] = {"sources": [s.strip() for s in form.getlist("sources") if s.strip()],
                            "note": form.get("note", "")}
    if form.get("effective_on", "").strip():
        data["effective_on"] = form["effective_on"].strip()
    if form.get("into") == "new":
        data["into_new"] = {name: form.get(f"new_{name}", "").strip() for name in ("code", "name", "kind")
                            if form.get(f"new_{name}", "").strip()}
        if form.get("parent_code", "").strip():
            data["parent_code"] = form["parent_code"].strip()
    elif form.get("into_code", "").strip():
        data["into_code"] = form["into_code"].strip()
    return data


def _merge_errors(refusal: ValidationError | DomainError) -> tuple[dict[str, list[str]], list[str]]:
    if isinstance(refusal, ValidationError) and isinstance(refusal.messages, dict) \
            and isinstance(refusal.messages.get("into_new"), dict):
        messages = dict(refusal.messages)
        messages.update({f"new_{name}": m for name, m in messages.pop("into_new").items()})
        refusal = ValidationError(messages)
    return errors(refusal, MERGE_FIELDS, {"code": "new_code", "into": "into_code"})


@blp.route("/units/merge", methods=["GET", "POST"])
@requires(Permission.UNITS_MANAGE)
def merge():
    """Merge units into an existing unit or a new one: their devices, sub-units and staff move there."""
    org = organisation()
    if request.method == "GET":
        values = {"sources": request.args.getlist("sources"), "into": request.args.get("into", "existing"),
                  "into_code": request.args.get("into_code", ""), "new_kind": "ward",
                  "effective_on": _today().isoformat()}
        return _merge_form(org, values)
    values = _form_dict(request.form, lists=("sources",))
    if request.form.get("change"):
        return _merge_form(org, values)
    session, by = request_session(), current_caller().name
    try:
        args = MergeSchema().load(_merge_input(request.form))
        if not request.form.get("confirm"):
            preview = service.preview_merge(session, args, by=by)
            return _merge_form(org, values, preview=preview)
        reorganisation = service.merge_units_audited(session, args, by=by)
    except (ValidationError, DomainError) as refusal:
        session.rollback()
        return _merge_form(org, values, refusal=refusal)
    session.commit()
    flash(_("%(sources)s merged into %(target)s.", sources=", ".join(reorganisation.source_codes),
            target=reorganisation.target_codes[0]), "success")
    return redirect(url_for("unit_pages.unit", code=reorganisation.target_codes[0]))


def _merge_form(org: Organisation, values: Mapping[str, Any], *, preview: service.ReorganisationPreview | None = None,
                refusal: ValidationError | DomainError | None = None):
    by_field, general = _merge_errors(refusal) if refusal else ({}, [])
    return render_page("inventory/unit_merge.html", status=refusal_status(refusal) if refusal else 200, values=values,
                       errors=by_field, general=general, preview=preview, carried=_carried() if preview else [],
                       units=unit_options(org), kinds=kind_options(), label=label, kind_labels=UNIT_KINDS,
                       org=org, breadcrumbs=[(_("Units"), url_for("unit_pages.units")), (_("Merge units"), None)])


# Split.

@dataclass(frozen=True)
class SplitForm:
    """The split form's rows of new units, as numbered on the page (blank rows left out of the request)."""
    rows: int
    used: list[int]  # the numbers of the rows that describe a unit, in order: SplitSchema's targets

    @classmethod
    def read(cls, form: Mapping) -> "SplitForm":
        rows = form.get("rows", "")
        rows = min(max(int(rows), SPLIT_ROWS), SPLIT_MAX_ROWS) if rows.isdigit() and len(rows) < 4 else SPLIT_ROWS
        used = [i for i in range(1, rows + 1)
                if any(form.get(f"targets-{i}-{name}", "").strip() for name in ("code", "name", "staff_count"))]
        return cls(rows, used)

    def schema_input(self, form: Mapping, device_ids: Iterable[int]) -> dict[str, Any]:
        targets = [{name: form.get(f"targets-{i}-{name}", "").strip() for name in NEW_UNIT_FIELDS
                    if form.get(f"targets-{i}-{name}", "").strip()} for i in self.used]
        codes = {i: form.get(f"targets-{i}-code", "").strip() for i in self.used}
        first = self.used[0] if self.used else 1
        device_targets = {}
        for device_id in device_ids:
            row = form.get(f"device-{device_id}", "")
            if row.isdigit() and int(row) != first:
                if not codes.get(int(row)):
                    raise ValidationError({"device_targets": [_("Device %(device)s is sent to new unit %(row)s, "
                                                                "which has no code.", device=device_id, row=row)]})
                device_targets[str(device_id)] = codes[int(row)]
        data: dict[str, Any] = {"targets": targets, "device_targets": device_targets, "note": form.get("note", "")}
        if form.get("effective_on", "").strip():
            data["effective_on"] = form["effective_on"].strip()
        return data

    def errors(self, refusal: ValidationError | DomainError, form: Mapping) -> tuple[dict[str, list[str]], list[str]]:
        """Messages of a target's field go next to that field of its row."""
        if isinstance(refusal, ValidationError) and isinstance(refusal.messages, dict) \
                and isinstance(refusal.messages.get("targets"), dict):
            messages = dict(refusal.messages)
            for position, found in messages.pop("targets").items():
                row = self.used[int(position)]
                messages.update({f"targets-{row}-{name}": m for name, m in found.items()})
            refusal = ValidationError(messages)
        if isinstance(refusal, DomainError) and refusal.field == "code":  # a new unit's code is taken: which row
            taken = getattr(refusal.reason, "params", {}).get("code")
            rows = [i for i in self.used if form.get(f"targets-{i}-code", "").strip() == taken]
            return errors(refusal, self.fields, {"code": f"targets-{rows[0]}-code" if rows else "targets"})
        return errors(refusal, self.fields)

    @property
    def fields(self) -> list[str]:
        return [*(f"targets-{i}-{name}" for i in range(1, self.rows + 1) for name in NEW_UNIT_FIELDS),
                "targets", "device_targets", "effective_on", "note"]


@blp.route("/units/<code>/split", methods=["GET", "POST"])
@requires(Permission.UNITS_MANAGE)
def split(code: str):
    """Split a unit into new units under the same parent: each device goes where the form says, the rest and
    the sub-units to the first new unit, which is the recorded successor."""
    org = organisation()
    unit = active(org.unit(code))
    session = request_session()
    devices = service.own_devices(session, unit.id, limit=SPLIT_DEVICES_LISTED)
    form = SplitForm.read(request.form if request.method == "POST" else request.args)
    if request.method == "GET":
        values = {"effective_on": _today().isoformat(), **{f"targets-{i}-kind": unit.kind.value
                                                          for i in range(1, form.rows + 1)}}
        return _split_form(org, unit, devices, form, values)
    values = _form_dict(request.form)
    if request.form.get("add_row"):
        form = SplitForm(min(form.rows + 1, SPLIT_MAX_ROWS), form.used)
        return _split_form(org, unit, devices, form, values | {f"targets-{form.rows}-kind": unit.kind.value})
    if request.form.get("change"):
        return _split_form(org, unit, devices, form, values)
    by = current_caller().name
    try:
        args = SplitSchema().load(form.schema_input(request.form, [d.id for d in devices]))
        if not request.form.get("confirm"):
            preview = service.preview_split(session, unit.code, args, by=by)
            return _split_form(org, unit, devices, form, values, preview=preview)
        reorganisation = service.split_unit_audited(session, unit.code, args, by=by)
    except (ValidationError, DomainError) as refusal:
        session.rollback()
        return _split_form(org, unit, devices, form, values, refusal=refusal)
    session.commit()
    flash(_("%(source)s split into %(targets)s.", source=unit.code, targets=", ".join(reorganisation.target_codes)),
          "success")
    return redirect(url_for("unit_pages.unit", code=unit.code))


def _split_form(org: Organisation, unit: Unit, devices: list, form: SplitForm, values: Mapping[str, Any], *,
                preview: service.ReorganisationPreview | None = None,
                refusal: ValidationError | DomainError | None = None):
    by_field, general = form.errors(refusal, request.form) if refusal else ({}, [])
    rows = [(i, values.get(f"targets-{i}-code", "")) for i in range(1, form.rows + 1)]
    return render_page("inventory/unit_split.html", status=refusal_status(refusal) if refusal else 200, unit=unit,
                       devices=devices, more_devices=len(devices) >= SPLIT_DEVICES_LISTED, rows=rows,
                       values=values, errors=by_field, general=general, preview=preview,
                       carried=_carried() if preview else [], kinds=kind_options(), kind_labels=UNIT_KINDS,
                       classes=DEVICE_CLASSES, statuses=DEVICE_STATUSES, label=label, org=org,
                       sub_units=[u for u in org.children.get(unit.id, ()) if u.active],
                       breadcrumbs=breadcrumbs(org, unit, _("Split")))
