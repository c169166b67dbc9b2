"""The permissions routes declare, and the declaration itself.

A route without a declaration is refused at start-up (see `undeclared_routes`), so a handler added
later cannot silently skip the check."""
import enum
from collections.abc import Callable
from typing import TypeVar

from flask import Flask

View = TypeVar("View", bound=Callable)


class Permission(enum.StrEnum):
    PUBLIC = "public"                    # sign-in, health, the API document: no account needed
    SIGNED_IN = "signed-in"              # one's own session and tokens
    INVENTORY_READ = "inventory:read"    # units, devices, history, exports (within the caller's units)
    INVENTORY_WRITE = "inventory:write"  # manual records, edits, moves, device imports
    UNITS_MANAGE = "units:manage"        # create, edit, import, merge and split units
    ACCOUNTS_MANAGE = "accounts:manage"  # accounts and their roles and units
    AUDIT_READ = "audit:read"            # the audit log
    SCANS_MANAGE = "scans:manage"        # SNMP credentials, scan scopes and schedules
    SCANS_RUN = "scans:run"              # see scopes and runs, start a scan (within the caller's units)
    CATALOG_MANAGE = "catalog:manage"    # edit, import and publish catalog versions and their norms (everyone
                                         # signed in reads them; compliance follows inventory:read's scope)
    BUDGET_REVIEW = "budget:review"      # confirm or dispute the gaps of one's units, carry out transfers
    BUDGET_RESOLVE = "budget:resolve"    # resolve a disputed gap (administrators)
    BUDGET_APPROVE = "budget:approve"    # save scenarios, approve a plan, record readiness (finance)
    AGENTS_MANAGE = "agents:manage"      # issue and revoke inventory agents' enrolments (within the caller's units)


def requires(permission: Permission) -> Callable[[View], View]:
    """Declare what a view (or a MethodView method) needs."""
    def declare(view: View) -> View:
        view.required_permission = permission
        return view
    return declare


def declared_permissions(app: Flask, endpoint: str) -> dict[str, Permission | None]:
    """For each HTTP method of an endpoint, the permission its handler declared (None if none)."""
    view = app.view_functions[endpoint]
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return {"*": getattr(view, "required_permission", None)}
    return {m: getattr(getattr(view_class, m.lower()), "required_permission", None)
            for m in view_class.methods}


# Endpoints that Flask, flask-smorest and Bootstrap-Flask add themselves: static files and the API document.
FRAMEWORK_ENDPOINTS = {"static", "bootstrap.static", "api-docs.openapi_json", "api-docs.openapi_swagger_ui"}


def undeclared_routes(app: Flask) -> list[str]:
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in FRAMEWORK_ENDPOINTS:
            continue
        for method, permission in declared_permissions(app, rule.endpoint).items():
            if permission is None:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    return missing


def require_declared_permissions(app: Flask) -> None:
    """Refuse to start an application with a route that declares nothing."""
    missing = undeclared_routes(app)
    if missing:
        raise RuntimeError(f"routes without a declared permission: {', '.join(missing)}")
