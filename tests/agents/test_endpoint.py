"""The agent endpoint over HTTP, on both databases: enrolments issued within the caller's units, a PROLOG told
to send, an inventory stored in the enrolment's unit, and every refusal storing nothing and counted."""
import zlib

import pytest
from sqlalchemy import select

from accounts.models import Role
from agents.models import AgentReport, Enrolment
from inventory.models import Device, Observation, Relocation
from tests.agents.conftest import issued
from tests.conftest import client_as, table_contents

# What a repeated report changes: its contact times and counts, and the observation kept as evidence.
BOOKKEEPING = {"agent_enrolment", "agent_report", "device", "observation"}
LAST_SEEN = [column.name for column in Device.__table__.columns].index("last_seen")


def without_last_seen(rows: list[tuple]) -> list[tuple]:
    return [row[:LAST_SEEN] + row[LAST_SEEN + 1:] for row in rows]
PROLOG = b"""<?xml version="1.0" encoding="UTF-8" ?>
<REQUEST><DEVICEID>pc-01-2026-12-01-08-00-00</DEVICEID><QUERY>PROLOG</QUERY><TOKEN>12345678</TOKEN></REQUEST>"""


def agent_url(enrolment: dict) -> str:
    return "/agents/" + enrolment["secret"]


def test_a_prolog_is_told_to_send_its_inventory(client, anonymous):
    enrolment = issued(client)
    response = anonymous.post(agent_url(enrolment), data=zlib.compress(PROLOG),
                              headers={"Content-Type": "application/x-compress-zlib"})
    assert response.status_code == 200 and response.mimetype == "application/x-compress-zlib"
    assert zlib.decompress(response.data) == (b'<?xml version="1.0" encoding="UTF-8"?>\n'
                                              b"<REPLY><PROLOG_FREQ>24</PROLOG_FREQ><RESPONSE>SEND</RESPONSE></REPLY>\n")



def inventory(serial="7XK2PQ3", hostname="KT-PC-01", mac="D4:BE:D9:12:34:56", agent="kt-pc-01-2026-12-01-08-00-00",
              query="INVENTORY") -> bytes:
    """An inventory as FusionInventory 2.6 writes it, cut to the sections that identify a PC and say its
    hardware (a Dell OptiPlex 3070 under Windows 10)."""
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<REQUEST>
  <CONTENT>
    <BIOS><SMANUFACTURER>Dell Inc.</SMANUFACTURER><SMODEL>OptiPlex 3070</SMODEL><SSN>{serial}</SSN></BIOS>
    <CPUS><CORE>6</CORE><MANUFACTURER>Intel</MANUFACTURER><NAME>Intel(R) Core(TM) i5-9500 CPU @ 3.00GHz</NAME>
      <THREAD>6</THREAD></CPUS>
    <HARDWARE><MEMORY>7972</MEMORY><NAME>{hostname}</NAME><OSNAME>Microsoft Windows 10 Pro</OSNAME>
      <OSVERSION>10.0.19045</OSVERSION><LASTLOGGEDUSER>nguyen.van.a</LASTLOGGEDUSER></HARDWARE>
    <NETWORKS><DESCRIPTION>Intel(R) Ethernet Connection (7) I219-LM</DESCRIPTION><IPADDRESS>10.20.1.15</IPADDRESS>
      <MACADDR>{mac}</MACADDR><SPEED>1000</SPEED><STATUS>Up</STATUS><VIRTUALDEV>0</VIRTUALDEV></NETWORKS>
    <STORAGES><DESCRIPTION>SSD</DESCRIPTION><DISKSIZE>244198</DISKSIZE><MODEL>PC SN520 NVMe WDC 256GB</MODEL>
      <NAME>\\\\.\\PHYSICALDRIVE0</NAME><TYPE>disk</TYPE></STORAGES>
    <VERSIONCLIENT>FusionInventory-Agent_v2.6</VERSIONCLIENT>
  </CONTENT>
  <DEVICEID>{agent}</DEVICEID>
  <QUERY>{query}</QUERY>
</REQUEST>
""".encode()


def observed(session) -> Observation:
    return session.scalars(select(Observation).where(Observation.method == "agent")).one()


def test_an_inventory_is_stored_in_the_enrolment_s_unit_with_its_hardware(client, anonymous, sessions):
    enrolment = issued(client, keep_last_user=False)
    response = anonymous.post(agent_url(enrolment), data=zlib.compress(inventory()))
    assert response.status_code == 200
    assert zlib.decompress(response.data) == (b'<?xml version="1.0" encoding="UTF-8"?>\n'
                                              b"<REPLY><PROLOG_FREQ>24</PROLOG_FREQ></REPLY>\n")
    with sessions() as session:
        device = session.scalars(select(Device)).one()
        assert (device.unit.code, device.serial, device.vendor, device.model, device.hostname, device.device_class) \
            == ("W1", "7XK2PQ3", "Dell Inc.", "OptiPlex 3070", "kt-pc-01", "workstation")
        # As the spec registry stores them: the CPU's marketing name; the release of Windows from its build; the
        # disk's 244,198 MiB (Windows counts in MiB) as the 256 GB it is sold as.
        assert device.specs == {"cpu_model": "Intel Core i5-9500", "cpu_cores": 6, "ram_gb": 8, "storage_gb": 256,
                                "storage_kind": "ssd", "os_name": "Windows 10 Pro", "os_version": "22H2"}
        assert [(i.mac, i.ips) for i in device.interfaces] == [("d4:be:d9:12:34:56", ["10.20.1.15"])]
        report = session.scalars(select(AgentReport)).one()
        assert (report.agent_id, report.device_id, report.agent_version, report.inventories) == (
            "kt-pc-01-2026-12-01-08-00-00", device.id, "FusionInventory-Agent_v2.6", 1)
        assert "last_user" not in observed(session).evidence["raw"]  # personal data: not kept unless enabled
        assert session.get(Enrolment, enrolment["id"]).inventories == 1


def test_the_last_user_is_kept_only_where_the_enrolment_enables_it(client, anonymous, sessions):
    anonymous.post(agent_url(issued(client, keep_last_user=True)), data=zlib.compress(inventory()))
    with sessions() as session:
        assert observed(session).evidence["raw"]["last_user"] == "nguyen.van.a"


def test_the_same_inventory_twice_changes_nothing_and_a_reinstalled_pc_stays_one_device(client, anonymous, sessions,
                                                                                      engine):
    url = agent_url(issued(client))
    anonymous.post(url, data=zlib.compress(inventory()))
    before = table_contents(engine)
    anonymous.post(url, data=zlib.compress(inventory()))
    after = table_contents(engine)
    # Only the bookkeeping of contact moves: when the agent and the device were last seen, and the count.
    assert {name: rows for name, rows in after.items() if name not in BOOKKEEPING} == \
        {name: rows for name, rows in before.items() if name not in BOOKKEEPING}
    assert without_last_seen(after["device"]) == without_last_seen(before["device"])
    assert len(after["observation"]) == len(before["observation"]) + 1
    with sessions() as session:
        assert session.scalars(select(AgentReport)).one().inventories == 2
    # Reinstalled: a new agent id and host name, the same BIOS serial.
    anonymous.post(url, data=zlib.compress(inventory(hostname="KT-PC-01B", agent="kt-pc-01b-2026-12-05-09-00-00")))
    with sessions() as session:
        device = session.scalars(select(Device)).one()
        assert device.hostname == "kt-pc-01b"
        assert [r.agent_id for r in session.scalars(select(AgentReport).order_by(AgentReport.id))] == [
            "kt-pc-01-2026-12-01-08-00-00", "kt-pc-01b-2026-12-05-09-00-00"]


def test_a_pc_reporting_under_another_unit_s_enrolment_raises_a_relocation(client, anonymous, sessions):
    anonymous.post(agent_url(issued(client, "W2", "W2 PCs")), data=zlib.compress(inventory()))
    anonymous.post(agent_url(issued(client, "W1", "W1 PCs")), data=zlib.compress(inventory()))
    with sessions() as session:
        device = session.scalars(select(Device)).one()
        relocation = session.scalars(select(Relocation)).one()
        assert (device.unit.code, relocation.to_unit.code, relocation.status.value) == ("W2", "W1", "pending")


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<REQUEST><CONTENT><HARDWARE><NAME>&lol3;</NAME></HARDWARE></CONTENT><DEVICEID>x</DEVICEID><QUERY>INVENTORY</QUERY>
</REQUEST>"""
NO_IDENTITY = inventory(serial="", hostname="", mac="00:00:00:00:00:00")
REFUSED = {
    "malformed": (zlib.compress(inventory()[:-40]), 400, "the XML is malformed: unclosed token: line 15, column 40",
                  "malformed"),
    "truncated": (zlib.compress(inventory())[:200], 400, "the zlib data is truncated", "compression"),
    "corrupt": (b"\x78\x9c" + b"\x00" * 50, 400, "the zlib data is corrupt: Error -3 while decompressing data: "
                "invalid stored block lengths", "compression"),
    "not-compressed-xml": (b"\x00\x01 binary", 400, "the request is neither XML nor zlib- or gzip-compressed XML",
                           "compression"),
    "entity-bomb": (BOMB, 400, "the XML declares a DTD or entities, which are refused: DTDForbidden"
                    "(name='lolz', system_id=None, public_id=None)", "forbidden_xml"),
    "decompression-bomb": (zlib.compress(b" " * (33 * 1024 * 1024)), 413,
                           "the inventory is larger than 32 MiB once decompressed", "too_large"),
    "no-identity": (zlib.compress(NO_IDENTITY), 400, "the inventory names no serial, host name or network interface",
                    "no_identity"),
    "unsupported-query": (zlib.compress(inventory(query="SNMPQUERY")), 400,
                          "unsupported query 'SNMPQUERY'; one of PROLOG, INVENTORY", "unsupported"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_refused_request_stores_nothing_says_why_and_is_counted(client, anonymous, sessions, engine, case):
    body, status, message, code = REFUSED[case]
    enrolment = issued(client)
    before = table_contents(engine)
    response = anonymous.post(agent_url(enrolment), data=body)
    assert (response.status_code, response.get_data(as_text=True)) == (status, message + "\n")
    after = table_contents(engine)
    assert {name: rows for name, rows in after.items() if name != "agent_enrolment"} == \
        {name: rows for name, rows in before.items() if name != "agent_enrolment"}
    assert client.get(f"/api/agent-enrolments/{enrolment['id']}").json["refusals"] == {code: 1}


def test_an_unknown_or_revoked_secret_is_refused_and_stores_nothing(client, anonymous, engine):
    enrolment = issued(client)
    before = table_contents(engine)
    response = anonymous.post("/agents/not-a-secret", data=zlib.compress(inventory()))
    assert (response.status_code, response.json["message"]) == (401, "unknown enrolment")
    assert table_contents(engine) == before
    assert client.delete(f"/api/agent-enrolments/{enrolment['id']}").status_code == 200
    before = table_contents(engine)
    response = anonymous.post(agent_url(enrolment), data=zlib.compress(inventory()))
    assert (response.status_code, response.json["message"]) == (403, "this enrolment is revoked")
    assert table_contents(engine) == before


def test_the_secret_is_shown_once_and_kept_only_as_its_hash(client, engine):
    enrolment = issued(client)
    assert enrolment["server_url"] == f"http://localhost/agents/{enrolment['secret']}"
    assert "secret" not in client.get(f"/api/agent-enrolments/{enrolment['id']}").json
    stored = repr(table_contents(engine))
    assert enrolment["secret"] not in stored and enrolment["prefix"] == enrolment["secret"][:8]


def test_a_unit_officer_manages_the_enrolments_of_their_own_units_only(client, officer, app, token_for):
    issued(client, "W2", "W2 PCs")
    own = issued(officer, "W1", "W1 PCs")
    response = officer.post("/api/agent-enrolments", json={"unit_code": "W2", "name": "not mine"})
    assert (response.status_code, response.json["message"]) == (403, "unit 'W2' is not one of your units")
    assert [e["unit_code"] for e in officer.get("/api/agent-enrolments").json] == ["W1"]
    others = [e for e in client.get("/api/agent-enrolments").json if e["unit_code"] == "W2"]
    assert officer.get(f"/api/agent-enrolments/{others[0]['id']}").status_code == 404
    assert officer.delete(f"/api/agent-enrolments/{others[0]['id']}").status_code == 404
    assert officer.delete(f"/api/agent-enrolments/{own['id']}").json["revoked_at"] is not None
    finance = client_as(app, token_for(Role.FINANCE))
    response = finance.post("/api/agent-enrolments", json={"unit_code": "W1", "name": "x"})
    assert (response.status_code, response.json["message"]) == (403, "a finance may not do this (needs agents:manage)")


def test_flask_agents_import_stores_a_directory_of_inventories(app, org, sessions, tmp_path):
    (tmp_path / "kt-pc-01.xml").write_bytes(inventory())
    (tmp_path / "kt-pc-02.ocs").write_bytes(zlib.compress(inventory(serial="8YL3QR4", hostname="KT-PC-02",
                                                                    mac="D4:BE:D9:12:34:57", agent="kt-pc-02")))
    (tmp_path / "broken.xml").write_bytes(b"<REQUEST>")
    result = app.test_cli_runner().invoke(args=["agents", "import", str(tmp_path), "--unit", "W1"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "2 of 3 inventory files stored for unit W1"
    assert "broken.xml: refused: the XML is malformed: no element found: line 1, column 9" in result.output
    with sessions() as session:
        assert sorted((d.unit.code, d.serial) for d in session.scalars(select(Device))) == [
            ("W1", "7XK2PQ3"), ("W1", "8YL3QR4")]
