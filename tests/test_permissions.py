"""Every route declares the permission it needs; one added without fails here and at start-up."""
import pytest
from flask import Flask

from core.permissions import Permission, declared_permissions, require_declared_permissions, requires, undeclared_routes


def test_every_route_of_the_application_declares_a_permission(app):
    assert undeclared_routes(app) == []
    declared = {rule.rule: declared_permissions(app, rule.endpoint) for rule in app.url_map.iter_rules()
                if rule.endpoint in app.view_functions and rule.endpoint != "static"
                and not rule.endpoint.startswith("api-docs")}
    assert declared["/api/devices"] == {"GET": Permission.INVENTORY_READ, "POST": Permission.INVENTORY_WRITE}
    assert declared["/api/units/merge"] == {"POST": Permission.UNITS_MANAGE}
    assert declared["/"] == {"*": Permission.INVENTORY_READ}
    assert declared["/sign-in"] == {"*": Permission.PUBLIC}


def test_a_route_without_a_declaration_is_found():
    app = Flask(__name__)

    @app.get("/declared")
    @requires(Permission.INVENTORY_READ)
    def declared():
        return "ok"

    @app.get("/forgotten")
    def forgotten():
        return "oops"

    assert undeclared_routes(app) == ["* /forgotten (forgotten)"]


def test_the_application_refuses_to_start_with_an_undeclared_route(app):
    require_declared_permissions(app)  # the shipped application passes
    app.add_url_rule("/forgotten", "forgotten", lambda: "oops")
    with pytest.raises(RuntimeError, match=r"routes without a declared permission: \* /forgotten \(forgotten\)"):
        require_declared_permissions(app)
