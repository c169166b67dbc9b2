"""Compliance and norms through the API: a device's judgement with its explanation and wear, counts and lists
per unit, the same device under two versions, what the norms require of a ward and an agency; every answer
within the caller's units."""

import pytest
from sqlalchemy import select

from accounts.models import Role
from catalog.compliance import today
from catalog.models import Compliance
from catalog.rules import add_years
from tests.catalog.test_api import draft, example, with_ram  # noqa: F401  (example is a fixture)
from tests.conftest import client_as

PC = {"unit_code": "W1", "device_class": "workstation", "vendor": "Dell", "model": "OptiPlex 7090", "serial": "PC1",
      "specs": {"ram_gb": "8 GB", "storage_gb": "256 GB", "storage_kind": "SSD", "cpu_model": "Intel Core i5-10500",
                "os_version": "22H2"}, "purchase_price_vnd": 16_000_000}
DEVICES = {
    "pc": PC,
    "pc-no-ram": {"unit_code": "A1-D1", "device_class": "workstation", "vendor": "HP", "model": "ProDesk 400 G7",
                  "serial": "PC2", "specs": {"storage_gb": "512 GB", "storage_kind": "SSD",
                                             "cpu_model": "Intel Core i5-10500", "os_version": "22H2"}},
    "switch": {"unit_code": "W2", "device_class": "switch", "vendor": "Brocade", "model": "ICX6430-24",
               "serial": "SW1", "specs": {"port_count": 24, "poe": "có"}},
    "printer": {"unit_code": "W2", "device_class": "printer", "vendor": "Xerox", "model": "B210", "serial": "PR1",
                "specs": {"duplex": "có", "printer_ppm": "30 ppm"}},
    "box": {"unit_code": "W1", "device_class": "other", "vendor": "Acme", "model": "Box", "serial": "OT1"},
}
APPROVED_PC = {"id": 1, "vendor": "Dell", "model_pattern": "OptiPlex *", "price_vnd": 9_900_000, "end_of_sale": None,
               "end_of_support": None}
RAM_BELOW = [{"status": "below_spec", "spec": "ram_gb", "op": "at_least", "required": 16, "found": 8,
              "severity": "required"}]


@pytest.fixture
def fleet(example, client):  # noqa: F811
    """The devices above, recorded through the API after the example catalog: their ids by name."""
    bought = add_years(today(), -3)
    ids = {}
    for name, device in DEVICES.items():
        body = device | ({"purchase_date": bought.isoformat()} if name == "pc" else {})
        response = client.post("/api/devices", json=body)
        assert response.status_code == 201, response.json
        ids[name] = response.json["id"]
    return ids


def test_a_device_shows_its_category_model_explanation_and_wear(fleet, client, example):  # noqa: F811
    got = client.get(f"/api/compliance/devices/{fleet['pc']}").json
    bought = add_years(today(), -3)
    assert got == {"device_id": fleet["pc"], "unit_code": "W1", "version": {"id": example, "name": "Danh mục mẫu 2026"},
                   "category": {"code": "desktop", "name_vi": "Máy vi tính để bàn", "name_en": "Desktop computer"},
                   "approved_model": APPROVED_PC, "status": "compliant", "findings": [],
                   "explanations": ["an approved model that meets every requirement of its category"],
                   "judged_on": today().isoformat(), "life_ends_on": add_years(bought, 5).isoformat(),
                   "wear": {"original_vnd": 16_000_000, "rate_percent": 20.0, "years_used": 3,
                            "accumulated_vnd": 9_600_000, "remaining_vnd": 6_400_000}}


@pytest.mark.parametrize(("name", "category", "status", "findings", "explanations"), [
    ("pc-no-ram", "desktop", "unknown", [{"status": "unknown", "missing": "ram_gb", "severity": "required"}],
     ["RAM not known: import it or install the inventory agent"]),
    ("switch", "access_switch", "end_of_support", [{"status": "end_of_support", "on": "2024-06-30"}],
     ["its model is out of support since 30/06/2024"]),
    ("printer", "printer", "unapproved_model", [{"status": "unapproved_model", "vendor": "Xerox", "model": "B210"}],
     ["Xerox B210 is not an approved model of its category"]),
    ("box", None, "unknown", [{"status": "unknown", "missing": "category", "device_class": "other"}],
     [("no category of this catalog takes devices of class other; correct the device's class or add the class to "
      "a category")]),
])
def test_each_status_comes_with_its_explanation(fleet, client, name, category, status, findings, explanations):
    got = client.get(f"/api/compliance/devices/{fleet[name]}").json
    assert ((got["category"] or {}).get("code"), got["status"], got["findings"], got["explanations"]) == \
        (category, status, findings, explanations)
    assert (got["approved_model"] or {}).get("model_pattern") == \
        {"pc-no-ram": "ProDesk *", "switch": "ICX6430-*"}.get(name)
    assert got["wear"] is None and got["life_ends_on"] is None


def test_a_unit_counts_its_subtree_by_category_and_status(fleet, client, example):  # noqa: F811
    assert client.get("/api/compliance/units/C").json == {
        "unit": {"code": "C", "name": "City"}, "version": {"id": example, "name": "Danh mục mẫu 2026"}, "devices": 5,
        "counts": [{"category": "access_switch", "status": "end_of_support", "devices": 1},
                   {"category": "desktop", "status": "unknown", "devices": 1},
                   {"category": "desktop", "status": "compliant", "devices": 1},
                   {"category": "printer", "status": "unapproved_model", "devices": 1},
                   {"category": None, "status": "unknown", "devices": 1}],
        "totals": {"end_of_support": 1, "unapproved_model": 1, "unknown": 2, "compliant": 1}}
    assert client.get("/api/compliance/units/A1").json["counts"] == [
        {"category": "desktop", "status": "unknown", "devices": 1}]


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["pc", "pc-no-ram", "switch", "printer", "box"]),
    ("status=unknown", ["pc-no-ram", "box"]),
    ("category=desktop", ["pc", "pc-no-ram"]),
    ("category=none", ["box"]),
    ("status=unknown&category=desktop", ["pc-no-ram"]),
    ("status=below_spec", []),
])
def test_the_devices_behind_the_counts_are_filtered(fleet, client, query, expected):
    page = client.get(f"/api/compliance/units/C/devices?{query}").json
    by_id = {device_id: name for name, device_id in fleet.items()}
    assert [by_id[item["device"]["id"]] for item in page["items"]] == expected
    assert (page["total"], page["page"], page["per_page"]) == (len(expected), 1, 50)


def test_a_listed_device_carries_its_judgement_in_words(fleet, client):
    [pc, box] = client.get("/api/compliance/units/W1/devices").json["items"]
    assert pc == {"device": {"id": fleet["pc"], "unit_code": "W1", "device_class": "workstation", "vendor": "Dell",
                             "model": "OptiPlex 7090", "serial": "PC1", "hostname": None, "status": "in_use"},
                  "category": "desktop", "status": "compliant", "findings": [],
                  "explanations": ["an approved model that meets every requirement of its category"]}
    assert (box["category"], box["status"], box["explanations"]) == (None, "unknown", [
        ("no category of this catalog takes devices of class other; correct the device's class or add the class to "
        "a category")])


def test_pages_cover_every_device_once(fleet, client):
    pages = [client.get(f"/api/compliance/units/C/devices?per_page=2&page={n}").json for n in (1, 2, 3, 4)]
    assert [len(p["items"]) for p in pages] == [2, 2, 1, 0]
    assert sorted(i["device"]["id"] for p in pages for i in p["items"]) == sorted(fleet.values())
    assert {p["total"] for p in pages} == {5}


def test_the_same_device_is_compliant_under_one_version_and_below_spec_under_the_next(
        fleet, client, sessions, example):  # noqa: F811
    pc = f"/api/compliance/devices/{fleet['pc']}"
    next_year = draft(client, example)
    url = f"/api/catalog/versions/{next_year['id']}/requirements"
    assert client.put(url, json=with_ram(client.get(url).json, "16 GB")).status_code == 200
    # A draft can be tried on the devices before it is published.
    assert client.get(f"{pc}?version={next_year['id']}").json["status"] == "below_spec"
    assert client.post(f"/api/catalog/versions/{next_year['id']}/publish").json["status"] == "scheduled"

    under_example = client.get(pc).json
    under_next = client.get(f"{pc}?version={next_year['id']}").json
    assert (under_example["version"]["id"], under_example["status"]) == (example, "compliant")
    assert under_next | {"wear": None, "life_ends_on": None} == under_example | {
        "version": {"id": next_year["id"], "name": "Danh mục 2027"}, "status": "below_spec", "findings": RAM_BELOW,
        "explanations": ["RAM is 8 GB, below the 16 GB required"], "wear": None, "life_ends_on": None,
        "approved_model": APPROVED_PC | {"id": under_next["approved_model"]["id"]}}
    assert client.get(f"/api/compliance/units/W1?version={next_year['id']}").json["counts"] == [
        {"category": "desktop", "status": "below_spec", "devices": 1}, {"category": None, "status": "unknown",
                                                                          "devices": 1}]
    listed = client.get(f"/api/compliance/units/C/devices?status=below_spec&version={next_year['id']}").json
    assert [(i["device"]["id"], i["explanations"]) for i in listed["items"]] == [
        (fleet["pc"], ["RAM is 8 GB, below the 16 GB required"])]
    assert client.get("/api/compliance/units/C/devices?status=below_spec").json["total"] == 0

    # A version in force from today judges every device at once: the stored judgements move to it.
    current = draft(client, next_year["id"], name="Danh mục hiện hành", effective_on=today().isoformat())
    assert client.post(f"/api/catalog/versions/{current['id']}/publish").json["status"] == "in_force"
    with sessions() as session:
        stored = session.scalars(select(Compliance).order_by(Compliance.device_id)).all()
        assert [(c.device_id, c.version_id, c.status.value) for c in stored] == [
            (fleet["pc"], current["id"], "below_spec"), (fleet["pc-no-ram"], current["id"], "unknown"),
            (fleet["switch"], current["id"], "end_of_support"), (fleet["printer"], current["id"], "unapproved_model"),
            (fleet["box"], current["id"], "unknown")]
        assert stored[0].findings == RAM_BELOW
    got = client.get(pc).json
    assert (got["version"], got["status"], got["explanations"]) == (
        {"id": current["id"], "name": "Danh mục hiện hành"}, "below_spec", ["RAM is 8 GB, below the 16 GB required"])
    assert client.get("/api/compliance/units/C").json["totals"] == {
        "end_of_support": 1, "below_spec": 1, "unapproved_model": 1, "unknown": 2}
    assert client.get(f"{pc}?version={example}").json["status"] == "compliant"


def test_a_unit_officer_sees_compliance_of_their_own_units_only(fleet, app, token_for):
    officer = client_as(app, token_for(Role.UNIT_OFFICER))
    assert officer.get(f"/api/compliance/devices/{fleet['pc']}").json["status"] == "compliant"
    assert officer.get("/api/compliance/units/W1").json["totals"] == {"unknown": 1, "compliant": 1}
    assert officer.get("/api/compliance/units/W1/devices").json["total"] == 2
    assert officer.get("/api/compliance/units/W1/norms").json["totals"]["desktop"] == 20
    response = officer.get(f"/api/compliance/devices/{fleet['switch']}")
    assert (response.status_code, response.json["message"]) == (404, f"device {fleet['switch']} does not exist")
    for path in ("/api/compliance/units/W2", "/api/compliance/units/W2/devices", "/api/compliance/units/W2/norms"):
        response = officer.get(path)
        assert (response.status_code, response.json["message"]) == (403, "unit 'W2' is not one of your units"), path
    response = officer.get("/api/compliance/units/C")
    assert (response.status_code, response.json["message"]) == (403, "unit 'C' is not one of your units")


@pytest.mark.parametrize("role", [Role.FINANCE, Role.AUDITOR])
def test_finance_and_auditors_read_everywhere(fleet, app, client, token_for, role):
    reader = client_as(app, token_for(role))
    for path in ("/api/compliance/units/C", "/api/compliance/units/C/devices",
                 f"/api/compliance/devices/{fleet['switch']}", "/api/compliance/units/W2/norms"):
        assert reader.get(path).json == client.get(path).json, path


@pytest.mark.parametrize(("path", "status", "field", "message"), [
    ("/api/compliance/devices/999", 404, None, "device 999 does not exist"),
    ("/api/compliance/units/W9", 404, None, "unit 'W9' does not exist"),
    ("/api/compliance/units/W9/norms", 404, None, "unit 'W9' does not exist"),
    ("/api/compliance/units/C?version=999", 404, None, "catalog version 999 does not exist"),
    ("/api/compliance/devices/{pc}?version=999", 404, None, "catalog version 999 does not exist"),
    ("/api/compliance/units/C?version=abc", 422, "version", "Not a valid integer."),
    ("/api/compliance/units/C/devices?per_page=0", 422, "per_page",
     "Must be greater than or equal to 1 and less than or equal to 500."),
    ("/api/compliance/units/C/devices?per_page=501", 422, "per_page",
     "Must be greater than or equal to 1 and less than or equal to 500."),
    ("/api/compliance/units/C/devices?status=broken", 422, "status",
     ("Must be one of: end_of_support, past_service_life, below_spec, unapproved_model, end_of_sale, unknown, "
     "compliant.")),
    ("/api/compliance/units/C/norms?on=07/12/2026", 422, "on", "Not a valid date."),
])
def test_bad_questions_are_refused_with_the_reason(fleet, client, path, status, field, message):
    response = client.get(path.format(pc=fleet["pc"]))
    assert response.status_code == status
    if field:
        assert response.json["errors"]["query"][field] == [message]
    else:
        assert response.json["message"] == message


def test_without_a_version_in_force_compliance_says_so(org, client):
    device = client.post("/api/devices", json=PC).json["id"]
    response = client.get(f"/api/compliance/devices/{device}")
    assert (response.status_code, response.json["message"]) == (
        404, f"no catalog version is in force on {today().strftime('%d/%m/%Y')}; publish one first")


# The example norms (catalog/data/norms.csv) by hand. Wired ports: desktops, printers, video-conference endpoints,
# IP phones and access points take one each; an access switch has 24 ports, 20% spare, and the law allows one
# per 24 ports counted.
WARD_QUANTITIES = [  # norm, category, basis, basis value, computed, maximum, required, capped, max unit price
    ("pc-leader", "desktop", "leader_count", 2, 2, 2, 2, False, 15_000_000),
    ("pc-specialist", "desktop", "specialist_count", 15, 15, 15, 15, False, 10_000_000),
    ("pc-staff", "desktop", "other_staff", 5, 5, 5, 5, False, 10_000_000),
    ("laptop-leader", "laptop", "leader_count", 2, 2, 2, 2, False, 15_000_000),
    ("printer-staff", "printer", "staff_count", 22, 5, 5, 5, False, 10_000_000),  # ceil(22 / 5)
    # 125,001 pages over the 10 working days from Monday 7 to Monday 21 December: 12,500.1 a day, 2,000 a scanner.
    ("scanner-archive", "scanner", "archive_pages_per_day", 12500.1, 7, 7, 7, False, 40_000_000),
    ("vc-ward", "vc_endpoint", "unit", 1, 1, 1, 1, False, 70_000_000),
    ("phone-leader", "ip_phone", "leader_count", 2, 2, 2, 2, False, 1_750_000),
    ("router-site", "router", "sites", 1, 1, 1, 1, False, 60_000_000),
    ("firewall-site", "firewall", "sites", 1, 1, 1, 1, False, 90_000_000),
    ("ups-site", "rack_ups", "sites", 1, 1, 1, 1, False, 30_000_000),
    ("wifi-site", "wireless", "sites", 1, 2, 4, 2, False, 6_000_000),
    # 22 desktops + 5 printers + 1 endpoint + 2 phones + 2 access points = 32 ports: ceil(32 × 1.2 / 24) = 2.
    ("switch-ports", "access_switch", "wired_ports", 32, 2, None, 2, False, 45_000_000),
]
WARD_TOTALS = {"desktop": 22, "laptop": 2, "printer": 5, "scanner": 7, "vc_endpoint": 1, "ip_phone": 2, "router": 1,
               "firewall": 1, "rack_ups": 1, "wireless": 2, "access_switch": 2}
AGENCY_TOTALS = {"desktop": 120, "laptop": 6, "printer": 24, "scanner": 0, "vc_endpoint": 4, "ip_phone": 6,
                 "core_switch": 3, "router": 3, "firewall": 3, "rack_ups": 3, "wireless": 6, "access_switch": 8}


def test_the_norms_of_a_ward_of_22(example, client):  # noqa: F811
    assert client.post("/api/units", json={
        "code": "W22", "name": "Phường 22", "kind": "ward", "parent_code": "C", "staff_count": 22, "leader_count": 2,
        "specialist_count": 15, "archive_pages": 125_001, "archive_deadline": "2026-12-21"}).status_code == 201
    got = client.get("/api/compliance/units/W22/norms?on=2026-12-07").json
    assert (got["unit"], got["version"], got["on"]) == ({"code": "W22", "name": "Phường 22"},
                                                       {"id": example, "name": "Danh mục mẫu 2026"}, "2026-12-07")
    assert [(q["norm"], q["category"], q["basis"], q["basis_value"], q["computed"], q["maximum"], q["required"],
             q["capped"], q["max_unit_price_vnd"]) for q in got["quantities"]] == WARD_QUANTITIES
    assert got["quantities"][0]["legal_basis"] == "Quyết định 50/2017/QĐ-TTg, Phụ lục I (ví dụ)"
    assert got["totals"] == WARD_TOTALS


def test_the_norms_of_an_agency_of_120_with_4_meeting_rooms_and_3_sites_respect_the_maximum(example, client):  # noqa: F811
    assert client.post("/api/units", json={
        "code": "AG", "name": "Sở 120", "kind": "agency", "parent_code": "C", "staff_count": 120, "leader_count": 6,
        "specialist_count": 90, "meeting_rooms": 4, "sites": 3}).status_code == 201
    got = client.get("/api/compliance/units/AG/norms").json
    assert got["totals"] == AGENCY_TOTALS
    # 120 + 24 + 4 + 6 + 6 = 160 ports: 8 switches of 24 ports with 20% spare; no legal maximum for switches.
    [switches] = [q for q in got["quantities"] if q["norm"] == "switch-ports"]
    assert (switches["basis_value"], switches["computed"], switches["maximum"], switches["required"],
            switches["capped"]) == (160, 8, None, 8, False)
    assert [q["norm"] for q in got["quantities"] if q["category"] in ("vc_endpoint", "core_switch")] == \
        ["vc-meeting-room", "core-site"]
