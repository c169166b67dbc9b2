"""The agents' pages through the Flask test client, on both databases: the enrolments of the caller's units
(another unit's is absent), issuing from the page (the secret shown once, then nowhere), revoking after a
confirmation, the upload of a real `fusioninventory-inventory` file, and the device page's agent block with this
machine's hardware as /proc and lsblk give it."""
import hashlib
import io
import json
import re
import subprocess
import zlib
from pathlib import Path

import pytest
from defusedxml import ElementTree
from sqlalchemy import select

from accounts.models import Role
from agents.models import Enrolment
from core.audit import AuditEntry
from inventory.models import Device
from tests.accounts.test_pages_accounts import signed_in
from tests.agents.conftest import issued
from tests.conftest import client_as, table_contents
from tests.inventory.test_pages_devices import Page, page


@pytest.fixture(scope="module")
def real_inventory() -> bytes:
    """This machine's inventory, as the real agent writes it for a unit without network access."""
    return subprocess.run(["fusioninventory-inventory"], capture_output=True, check=True, timeout=120).stdout


def english(app, token: str):
    browser = client_as(app, token)
    browser.set_cookie("lang", "en")
    return browser


@pytest.fixture
def en(app, org, token_for):
    """The administrator reading the pages in English."""
    return english(app, token_for(Role.ADMIN))


@pytest.fixture
def officer_en(app, org, token_for):
    """W1's unit officer reading the pages in English."""
    return english(app, token_for(Role.UNIT_OFFICER))


def page_post(client, url: str, data, status: int, **more) -> Page:
    response = client.post(url, data=data, **more)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return Page(response.get_data(as_text=True))


def listed(found: Page) -> list[list[str]]:
    """The enrolments' rows: unit, name, state."""
    return [[row[0], row[1], row[7]] for row in found.rows("enrolments")]


def test_an_admin_sees_every_unit_s_enrolments_and_an_officer_only_their_own(en, officer_en, client):
    w1, w2 = issued(client, "W1", "W1 office"), issued(client, "W2", "W2 office")
    assert listed(page(en, "/agents")) == [["W1", "W1 office", "active"], ["W2", "W2 office", "active"]]
    found = page(officer_en, "/agents")
    assert listed(found) == [["W1", "W1 office", "active"]]
    assert found.rows("enrolments")[0][2] == w1["prefix"] and found.rows("enrolments")[0][4] == "never"
    assert "Inventory agents" in found.texts["navigation"]
    # The issue form offers the officer's units only.
    assert re.findall(r'<option value="([^"]+)"', officer_en.get("/agents").get_data(as_text=True)) == ["W1"]
    assert page(officer_en, f"/agents/{w1['id']}").texts["enrolment-name"] == "W1 office"
    for enrolment_id, url in ((w2["id"], f"/agents/{w2['id']}"), (w2["id"], f"/agents/{w2['id']}/revoke"),
                              (4242, "/agents/4242")):  # another unit's is as absent as one not there
        assert page(officer_en, url, 404).texts["content"] == \
            f"Not found enrolment {enrolment_id} does not exist Back to the overview"
    # In Vietnamese by default, and the navigation names the page for every role that reads the inventory.
    assert page(client, "/agents").texts["navigation"].startswith("Tổng quan")


def test_an_enrolment_page_lists_its_agents_and_its_refusals(en, client, anonymous, real_inventory, sessions):
    enrolment = issued(client, "W1", "W1 office")
    url = "/agents/" + enrolment["secret"]
    assert anonymous.post(url, data=zlib.compress(real_inventory)).status_code == 200
    assert anonymous.post(url, data=b"<REQUEST><QUERY>INVENTORY").status_code == 400
    assert anonymous.post(url, data=b"\x78\x9c garbage").status_code == 400
    found = page(en, f"/agents/{enrolment['id']}")
    root = ElementTree.fromstring(real_inventory)
    with sessions() as session:
        device = session.scalars(select(Device)).one()
    [row] = found.rows("reports")
    assert row[:3] == [root.findtext("DEVICEID"), device.hostname, root.findtext("CONTENT/VERSIONCLIENT")]
    assert row[5] == "1"
    assert f'href="/devices/{device.id}"' in en.get(f"/agents/{enrolment['id']}").get_data(as_text=True)
    assert found.rows("refusals-table") == [["neither XML nor valid zlib or gzip", "1"], ["malformed XML", "1"]]
    listed_row = page(en, "/agents").rows("enrolments")[0]
    assert listed_row[5:7] == ["1", "neither XML nor valid zlib or gzip: 1; malformed XML: 1"]


def test_issuing_from_the_page_shows_the_secret_once(app, org, token_for, anonymous, real_inventory, sessions):
    token_for(Role.UNIT_OFFICER)  # the account "unit-officer", W1's
    browser = signed_in(app, "unit-officer")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/agents").get_data(as_text=True)).group(1)
    response = browser.post("/agents", data={"unit_code": "W1", "name": "Ward office PCs", "keep_last_user": "on",
                                              "csrf_token": csrf})
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    shown = Page(response.get_data(as_text=True))
    server_url = shown.texts["server-url"]
    secret = server_url.removeprefix("http://localhost/agents/")
    with sessions() as session:
        enrolment = session.scalars(select(Enrolment)).one()
        assert (enrolment.unit.code, enrolment.name, enrolment.keep_last_user, enrolment.created_by) == (
            "W1", "Ward office PCs", True, "unit-officer")
        assert enrolment.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret.startswith(enrolment.prefix) and len(secret) == 32
    assert shown.texts["command-linux"] == f"fusioninventory-agent --server {server_url}"
    assert shown.texts["command-windows"] == f'msiexec /i GLPI-Agent-x64.msi /quiet RUNNOW=1 SERVER="{server_url}"'
    assert shown.texts["command-import"] == "flask --app app agents import /path/to/folder --unit W1"
    # Shown this once: on no other page.
    for path in ("/agents", f"/agents/{enrolment.id}", f"/agents/{enrolment.id}/revoke", "/api/agent-enrolments"):
        assert secret not in browser.get(path).get_data(as_text=True)
    # The address works for the real agent's inventory, and this enrolment keeps the last user.
    assert anonymous.post(f"/agents/{secret}", data=zlib.compress(real_inventory)).status_code == 200
    with sessions() as session:
        device = session.scalars(select(Device)).one()
    block = agent_block(Page(browser.get(f"/devices/{device.id}").get_data(as_text=True)))
    last_user = ElementTree.fromstring(real_inventory).findtext("CONTENT/HARDWARE/LASTLOGGEDUSER")
    assert block.get("Last logged-in user") == last_user  # kept: the enrolment enables it


@pytest.mark.parametrize(("form", "status", "field", "message"), [
    ({"unit_code": "W1", "name": ""}, 422, "name", "Missing data for required field."),
    ({"unit_code": "W1", "name": "x" * 101}, 422, "name", "Length must be between 1 and 100."),
    ({"unit_code": "W2", "name": "W2 PCs"}, 403, "unit_code", "unit 'W2' is not one of your units"),
])
def test_a_refused_issue_says_why_next_to_the_field_and_stores_nothing(officer_en, engine, form, status, field,
                                                                       message):
    before = table_contents(engine)
    found = page_post(officer_en, "/agents", form, status)
    assert found.texts[f"e-{field}"] == message
    assert found.attrs["f-name"]["value"] == form["name"]  # what was typed stays in the form
    assert table_contents(engine) == before


def test_revoking_asks_first_then_refuses_its_agents(en, client, anonymous, real_inventory, sessions):
    enrolment = issued(client, "W1", "W1 office")
    confirm = page(en, f"/agents/{enrolment['id']}/revoke")
    assert confirm.texts["confirm"] == "Revoke the enrolment"
    with sessions() as session:
        assert session.get(Enrolment, enrolment["id"]).revoked_at is None  # asking changed nothing
    response = en.post(f"/agents/{enrolment['id']}/revoke")
    assert (response.status_code, response.location) == (302, f"/agents/{enrolment['id']}")
    found = page(en, f"/agents/{enrolment['id']}")  # the redirect's page, with what was done
    assert "Enrolment W1 office revoked: its agents are refused from now on." in found.texts["content"]
    revoked = found.rows("enrolment-facts")[-1]
    assert revoked[0] == "Revoked" and revoked[1].endswith(" · admin")
    assert found.texts["enrolment-summary"].endswith("revoked on " + revoked[1].removesuffix(" · admin"))
    assert "revoke" not in found.attrs  # nothing left to revoke
    assert "revoked-next" in found.texts  # what to do instead
    assert anonymous.post("/agents/" + enrolment["secret"], data=zlib.compress(real_inventory)).status_code == 403
    with sessions() as session:
        assert session.scalars(select(Device)).all() == []
        assert session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "agent_enrolment")
                               ).all() == ["agent_enrolment.issue", "agent_enrolment.revoke"]


def agent_block(found: Page) -> dict[str, str]:
    """The device page's agent block, as label → value."""
    return {label: value for label, value in found.tables["agent-table"]}


def proc_hardware() -> dict[str, object]:
    """What this machine has, as Linux says it: the agent must report the same."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = " ".join(re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.M).group(1).split())
    mem_kb = int(re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.M).group(1))
    disks = json.loads(subprocess.run(["lsblk", "-b", "-d", "-J", "-o", "NAME,SIZE,TYPE"], capture_output=True,
                                      check=True, text=True).stdout)["blockdevices"]
    sizes = {d["name"]: int(d["size"]) for d in disks
             if d["type"] == "disk" and int(d["size"] or 0) > 0 and not d["name"].startswith(("zram", "loop", "ram"))}
    cores = {m.group(1): int(m.group(2)) for m in re.finditer(
        r"^physical id\s*:\s*(\d+)$.*?^cpu cores\s*:\s*(\d+)$", cpuinfo, re.M | re.S)}  # per socket
    return {"cpu_model": model, "cores": sum(cores.values()), "memory_mb": mem_kb // 1024, "disks": sizes}


def test_the_import_form_stores_a_real_inventory_and_the_device_page_shows_its_hardware(en, sessions,
                                                                                        real_inventory):
    form = page(en, "/agents/import?unit=W1")
    assert form.attrs["f-files"]["type"] == "file" and "multiple" in form.attrs["f-files"]
    found = page_post(en, "/agents/import", {"unit_code": "W1", "files": [
        (io.BytesIO(zlib.compress(real_inventory)), "this-pc.ocs"),
        (io.BytesIO(b"<REQUEST><QUERY>INVENTORY</QUERY>"), "broken.xml")]}, 200,
        content_type="multipart/form-data")
    with sessions() as session:
        device = session.scalars(select(Device)).one()
        assert device.unit.code == "W1"
    assert found.rows("imported") == [["this-pc.ocs", f"stored: Device {device.id}"],
                                      ["broken.xml", ("refused: the XML is malformed: no element found: line 1, "
                                                      "column 33")]]
    assert found.texts["results-title"] == "1 of 2 files stored"
    # The device page's agent block: this machine's processor, memory and disks as Linux gives them.
    block = agent_block(page(en, f"/devices/{device.id}"))
    expected = proc_hardware()
    root = ElementTree.fromstring(real_inventory)
    assert block["Agent version"] == f"{root.findtext('CONTENT/VERSIONCLIENT')} · {root.findtext('DEVICEID')}"
    assert block["Processors"].startswith(expected["cpu_model"] + " · ")
    assert sum(int(n) for n in re.findall(r"(\d+) cores", block["Processors"])) == expected["cores"]
    assert block["Memory (RAM)"] == f"{expected['memory_mb']:,} MB"
    assert sorted(d.split(" · ")[:2] for d in block["Disks"].split("; ")) == sorted(
        [name, f"{round(size // 10**6 / 1000):,} GB"] for name, size in expected["disks"].items())
    assert "Last logged-in user" not in block  # imported files never keep the last user


def test_an_upload_for_another_unit_or_without_files_is_refused_and_stores_nothing(officer_en, engine,
                                                                                  real_inventory):
    before = table_contents(engine)
    found = page_post(officer_en, "/agents/import", {"unit_code": "W2", "files": [
        (io.BytesIO(real_inventory), "pc.xml")]}, 403, content_type="multipart/form-data")
    assert found.texts["e-unit_code"] == "unit 'W2' is not one of your units"
    found = page_post(officer_en, "/agents/import", {"unit_code": "W1", "files": [(io.BytesIO(b""), "")]}, 422,
                      content_type="multipart/form-data")
    assert found.texts["e-files"] == "Choose at least one inventory file."
    assert table_contents(engine) == before
