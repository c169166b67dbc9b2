"""The real FusionInventory agent (Debian's fusioninventory-agent 2.6) reports this machine to a real server of
the product on loopback, on both databases: the device appears in the enrolment's unit with this machine's CPU,
cores, RAM and disks as Linux gives them; a second run changes nothing; the same machine's inventory written by
fusioninventory-inventory and imported as a file is the same device and changes nothing either."""
import io
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest
from sqlalchemy import select

from agents.models import AgentReport, Enrolment
from inventory.models import Device, Observation
from tests.agents.conftest import device_state, issued, this_machine
from tests.serving import serving

AGENT = shutil.which("fusioninventory-agent")
INVENTORY = shutil.which("fusioninventory-inventory")
# The agent's modules; setup.pm there names the state directory (/var/lib/fusioninventory-agent) and no option
# changes it, so a setup.pm of the test's own, loaded first (perl -M), points it at the test's directory.
AGENT_LIB = Path("/usr/share/fusioninventory/lib")
SETUP = """package setup;
use strict;
use warnings;
use parent qw(Exporter);
our @EXPORT = ('%setup');
our %setup = (datadir => "/usr/share/fusioninventory", libdir => "/usr/share/fusioninventory/lib",
              vardir => "{vardir}");
1;
"""
pytestmark = pytest.mark.skipif(AGENT is None or not AGENT_LIB.is_dir(),
                                reason="Debian's fusioninventory-agent is not installed")


def agent_version() -> str:
    """The installed agent's version as its inventories name it: FusionInventory-Agent_v2.6-3."""
    first = subprocess.run([AGENT, "--version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    # "FusionInventory Agent (2.6-3)"
    return "FusionInventory-Agent_v" + first.rsplit("(", 1)[1].rstrip(")")


def run_agent(url: str, state: Path) -> subprocess.CompletedProcess:
    """One run of the agent in the foreground (no daemon, no web interface), its inventory task only, sent
    whatever the server last saw (--force); an empty configuration file, its state in `state`, logs on stderr."""
    vardir = state / "var"
    vardir.mkdir(parents=True, exist_ok=True)
    (state / "setup.pm").write_text(SETUP.replace("{vardir}", str(vardir)))
    (state / "agent.cfg").write_text("")  # rather than /etc/fusioninventory/agent.cfg (it refuses /dev/null)
    return subprocess.run(["perl", f"-I{state}", "-Msetup", AGENT, f"--conf-file={state / 'agent.cfg'}",
                           f"--server={url}",
                           "--tasks=inventory", "--force", "--no-httpd", "--logger=stderr", "--debug",
                           "--timeout=60", "--backend-collect-timeout=60"],
                          capture_output=True, text=True, timeout=300, cwd=state, check=False)


def agent_log_errors(run: subprocess.CompletedProcess) -> list[str]:
    """What the agent logged as an error: a refused request, a reply it could not read."""
    return [line for line in run.stderr.splitlines() if line.startswith("[error]")]


class Exchanges:
    """The app, noting each request it answers: method, path, content type, the query its body names, status."""

    def __init__(self, wsgi_app):
        self.wsgi_app, self.seen = wsgi_app, []

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        seen = [environ["REQUEST_METHOD"], environ["PATH_INFO"], environ.get("CONTENT_TYPE"), _query(body), None]
        self.seen.append(seen)

        def noting(status, headers, *more):
            seen[4] = int(status.split()[0])
            return start_response(status, headers, *more)
        return self.wsgi_app(environ, noting)


def _query(body: bytes) -> str:
    """The QUERY an agent's zlib-compressed XML names, or what the body is when it is no such thing."""
    try:
        xml = zlib.decompress(body).decode()
    except zlib.error:
        return f"not zlib: {body[:40]!r}"
    return xml.split("<QUERY>", 1)[1].split("</QUERY>", 1)[0] if "<QUERY>" in xml else f"no QUERY: {xml[:80]!r}"


@pytest.fixture
def reported(app, enrolment, sessions, tmp_path):
    """This machine reported by the real agent to the real server, once: the device's id, the agent's run, the
    URL it reports to (still served during the test) and the requests the server answered."""
    exchanges = app.wsgi_app = Exchanges(app.wsgi_app)
    with serving(app, threads=4) as base:
        url = f"{base}/agents/{enrolment['secret']}"
        assert enrolment["server_url"].endswith(f"/agents/{enrolment['secret']}")
        run = run_agent(url, tmp_path / "agent")
        assert run.returncode == 0, run.stderr
        assert "[info] sending prolog request to server0" in run.stderr, run.stderr
        assert agent_log_errors(run) == []
        path = f"/agents/{enrolment['secret']}"
        # Exactly what the endpoint speaks: a PROLOG then the INVENTORY, both POSTed zlib-compressed, both 200.
        assert exchanges.seen == [["POST", path, "application/x-compress-zlib", "PROLOG", 200],
                                  ["POST", path, "application/x-compress-zlib", "INVENTORY", 200]]
        exchanges.seen.clear()
        with sessions() as session:
            report = session.scalars(select(AgentReport)).one()
        yield report.device_id, run, url, exchanges


def test_the_real_agent_reports_this_machine_s_hardware_into_the_enrolment_s_unit(reported, sessions, enrolment):
    device_id, run, _url, _exchanges = reported
    expected = this_machine()
    with sessions() as session:
        device = session.get(Device, device_id)
        assert device.unit.code == "W1"
        assert (device.specs["cpu_model"], device.specs["cpu_cores"], device.specs["ram_gb"],
                device.specs["storage_gb"]) == (expected["cpu_model"], expected["cpu_cores"], expected["ram_gb"],
                                                expected["storage_gb"]), run.stderr
        assert (device.hostname, sorted(i.mac for i in device.interfaces)) == (expected["hostname"],
                                                                               expected["macs"])
        report = session.scalars(select(AgentReport)).one()
        assert (report.enrolment_id, report.agent_version, report.inventories) == (
            enrolment["id"], agent_version(), 1)
        assert report.agent_id in run.stderr  # the agent's DEVICEID, as it logs it
        observation = session.scalars(select(Observation).where(Observation.device_id == device_id)).one()
        assert observation.method == "agent"
        assert sorted(disk["name"] for disk in observation.evidence["raw"]["disks"]) == expected["disks"]
        enrolment_row = session.get(Enrolment, enrolment["id"])
        assert (enrolment_row.inventories, enrolment_row.refusals) == (1, {})


def test_a_second_run_of_the_agent_changes_nothing(reported, sessions, tmp_path):
    """The same agent (its state kept) runs again against the same server: one device, unchanged."""
    device_id, _first, url, exchanges = reported
    with sessions() as session:
        before = device_state(session, device_id)
    second = run_agent(url, tmp_path / "agent")
    assert second.returncode == 0, second.stderr
    assert agent_log_errors(second) == []
    assert [query for _method, _path, _type, query, _status in exchanges.seen] == ["PROLOG", "INVENTORY"]
    with sessions() as session:
        assert session.scalars(select(Device.id)).all() == [device_id]
        assert device_state(session, device_id) == before
        report = session.scalars(select(AgentReport)).one()
        assert (report.device_id, report.inventories) == (device_id, 2)


def written_by_fusioninventory_inventory(tmp_path) -> Path:
    """This machine's inventory as `fusioninventory-inventory` writes it (to standard output), in a file."""
    run = subprocess.run([INVENTORY, "--backend-collect-timeout=60"], capture_output=True, timeout=300, cwd=tmp_path,
                         check=False)
    assert run.returncode == 0, run.stderr
    path = tmp_path / "this-machine.xml"
    path.write_bytes(run.stdout)
    return path


def imported(client, path: Path, unit_code="W1") -> list[dict]:
    with path.open("rb") as file:
        response = client.post(f"/api/units/{unit_code}/agent-inventories", data={"files": [(file, path.name)]},
                               content_type="multipart/form-data")
    assert response.status_code == 200, response.json
    return response.json


def identity(state: dict) -> dict:
    """What makes a device this machine: serial, host name, MACs, and its hardware."""
    return {"serial": state["serial"], "hostname": state["hostname"],
            "macs": [mac for mac, *_rest in state["interfaces"]], "specs": state["specs"], "unit": state["unit"],
            "device_class": state["device_class"], "os": state["os"]}


def test_fusioninventory_inventory_s_file_imported_gives_the_agent_s_device(client, app, sessions, tmp_path):
    """Imported first, then reported by the agent: one device, which the agent's report leaves as the file
    described it."""
    path = written_by_fusioninventory_inventory(tmp_path)
    [result] = imported(client, path)
    assert (result["name"], result["refused"]) == ("this-machine.xml", None)
    expected = this_machine()
    with sessions() as session:
        from_file = device_state(session, result["device_id"])
    assert (from_file["specs"]["cpu_model"], from_file["specs"]["cpu_cores"], from_file["specs"]["ram_gb"],
            from_file["specs"]["storage_gb"]) == (expected["cpu_model"], expected["cpu_cores"], expected["ram_gb"],
                                                  expected["storage_gb"])
    enrolment = issued(client)
    with serving(app, threads=4) as base:
        run = run_agent(f"{base}/agents/{enrolment['secret']}", tmp_path / "agent")
    assert run.returncode == 0 and agent_log_errors(run) == [], run.stderr
    with sessions() as session:
        assert session.scalars(select(Device.id)).all() == [result["device_id"]]
        report = session.scalars(select(AgentReport).where(AgentReport.enrolment_id == enrolment["id"])).one()
        assert report.device_id == result["device_id"]
        assert identity(device_state(session, result["device_id"])) == identity(from_file)


def test_importing_the_file_after_the_agent_s_report_changes_nothing(reported, client, sessions, tmp_path):
    device_id, _run, _url, _exchanges = reported
    with sessions() as session:
        before = device_state(session, device_id)
    path = written_by_fusioninventory_inventory(tmp_path)
    assert imported(client, path) == [{"name": "this-machine.xml", "device_id": device_id, "refused": None}]
    with sessions() as session:
        assert session.scalars(select(Device.id)).all() == [device_id]
        assert device_state(session, device_id) == before
