"""Real devices judged: the lab's recordings (snmpsim serving the snmpsim-data walks of real devices) polled over
SNMP, their observations ingested into the digital transformation centre's inventory as a scan stores them, and
each device judged after the commit under the example catalog (catalog/data/), with its explanation.

Only the recordings judged here are served, on the lab's loopback addresses (127.0.1.N) and a port of these
tests alone (neither `make run`'s lab on 161 nor tests/discovery's 127.0.5.N nor tests/browser's port is in the
way), and only while they are polled.

The subscriber judges on the real day (compliance.today()); where a test reads stored judgements for the example
catalog's day (TODAY) it first stores them for it with recompute_all: the day is given to the product's functions,
nothing is replaced."""
import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from catalog import compliance
from catalog.compliance import recompute_all
from catalog.examples import load_example_catalog
from catalog.explain import explain_all
from catalog.models import ApprovedModel, Compliance
from discovery import lab
from discovery.models import SnmpVersion
from discovery.snmp.client import Access, new_engine
from discovery.snmp.poll import PollSettings, observations_by_address, poll_host
from inventory.examples import load_example_organisation
from inventory.ingest import IngestBatch, ingest
from inventory.models import Device
from tests.catalog.test_compliance import TODAY, in_language

LAB_PORT = 16171
T0 = dt.datetime(2026, 11, 2, 8, 0)
PUBLIC = Access("lab", SnmpVersion.V2C, community="public")
UPLINKS_UNKNOWN = {"status": "unknown", "missing": "uplink_ports", "severity": "recommended"}
PORTS_UNKNOWN = {"status": "unknown", "missing": "port_count", "severity": "required"}
POE_UNKNOWN = {"status": "unknown", "missing": "poe", "severity": "recommended"}
MODEL_UNKNOWN = {"status": "unknown", "missing": "model"}
NOT_KNOWN = "not known: import it or install the inventory agent"
NO_MODEL = "model not known, so the approved models cannot be checked: poll the device with SNMP or record its model"

# name: (vendor and model as the recording says them, category, status, findings, explanation)
EXPECTED = {
    "cisco-c3560": (("Cisco", "WS-C3560G-48TS-E"), "core_switch", "end_of_support",
                    [{"status": "end_of_support", "on": "2018-01-31"}, UPLINKS_UNKNOWN],
                    ["its model is out of support since 31/01/2018",
                     f"recommended, not required: uplink ports {NOT_KNOWN}"]),
    # SNMP reads no port count of a switch: its category's required minimum is not known, and "no longer sold"
    # is the worse status.
    "dlink-des3200": (("D-Link", "DES-3200-18"), "access_switch", "end_of_sale",
                      [{"status": "end_of_sale", "on": "2021-12-31"}, PORTS_UNKNOWN, POE_UNKNOWN],
                      ["its model is no longer sold since 31/12/2021 (still supported)",
                       f"number of ports {NOT_KNOWN}", f"recommended, not required: PoE {NOT_KNOWN}"]),
    "paloalto-pa5000": (("Palo Alto Networks", "PA-5050"), "firewall", "end_of_sale",
                        [{"status": "end_of_sale", "on": "2017-01-31"}],
                        ["its model is no longer sold since 31/01/2017 (still supported)"]),
    "hpe-procurve": (("HP", "516733-B21"), "access_switch", "unapproved_model",
                     [{"status": "unapproved_model", "vendor": "HP", "model": "516733-B21"}, PORTS_UNKNOWN,
                      POE_UNKNOWN],
                     ["HP 516733-B21 is not an approved model of its category", f"number of ports {NOT_KNOWN}",
                      f"recommended, not required: PoE {NOT_KNOWN}"]),
    "netapp-nas": (("NetApp", "FAS3270"), "nas", "end_of_support", [{"status": "end_of_support", "on": "2021-06-30"}],
                   ["its model is out of support since 30/06/2021"]),
    "apc-8932": (("APC", "AP8932"), None, "unknown",
                 [{"status": "unknown", "missing": "category", "device_class": "pdu"}],
                 [("no category of this catalog takes devices of class pdu; correct the device's class or add the "
                  "class to a category")]),
    # The recording's upsBatteryStatus is batteryNormal (2): the rack UPS category's required battery status holds.
    "eaton-93e": (("Eaton", "EATON 93E 80"), "rack_ups", "compliant", [],
                  ["an approved model that meets every requirement of its category"]),
    "aruba-7010": (("Aruba Networks", "Aruba7010"), "wireless", "compliant", [],
                   ["an approved model that meets every requirement of its category"]),
    "vyatta": (("Vyatta", None), "router", "compliant", [],
               ["meets every requirement of its category, for which the catalog approves no particular model"]),
    "clavister": (("Clavister", None), "firewall", "unknown", [MODEL_UNKNOWN], [NO_MODEL]),
    # Windows XP names its maker (Microsoft) but no model, and its HOST-RESOURCES-MIB says 1 GB of RAM and a
    # 119 GB disk: below the desktop's minimum, which is worse than not knowing the model.
    "windows-xp": (("Microsoft", None), "desktop", "below_spec",
                   [MODEL_UNKNOWN,
                    {"status": "below_spec", "spec": "ram_gb", "op": "at_least", "required": 8, "found": 1,
                     "severity": "required"},
                    {"status": "below_spec", "spec": "storage_gb", "op": "at_least", "required": 256, "found": 119,
                     "severity": "required"},
                    {"status": "unknown", "missing": "storage_kind", "severity": "required"},
                    {"status": "unknown", "missing": "cpu_generation", "severity": "recommended"},
                    {"status": "unknown", "missing": "os_version", "severity": "recommended"}],
                   [NO_MODEL, "RAM is 1 GB, below the 8 GB required",
                    "storage size is 119 GB, below the 256 GB required", f"storage kind {NOT_KNOWN}",
                    f"recommended, not required: CPU generation {NOT_KNOWN}",
                    f"recommended, not required: OS version {NOT_KNOWN}"]),
}
VIETNAMESE = {
    "cisco-c3560": ["mẫu thiết bị đã hết hỗ trợ từ ngày 31/01/2018",
                    ("khuyến nghị, không bắt buộc: chưa biết số cổng uplink: hãy nhập thông tin này hoặc cài đặt phần "
                    "mềm thu thập kiểm kê (agent)")],
    "paloalto-pa5000": ["mẫu thiết bị đã ngừng bán từ ngày 31/01/2017 (vẫn còn được hỗ trợ)"],
    "hpe-procurve": ["HP 516733-B21 không phải là mẫu được phê duyệt của loại thiết bị này",
                     "chưa biết số cổng: hãy nhập thông tin này hoặc cài đặt phần mềm thu thập kiểm kê (agent)",
                     ("khuyến nghị, không bắt buộc: chưa biết cấp nguồn PoE: hãy nhập thông tin này hoặc cài đặt phần "
                     "mềm thu thập kiểm kê (agent)")],
    "windows-xp": [("chưa biết mẫu thiết bị nên chưa thể đối chiếu với các mẫu được phê duyệt: hãy đọc thiết bị qua "
                   "SNMP hoặc ghi nhận mẫu thiết bị"), "bộ nhớ RAM là 1 GB, thấp hơn mức tối thiểu 8 GB",
                   "dung lượng ổ cứng là 119 GB, thấp hơn mức tối thiểu 256 GB",
                   "chưa biết loại ổ cứng: hãy nhập thông tin này hoặc cài đặt phần mềm thu thập kiểm kê (agent)",
                   ("khuyến nghị, không bắt buộc: chưa biết thế hệ CPU: hãy nhập thông tin này hoặc cài đặt phần mềm "
                   "thu thập kiểm kê (agent)"),
                   ("khuyến nghị, không bắt buộc: chưa biết phiên bản hệ điều hành: hãy nhập thông tin này hoặc cài "
                   "đặt phần mềm thu thập kiểm kê (agent)")],
}


@pytest.fixture(scope="module")
def polls(tmp_path_factory):
    """The recordings of EXPECTED served by snmpsim while each is polled once, as a scan polls (every database's
    test reads the same answers)."""
    devices = [d for d in lab.lab_devices() if d.name in EXPECTED]
    assert len(devices) == len(EXPECTED)
    lab_dir = tmp_path_factory.mktemp("lab")
    lab.start(lab_dir, devices, LAB_PORT)
    try:
        assert lab.wait_ready(devices, LAB_PORT, 120) == len(devices), "the lab's simulators did not all start"

        async def poll_all():
            engine = new_engine()
            try:
                return [await poll_host(engine, d.address, LAB_PORT, [(1, PUBLIC)], PollSettings(timeout=1, retries=1))
                        for d in devices]
            finally:
                engine.close_dispatcher()
        answers = asyncio.run(poll_all())
    finally:
        lab.stop(lab_dir)
    assert [(p.address, p.reason) for p in answers] == [(d.address, "") for d in devices]
    return {d.name: p for d, p in zip(devices, answers)}


@pytest.fixture
def judged(sessions, polls):
    """The example organisation and catalog, then the polls ingested as the lab scope's scan stores them and
    committed: the subscriber judges the devices. Each device's id by recording."""
    with sessions() as session, session.begin():
        load_example_organisation(session)
        load_example_catalog(session)
    observed = dict(observations_by_address(list(polls.values()), lab.LAB_UNIT, T0))
    names = list(polls)
    with sessions() as session, session.begin():
        ids = ingest(session, IngestBatch([observed[polls[name].address] for name in names],
                                          scope_key="lab", network="secure")).device_ids
    return dict(zip(names, ids))


def test_the_lab_devices_are_judged_after_the_scan_commits(sessions, judged):
    with sessions() as session:  # the subscriber judged every device the scan's commit changed, on the real day
        assert {session.get(Compliance, i).judged_on for i in judged.values()} == {compliance.today()}
    with sessions() as session, session.begin():  # the example catalog's dates, compared with TODAY's
        recompute_all(session, TODAY)
    with sessions() as session:
        devices = {name: session.get(Device, i) for name, i in judged.items()}
        rows = {name: session.get(Compliance, i) for name, i in judged.items()}
        assert {name: ((d.vendor, d.model), r.category_code, r.status.value, r.findings)
                for (name, d), r in zip(devices.items(), rows.values())} == {
            name: (vendor_model, category, status, findings)
            for name, (vendor_model, category, status, findings, _english) in EXPECTED.items()}
        assert {r.judged_on for r in rows.values()} == {TODAY}
        assert devices["eaton-93e"].specs == {"battery_status": "normal"}
        explained = {name: explain_all(r.findings, approved=r.approved_model_id is not None)
                     for name, r in rows.items()}
        approved = {name: session.get(ApprovedModel, r.approved_model_id) for name, r in rows.items()
                    if r.approved_model_id is not None}
        models = {name: (m.vendor, m.model_pattern) for name, m in approved.items()}
    assert explained == {name: english for name, (*_, english) in EXPECTED.items()}
    assert models == {"cisco-c3560": ("Cisco", "WS-C3560G-*"), "dlink-des3200": ("D-Link", "DES-3200-*"),
                      "paloalto-pa5000": ("Palo Alto Networks", "PA-50?0"), "netapp-nas": ("NetApp", "FAS32?0"),
                      "eaton-93e": ("Eaton", "EATON 93E*"), "aruba-7010": ("Aruba", "Aruba70??")}


def test_the_lab_devices_explained_in_vietnamese(sessions, judged):
    with sessions() as session, session.begin():
        recompute_all(session, TODAY)
    with sessions() as session:
        rows = {name: session.get(Compliance, judged[name]) for name in VIETNAMESE}
        with in_language("vi"):
            assert {name: [r.translated() for r in explain_all(row.findings, approved=row.approved_model_id
                                                                is not None)]
                    for name, row in rows.items()} == VIETNAMESE


def test_a_second_scan_that_changes_nothing_judges_nothing_again(sessions, polls, judged):
    with sessions() as session, session.begin():
        session.execute(Compliance.__table__.update().values(judged_on=dt.date(2000, 1, 1)))
    observed = [o for address, o in observations_by_address(list(polls.values()), lab.LAB_UNIT,
                                                            T0 + dt.timedelta(hours=1)) if address is not None]
    with sessions() as session, session.begin():
        ingest(session, IngestBatch(observed, scope_key="lab", network="secure"))
    with sessions() as session:
        assert set(session.scalars(select(Compliance.judged_on))) == {dt.date(2000, 1, 1)}
