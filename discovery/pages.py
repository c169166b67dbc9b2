"""Discovery's pages: a unit's scan scopes, scanning now with a live run page, SNMP targets, credentials.

The pages call the services the API calls (the same checks, the same audit entries); a refused form is
shown again with the API's reason next to the field. Secrets go into forms and are never shown again:
the pages say only whether one is set."""
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from marshmallow import Schema, ValidationError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from core.caller import caller_scope, current_caller
from core.db import request_session
from core.errors import DomainError, NotFound, OutsideScope
from core.i18n import Reason
from core.pages import (
    field_errors,
    form_values,
    load_form,
    navigation,
    pagination_from_request,
    refusal_status,
    render_page,
    section,
)
from core.permissions import Permission, requires
from discovery import credentials as credential_service
from discovery import scopes as scope_service
from discovery.api import fail_abandoned, scan_settings, secret_box, start_scan
from discovery.models import AuthProtocol, Credential, PrivProtocol, RunStatus, ScanScope, SnmpVersion
from discovery.schemas import (
    CredentialCreateSchema,
    CredentialWriteSchema,
    RunStartSchema,
    ScopeCreateSchema,
    ScopeWriteSchema,
)
from inventory.models import Device, Unit
from inventory.units import list_units, unit_in_scope

blp = Blueprint("discovery_pages", __name__, template_folder="templates")
navigation(blp, "discovery_pages.scopes", _l("Scans"), Permission.SCANS_RUN, order=50)
navigation(blp, "discovery_pages.credentials", _l("Credentials"), Permission.SCANS_MANAGE, order=55)

# What the pages call discovery's coded values, in the page's language.
RUN_KINDS = {"nmap": _l("nmap sweep"), "snmp": _l("SNMP poll")}
SCAN_BUTTONS = {"nmap": _l("Scan now with nmap"), "snmp": _l("Poll now over SNMP")}
RUN_STATUSES = {"queued": _l("queued"), "running": _l("running"), "finished": _l("finished"), "failed": _l("failed")}
RUN_BADGES = {"queued": "text-bg-secondary", "running": "text-bg-info", "finished": "text-bg-success",
              "failed": "text-bg-danger"}
RUN_TRIGGERS = {"manual": _l("asked for"), "schedule": _l("by schedule"),
                "retry": _l("again, after its worker stopped"), "collector": _l("by the site's collector")}
SCHEDULE_STATUSES = {
    "by_hand": _l("by hand only"), "scheduled": _l("runs on its schedule"),
    "paused": _l("paused: no scheduled run until resumed"),
    "collector": _l("scanned at its site by a collector, on the collector's schedule"),
    "waiting_for_worker": _l("waiting for a worker")}
TARGET_STATUSES = {"ok": _l("answered"), "partial": _l("answered in part"), "failed": _l("failed")}
SNMP_VERSIONS = {"v1": "SNMPv1", "v2c": "SNMPv2c", "v3": "SNMPv3"}
AUTH_PROTOCOLS = {"none": _l("none"), "md5": "MD5", "sha": "SHA-1", "sha224": "SHA-224", "sha256": "SHA-256",
                  "sha384": "SHA-384", "sha512": "SHA-512"}
PRIV_PROTOCOLS = {"none": _l("none"), "des": "DES", "aes128": "AES-128", "aes192": "AES-192", "aes256": "AES-256"}
SCOPE_NETWORKS = {"secure": _l("the dedicated secure network"), "internet": _l("the office network on the Internet"),
                  "other": _l("another network")}
MAX_CREDENTIAL_SLOTS = 20  # as many as a scope may list (ScopeWriteSchema)
SECRET_NAMES = {"community": _l("Community"), "auth_key": _l("Authentication key"),
                "priv_key": _l("Privacy (encryption) key")}


def _labels() -> dict[str, Any]:
    return {"run_kinds": RUN_KINDS, "scan_labels": SCAN_BUTTONS, "run_statuses": RUN_STATUSES,
            "run_badges": RUN_BADGES, "run_triggers": RUN_TRIGGERS, "schedule_statuses": SCHEDULE_STATUSES,
            "target_statuses": TARGET_STATUSES, "snmp_versions": SNMP_VERSIONS,
            "auth_protocols": AUTH_PROTOCOLS, "priv_protocols": PRIV_PROTOCOLS, "scope_networks": SCOPE_NETWORKS,
            "may_manage": current_caller().may(Permission.SCANS_MANAGE)}


def _render(template: str, status: int = 200, **context: Any):
    return render_page(template, status, **_labels(), **context)


def _unit_in_reach(session, code: str) -> Unit:
    """The unit, if the caller may see it; on a page, someone else's unit is as absent as one not there."""
    try:
        return unit_in_scope(session, code, caller_scope(), field="unit")
    except OutsideScope:
        raise NotFound(Reason("unit %(code)r does not exist", code=code), field="unit") from None


# Scopes ---------------------------------------------------------------------------------------------------
@blp.get("/scans")
@requires(Permission.SCANS_RUN)
def scopes():
    session = request_session()
    code = request.args.get("unit", "").strip()
    unit = _unit_in_reach(session, code) if code else None
    found = scope_service.with_schedule(session, scope_service.list_scopes(session, caller_scope(),
                                                                           unit_id=unit.id if unit else None))
    crumbs = [(_("Scans"), url_for(".scopes"))] + ([(unit.code, None)] if unit else [])
    return _render("discovery/scopes.html", scopes=found, last=scope_service.last_runs(session, [s.id for s in found]),
                   unit=unit, breadcrumbs=crumbs)


@blp.get("/scans/scopes/<int(max=2147483647):scope_id>")
@requires(Permission.SCANS_RUN)
def scope(scope_id: int):
    return _scope_page(scope_id)


def _scope_page(scope_id: int, status: int = 200, problems: list[str] | None = None):
    session = request_session()
    found = scope_service.scope_in_reach(session, scope_id, caller_scope())
    fail_abandoned(session, found.id)
    scope_service.with_schedule(session, [found])
    runs = scope_service.list_runs(session, found)
    pagination = pagination_from_request(scope_service.count_targets(session, found))
    targets = scope_service.list_targets(session, found, offset=pagination.offset, limit=pagination.size)
    return _render("discovery/scope.html", status, scope=found, runs=runs, targets=targets, pagination=pagination,
                   device_labels=_device_labels(session, {t.device_id for t in targets if t.device_id}),
                   running=next((r for r in runs if r.status in (RunStatus.QUEUED, RunStatus.RUNNING)), None),
                   problems=problems or [],
                   breadcrumbs=[(_("Scans"), url_for(".scopes")), (found.name, None)])


def _device_labels(session, device_ids: set[int]) -> dict[int, str]:
    """What the devices polled are, by id, in one query: vendor, model and host name as far as known; only
    devices of the caller's units (another unit's device stays a number)."""
    if not device_ids:
        return {}
    query = select(Device).where(Device.id.in_(device_ids))
    if caller_scope() is not None:
        query = query.where(Device.unit_id.in_(caller_scope()))
    labels = {}
    for device in session.scalars(query):
        label = " ".join(part for part in (device.vendor, device.model) if part)
        if device.hostname:
            label = f"{label} ({device.hostname})" if label else device.hostname
        if label:
            labels[device.id] = label
    return labels


SCOPE_FIELDS = ("name", "unit_code", "networks", "exclusions", "network", "snmp_port", "methods", "schedule",
                "credential_ids")


@blp.route("/scans/scopes/new", methods=["GET", "POST"])
@requires(Permission.SCANS_MANAGE)
def new_scope():
    if request.method == "GET":
        return _scope_form(None, {"unit_code": request.args.get("unit", ""), "snmp_port": "161",
                                  "methods": ["nmap", "snmp"], "credential_ids": [], "network": "other"})
    return _save_scope(None, ScopeCreateSchema())


@blp.route("/scans/scopes/<int(max=2147483647):scope_id>/edit", methods=["GET", "POST"])
@requires(Permission.SCANS_MANAGE)
def edit_scope(scope_id: int):
    found = scope_service.scope_in_reach(request_session(), scope_id, caller_scope())
    if request.method == "GET":
        return _scope_form(found, {
            "name": found.name, "unit_code": found.unit.code, "networks": found.networks,
            "exclusions": found.exclusions, "network": found.network.value, "snmp_port": str(found.snmp_port),
            "methods": found.methods.split(","),
            "schedule": found.schedule or "", "credential_ids": [str(c.credential_id) for c in found.credentials]})
    return _save_scope(found.id, ScopeWriteSchema())


def _save_scope(scope_id: int | None, schema: Schema):
    session = request_session()
    shown = {name: request.form.get(name, "") for name in SCOPE_FIELDS} | {
        "methods": request.form.getlist("methods"), "credential_ids": request.form.getlist("credential_ids")}
    try:
        values = schema.load(_scope_input(schema))
        saved = scope_service.write_scope(session, scope_id, values, scan_settings().allowlist, caller_scope(),
                                          current_caller().name)
    except (ValidationError, DomainError) as error:
        session.rollback()  # nothing of a refused form stays, not even in the session's objects
        found = scope_service.scope_in_reach(session, scope_id, caller_scope()) if scope_id is not None else None
        return _scope_form(found, shown, error)
    session.commit()
    flash(_("Scope %(name)s saved.", name=saved.name), "success")
    return redirect(url_for(".scope", scope_id=saved.id))


def _scope_input(schema: Schema) -> dict[str, Any]:
    """The form as the API's input: the methods ticked joined as the API writes them, the credentials chosen
    in their order, and an emptied exclusions field as "no exclusions" (not "unchanged")."""
    methods = request.form.getlist("methods")
    if not methods:
        raise ValidationError({"methods": [_("Choose nmap, SNMP or both.")]})
    ordered = [m for m in ("nmap", "snmp") if m in methods] + [m for m in methods if m not in ("nmap", "snmp")]
    form = MultiDict([(k, v) for k, v in request.form.items(multi=True) if k != "methods"] +
                     [("methods", ",".join(ordered))])
    values = form_values(schema, form)
    if "exclusions" in request.form:
        values["exclusions"] = request.form["exclusions"].strip()
    values["credential_ids"] = [int(v) if v.isdigit() and len(v) < 10 else v for v in values.get("credential_ids", [])]
    return values


def _scope_form(found: ScanScope | None, values: Mapping[str, Any], error: ValidationError | DomainError | None = None):
    session = request_session()
    errors, general = field_errors(error) if error is not None else ({}, [])
    if "credential_id" in errors:  # a credential that is not there: the service names it in the singular
        errors.setdefault("credential_ids", []).extend(errors.pop("credential_id"))
    general += [m for name, messages in errors.items() if name not in SCOPE_FIELDS for m in messages]
    units = list_units(session, include_inactive=False, scope=caller_scope())
    all_credentials = credential_service.list_credentials(session)
    chosen = list(values.get("credential_ids", []))
    slots = min(max(len(all_credentials), len(chosen)), MAX_CREDENTIAL_SLOTS)
    status = 200 if error is None else refusal_status(error)
    crumbs = [(_("Scans"), url_for(".scopes"))]
    if found is not None:
        crumbs += [(found.name, url_for(".scope", scope_id=found.id)), (_("Edit"), None)]
    else:
        crumbs += [(_("New scope"), None)]
    heading = _("Edit scope %(name)s", name=found.name) if found is not None else _("New scope")
    return _render("discovery/scope_form.html", status, heading=heading, scope=found, values=values, errors=errors,
                   general=general,
                   unit_options=[(u.code, f"{u.code} · {u.name}") for u in units], all_credentials=all_credentials,
                   network_options=[(value, str(text)) for value, text in SCOPE_NETWORKS.items()],
                   slots=[chosen[n] if n < len(chosen) else "" for n in range(slots)],
                   method_options=[("nmap", _("nmap sweep: which addresses answer, and what they run")),
                                   ("snmp", _("SNMP poll: what the devices say of themselves"))],
                   allowlist=", ".join(n.strip() for n in scan_settings().allowlist.split(",") if n.strip()),
                   breadcrumbs=crumbs)


@blp.post("/scans/scopes/<int(max=2147483647):scope_id>/runs")
@requires(Permission.SCANS_RUN)
def scan_now(scope_id: int):
    """Start a scan (kind: nmap or snmp) of the scope and follow it on the run's page."""
    session = request_session()
    found = scope_service.scope_in_reach(session, scope_id, caller_scope())
    try:
        run = start_scan(session, found, load_form(RunStartSchema())["kind"])
    except (ValidationError, DomainError) as error:
        session.rollback()
        by_field, general = field_errors(error)
        status = refusal_status(error)
        return _scope_page(scope_id, status, general + [m for messages in by_field.values() for m in messages])
    flash(_("Queued: %(kind)s of scope %(scope)s; a worker takes it within seconds.", kind=RUN_KINDS[run.kind],
            scope=found.name), "success")
    return redirect(url_for(".run", run_id=run.id))


@blp.post("/scans/scopes/<int(max=2147483647):scope_id>/<any(pause, resume):action>")
@requires(Permission.SCANS_MANAGE)
def pause_or_resume(scope_id: int, action: str):
    """Pause or resume the scope's schedule, then back to the scope's page."""
    session = request_session()
    found = scope_service.scope_in_reach(session, scope_id, caller_scope())
    try:
        scope_service.set_paused(session, found, action == "pause", current_caller().name)
    except DomainError as error:
        session.rollback()
        return _scope_page(scope_id, refusal_status(error), [error.reason])
    session.commit()
    flash(_("The schedule of scope %(scope)s is paused.", scope=found.name) if action == "pause" else
          _("The schedule of scope %(scope)s runs again.", scope=found.name), "success")
    return redirect(url_for(".scope", scope_id=scope_id))


@blp.get("/scans/runs/<int(max=2147483647):run_id>")
@requires(Permission.SCANS_RUN)
def run(run_id: int):
    session = request_session()
    found = scope_service.run_in_reach(session, run_id, caller_scope())
    if fail_abandoned(session, found.scope_id):
        session.refresh(found)
    owner = session.get(ScanScope, found.scope_id)
    return _render("discovery/run.html", run=found, scope=owner,
                   breadcrumbs=[(_("Scans"), url_for(".scopes")), (owner.name, url_for(".scope", scope_id=owner.id)),
                                (_("Run %(id)s", id=found.id), None)])


# Sections of other packages' pages ------------------------------------------------------------------------
def unit_scans(unit: Unit, **_objects: Any) -> Markup | None:
    """The unit page's section: the unit's scopes with their last run and a button to scan now, or how to
    start; nothing for a caller who may not run scans."""
    caller = current_caller()
    if not caller.may(Permission.SCANS_RUN):
        return None
    session = request_session()
    found = scope_service.list_scopes(session, caller_scope(), unit_id=unit.id)
    return Markup(render_template("discovery/_unit_scans.html", unit=unit, scopes=found,
                                  last=scope_service.last_runs(session, [s.id for s in found]), **_labels()))


section(blp, "unit", unit_scans, order=50)


# Credentials ----------------------------------------------------------------------------------------------
@blp.get("/scans/credentials")
@requires(Permission.SCANS_MANAGE)
def credentials():
    return _render("discovery/credentials.html", credentials=credential_service.list_credentials(request_session()),
                   breadcrumbs=[(_("Credentials"), None)])


CREDENTIAL_FIELDS = ("name", "version", "username", "auth_protocol", "priv_protocol")


@blp.route("/scans/credentials/new", methods=["GET", "POST"])
@requires(Permission.SCANS_MANAGE)
def new_credential():
    if request.method == "GET":
        return _credential_form(None, {"version": "v2c", "auth_protocol": "none", "priv_protocol": "none"})
    return _save_credential(None, CredentialCreateSchema(), CREDENTIAL_FIELDS)


@blp.route("/scans/credentials/<int(max=2147483647):credential_id>/edit", methods=["GET", "POST"])
@requires(Permission.SCANS_MANAGE)
def edit_credential(credential_id: int):
    found = credential_service.get_credential(request_session(), credential_id)
    if request.method == "GET":
        return _credential_form(found, {name: getattr(getattr(found, name), "value", getattr(found, name))
                                        for name in CREDENTIAL_FIELDS})
    return _save_credential(found.id, CredentialWriteSchema(), CREDENTIAL_FIELDS)


@blp.route("/scans/credentials/<int(max=2147483647):credential_id>/rotate", methods=["GET", "POST"])
@requires(Permission.SCANS_MANAGE)
def rotate_credential(credential_id: int):
    """Replace a credential's secrets (those given); the others stay."""
    found = credential_service.get_credential(request_session(), credential_id)
    if request.method == "GET":
        return _credential_form(found, {}, rotate=True)
    return _save_credential(found.id, CredentialWriteSchema(), (), rotate=True)


def _save_credential(credential_id: int | None, schema: Schema, fields: tuple[str, ...], rotate: bool = False):
    session = request_session()
    shown = {name: request.form.get(name, "") for name in fields}  # never the secrets
    # An empty secret field keeps the secret set (or leaves it unset): only what is typed replaces one.
    form = MultiDict([(k, v) for k, v in request.form.items(multi=True)
                      if (k in fields) or (k in credential_service.SECRET_FIELDS and v != "")])
    try:
        values = schema.load(form_values(schema, form))
        if rotate and not values:
            raise ValidationError({"_schema": [_("Type at least one new secret.")]})
        saved = credential_service.write_credential(session, secret_box(), values, credential_id,
                                                    current_caller().name)
    except (ValidationError, DomainError) as error:
        session.rollback()
        found = credential_service.get_credential(session, credential_id) if credential_id is not None else None
        return _credential_form(found, shown, error, rotate=rotate)
    session.commit()
    flash(_("The new secrets of %(name)s are stored.", name=saved.name) if rotate else
          _("Credential %(name)s saved.", name=saved.name), "success")
    return redirect(url_for(".credentials"))


def _credential_form(found: Credential | None, values: Mapping[str, Any],
                     error: ValidationError | DomainError | None = None, rotate: bool = False):
    errors, general = field_errors(error) if error is not None else ({}, [])
    shown_fields = set(credential_service.SECRET_FIELDS) | (set() if rotate else set(CREDENTIAL_FIELDS))
    general += [m for name, messages in errors.items() if name not in shown_fields for m in messages]
    status = 200 if error is None else refusal_status(error)
    crumbs = [(_("Credentials"), url_for(".credentials"))]
    if found is None:
        crumbs += [(_("New credential"), None)]
    elif rotate:
        crumbs += [(found.name, url_for(".edit_credential", credential_id=found.id)), (_("Replace secrets"), None)]
    else:
        crumbs += [(found.name, None)]
    if found is None:
        heading = _("New SNMP credential")
    elif rotate:
        heading = _("Replace the secrets of %(name)s", name=found.name)
    else:
        heading = _("Edit credential %(name)s", name=found.name)
    return _render("discovery/credential_form.html", status, heading=heading, credential=found, values=values,
                   errors=errors,
                   general=general, rotate=rotate, secret_names=SECRET_NAMES, breadcrumbs=crumbs,
                   versions=[(v.value, SNMP_VERSIONS[v.value]) for v in SnmpVersion],
                   auth_options=[(p.value, AUTH_PROTOCOLS[p.value]) for p in AuthProtocol],
                   priv_options=[(p.value, PRIV_PROTOCOLS[p.value]) for p in PrivProtocol])
