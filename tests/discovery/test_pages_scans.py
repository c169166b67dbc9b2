"""Discovery's pages through the Flask test client: scopes and their forms, scanning now and the run page,
SNMP targets, credentials (never a secret on a page), the unit page's section and the lab's button; refusals by
role and by unit, and forms refused with the reason next to the field and nothing changed."""
import re
from html.parser import HTMLParser

import pytest
from flask import g
from sqlalchemy import select

from accounts.models import Role
from accounts.permissions import ROLE_PERMISSIONS
from core.audit import AuditEntry
from core.caller import Caller
from core.encryption import SecretBox
from discovery import lab
from discovery.credentials import reveal
from discovery.models import Credential, RunStatus, ScanRun, ScanScope
from discovery.pages import unit_scans
from discovery.scans import ScanSettings, execute_run, start_run
from discovery.sweep import SweepSettings
from inventory.models import Unit
from tests.conftest import PASSWORD, SECRETS_KEY, client_as, table_contents, wait_for_run
from tests.discovery import snmp_lab

pytestmark = pytest.mark.usefixtures("worker")  # the scans these pages queue are carried through
WARD_ONE = {"name": "ward one", "unit_code": "W1", "networks": "127.0.9.0/29"}
WARD_TWO = {"name": "ward two", "unit_code": "W2", "networks": "127.0.8.1", "methods": "nmap"}
INLINE = {"a", "abbr", "b", "code", "em", "i", "small", "span", "strong"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """A page's elements by id (their text, their attributes), its tables' rows and its form fields' values."""

    def __init__(self, html: str):
        super().__init__()
        self.html = html
        self.texts: dict[str, list[str]] = {}
        self.attributes: dict[str, dict[str, str]] = {}
        self.inputs: list[dict[str, str]] = []
        self.open: list[tuple[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "input":
            self.inputs.append(attrs)
        if "id" in attrs:
            self.attributes[attrs["id"]] = attrs | {"tag": tag}
            self.texts.setdefault(attrs["id"], [])
        self._boundary(tag)
        if tag not in VOID:
            self.open.append((tag, attrs.get("id")))

    def _boundary(self, tag):
        if tag not in INLINE:  # a block ends a word: "<li>first</li><li>second</li>" reads "first second"
            self.handle_data(" ")

    def handle_endtag(self, tag):
        self._boundary(tag)
        while self.open:
            open_tag, _ = self.open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        for _, element_id in self.open:
            if element_id is not None:
                self.texts[element_id].append(data)

    def text(self, element_id: str) -> str:
        assert element_id in self.texts, f"no #{element_id} on the page"
        return " ".join("".join(self.texts[element_id]).split())

    def rows(self, table_id: str) -> list[list[str]]:
        """The body rows of a table, as the text of each cell."""
        body = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', self.html, re.S)
        assert body, f"no table #{table_id}"
        cells = r"<t[dh][^>]*>(.*?)</t[dh]>"
        return [[" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(cells, row, re.S)]
                for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)]

    def value(self, name: str) -> list[str]:
        return [i.get("value", "") for i in self.inputs if i.get("name") == name]


def page(response) -> Page:
    return Page(response.get_data(as_text=True))


@pytest.fixture
def en(client):
    """The administrator's client, reading the pages in English."""
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def officer_en(officer):
    officer.set_cookie("lang", "en")
    return officer




def credential(client, name: str, **values) -> int:
    response = client.post("/api/credentials", json={"name": name, "version": "v2c", "community": "public"} | values)
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_scopes_list_shows_the_callers_scopes_with_their_last_run(en, officer_en, app, token_for):
    ward_one = en.post("/api/scopes", json=WARD_ONE | {"schedule": "0 2 * * 1-5"}).json
    en.post("/api/scopes", json=WARD_TWO)
    listed = page(en.get("/scans"))
    assert listed.rows("scopes") == [
        ["ward one", "W1 · Ward One", "127.0.9.0/29", "nmap, SNMP", "0 2 * * 1-5 · waiting for a worker",
         "never scanned", "Scan now with nmap Poll now over SNMP"],
        ["ward two", "W2 · Ward Two", "127.0.8.1", "nmap", "by hand only", "never scanned", "Scan now with nmap"]]
    assert listed.attributes["new-scope"]["href"] == "/scans/scopes/new"
    # The officer of W1 sees W1's scope only, may scan it, and may not create one.
    mine = page(officer_en.get("/scans"))
    assert [row[0] for row in mine.rows("scopes")] == ["ward one"]
    assert "new-scope" not in mine.attributes
    assert [row[0] for row in page(officer_en.get("/scans?unit=W1")).rows("scopes")] == ["ward one"]
    assert officer_en.get("/scans?unit=W2").status_code == 404  # another unit's scopes are not there
    assert en.get("/scans?unit=NOPE").status_code == 404
    # The last run, with its status, kind and start, leads to the run's page.
    run_id = en.post(f"/api/scopes/{ward_one['id']}/runs", json={"kind": "nmap"}).json["id"]
    wait_for_run(en, run_id)
    listed = page(en.get("/scans?unit=W1"))
    assert listed.rows("scopes")[0][5].startswith("finished nmap sweep, ")
    assert f'href="/scans/runs/{run_id}"' in listed.html
    assert client_as(app, token_for(Role.FINANCE)).get("/scans").status_code == 403


def test_no_scope_says_what_to_do(en, officer_en):
    assert page(en.get("/scans")).text("content").endswith(
        "No scan scope yet: create one to start scanning. New scope")
    assert page(officer_en.get("/scans")).text("content").endswith(
        "No scan scope for your units yet: an administrator sets up which networks to scan.")


def test_scope_page_settings_credentials_in_order_runs_newest_first(en, officer_en):
    first, second = credential(en, "first"), credential(en, "second")
    scope = en.post("/api/scopes", json=WARD_ONE | {"exclusions": "127.0.9.7", "snmp_port": 1161,
                                                    "credential_ids": [second, first]}).json
    shown = page(en.get(f"/scans/scopes/{scope['id']}"))
    assert shown.text("settings") == ("Unit W1 · Ward One Networks 127.0.9.0/29 Exclusions 127.0.9.7 "
                                      "Network another network Methods nmap, SNMP SNMP port 1161 Schedule by hand only "
                                      "SNMP credentials, in the order tried second first")
    assert shown.text("runs-title") == "Runs"
    assert "No scan yet: start one with the buttons above." in shown.text("content")
    assert "No SNMP target yet: poll the scope over SNMP to find them." in shown.text("content")
    runs = []
    for _ in range(2):
        runs.append(en.post(f"/api/scopes/{scope['id']}/runs", json={"kind": "nmap"}).json["id"])
        wait_for_run(en, runs[-1])
    shown = page(en.get(f"/scans/scopes/{scope['id']}"))
    assert [(row[0], row[1], row[2], row[5:]) for row in shown.rows("runs")] == [
        (f"Run {runs[1]}", "nmap sweep", "finished", ["7 of 7", "0", "0", "0", "0", "0"]),
        (f"Run {runs[0]}", "nmap sweep", "finished", ["7 of 7", "0", "0", "0", "0", "0"])]
    # The officer sees W1's scope, without the edit link; W2's scope is not there for them.
    assert "edit-scope" not in page(officer_en.get(f"/scans/scopes/{scope['id']}")).attributes
    other = en.post("/api/scopes", json=WARD_TWO).json
    assert officer_en.get(f"/scans/scopes/{other['id']}").status_code == 404
    assert en.get("/scans/scopes/4242").status_code == 404


def scope_form(**changes) -> dict:
    return {"name": "ward one", "unit_code": "W1", "networks": "127.0.9.0/29", "exclusions": "", "snmp_port": "161",
            "methods": ["nmap", "snmp"], "credential_ids": ["", ""], "schedule": ""} | changes


@pytest.mark.parametrize(("changes", "status", "field", "reason"), [
    ({"networks": "10.0.0.0/24"}, 422, "networks", "10.0.0.0/24 is outside the scan allowlist (127.0.0.0/8, ::1/128)"),
    ({"networks": "127.0.9.300/24"}, 422, "networks",
     "'127.0.9.300/24' is not an address, a network (a.b.c.d/nn) or a range (a.b.c.d-a.b.c.e)"),
    ({"exclusions": "127.0.9.0/29"}, 422, "exclusions", "the exclusions leave nothing of the networks to scan"),
    ({"methods": []}, 422, "methods", "Choose nmap, SNMP or both."),
    ({"snmp_port": "70000"}, 422, "snmp_port",
     "Must be greater than or equal to 1 and less than or equal to 65535."),
    ({"schedule": "99 * * * *"}, 422, "schedule",
     "'99 * * * *' is neither a cron schedule (minute hour day month weekday, e.g. '0 2 * * *') nor an interval "
     "('every 30m', 'every 6h'): Error validating expression '99': the last value (99) is higher than the "
     "maximum value (59)"),
    ({"credential_ids": ["4242"]}, 404, "credential_ids", "credential 4242 does not exist"),
    ({"unit_code": "NOPE"}, 404, "unit_code", "unit 'NOPE' does not exist"),
    ({"name": ""}, 422, "name", "Missing data for required field."),
])
def test_a_refused_scope_is_shown_again_with_the_reason_next_to_the_field(en, engine, changes, status, field, reason):
    before = table_contents(engine)
    response = en.post("/scans/scopes/new", data=scope_form(**changes))
    assert response.status_code == status
    refused = page(response)
    assert refused.text(f"e-{field}") == reason
    control = {"methods": "f-methods-nmap", "credential_ids": None}.get(field, f"f-{field}")  # no credential: no list
    assert control is None or "is-invalid" in refused.attributes[control]["class"]
    assert refused.value("name") == [changes.get("name", "ward one")]  # what was typed stays in the form
    assert table_contents(engine) == before


def test_a_scope_outside_the_allowlist_is_refused_in_the_pages_language(client, engine):
    """The service's refusal, said next to the field: in Vietnamese by default, in English with ?lang=en."""
    before = table_contents(engine)
    refused = client.post("/scans/scopes/new", data=scope_form(networks="10.0.0.0/24"))
    assert (refused.status_code, page(refused).text("e-networks")) == (
        422, "10.0.0.0/24 nằm ngoài danh sách mạng được phép quét (127.0.0.0/8, ::1/128)")
    refused = client.post("/scans/scopes/new?lang=en", data=scope_form(networks="10.0.0.0/24"))
    assert (refused.status_code, page(refused).text("e-networks")) == (
        422, "10.0.0.0/24 is outside the scan allowlist (127.0.0.0/8, ::1/128)")
    api = client.post("/api/scopes", json=WARD_ONE | {"networks": "10.0.0.0/24"})  # the API answers in English
    assert (api.status_code, api.json["errors"]["json"]["networks"]) == (
        422, ["10.0.0.0/24 is outside the scan allowlist (127.0.0.0/8, ::1/128)"])
    assert table_contents(engine) == before


def test_an_overlapping_scope_conflicts_next_to_the_networks(en, engine):
    en.post("/api/scopes", json=WARD_ONE)
    before = table_contents(engine)
    response = en.post("/scans/scopes/new", data=scope_form(name="other", networks="127.0.9.4/30"))
    assert response.status_code == 409
    assert page(response).text("e-networks") == "127.0.9.4/30 is already in scope ward one"
    assert table_contents(engine) == before


def test_create_and_edit_a_scope_as_the_api_would(en, officer_en, sessions):
    first, second = credential(en, "first"), credential(en, "second")
    form = page(en.get("/scans/scopes/new?unit=W2"))
    assert 'value="W2" selected' in form.html
    assert [form.attributes[f"f-credential-{n}"]["name"] for n in (1, 2)] == ["credential_ids"] * 2
    created = en.post("/scans/scopes/new", data=scope_form(
        exclusions="127.0.9.7", credential_ids=[str(second), "", str(first)], methods=["snmp"], schedule="0 2 * * *"))
    assert created.status_code == 302
    scope_id = int(created.location.rsplit("/", 1)[1])
    assert en.get(f"/api/scopes/{scope_id}").json | {"created_at": 0} == {
        "id": scope_id, "name": "ward one", "unit_code": "W1", "networks": "127.0.9.0/29", "exclusions": "127.0.9.7",
        "snmp_port": 161, "methods": "snmp", "schedule": "0 2 * * *", "credential_ids": [second, first],
        "network": "other", "created_at": 0, "paused": False, "schedule_status": "waiting_for_worker",
        "next_run_at": None, "collector_id": None}
    assert "Scope ward one saved." in page(en.get(created.location)).text("content")
    # The edit form shows what is stored; emptied fields clear the exclusions, the schedule and the credentials.
    edit = page(en.get(f"/scans/scopes/{scope_id}/edit"))
    assert (edit.value("name"), edit.text("f-exclusions"), edit.value("schedule")) == (
        ["ward one"], "127.0.9.7", ["0 2 * * *"])
    first_choice = edit.html.split('id="f-credential-1"')[1].split("</select>")[0]
    assert re.search(rf'<option value="{second}" selected>', first_choice)
    changed = en.post(f"/scans/scopes/{scope_id}/edit",
                      data=scope_form(name="ward one office", credential_ids=["", ""]))
    assert changed.status_code == 302
    assert en.get(f"/api/scopes/{scope_id}").json | {"created_at": 0} == {
        "id": scope_id, "name": "ward one office", "unit_code": "W1", "networks": "127.0.9.0/29", "exclusions": "",
        "snmp_port": 161, "methods": "nmap,snmp", "schedule": None, "credential_ids": [], "network": "other",
        "created_at": 0, "paused": False, "schedule_status": "by_hand", "next_run_at": None, "collector_id": None}
    with sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.target_type == "scan_scope")
                                  .order_by(AuditEntry.id)).all()
        assert [(e.actor, e.action, (e.before or {}).get("name"), e.after["name"]) for e in entries] == [
            ("admin", "scope.create", None, "ward one"), ("admin", "scope.update", "ward one", "ward one office")]
    # A refused edit changes nothing, and shows the form again with the name as typed.
    refused = en.post(f"/scans/scopes/{scope_id}/edit", data=scope_form(name="renamed", networks="10.0.0.1"))
    assert (refused.status_code, page(refused).value("name")) == (422, ["renamed"])
    assert en.get(f"/api/scopes/{scope_id}").json["name"] == "ward one office"
    # Creating and editing scopes is the administrator's.
    assert officer_en.get("/scans/scopes/new").status_code == 403
    assert officer_en.post("/scans/scopes/new", data=scope_form(networks="127.0.7.1")).status_code == 403
    assert officer_en.get(f"/scans/scopes/{scope_id}/edit").status_code == 403


def test_scan_now_then_follow_the_run_to_its_counts(en, officer_en, sessions):
    scope = en.post("/api/scopes", json=WARD_ONE).json
    started = officer_en.post(f"/scans/scopes/{scope['id']}/runs", data={"kind": "nmap"})
    assert started.status_code == 302
    run_id = int(started.location.rsplit("/", 1)[1])
    assert started.location == f"/scans/runs/{run_id}"
    wait_for_run(en, run_id)
    finished = page(officer_en.get(started.location))
    assert finished.text("progress-text") == "8 of 8 hosts done"
    assert "data-live-url" not in finished.attributes["progress"]  # a finished run is not followed
    assert finished.attributes["progress-text"]["data-live-template"] == "{done} of {total} hosts done"
    assert finished.rows("counts") == [["Hosts that answered", "0"], ["New devices", "0"], ["Changed devices", "0"],
                                      ["Unchanged devices", "0"], ["Devices now missing", "0"]]
    assert finished.attributes["unit-devices"]["href"] == "/devices?unit=W1"
    with sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "scan.nmap")).one()
        assert (entry.actor, entry.target_id, entry.detail) == ("unit-officer", str(run_id), "scope ward one")
    # Another unit's scope cannot be scanned, nor its run seen, by W1's officer: neither is there.
    other = en.post("/api/scopes", json=WARD_TWO).json
    assert officer_en.post(f"/scans/scopes/{other['id']}/runs", data={"kind": "nmap"}).status_code == 404
    other_run = en.post(f"/api/scopes/{other['id']}/runs", json={"kind": "nmap"}).json["id"]
    assert officer_en.get(f"/scans/runs/{other_run}").status_code == 404
    wait_for_run(en, other_run)
    assert en.get("/scans/runs/4242").status_code == 404


def test_a_refused_scan_shows_the_scope_again_with_the_reason(en, engine):
    scope = en.post("/api/scopes", json=WARD_ONE | {"methods": "nmap"}).json
    before = table_contents(engine)
    for kind, status, reason in [("snmp", 422, "scope ward one does not allow snmp (its methods: nmap)"),
                                 ("ping", 422, "Must be one of: nmap, snmp."),
                                 ("", 422, "Missing data for required field.")]:
        response = en.post(f"/scans/scopes/{scope['id']}/runs", data={"kind": kind})
        assert (response.status_code, page(response).text("form-problems")) == (status, reason)
    en.patch(f"/api/scopes/{scope['id']}", json={"methods": "nmap,snmp"})
    response = en.post(f"/scans/scopes/{scope['id']}/runs", data={"kind": "snmp"})
    assert (response.status_code, page(response).text("form-problems")) == (
        422, "scope ward one has no SNMP credential to poll with")
    assert en.get(f"/api/scopes/{scope['id']}/runs").json == []
    assert {t: r for t, r in table_contents(engine).items() if t not in ("scan_scope", "audit_entry")} == \
        {t: r for t, r in before.items() if t not in ("scan_scope", "audit_entry")}


def test_a_running_run_follows_itself_and_a_busy_scope_refuses_another(en, org):
    scope_id = en.post("/api/scopes", json=WARD_ONE).json["id"]
    with org() as session, session.begin():  # a run started and not carried through: it stays running
        run_id = start_run(session, session.get(ScanScope, scope_id), "nmap", ScanSettings(allowlist="127.0.0.0/8")).id
    running = page(en.get(f"/scans/runs/{run_id}"))
    assert running.attributes["progress"] | {"class": "", "aria-labelledby": ""} == {
        "tag": "section", "id": "progress", "class": "", "aria-labelledby": "",
        "data-live-url": f"/api/scan-runs/{run_id}", "data-live-done": "hosts_done", "data-live-total": "hosts_total",
        "data-live-status": "status", "data-live-running": "running"}
    assert re.search(r'role="progressbar"[^>]*aria-valuenow="0"\s+aria-valuemax="8"', running.html)
    assert running.text("progress-text") == "0 of 8 hosts done"
    assert "The scan is still running: reload the page to see how far it is." in running.html  # without JavaScript
    assert '<script src="/assets/live.js"></script>' in running.html
    assert "<script>" not in running.html and "style=" not in running.html
    scope_page = page(en.get(f"/scans/scopes/{scope_id}"))
    assert scope_page.text("running") == f"A scan of this scope is running. Follow run {run_id}"
    busy = en.post(f"/scans/scopes/{scope_id}/runs", data={"kind": "nmap"})
    assert (busy.status_code, page(busy).text("form-problems")) == (
        409, f"scope ward one is being scanned already (run {run_id})")


def test_a_failed_run_says_why(en, org):
    scope_id = en.post("/api/scopes", json=WARD_ONE).json["id"]
    settings = ScanSettings(allowlist="127.0.0.0/8", sweep=SweepSettings(nmap_path="/nonexistent/nmap"))
    with org() as session, session.begin():
        run_id = start_run(session, session.get(ScanScope, scope_id), "nmap", settings).id
    assert execute_run(org, run_id, SecretBox([SECRETS_KEY]), settings).status is RunStatus.FAILED
    failed = page(en.get(f"/scans/runs/{run_id}"))
    assert failed.text("problems-title") == "Why the run failed"
    assert failed.rows("run-errors") == [
        ["the whole run", "nmap is not installed at /nonexistent/nmap (Debian package nmap)"]]
    assert "counts" not in failed.attributes


def test_snmp_targets_per_address_and_each_hosts_reason(snmp_lab_devices, en):
    lab_credential = credential(en, "lab")
    faulty, good = snmp_lab_devices["answers-in-a-loop"].address, snmp_lab_devices["cisco-c3560"].address
    scope = en.post("/api/scopes", json={"name": "loop", "unit_code": "W1", "networks": f"{faulty} {good}",
                                         "snmp_port": snmp_lab.PORT, "credential_ids": [lab_credential]}).json
    started = en.post(f"/scans/scopes/{scope['id']}/runs", data={"kind": "snmp"})
    run_id = int(started.location.rsplit("/", 1)[1])
    wait_for_run(en, run_id)
    reason = ("walk of 1.3.6.1.2.1.2.2.1.2 stopped: the agent answered 1.3.6.1.2.1.2.2.1.2.1 after "
              "1.3.6.1.2.1.2.2.1.2.5 (OIDs not increasing)")
    finished = page(en.get(started.location))
    assert finished.text("problems-title") == "Hosts with problems"
    assert finished.rows("run-errors") == [[faulty, reason]]
    assert [row[1] for row in finished.rows("counts")[:2]] == ["2", "2"]
    assert finished.attributes["targets-link"]["href"] == f"/scans/scopes/{scope['id']}#snmp-targets"
    targets = page(en.get(f"/scans/scopes/{scope['id']}")).rows("targets")
    assert [(row[0], row[1], row[2], row[3], row[4]) for row in targets] == [
        (good, "Cisco WS-C3560G-48TS-E (dumsys-04)", "lab", "answered", ""),
        (faulty, "Clavister (dumsys-24)", "lab", "answered in part", reason)]
    scope_page = page(en.get(f"/scans/scopes/{scope['id']}"))
    for target in en.get(f"/api/scopes/{scope['id']}/snmp-targets").json:  # each device leads to its page
        assert f'<a href="/devices/{target["device_id"]}">' in scope_page.html
    assert "public" not in scope_page.text("content")


def test_credentials_show_whether_a_secret_is_set_never_the_secret(en, officer_en, engine, sessions):
    assert page(en.get("/scans/credentials")).text("content").endswith(
        "No SNMP credential yet: add one, then name it in a scope to poll its devices. New credential")
    before = table_contents(engine)
    refused = en.post("/scans/credentials/new", data={"name": "ward", "version": "v2c", "community": "",
                                                      "username": "", "auth_protocol": "none", "priv_protocol": "none"})
    assert (refused.status_code, page(refused).text("e-community")) == (422, "SNMP v2c needs a community")
    assert table_contents(engine) == before
    created = en.post("/scans/credentials/new", data={"name": "ward", "version": "v2c", "community": "s3cret-community",
                                                      "auth_protocol": "none", "priv_protocol": "none"})
    assert (created.status_code, created.location) == (302, "/scans/credentials")
    listed = page(en.get("/scans/credentials"))
    assert [row[:8] for row in listed.rows("credentials")] == [
        ["ward", "SNMPv2c", "", "none", "none", "set", "not set", "not set"]]
    credential_id = en.get("/api/credentials").json[0]["id"]
    edit = page(en.get(f"/scans/credentials/{credential_id}/edit"))
    assert edit.value("community") == [""] and edit.attributes["f-community"]["type"] == "password"
    assert edit.text("h-community") == "Set: leave empty to keep it."
    # Editing with the secret left empty keeps it; a refused v3 key is not sent back either.
    assert en.post(f"/scans/credentials/{credential_id}/edit", data={
        "name": "ward 1", "version": "v2c", "community": "", "auth_protocol": "none", "priv_protocol": "none"}
    ).status_code == 302
    short = en.post(f"/scans/credentials/{credential_id}/rotate", data={"community": "", "auth_key": "short-k"})
    assert (short.status_code, page(short).text("e-auth_key")) == (422, "Length must be between 8 and 128.")
    blank = en.post(f"/scans/credentials/{credential_id}/rotate",
                    data={"community": "", "auth_key": "", "priv_key": ""})
    assert (blank.status_code, page(blank).text("form-problems")) == (422, "Type at least one new secret.")
    rotated = en.post(f"/scans/credentials/{credential_id}/rotate", data={"community": "n3w-community"})
    assert rotated.status_code == 302
    with sessions() as session:
        stored = session.get(Credential, credential_id)
        assert (stored.name, reveal(stored, SecretBox([SECRETS_KEY])).community) == ("ward 1", "n3w-community")
        entries = session.scalars(select(AuditEntry).where(AuditEntry.target_type == "credential")
                                  .order_by(AuditEntry.id)).all()
        assert [(e.action, e.detail) for e in entries] == [
            ("credential.create", ""), ("credential.update", ""), ("credential.update", "secrets replaced: community")]
    pages = [en.get(path).get_data(as_text=True) for path in (
        "/scans/credentials", f"/scans/credentials/{credential_id}/edit", f"/scans/credentials/{credential_id}/rotate")]
    pages += [short.get_data(as_text=True), refused.get_data(as_text=True)]
    assert not any(secret in html for html in pages for secret in ("s3cret-community", "n3w-community", "short-k"))
    assert officer_en.get("/scans/credentials").status_code == 403
    assert officer_en.post("/scans/credentials/new", data={"name": "x", "version": "v2c",
                                                           "community": "x"}).status_code == 403
    assert en.get("/scans/credentials/4242/edit").status_code == 404


def test_a_page_form_needs_the_csrf_token_of_the_session(app, org, token_for):
    token_for(Role.ADMIN)  # the account "admin"
    browser = app.test_client()
    sign_in = page(browser.get("/sign-in"))
    assert browser.post("/sign-in", data={"username": "admin", "password": PASSWORD,
                                          "csrf_token": sign_in.value("csrf_token")[0]}).status_code == 302
    form = page(browser.get("/scans/credentials/new"))
    data = {"name": "ward", "version": "v2c", "community": "secret-1"}
    assert browser.post("/scans/credentials/new", data=data).status_code == 403
    signed = data | {"csrf_token": form.value("csrf_token")[0]}
    assert browser.post("/scans/credentials/new", data=signed).status_code == 302


def as_caller(app, role: Role, unit_ids=None):
    """A request context of a caller of `role` (what the accounts hook sets), for a section's render function."""
    context = app.test_request_context("/", headers={"Cookie": "lang=vi"})
    context.push()
    g.caller = Caller(name=role.value, role=role, permissions=ROLE_PERMISSIONS[role.value], unit_ids=unit_ids,
                      user_id=1, via="session")
    return context


def test_the_unit_pages_scan_section(app, en, sessions):
    with sessions() as session:
        w1 = session.scalars(select(Unit).where(Unit.code == "W1")).one()
    context = as_caller(app, Role.ADMIN)
    try:
        empty = Page(str(unit_scans(unit=w1)))
        assert empty.text("unit-scans") == "Quét mạng Chưa quét lần nào: bắt đầu quét Thiết lập việc quét đơn vị này"
        assert 'href="/scans/scopes/new?unit=W1"' in empty.html
    finally:
        context.pop()
    scope_id = en.post("/api/scopes", json=WARD_ONE).json["id"]
    run_id = en.post(f"/api/scopes/{scope_id}/runs", json={"kind": "nmap"}).json["id"]
    wait_for_run(en, run_id)
    context = as_caller(app, Role.UNIT_OFFICER, frozenset({w1.id}))
    try:
        shown = Page(str(unit_scans(unit=w1)))
        [row] = shown.rows("unit-scopes")
        assert row[:2] == ["ward one", "127.0.9.0/29"] and row[2].startswith("đã xong Quét mạng nmap, ")
        assert row[3] == "Quét ngay bằng nmap Đọc ngay qua SNMP"
        assert f'action="/scans/scopes/{scope_id}/runs"' in shown.html
    finally:
        context.pop()
    context = as_caller(app, Role.FINANCE)
    try:
        assert unit_scans(unit=w1) is None  # finance may not run scans: no section
    finally:
        context.pop()


def test_the_unit_page_carries_the_section(en):
    response = en.get("/units/W1")
    if response.status_code == 404 and "/units/<code>" not in {r.rule for r in en.application.url_map.iter_rules()}:
        pytest.skip("the unit page is not there yet")
    assert page(response).text("unit-scans") == ("Scans No scan yet: start a scan Set up a scan of this unit")


def test_the_home_pages_lab_button_polls_the_lab(en, sessions):
    """The first page's button posts kind=snmp to the lab scope's scan-now route."""
    with sessions() as session, session.begin():
        lab.ensure_lab_scope(session, SecretBox([SECRETS_KEY]), "127.0.0.0/8", "W1", snmp_lab.PORT)
        scope_id = session.scalars(select(ScanScope.id).where(ScanScope.name == lab.LAB_SCOPE)).one()
    started = en.post(f"/scans/scopes/{scope_id}/runs", data={"kind": "snmp"})
    assert started.status_code == 302
    run = en.get(f"/api/scan-runs/{started.location.rsplit('/', 1)[1]}").json
    assert (run["kind"], run["hosts_total"], run["mode"]) == (
        "snmp", 26, f"SNMP, 1 credential(s), port {snmp_lab.PORT}")
    with sessions() as session:
        assert session.scalars(select(ScanRun.scope_id)).all() == [scope_id]
