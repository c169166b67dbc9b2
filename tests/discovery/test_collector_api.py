"""Collectors through the API, on both databases: issued with a token shown once, refused when unknown (401) or
revoked (403) with nothing stored, configured with their scopes' credentials encrypted for them, and sending
batches of real lab polls (pysnmp against the snmpsim lab) that are stored once as a run of the scope, ignored
when sent again, rejected whole and kept when wrong, with the collector's clock corrected. Officers see only
their units' collectors."""
import asyncio
import datetime as dt
import json
import re
import threading
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest
from sqlalchemy import func, select

from accounts.models import Role
from core.audit import AuditEntry
from core.encryption import SecretBox, digest
from core.time import utcnow
from discovery.collectors import service, wire
from discovery.credentials import save_credential
from discovery.models import (
    BatchStatus,
    Collector,
    CollectorBatch,
    Credential,
    RunTrigger,
    ScanRun,
    ScanScope,
    SnmpTarget,
    SnmpVersion,
)
from discovery.scopes import create_scope
from discovery.snmp.client import Access, new_engine
from discovery.snmp.poll import PollSettings, observations_by_address, outcome_of, poll_host
from inventory.models import Device, Observation
from tests.accounts.test_pages_accounts import signed_in
from tests.conftest import SECRETS_KEY, client_as, table_contents
from tests.discovery import snmp_lab
from tests.inventory.test_pages_devices import Page, page
from tests.serving import serving

ALLOWLIST = "127.0.0.0/8"
LAB = ("cisco-c3560", "huawei-s5720", "apc-8932", "eaton-93e")  # two switches (terminals behind one), two UPSs
FAST = PollSettings(timeout=1.0, retries=1)
VERSION = "collector-test 1.0"
UNAUTHENTICATED = {"code": 401, "status": "Unauthorized", "message": "authentication required"}
FORBIDDEN = {"code": 403, "status": "Forbidden", "message": "forbidden"}
COLUMNS = [c.name for c in Collector.__table__.columns]
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, whatever the environment


class Site:
    """A W1 scope of four lab devices, assigned to a collector issued through the API."""

    def __init__(self, app, client, scope_id: int, credential_id: int, issued: dict, addresses: list[str]):
        self.app, self.client, self.scope_id, self.credential_id = app, client, scope_id, credential_id
        self.issued, self.token, self.id, self.addresses = issued, issued["token"], issued["id"], addresses
        self.collector = collector_client(app, self.token)

    def config(self) -> dict:
        response = self.collector.get("/api/collector/config")
        assert response.status_code == 200, response.json
        return response.json

    def polls(self) -> list:
        """The lab devices polled as the collector does: with the credentials its configuration carries."""
        scope = next(s for s in self.config()["scopes"] if s["id"] == self.scope_id)
        key = wire.credentials_key(self.token)
        accesses = [(c["id"], Access(c["name"], SnmpVersion(c["version"]),
                                     community=wire.decrypt_secrets(key, c["secrets"])["community"]))
                    for c in scope["credentials"]]

        async def every():
            engine = new_engine()
            return [await poll_host(engine, address, scope["snmp_port"], accesses, FAST) for address in self.addresses]
        polls = asyncio.run(every())
        assert [(p.address, p.reason) for p in polls if p.readings is None] == []  # the lab answers
        return polls

    def post(self, batch: dict, status: int) -> dict:
        response = self.collector.post("/api/collector/batches", json=batch)
        assert response.status_code == status, response.json
        return response.json


def collector_client(app, token: str):
    client = client_as(app, token)
    client.environ_base["HTTP_X_COLLECTOR_VERSION"] = VERSION
    return client


def batch_of(polls, scope_id: int, *, at: dt.datetime, sent_at: dt.datetime | None = None, sequence: int = 1,
             kind: str = "snmp") -> dict:
    """A batch as the collector sends it, through JSON as it travels."""
    observed = observations_by_address(polls, "(not sent)", at)
    built = wire.batch_json(uuid.uuid4().hex, sequence, scope_id, kind, "SNMP, 1 credential(s)", len(polls), at,
                            at + dt.timedelta(seconds=3), observed, [outcome_of(p) for p in polls],
                            sent_at=sent_at or utcnow())
    return orjson.loads(orjson.dumps(built))


def issue(client, unit_code: str = "W1", name: str = "site W1") -> dict:
    response = client.post("/api/collectors", json={"name": name, "unit_code": unit_code})
    assert response.status_code == 201, response.json
    return response.json


def lab_scope(org, snmp_lab_devices, unit_code: str = "W1", name: str = "site-w1", devices=LAB,
              methods: str = "nmap,snmp") -> tuple[int, int]:
    box = SecretBox([SECRETS_KEY])
    with org() as session, session.begin():
        credential = session.scalars(select(Credential)).first() or \
            save_credential(session, box, {"name": "lab", "version": SnmpVersion.V2C, "community": "public"})
        scope = create_scope(session, unit_code=unit_code, name=name, allowlist=ALLOWLIST, methods=methods,
                             networks=" ".join(snmp_lab_devices[d].address for d in devices),
                             snmp_port=snmp_lab.PORT, credential_ids=[credential.id])
        return scope.id, credential.id


@pytest.fixture
def site(app, org, client, snmp_lab_devices) -> Site:
    scope_id, credential_id = lab_scope(org, snmp_lab_devices)
    issued = issue(client)
    response = client.put(f"/api/collectors/{issued['id']}/scopes", json={"scope_ids": [scope_id]})
    assert response.status_code == 200, response.json
    return Site(app, client, scope_id, credential_id, issued, [snmp_lab_devices[d].address for d in LAB])


def collector_row(contents: dict) -> list[dict]:
    return [dict(zip(COLUMNS, row)) for row in contents["collector"]]


def without(contents: dict, *tables: str) -> dict:
    return {name: rows for name, rows in contents.items() if name not in tables}


# Issue and refusals -----------------------------------------------------------------------------------------------

def test_a_collector_s_token_is_shown_once_and_kept_as_its_digest(client, sessions):
    issued = issue(client)
    token = issued["token"]
    assert token.startswith("col_") and len(token) == 4 + 43
    assert (issued["name"], issued["unit_code"], issued["prefix"], issued["state"], issued["scope_ids"]) == \
        ("site W1", "W1", token[:12], "never_seen", [])
    assert issued["command"] == f"COLLECTOR_TOKEN={token} python -m discovery.collectors --server http://localhost"
    shown = client.get(f"/api/collectors/{issued['id']}").json
    assert "token" not in shown and shown["prefix"] == token[:12]
    assert (shown["batches"], shown["duplicates"], shown["rejected"], shown["backlog"], shown["last_contact_at"],
            shown["revoked_at"], shown["clock_skew_s"]) == (0, 0, 0, 0, None, None, None)
    with sessions() as session:
        collector = session.get(Collector, issued["id"])
        assert collector.token_hash == digest(token) and token not in collector.key_encrypted
        assert SecretBox([SECRETS_KEY]).decrypt(collector.key_encrypted) == wire.credentials_key(token)
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "collector.issue")).one()
        assert (entry.actor, entry.target_id, entry.after) == \
            ("admin", str(issued["id"]), {"unit": "W1", "name": "site W1", "prefix": token[:12]})
    assert client.post("/api/collectors", json={"name": "site W1", "unit_code": "W2"}).json["message"] == \
        "collector 'site W1' already exists"


def test_unknown_and_revoked_tokens_are_refused_and_nothing_is_stored(site, app, engine):
    site.config()  # in contact once
    before = table_contents(engine)
    strangers = [app.test_client(), collector_client(app, "col_" + "x" * 43), collector_client(app, "not-a-token"),
                 collector_client(app, site.token[:-1])]
    for stranger in strangers:
        for method, path in (("get", "/api/collector/config"), ("post", "/api/collector/batches"),
                             ("post", "/api/collector/heartbeat")):
            response = getattr(stranger, method)(path, json={"batch_id": "0" * 32} if method == "post" else None)
            assert (response.status_code, response.json) == (401, UNAUTHENTICATED), (path, response.json)
    assert table_contents(engine) == before

    assert site.client.post(f"/api/collectors/{site.id}/revoke").json["state"] == "revoked"
    before = table_contents(engine)
    batch = batch_of([], site.scope_id, at=utcnow())
    for response in (site.collector.get("/api/collector/config"), site.collector.post("/api/collector/batches",
                                                                                      json=batch),
                     site.collector.post("/api/collector/heartbeat", json={"backlog": 3})):
        assert (response.status_code, response.json) == (403, FORBIDDEN)
    response = site.client.put(f"/api/collectors/{site.id}/scopes", json={"scope_ids": []})
    assert (response.status_code, response.json["message"]) == (409, "collector site W1 is revoked")
    assert table_contents(engine) == before


def test_a_collector_s_state_follows_its_last_contact():
    now = dt.datetime(2026, 12, 6, 8, 0)
    assert [service.state_of(Collector(last_contact_at=seen, revoked_at=revoked), now) for seen, revoked in (
        (None, None), (now - dt.timedelta(minutes=15), None), (now - dt.timedelta(minutes=15, seconds=1), None),
        (now, now))] == ["never_seen", "ok", "silent", "revoked"]


def test_the_configuration_carries_the_assigned_scope_with_secrets_only_the_token_opens(site, sessions):
    response = site.collector.get("/api/collector/config")
    assert "public" not in response.get_data(as_text=True)
    config = response.json
    assert config["collector"] == {"id": site.id, "name": "site W1", "unit_code": "W1"}
    assert abs(dt.datetime.fromisoformat(config["server_time"]).replace(tzinfo=None) - utcnow()) < \
        dt.timedelta(seconds=5)
    [scope] = config["scopes"]
    [credential] = scope.pop("credentials")
    assert scope == {"id": site.scope_id, "name": "site-w1", "unit_code": "W1", "networks": " ".join(site.addresses),
                     "exclusions": "", "snmp_port": snmp_lab.PORT, "methods": ["nmap", "snmp"], "schedule": None,
                     "paused": False, "network": "other"}
    secrets = credential.pop("secrets")
    assert credential == {"id": site.credential_id, "name": "lab", "version": "v2c", "username": None,
                          "auth_protocol": "none", "priv_protocol": "none"}
    assert wire.decrypt_secrets(wire.credentials_key(site.token), secrets) == \
        {"community": "public", "auth_key": None, "priv_key": None}
    with pytest.raises(wire.UndecryptableSecrets):
        wire.decrypt_secrets(wire.credentials_key(issue(site.client, name="other")["token"]), secrets)
    with sessions() as session:
        collector = session.get(Collector, site.id)
        assert collector.version == VERSION and utcnow() - collector.last_contact_at < dt.timedelta(seconds=5)
    assert site.client.get(f"/api/collectors/{site.id}").json["state"] == "ok"


# Batches ------------------------------------------------------------------------------------------------------------

def test_a_batch_of_real_polls_is_stored_once_as_a_run_of_its_scope(site, engine, sessions):
    polls = site.polls()
    assert [p.status for p in polls] == ["ok"] * 4
    batch = batch_of(polls, site.scope_id, at=utcnow() - dt.timedelta(minutes=2))
    observations = len(batch["observations"])
    answer = site.post(batch, 201)
    assert answer == {"status": "accepted", "batch_id": batch["batch_id"], "run_id": answer["run_id"],
                      "observations": observations, "created": observations, "changed": 0, "unchanged": 0,
                      "missing": 0}
    with sessions() as session:
        run = session.get(ScanRun, answer["run_id"])
        assert (run.scope_id, run.kind, run.status, run.trigger, run.hosts_total, run.hosts_done,
                run.hosts_answered, run.created, run.errors) == \
            (site.scope_id, "snmp", "finished", RunTrigger.COLLECTOR, 4, 4, 4, observations, [])
        switch = session.scalars(select(Device).where(Device.serial == "FOC1408Z61U")).one()
        assert (switch.unit.code, switch.model, switch.hostname, switch.source) == \
            ("W1", "WS-C3560G-48TS-E", "dumsys-04", "snmp")
        ups = session.scalars(select(Device).where(Device.serial == "4K234LXX06")).one()
        assert (ups.unit.code, ups.model, ups.device_class) == ("W1", "EATON 93E 80", "ups")
        assert session.scalar(select(func.count()).select_from(Device)) == observations
        targets = {t.address: t for t in session.scalars(select(SnmpTarget))}
        assert sorted(targets) == sorted(site.addresses)
        assert {t.credential_id for t in targets.values()} == {site.credential_id}
        assert targets[site.addresses[0]].device_id == switch.id
        record = session.scalars(select(CollectorBatch)).one()
        assert (record.batch_id, record.sequence, record.status, record.run_id, record.observations, record.body) == \
            (batch["batch_id"], 1, BatchStatus.ACCEPTED, run.id, observations, None)
        assert session.get(Collector, site.id).batches == 1

    before = table_contents(engine)
    again = site.post(batch, 200)
    received = record.received_at.strftime("%d/%m/%Y %H:%M:%S")
    assert again == {"status": "duplicate", "batch_id": batch["batch_id"],
                     "message": f"batch {batch['batch_id']} was received already on {received}; ignored"}
    after = table_contents(engine)
    assert without(after, "collector") == without(before, "collector")
    [was], [now] = collector_row(before), collector_row(after)
    assert now == was | {"duplicates": 1, "last_contact_at": now["last_contact_at"]}
    assert now["last_contact_at"] >= was["last_contact_at"]
    assert site.client.get(f"/api/collectors/{site.id}").json["duplicates"] == 1


def test_an_invalid_batch_is_rejected_whole_and_kept_with_its_body(site, engine, sessions):
    batch = batch_of(site.polls(), site.scope_id, at=utcnow())
    batch["observations"][3]["observation"]["interfaces"][0]["mac"] = "00:11:22:33:44:zz"
    before = table_contents(engine)
    answer = site.post(batch, 422)
    message = "observations[3].observation.interfaces[0].mac: '00:11:22:33:44:zz' is not a MAC address"
    assert answer == {"status": "rejected", "batch_id": batch["batch_id"], "message": message,
                      "errors": {"json": {"observations[3].observation.interfaces[0].mac":
                                          ["'00:11:22:33:44:zz' is not a MAC address"]}}}
    after = table_contents(engine)
    assert without(after, "collector", "collector_batch") == without(before, "collector", "collector_batch")
    [was], [now] = collector_row(before), collector_row(after)
    assert now == was | {"rejected": 1, "last_error": message, "last_contact_at": now["last_contact_at"],
                         "clock_skew_s": now["clock_skew_s"]}
    assert now["batches"] == 0 and abs(now["clock_skew_s"]) <= 1
    kept = site.client.get(f"/api/collectors/{site.id}/batches/{batch['batch_id']}").json
    assert (kept["status"], kept["reason"], kept["run_id"], kept["scope_id"], kept["observations"]) == \
        ("rejected", message, None, site.scope_id, 0)
    assert kept["body"] == batch
    assert [b["status"] for b in site.client.get(f"/api/collectors/{site.id}/batches").json] == ["rejected"]
    # Sent again (the collector lost the answer): a duplicate of the rejected batch, still nothing ingested.
    assert site.post(batch, 200)["status"] == "duplicate"
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Device)) == 0
        assert session.scalar(select(func.count()).select_from(ScanRun)) == 0


@pytest.mark.parametrize("change, message", [
    (lambda b, site: b["observations"][0].update(address="127.0.5.200"),
     "observations[0].address: 127.0.5.200 is not in scan scope site-w1"),
    (lambda b, site: b["outcomes"][1].update(address="10.9.8.7"),
     "outcomes[1].address: 10.9.8.7 is not in scan scope site-w1"),
    (lambda b, site: b["observations"][1].update(address="somewhere"),
     "observations[1].address: 'somewhere' is not an IP address"),
    (lambda b, site: b["observations"][2]["observation"]["fields"].update(hostname="not a name"),
     "observations[2].observation.fields.hostname: 'not a name' is not a host name"),
    (lambda b, site: b["observations"][2]["observation"].update(method="manual"),
     "observations[2].observation.method: Must be one of: nmap, snmp, fdb, arp."),
    (lambda b, site: b["observations"][1]["observation"].update(method="nmap"),
     "observations[1].observation.method: an snmp batch carries snmp, fdb or arp observations, not nmap"),
    (lambda b, site: b.update(scope_id=site.scope_id + 1),
     None),  # a scope that does not exist: as one not assigned
    (lambda b, site: b["outcomes"][2].update(address=b["outcomes"][0]["address"]),
     "outcomes[2].address: {address} is in the batch twice"),
])
def test_a_batch_that_breaks_a_rule_is_rejected_with_the_place_and_reason(site, engine, change, message):
    batch = batch_of(site.polls(), site.scope_id, at=utcnow())
    change(batch, site)
    message = (message or f"scope_id: scan scope {site.scope_id + 1} is not assigned to this collector").format(
        address=batch["outcomes"][0]["address"])
    before = table_contents(engine)
    assert site.post(batch, 422)["message"] == message
    after = table_contents(engine)
    assert without(after, "collector", "collector_batch") == without(before, "collector", "collector_batch")
    assert len(after["collector_batch"]) == len(before["collector_batch"]) + 1


def test_a_batch_for_a_scope_not_assigned_to_the_collector_is_rejected(site, org, snmp_lab_devices, sessions):
    other_id, _credential = lab_scope(org, snmp_lab_devices, name="not-assigned", devices=("cisco-c3750",))
    batch = batch_of([], other_id, at=utcnow(), kind="nmap")
    assert site.post(batch, 422)["message"] == f"scope_id: scan scope {other_id} is not assigned to this collector"
    only_snmp, _credential = lab_scope(org, snmp_lab_devices, name="snmp-only", devices=("vyatta",), methods="snmp")
    assert site.client.put(f"/api/collectors/{site.id}/scopes",
                           json={"scope_ids": [site.scope_id, only_snmp]}).json["scope_ids"] == \
        sorted([site.scope_id, only_snmp])
    batch = batch_of([], only_snmp, at=utcnow(), kind="nmap")
    assert site.post(batch, 422)["message"] == "kind: scope snmp-only does not allow nmap (its methods: snmp)"
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ScanRun)) == 0


def test_a_collector_two_hours_ahead_has_its_times_corrected(site, sessions):
    polls = site.polls()
    ahead = dt.timedelta(hours=2)
    collected = utcnow().replace(microsecond=0) + ahead - dt.timedelta(minutes=5)  # its clock, 5 minutes ago
    batch = batch_of(polls, site.scope_id, at=collected, sent_at=utcnow() + ahead)
    run_id = site.post(batch, 201)["run_id"]
    with sessions() as session:
        run = session.get(ScanRun, run_id)
        assert (run.started_at, run.finished_at) == (collected - ahead, collected - ahead + dt.timedelta(seconds=3))
        assert set(session.scalars(select(Observation.observed_at))) == {collected - ahead}
        assert session.get(Collector, site.id).clock_skew_s == 7200.0
        assert session.scalars(select(CollectorBatch)).one().collected_at == collected - ahead + dt.timedelta(seconds=3)
    assert site.client.get(f"/api/collectors/{site.id}").json["clock_skew_s"] == 7200.0


def test_times_are_bounded_to_the_last_30_days_even_for_a_clock_months_off(site, sessions):
    """Through the service with the server's time fixed: the corrected times are exact."""
    now = dt.datetime(2026, 12, 6, 8, 0, 0)
    collector_clock = now + dt.timedelta(days=40)  # more than 30 days off: accepted, the skew shown
    batch = batch_of(site.polls(), site.scope_id, at=collector_clock - dt.timedelta(days=60),
                     sent_at=collector_clock)
    with sessions() as session:
        collector = session.get(Collector, site.id)
        received = service.receive_batch(session, collector, batch, missing_after_scans=3, now=now)
        session.commit()
        assert received.status_code == 201
        run = session.get(ScanRun, received.body["run_id"])
        assert (run.started_at, run.finished_at) == (now - dt.timedelta(days=30), now - dt.timedelta(days=30))
        assert set(session.scalars(select(Observation.observed_at))) == {now - dt.timedelta(days=30)}
        assert session.get(Collector, site.id).clock_skew_s == 40 * 86400.0


def test_a_body_that_is_no_batch_is_refused_and_not_kept(site, engine):
    before = table_contents(engine)
    response = site.collector.post("/api/collector/batches", data="{not json", content_type="application/json")
    assert (response.status_code, response.json["message"]) == \
        (400, "the body is not JSON (send the batch as application/json)")
    response = site.collector.post("/api/collector/batches", json={"batch_id": "ABC", "sequence": 1})
    assert (response.status_code, response.json["message"]) == \
        (400, "a batch is a JSON object whose batch_id is 32 lower-case hexadecimal digits")
    assert table_contents(engine) == before


def test_the_same_batch_sent_twice_at_once_is_stored_once(site, app, sessions):
    """Two connections at the same moment (a resend racing a slow first answer), through a real server."""
    batch = orjson.dumps(batch_of(site.polls(), site.scope_id, at=utcnow()))
    headers = {"Authorization": f"Bearer {site.token}", "Content-Type": "application/json"}
    start = threading.Barrier(2)

    def send(base: str):
        start.wait()
        with NO_PROXY.open(urllib.request.Request(f"{base}/api/collector/batches", data=batch, headers=headers),
                           timeout=60) as response:
            return response.status, json.load(response)["status"]
    with serving(app, threads=4) as base, ThreadPoolExecutor(2) as pool:
        answers = sorted(pool.map(send, [base, base]))
    assert answers == [(200, "duplicate"), (201, "accepted")]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ScanRun)) == 1
        collector = session.get(Collector, site.id)
        assert (collector.batches, collector.duplicates) == (1, 1)


def test_a_batch_may_be_larger_than_an_upload_but_not_past_32_mib(site, engine):
    before = table_contents(engine)
    padded = {"batch_id": "no", "padding": "x" * (24 * 1024 * 1024)}  # past MAX_CONTENT_LENGTH (20 MiB): read
    response = site.collector.post("/api/collector/batches", json=padded)
    assert (response.status_code, response.json["message"]) == \
        (400, "a batch is a JSON object whose batch_id is 32 lower-case hexadecimal digits")
    padded["padding"] = "x" * wire.MAX_BATCH_BYTES
    response = site.collector.post("/api/collector/batches", json=padded)
    assert response.status_code == 413
    assert table_contents(engine) == before


def test_a_heartbeat_says_its_backlog_error_and_clock(site, sessions):
    response = site.collector.post("/api/collector/heartbeat", json={
        "version": "collector 2.0", "backlog": 12, "backlog_full": False, "last_error": "the server was unreachable",
        "sent_at": wire.iso(utcnow() - dt.timedelta(seconds=90))})
    assert response.status_code == 200 and set(response.json) == {"server_time"}
    shown = site.client.get(f"/api/collectors/{site.id}").json
    assert (shown["version"], shown["backlog"], shown["last_error"], shown["clock_skew_s"], shown["state"]) == \
        ("collector 2.0", 12, "the server was unreachable", -90.0, "ok")
    site.collector.post("/api/collector/heartbeat", json={"backlog": 500, "backlog_full": True,
                                                          "last_error": "503 from the server"})
    assert site.client.get(f"/api/collectors/{site.id}").json["last_error"] == \
        "its backlog is full; 503 from the server"
    response = site.collector.post("/api/collector/heartbeat", json={"backlog": -1})
    assert (response.status_code, response.json["message"]) == \
        (422, "backlog: Must be greater than or equal to 0 and less than or equal to 2147483647.")


# Scopes and units ----------------------------------------------------------------------------------------------------

def test_a_collector_scans_only_scopes_of_its_unit_and_below(site, org, snmp_lab_devices, engine, sessions):
    w2_scope, _credential = lab_scope(org, snmp_lab_devices, unit_code="W2", name="w2", devices=("vyatta",))
    before = table_contents(engine)
    response = site.client.put(f"/api/collectors/{site.id}/scopes", json={"scope_ids": [site.scope_id, w2_scope]})
    assert (response.status_code, response.json["message"]) == \
        (422, "scan scope w2 belongs to unit W2, outside unit W1 of collector site W1 and the units below it")
    assert table_contents(engine) == before
    # Exactly the scopes given: one left out goes back to the server's own scans.
    assert site.client.put(f"/api/collectors/{site.id}/scopes", json={"scope_ids": []}).json["scope_ids"] == []
    with sessions() as session:
        assert session.get(ScanScope, site.scope_id).collector_id is None
        assert [(e.before, e.after) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "collector.assign_scopes").order_by(AuditEntry.id))] == \
            [({"scope_ids": []}, {"scope_ids": [site.scope_id]}), ({"scope_ids": [site.scope_id]}, {"scope_ids": []})]
    assert site.config()["scopes"] == []


def test_officers_see_only_their_units_collectors_and_manage_none(site, client, officer, engine):
    w2 = issue(client, "W2", "site W2")
    assert [c["name"] for c in client.get("/api/collectors").json] == ["site W1", "site W2"]
    assert [c["name"] for c in officer.get("/api/collectors").json] == ["site W1"]
    assert officer.get(f"/api/collectors/{site.id}").json["scope_ids"] == [site.scope_id]
    for path in (f"/api/collectors/{w2['id']}", f"/api/collectors/{w2['id']}/batches", "/api/collectors/4242"):
        response = officer.get(path)
        assert response.status_code == 404, path
    assert officer.get(f"/api/collectors/{w2['id']}").json["message"] == f"collector {w2['id']} does not exist"
    before = table_contents(engine)
    for response in (officer.post("/api/collectors", json={"name": "mine", "unit_code": "W1"}),
                     officer.post(f"/api/collectors/{site.id}/revoke"),
                     officer.put(f"/api/collectors/{site.id}/scopes", json={"scope_ids": []})):
        assert (response.status_code, response.json["message"]) == \
            (403, "a unit_officer may not do this (needs scans:manage)")
    assert table_contents(engine) == before


# Pages ----------------------------------------------------------------------------------------------------------------

def test_the_pages_issue_a_collector_and_show_its_scopes_and_batches(site, app, token_for):
    admin = signed_in(app, "admin")  # a browser's session: the forms carry the CSRF token
    assert [row[:4] for row in page(admin, "/collectors").rows("collectors")] == \
        [["W1", "site W1", site.token[:12], "never seen"]]
    site.config()
    assert page(admin, "/collectors").rows("collectors")[0][3] == "in contact"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', admin.get("/collectors").get_data(as_text=True)).group(1)
    response = admin.post("/collectors/new", data={"unit_code": "W2", "name": "site W2", "csrf_token": csrf})
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    issued = Page(response.get_data(as_text=True))
    token = issued.texts["token"]
    assert token.startswith("col_") and issued.texts["command"] == \
        f"COLLECTOR_TOKEN={token} python -m discovery.collectors --server http://localhost"
    assert token not in admin.get("/collectors").get_data(as_text=True)

    batch = batch_of(site.polls(), site.scope_id, at=utcnow())
    batch["observations"][0]["address"] = "127.0.5.200"
    site.post(batch, 422)
    shown = page(admin, f"/collectors/{site.id}")
    assert shown.texts["assigned-scopes"] == f"site-w1 · W1 · {' '.join(site.addresses)}"
    [row] = shown.rows("batch-table")
    assert (row[1], row[3], row[5]) == \
        (batch["batch_id"][:12], "rejected", "observations[0].address: 127.0.5.200 is not in scan scope site-w1")
    officer = client_as(app, token_for(Role.UNIT_OFFICER))
    officer.set_cookie("lang", "en")
    w2_id = [c for c in site.client.get("/api/collectors").json if c["name"] == "site W2"][0]["id"]
    assert page(officer, f"/collectors/{w2_id}", 404).texts["content"] == \
        f"Not found collector {w2_id} does not exist Back to the overview"
    assert [row[1] for row in page(officer, "/collectors").rows("collectors")] == ["site W1"]


# Hostile values, without the lab: an nmap batch of one host -----------------------------------------------------------

@pytest.fixture
def nmap_site(app, org, client) -> Site:
    with org() as session, session.begin():
        scope_id = create_scope(session, unit_code="W1", name="w1-hosts", networks="127.0.7.0/24",
                                allowlist=ALLOWLIST, methods="nmap").id
    issued = issue(client)
    assert client.put(f"/api/collectors/{issued['id']}/scopes", json={"scope_ids": [scope_id]}).status_code == 200
    return Site(app, client, scope_id, 0, issued, [])


def one_host(site: Site, sent_at: str | None = None, **observation) -> dict:
    return {"batch_id": uuid.uuid4().hex, "sequence": 1, "scope_id": site.scope_id, "kind": "nmap", "mode": "ping",
            "hosts_total": 256, "started_at": "2026-12-06T08:00:00Z", "finished_at": "2026-12-06T08:00:30Z",
            "sent_at": sent_at or wire.iso(utcnow()),
            "observations": [{"address": "127.0.7.5", "observation": {
                "method": "nmap", "observed_at": "2026-12-06T08:00:10Z", "source": "nmap 127.0.7.5",
                "interfaces": [{"mac": None, "ips": ["127.0.7.5"]}]} | observation}]}


@pytest.mark.parametrize("observation, message", [
    ({"interfaces": [{"ips": ["nope"]}]}, "observations[0].observation.interfaces[0].ips: 'nope' is not an IP address"),
    ({"fields": {"colour": "red"}}, "observations[0].observation.fields.colour: unknown field 'colour'"),
    ({"fields": {"purchase_date": "31/02/2026"}},
     "observations[0].observation.fields.purchase_date: '31/02/2026' is not a date (YYYY-MM-DD)"),
    ({"specs": {"ram_gb": "lots"}},
     "observations[0].observation.specs.ram_gb: cannot read 'lots' as RAM; write it like '8 GB' or '8192 MB'"),
    ({"neighbours": [{"protocol": "lldp", "remote_mac": "zz"}]},
     "observations[0].observation.neighbours[0].remote_mac: 'zz' is not a MAC address"),
    ({"method": "snmp"},
     "observations[0].observation.method: an nmap batch carries nmap or arp observations, not snmp"),
])
def test_a_value_that_normalising_refuses_rejects_the_batch_at_its_place(nmap_site, engine, observation, message):
    before = table_contents(engine)
    assert nmap_site.post(one_host(nmap_site, **observation), 422)["message"] == message
    assert without(table_contents(engine), "collector", "collector_batch") == \
        without(before, "collector", "collector_batch")


@pytest.mark.parametrize("sent_at, bound", [("9999-12-31T23:59:59Z", "past"), ("0001-01-01T00:00:00Z", "now")])
def test_a_clock_centuries_off_leaves_only_the_bounds(nmap_site, sessions, sent_at, bound):
    before = utcnow()
    run_id = nmap_site.post(one_host(nmap_site, sent_at=sent_at), 201)["run_id"]
    with sessions() as session:
        run = session.get(ScanRun, run_id)
        observed_at = session.scalars(select(Observation.observed_at)).one()
        if bound == "past":
            assert run.started_at == observed_at == run.finished_at
            assert before - dt.timedelta(days=30) <= observed_at <= utcnow() - dt.timedelta(days=30)
        else:
            assert before <= observed_at == run.started_at == run.finished_at <= utcnow()
        assert (run.hosts_total, run.hosts_answered, run.mode, run.trigger) == (256, 1, "ping", RunTrigger.COLLECTOR)
