"""Every page that names a unit's object, walked by an officer of another unit: the object is as absent as one
that does not exist (404), and nothing changes. A page added later with an id in its path is walked too."""
import pytest
from werkzeug.routing import AnyConverter

from accounts.models import Role
from core.permissions import Permission, declared_permissions
from inventory.ingest import IngestBatch, ingest
from inventory.observations import ObservedDevice
from tests.conftest import T0, client_as, table_contents


@pytest.fixture
def other_units_objects(client, org, token_for):
    """W2's device, scope, run, agents' enrolment and collector, and a relocation between W2 and A1: none of them
    W1's officer's business."""
    device = client.post("/api/devices", json={"unit_code": "W2", "serial": "SCOPE1"}).json["id"]
    credential = client.post("/api/credentials", json={"name": "c", "version": "v2c", "community": "c"}).json["id"]
    scope = client.post("/api/scopes", json={"name": "w2", "unit_code": "W2", "networks": "127.0.9.9",
                                             "methods": "snmp", "credential_ids": [credential]}).json["id"]
    run = client.post(f"/api/scopes/{scope}/runs", json={"kind": "snmp"}).json["id"]
    with org() as session, session.begin():
        seen = ObservedDevice("snmp", T0, "A1", "walk", fields={"serial": "SCOPE1"})
        relocation = ingest(session, IngestBatch([seen])).relocations_raised[0]
    enrolment = client.post("/api/agent-enrolments", json={"unit_code": "W2", "name": "W2 PCs"}).json["id"]
    collector = client.post("/api/collectors", json={"name": "W2 site", "unit_code": "W2"}).json["id"]
    return {"device_id": device, "scope_id": scope, "run_id": run, "relocation_id": relocation, "code": "W2",
            "enrolment_id": enrolment, "collector_id": collector}


def page_routes_with_objects(app):
    """(rule, method, permission) of every page route whose path names an object."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in app.extensions["page_blueprints"] or not rule.arguments:
            continue
        declared = declared_permissions(app, rule.endpoint)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, declared.get(method, declared.get("*"))


def test_an_officer_meets_another_units_objects_as_absent(app, engine, other_units_objects, token_for):
    officer = client_as(app, token_for(Role.UNIT_OFFICER))  # W1's
    officer.set_cookie("lang", "en")
    may = {Permission.INVENTORY_READ, Permission.INVENTORY_WRITE, Permission.SCANS_RUN, Permission.BUDGET_REVIEW,
           Permission.AGENTS_MANAGE}
    before = table_contents(engine)
    walked = []
    for rule, method, permission in page_routes_with_objects(app):
        names = set(rule.arguments)
        if permission not in may or not names & set(other_units_objects) or \
                not names <= {*other_units_objects, "decision", "kind", "fmt"}:
            continue
        values = {name: other_units_objects.get(name) or sorted(rule._converters[name].items)[0]
                  for name in names if name in other_units_objects or isinstance(rule._converters[name], AnyConverter)}
        url = rule.build(values)[1]
        response = officer.open(url, method=method, data={"unit_code": "W1", "status": "spare", "kind": "snmp"})
        assert response.status_code == 404, f"{method} {url}: {response.status_code}"
        walked.append(f"{method} {rule.rule}")
    assert table_contents(engine) == before
    assert sorted(walked) == [
        "GET /agents/<int(max=2147483647):enrolment_id>", "GET /agents/<int(max=2147483647):enrolment_id>/revoke",
        "GET /budget/units/<code>", "GET /collectors/<int(max=2147483647):collector_id>",
        "GET /dashboards/units/<code>", "GET /devices/<int(max=2147483647):device_id>",
        "GET /devices/<int(max=2147483647):device_id>/edit",
        "GET /scans/runs/<int(max=2147483647):run_id>", "GET /scans/scopes/<int(max=2147483647):scope_id>",
        "GET /units/<code>", "GET /units/<code>/compliance", "GET /units/<code>/norms",
        "POST /agents/<int(max=2147483647):enrolment_id>/revoke", "POST /devices/<int(max=2147483647):device_id>/edit",
        "POST /devices/<int(max=2147483647):device_id>/status", "POST /devices/<int(max=2147483647):device_id>/unit",
        "POST /relocations/<int(max=2147483647):relocation_id>/<any(confirm, reject):decision>",
        "POST /scans/scopes/<int(max=2147483647):scope_id>/runs"]
