"""The devices' pages: the list and its filters in the URL, a device with the source of each value, its
neighbours and history, the officer's changes (refusals next to the field, nothing stored), relocations."""
import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from accounts.models import Role
from core.audit import AuditEntry
from core.permissions import Permission, requires
from inventory.ingest import IngestBatch, ingest
from inventory.models import Device
from inventory.observations import ObservedDevice, ObservedInterface, ObservedNeighbour
from tests.conftest import T0, client_as, table_contents

MAC = "00:1a:2b:3c:4d:5e"


@pytest.fixture(autouse=True)
def pages_of_others(app):
    """The layout links to every package's pages (navigation, one's account): while a page another helper
    builds does not exist yet, a stand-in answers for it, so that these pages render. A no-op once all exist."""
    endpoints = [entry.endpoint for entry in app.extensions.get("navigation", [])] + [app.config["ACCOUNT_PAGE"]]
    for endpoint in endpoints:
        if endpoint not in app.view_functions:
            app.add_url_rule(f"/stand-in/{endpoint}", endpoint=endpoint,
                             view_func=requires(Permission.PUBLIC)(lambda: "stand-in"))


class Page(HTMLParser):
    """A page as elements with ids, tables as rows of cell texts: what the tests read of it."""

    VOID = frozenset({"input", "br", "img", "meta", "link", "hr"})

    def __init__(self, html: str):
        super().__init__()
        self.open: list[list] = []  # [tag, id, text parts]
        self.texts: dict[str, str] = {}
        self.attrs: dict[str, dict[str, str]] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self.table: list[str] = []  # ids of the tables being read
        self.cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.handle_data(" ")
        attrs = dict(attrs)
        if "id" in attrs:
            self.attrs[attrs["id"]] = attrs
        if tag == "table":
            self.table.append(attrs.get("id", ""))
            self.tables[self.table[-1]] = []
        elif tag == "tr" and self.table:
            self.tables[self.table[-1]].append([])
        elif tag in ("td", "th") and self.table:
            self.cell = []
        if tag not in self.VOID:
            self.open.append([tag, attrs.get("id"), []])

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        while self.open:
            name, element_id, parts = self.open.pop()
            if element_id:
                self.texts[element_id] = " ".join("".join(parts).split())
            if self.open:
                self.open[-1][2].extend(parts)
            if name == tag:
                break
        if tag in ("td", "th") and self.table and self.cell is not None:
            self.tables[self.table[-1]][-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "table" and self.table:
            self.table.pop()

    def handle_data(self, data):
        if self.open:
            self.open[-1][2].append(data)
        if self.cell is not None:
            self.cell.append(data)

    def rows(self, table_id: str) -> list[list[str]]:
        """The body rows of a table (its heading row left out)."""
        return [row for row in self.tables[table_id][1:] if row]


def page(client, url: str, status: int = 200) -> Page:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return Page(response.get_data(as_text=True))


def add(client, **fields) -> int:
    device = {"unit_code": "W1", "device_class": "switch", "vendor": "Cisco", "model": "WS-C2960-24TT-L",
              "serial": "FOC1111A1", "hostname": "sw-w1", "interfaces": []} | fields
    response = client.post("/api/devices", json=device)
    assert response.status_code == 201, response.json
    return response.json["id"]


@pytest.fixture
def fleet(org, client) -> dict[str, int]:
    """Six devices across the tree, by host name: three in W1, one in W2, one in A1, one in A1-D1."""
    return {"sw-w1": add(client, interfaces=[{"name": "Vlan1", "mac": "00:1b:00:00:00:01", "ips": ["10.1.0.2"]}]),
            "prn-w1": add(client, serial="CN0001", device_class="printer", vendor="HP", model="LaserJet M404",
                          hostname="prn-w1"),
            "pc-w1": add(client, serial="PC0001", device_class="workstation", vendor="Dell", model="OptiPlex 7090",
                         hostname="pc-w1", status="spare"),
            "pc-w2": add(client, unit_code="W2", serial="PC0002", device_class="workstation", vendor="Dell",
                         model="OptiPlex 7090", hostname="pc-w2"),
            "fw-a1": add(client, unit_code="A1", serial="FW0001", device_class="firewall", vendor="Fortinet",
                         model="FortiGate 60F", hostname="fw-a1"),
            "pc-d1": add(client, unit_code="A1-D1", serial="PC0003", device_class="workstation", vendor="HP",
                         model="ProDesk 400", hostname="pc-d1")}


def numbers(text: str) -> list[str]:
    return re.findall(r"\d+", text)


def listed(found: Page) -> list[str]:
    """The host names in the list, in its order (the first cell is "#id name")."""
    return [row[0].split(" ", 1)[1] for row in found.rows("devices")]


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["sw-w1", "prn-w1", "pc-w1", "pc-w2", "fw-a1", "pc-d1"]),
    ("unit=A1", ["fw-a1", "pc-d1"]),
    ("unit=C&class=workstation", ["pc-w1", "pc-w2", "pc-d1"]),
    ("status=spare", ["pc-w1"]),
    ("vendor=dell", ["pc-w1", "pc-w2"]),
    ("q=00:1B:00:00:00:01", ["sw-w1"]),
    ("q=optiplex&class=workstation&unit=W1", ["pc-w1"]),
    ("sort=-serial", ["pc-d1", "pc-w2", "pc-w1", "fw-a1", "sw-w1", "prn-w1"]),
    ("sort=vendor&class=workstation", ["pc-w1", "pc-w2", "pc-d1"]),
])
def test_the_list_shows_exactly_the_devices_its_filters_in_the_url_choose(fleet, client, query, expected):
    assert listed(page(client, f"/devices?{query}")) == expected


def test_the_list_keeps_its_filters_in_its_form_its_sorting_links_and_its_export(fleet, client):
    found = page(client, "/devices?unit=W1&class=workstation&status=spare&vendor=Dell&q=opti&sort=-id")
    assert listed(found) == ["pc-w1"]
    assert found.rows("devices") == [[f"#{fleet['pc-w1']} pc-w1", "máy tính để bàn", "Dell", "OptiPlex 7090",
                                      "PC0001", "W1", "dự phòng", found.rows("devices")[0][7]]]
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", found.rows("devices")[0][7])
    assert (found.attrs["f-vendor"]["value"], found.attrs["f-q"]["value"]) == ("Dell", "opti")
    response = client.get("/devices?unit=W1&class=workstation&status=spare&vendor=Dell&q=opti&sort=-id")
    html = response.get_data(as_text=True)
    for selected in ('<option value="W1" selected>', '<option value="workstation" selected>',
                     '<option value="spare" selected>'):
        assert selected in html
    assert '<input type="hidden" name="sort" value="-id">' in html
    # Sorting by another column keeps every filter and starts again at the first page.
    assert 'href="/devices?unit=W1&amp;class=workstation&amp;status=spare&amp;vendor=Dell&amp;q=opti&amp;sort=model"' \
        in html
    assert found.attrs["export-xlsx"]["href"] == "/api/exports/devices?unit=W1&format=xlsx"
    assert found.texts["device-count"] == "1 thiết bị"


def test_the_list_pages_by_fifty_in_sql(org, sessions, client):
    with sessions() as session, session.begin():
        ingest(session, IngestBatch([ObservedDevice("manual", T0, "W1", "tests", fields={
            "serial": f"SN{n:03}", "hostname": f"pc-{n:03}", "device_class": "workstation"}) for n in range(55)]))
    first, second = page(client, "/devices?sort=hostname"), page(client, "/devices?sort=hostname&page=2")
    assert listed(first) == [f"pc-{n:03}" for n in range(50)]
    assert listed(second) == [f"pc-{n:03}" for n in range(50, 55)]
    assert (numbers(first.texts["page-summary"]), numbers(second.texts["page-summary"])) == (
        ["1", "50", "55"], ["51", "55", "55"])
    assert listed(page(client, "/devices?sort=hostname&page=9")) == listed(second)  # past the end: the last page


@pytest.mark.parametrize(("query", "status", "field", "message"), [
    ("class=toaster", 422, "class", "Phải là một trong các giá trị: switch, router"),
    ("status=lost", 422, "status", "Phải là một trong các giá trị: in_use, spare"),
    ("unit=b%20ad", 422, "unit", "Từ 1 đến 32 ký tự gồm chữ cái, chữ số"),
    ("unit=W9", 404, "unit", "đơn vị 'W9' không tồn tại"),
    ("q=" + "x" * 101, 422, "q", "Độ dài phải từ 1 đến 100."),
])
def test_a_bad_filter_is_refused_next_to_it(fleet, client, query, status, field, message):
    found = page(client, f"/devices?{query}", status)
    assert found.texts[f"e-{field}"].startswith(message)
    assert "devices" not in found.tables


def test_a_bad_sort_or_page_number_is_named_on_top_of_the_filters(fleet, client):
    found = page(client, "/devices?sort=colour&page=0", 422)
    assert found.texts["form-problems"].startswith("sort: Phải là một trong các giá trị: id, vendor")
    assert "page: Phải lớn hơn hoặc bằng 1" in found.texts["form-problems"]


def test_an_officer_lists_only_their_units_and_another_unit_is_refused_next_to_the_filter(fleet, officer):
    assert listed(page(officer, "/devices")) == ["sw-w1", "prn-w1", "pc-w1"]
    found = page(officer, "/devices?unit=W2", 403)
    assert found.texts["e-unit"] == "đơn vị 'W2' không thuộc các đơn vị của bạn"
    assert [option for option in re.findall(r'<option value="([^"]*)"', officer.get("/devices").get_data(as_text=True))
            if option.startswith("W")] == ["W1"]


def test_empty_lists_say_what_to_do(org, client, fleet):
    found = page(client, "/devices?vendor=Lenovo")
    assert "devices" not in found.tables
    html = client.get("/devices?vendor=Lenovo").get_data(as_text=True)
    assert "Không có thiết bị nào khớp với các bộ lọc này." in html
    assert 'href="/devices">Bỏ các bộ lọc</a>' in html


def test_no_devices_at_all_points_to_the_import(org, client):
    html = client.get("/devices").get_data(as_text=True)
    assert "Chưa có thiết bị nào được ghi nhận." in html
    assert "Nhập thiết bị" in html


# ---- one device ----------------------------------------------------------------------------------------------

def scan(sessions, *observations) -> list[int]:
    with sessions() as session, session.begin():
        return ingest(session, IngestBatch(list(observations))).device_ids


@pytest.fixture
def network(org, sessions) -> dict[str, int]:
    """A switch described by SNMP, its LLDP neighbour, and a PC its forwarding table saw on port Gi0/5."""
    switch, core = scan(sessions, ObservedDevice(
        "snmp", T0, "W1", "scan 7", fields={"serial": "FOC1", "hostname": "sw-w1", "vendor": "Cisco",
                                            "model": "WS-C2960", "device_class": "switch"},
        specs={"ports": "24 x 1G + 2 SFP"},
        interfaces=(ObservedInterface(name="Vlan1", mac="00:1b:00:00:00:01", ips=("10.1.0.2",), speed_mbps=1000),),
        neighbours=(ObservedNeighbour("lldp", port="Gi0/1", remote_port="Gi1/0/7", remote_serial="CORE1"),)),
        ObservedDevice("snmp", T0, "W1", "scan 7", fields={"serial": "CORE1", "hostname": "core-w1"}))
    pc, = scan(sessions, ObservedDevice(
        "fdb", T0 + dt.timedelta(minutes=5), "W1", "fdb 10.1.0.2 Gi0/5",
        interfaces=(ObservedInterface(mac=MAC),),
        neighbours=(ObservedNeighbour("fdb", port="", remote_port="Gi0/5", remote_serial="FOC1"),)))
    return {"switch": switch, "core": core, "pc": pc}


def test_a_device_shows_where_each_value_came_from_and_when(network, client):
    found = page(client, f"/devices/{network['switch']}")
    identity = {row[0]: row[1:] for row in found.rows("identity-table")}
    # T0 is 08:00 UTC: 15:00 in Hanoi.
    assert identity["Mẫu"] == ["WS-C2960", "Đọc qua SNMP · scan 7 · 02/11/2026 15:00"]
    assert identity["Số sê-ri"] == ["FOC1", "Đọc qua SNMP · scan 7 · 02/11/2026 15:00"]
    assert identity["Đơn vị"] == ["W1 · Ward One", "Đọc qua SNMP · scan 7 · 02/11/2026 15:00"]
    assert identity["Giá mua"] == ["", ""]
    assert found.rows("specs-table") == [["Số cổng", "26", "Đọc qua SNMP · scan 7 · 02/11/2026 15:00"],
                                         ["Số cổng uplink", "2", "Đọc qua SNMP · scan 7 · 02/11/2026 15:00"],
                                         ["Tốc độ cổng", "1.000 Mbps", "Đọc qua SNMP · scan 7 · 02/11/2026 15:00"]]
    assert found.rows("interfaces-table") == [["Vlan1", "00:1b:00:00:00:01", "10.1.0.2", "1.000 Mbit/s"]]
    assert found.rows("neighbours-table") == [["Gi0/1", "core-w1", "Gi1/0/7", "LLDP", "02/11/2026 15:00"]]
    assert found.rows("terminals-table") == [["Gi0/5", f"Thiết bị {network['pc']}", "02/11/2026 15:05"]]
    assert found.texts["breadcrumbs"] == "Thiết bị W1 sw-w1"


def test_a_device_says_which_switch_port_it_was_seen_behind(network, client):
    found = page(client, f"/devices/{network['pc']}")
    assert found.texts["seen-behind"] == "Thấy sau switch sw-w1, cổng Gi0/5 · lần cuối 02/11/2026 15:05"
    assert found.texts["device-name"] == f"Thiết bị {network['pc']}"


def test_an_end_of_a_link_in_another_unit_is_not_named(org, sessions, officer):
    ids = scan(sessions, ObservedDevice("snmp", T0, "W2", "scan 8", fields={"serial": "CORE2", "hostname": "core-w2"}),
               ObservedDevice("snmp", T0, "W1", "scan 7", fields={"serial": "SW1", "hostname": "sw-w1"},
                              neighbours=(ObservedNeighbour("lldp", port="Gi0/1", remote_port="Gi1/0/9",
                                                            remote_serial="CORE2"),)))
    found = page(officer, f"/devices/{ids[1]}")
    assert found.rows("neighbours-table") == [["Gi0/1", "một thiết bị của đơn vị không thuộc quyền của bạn",
                                               "Gi1/0/9", "LLDP", "02/11/2026 15:00"]]
    assert "core-w2" not in officer.get(f"/devices/{ids[1]}").get_data(as_text=True)


def timeline(found: Page) -> list[str]:
    return [text for element_id, text in found.texts.items() if element_id.startswith("event-")]


def test_the_history_is_a_timeline_newest_first_with_before_and_after(fleet, client):
    device_id = fleet["sw-w1"]
    assert client.patch(f"/api/devices/{device_id}", json={"location": "Tủ mạng tầng 2"}).status_code == 200
    assert client.put(f"/api/devices/{device_id}/unit", json={"unit_code": "W2"}).status_code == 200
    events = timeline(page(client, f"/devices/{device_id}"))
    assert [re.sub(r"^\d\d/\d\d/\d{4} \d\d:\d\d · ", "", e) for e in events] == [
        "Đã chuyển: W1 → W2 Ghi nhận thủ công · admin",
        "Vị trí đã thay đổi — → Tủ mạng tầng 2 Ghi nhận thủ công · admin",
        ("Đã ghi nhận Nhà sản xuất: Cisco · Mẫu: WS-C2960-24TT-L · Số sê-ri: FOC1111A1 · Tên máy: sw-w1 · "
         "Loại: bộ chuyển mạch (switch) · Trạng thái: đang sử dụng · Đơn vị: W1 · "
         "Giao diện mạng: Vlan1 00:1b:00:00:00:01 10.1.0.2 Ghi nhận thủ công")]


def test_a_reorganisation_is_in_the_timeline(fleet, client):
    merged = client.post("/api/units/merge", json={"sources": ["W1"], "into_code": "A1", "effective_on": "2026-12-01"})
    assert merged.status_code == 201
    latest = timeline(page(client, f"/devices/{fleet['sw-w1']}"))[0]
    assert re.sub(r"^\S+ \S+ · ", "", latest) == \
        "Chuyển do sắp xếp lại đơn vị: W1 → A1 Sắp xếp lại đơn vị · merge effective 2026-12-01 · W1 -> A1"


def test_a_long_history_is_paged(org, sessions, client):
    device_id, = scan(sessions, ObservedDevice("manual", T0, "W1", "tests", fields={"serial": "LONG1"}))
    for n in range(60):
        scan(sessions, ObservedDevice("manual", T0 + dt.timedelta(minutes=n + 1), "W1", "tests",
                                      fields={"location": f"Phòng {n}"}, device_id=device_id))
    first = page(client, f"/devices/{device_id}")
    second = page(client, f"/devices/{device_id}?page=2")
    assert (len(timeline(first)), len(timeline(second))) == (50, 11)
    assert "Phòng 59" in timeline(first)[0] and "Phòng 9" in timeline(first)[-1]
    assert "Đã ghi nhận" in timeline(second)[-1]
    assert numbers(second.texts["page-summary"]) == ["51", "61", "61"]


def test_a_device_of_another_unit_does_not_exist_for_an_officer_even_to_change(fleet, officer, engine):
    other = fleet["pc-w2"]
    before = table_contents(engine)
    for response in (officer.get(f"/devices/{other}"), officer.get(f"/devices/{other}/edit"),
                     officer.post(f"/devices/{other}/edit", data={"location": "x"}),
                     officer.post(f"/devices/{other}/status", data={"status": "spare"}),
                     officer.post(f"/devices/{other}/unit", data={"unit_code": "W1"})):
        assert response.status_code == 404
        assert Page(response.get_data(as_text=True)).texts["reason"] == f"thiết bị {other} không tồn tại"
    assert table_contents(engine) == before


@pytest.mark.parametrize("role", [Role.FINANCE, Role.AUDITOR])
def test_readers_see_the_device_without_actions_and_may_not_change_it(fleet, app, token_for, engine, role):
    reader = client_as(app, token_for(role))
    found = page(reader, f"/devices/{fleet['sw-w1']}")
    assert "actions" not in found.texts and "edit" not in found.attrs
    before = table_contents(engine)
    assert reader.get(f"/devices/{fleet['sw-w1']}/edit").status_code == 403
    assert reader.post(f"/devices/{fleet['sw-w1']}/status", data={"status": "spare"}).status_code == 403
    assert table_contents(engine) == before


# ---- changes -------------------------------------------------------------------------------------------------

def test_the_edit_form_shows_the_record_as_it_is(fleet, client):
    found = page(client, f"/devices/{fleet['sw-w1']}/edit")
    assert (found.attrs["f-serial"]["value"], found.attrs["f-hostname"]["value"], found.attrs["f-location"]["value"]) \
        == ("FOC1111A1", "sw-w1", "")
    assert found.texts["breadcrumbs"] == "Thiết bị W1 sw-w1 Sửa"


@pytest.mark.parametrize(("form", "status", "field", "message"), [
    ({"purchase_price_vnd": "15,5 triệu"}, 422, "purchase_price_vnd", "Không phải số nguyên hợp lệ."),
    ({"purchase_date": "31/02/2024"}, 422, "purchase_date", "Ngày không hợp lệ."),
    ({"device_class": "toaster"}, 422, "device_class", "Phải là một trong các giá trị: switch, router"),
    ({"serial": "CN0001"}, 409, "serial", "số sê-ri CN0001 đã thuộc về thiết bị "),
    ({"specs.ram_gb": "a lot"}, 422, "specs.ram_gb",
     "specs.ram_gb: không đọc được 'a lot' thành bộ nhớ RAM; hãy viết như '8 GB' hoặc '8192 MB'"),
])
def test_a_refused_edit_shows_the_reason_next_to_the_field_and_stores_nothing(fleet, client, engine, form, status,
                                                                              field, message):
    before = table_contents(engine)
    response = client.post(f"/devices/{fleet['sw-w1']}/edit", data={"location": "Kho"} | form)
    assert response.status_code == status
    found = Page(response.get_data(as_text=True))
    assert found.texts[f"e-{field}"].startswith(message)
    if field != "device_class":  # a select shows no value that is not one of its options
        assert found.attrs[f"f-{field}"]["value"] == form[field]
    assert found.attrs["f-location"]["value"] == "Kho"  # what was typed stays in the form
    assert table_contents(engine) == before


def test_an_edit_changes_only_what_was_changed_and_keeps_who_said_the_rest(network, client, sessions):
    switch = network["switch"]
    form = {name: found for name, found in edit_form(client, switch).items()}
    form |= {"location": "Tủ mạng tầng 2", "purchase_price_vnd": "15.500.000", "specs.ram_gb": "8 GB"}
    response = client.post(f"/devices/{switch}/edit", data=form)
    assert (response.status_code, response.headers["Location"]) == (302, f"/devices/{switch}")
    with sessions() as session:
        device = session.get(Device, switch)
        assert (device.location, device.purchase_price_vnd, device.specs["ram_gb"]) == ("Tủ mạng tầng 2", 15_500_000, 8)
        assert device.provenance["model"]["method"] == "snmp"  # not restated: still the scan's
        assert device.provenance["location"]["method"] == "manual"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "device.update")).one()
        assert (entry.actor, entry.target_id, entry.before["location"], entry.after["location"]) == (
            "admin", str(switch), None, "Tủ mạng tầng 2")
    html = client.get(f"/devices/{switch}").get_data(as_text=True)
    assert '<div class="alert alert-success" role="status">Đã lưu hồ sơ thiết bị; thay đổi có trong lịch sử của ' \
           'thiết bị.</div>' in html
    found = Page(html)
    assert {row[0]: row[1] for row in found.rows("identity-table")}["Giá mua"] == "15.500.000 ₫"
    assert any("Vị trí đã thay đổi — → Tủ mạng tầng 2" in event for event in timeline(found))


def edit_form(client, device_id: int) -> dict[str, str]:
    """The edit form's fields as the browser would send them untouched."""
    html = client.get(f"/devices/{device_id}/edit").get_data(as_text=True)
    values = {name: value for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html)}
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.DOTALL):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        values[name] = chosen.group(1) if chosen else ""
    values.pop("csrf_token", None)
    return values


def test_a_form_that_leaves_fields_out_changes_only_those_it_sends(fleet, client, sessions):
    response = client.post(f"/devices/{fleet['sw-w1']}/edit", data={"location": "Kho"})
    assert response.status_code == 302
    with sessions() as session:
        device = session.get(Device, fleet["sw-w1"])
        assert (device.location, device.vendor, device.model, device.serial) == (
            "Kho", "Cisco", "WS-C2960-24TT-L", "FOC1111A1")


def test_an_untouched_form_changes_nothing(network, client, engine):
    before = table_contents(engine)
    response = client.post(f"/devices/{network['switch']}/edit", data=edit_form(client, network["switch"]))
    assert response.status_code == 302
    assert table_contents(engine) == before


def test_marking_a_device_spare_is_in_its_history_and_the_audit_log(fleet, officer, sessions):
    device_id = fleet["sw-w1"]
    response = officer.post(f"/devices/{device_id}/status", data={"status": "spare"})
    assert (response.status_code, response.headers["Location"]) == (302, f"/devices/{device_id}")
    found = page(officer, f"/devices/{device_id}")
    assert found.texts["device-status"] == "dự phòng"
    assert "status-spare" not in found.attrs and "status-in_use" in found.attrs
    assert re.sub(r"^\S+ \S+ · ", "", timeline(found)[0]) == \
        "Trạng thái đã thay đổi đang sử dụng → dự phòng Ghi nhận thủ công · unit-officer"
    with sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "device.update")).one()
        assert (entry.before["status"], entry.after["status"]) == ("in_use", "spare")


def test_a_status_the_scans_set_is_refused_next_to_the_buttons(fleet, officer, engine):
    before = table_contents(engine)
    response = officer.post(f"/devices/{fleet['sw-w1']}/status", data={"status": "missing"})
    assert response.status_code == 422
    assert Page(response.get_data(as_text=True)).texts["e-status"] == \
        "Chọn một trong: đang sử dụng, dự phòng, hỏng, đã thanh lý."
    response = officer.post(f"/devices/{fleet['sw-w1']}/status", data={"status": "lost"})
    assert Page(response.get_data(as_text=True)).texts["e-status"].startswith(
        "Phải là một trong các giá trị: in_use")
    assert table_contents(engine) == before


def test_moving_a_device_to_a_unit_not_ones_own_is_refused_next_to_the_unit(fleet, officer, engine):
    before = table_contents(engine)
    response = officer.post(f"/devices/{fleet['sw-w1']}/unit", data={"unit_code": "W2"})
    assert response.status_code == 403
    found = Page(response.get_data(as_text=True))
    assert found.texts["e-unit_code"] == "đơn vị 'W2' không thuộc các đơn vị của bạn"
    response = officer.post(f"/devices/{fleet['sw-w1']}/unit", data={"unit_code": ""})
    assert (response.status_code, Page(response.get_data(as_text=True)).texts["e-unit_code"]) == (
        422, "Bắt buộc phải nhập.")
    assert table_contents(engine) == before


def test_an_administrator_moves_a_device_and_the_move_is_audited(fleet, client, sessions):
    device_id = fleet["sw-w1"]
    response = client.post(f"/devices/{device_id}/unit", data={"unit_code": "A1-D1"})
    assert response.status_code == 302
    found = page(client, f"/devices/{device_id}")
    assert found.texts["breadcrumbs"] == "Thiết bị A1-D1 sw-w1"
    with sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "device.move")).one()
        assert (entry.before, entry.after) == ({"unit": "W1"}, {"unit": "A1-D1"})


# ---- relocations ---------------------------------------------------------------------------------------------

@pytest.fixture
def relocation(org, client, sessions) -> tuple[int, int]:
    """W2's laptop, seen by a scan of W1: (relocation id, device id)."""
    device_id = add(client, unit_code="W2", serial="LAP-1", device_class="laptop", hostname="lap-w2",
                    interfaces=[{"mac": MAC}])
    with sessions() as session, session.begin():
        relocation_id, = ingest(session, IngestBatch([ObservedDevice(
            "snmp", T0 + dt.timedelta(minutes=10), "W1", "snmp:W1",
            interfaces=(ObservedInterface(mac=MAC, ips=("10.2.0.9",)),))])).relocations_raised
    return relocation_id, device_id


def test_the_officer_that_saw_it_confirms_and_the_device_moves(relocation, officer, sessions):
    relocation_id, device_id = relocation
    found = page(officer, "/relocations")
    row = found.rows("relocations")[0]
    # W1's officer may not read W2's device yet: shown what W1's scan saw of it.
    assert row[:6] == ["Một thiết bị của W2, theo những gì lần quét thấy: 00:1a:2b:3c:4d:5e 10.2.0.9", "W2", "W1",
                       "Đọc qua SNMP snmp:W1", "1 lần, 02/11/2026 15:10 – 02/11/2026 15:10", "chờ quyết định"]
    response = officer.post(f"/relocations/{relocation_id}/confirm", data={"note": "mang sang W1",
                                                                             "next": f"/devices/{device_id}"})
    assert (response.status_code, response.headers["Location"]) == (302, f"/devices/{device_id}")
    found = page(officer, f"/devices/{device_id}")
    assert found.texts["breadcrumbs"] == "Thiết bị W1 lap-w2"
    with sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "relocation.confirm")).one()
        assert (entry.actor, entry.before, entry.after, entry.detail) == (
            "unit-officer", {"unit": "W2", "status": "pending"},
            {"unit": "W1", "status": "confirmed", "device": device_id}, "mang sang W1")
    assert re.sub(r"^\S+ \S+ · ", "", timeline(found)[0]).startswith("Đã xác nhận chuyển đơn vị Ghi nhận thủ công")
    again = officer.post(f"/relocations/{relocation_id}/reject", data={})
    assert again.status_code == 409
    assert Page(again.get_data(as_text=True)).texts["form-problems"] == \
        f"yêu cầu chuyển đơn vị {relocation_id} đã được unit-officer xác nhận trước đó"


def test_the_devices_own_unit_sees_the_pending_relocation_without_the_decision(relocation, app, org, sessions):
    from tests.inventory.test_relocations import officer_of
    relocation_id, device_id = relocation
    w2 = officer_of(org, app, "W2")
    found = page(w2, f"/devices/{device_id}")
    assert found.texts[f"relocation-{relocation_id}-title"] == "Được thấy ở đơn vị khác: W1"
    assert f"confirm-{relocation_id}" not in found.attrs
    listed_row = page(w2, "/relocations").rows("relocations")[0]
    assert listed_row[0].startswith(f"#{device_id} lap-w2")
    assert listed_row[6] == "Đang chờ cán bộ của W1 hoặc quản trị viên."
    assert w2.post(f"/relocations/{relocation_id}/confirm", data={}).status_code == 403


def test_an_administrator_confirms_from_the_device_page(relocation, client):
    relocation_id, device_id = relocation
    found = page(client, f"/devices/{device_id}")
    assert found.attrs[f"decide-{relocation_id}"]["action"] == f"/relocations/{relocation_id}/confirm"
    assert found.attrs[f"reject-{relocation_id}"]["formaction"] == f"/relocations/{relocation_id}/reject"


def test_a_note_too_long_is_refused_next_to_it(relocation, officer, engine):
    relocation_id, _device_id = relocation
    before = table_contents(engine)
    response = officer.post(f"/relocations/{relocation_id}/reject", data={"note": "x" * 1001})
    assert response.status_code == 422
    assert Page(response.get_data(as_text=True)).texts[f"e-note-{relocation_id}"] == "Dài hơn độ dài tối đa 1000."
    assert table_contents(engine) == before


def test_pending_relocations_come_first_and_filter_by_status(relocation, client, sessions):
    _relocation_id, device_id = relocation
    other = add(client, unit_code="A1", serial="LAP-2", hostname="lap-a1", interfaces=[{"mac": "00:1a:2b:3c:4d:99"}])
    with sessions() as session, session.begin():
        newer, = ingest(session, IngestBatch([ObservedDevice(
            "nmap", T0 + dt.timedelta(hours=2), "W2", "nmap:W2",
            interfaces=(ObservedInterface(mac="00:1a:2b:3c:4d:99"),))])).relocations_raised
    client.post(f"/relocations/{newer}/reject", data={})
    assert [row[0] for row in page(client, "/relocations").rows("relocations")] == [
        f"#{device_id} lap-w2 LAP-1", f"#{other} lap-a1 LAP-2"]
    assert [row[0] for row in page(client, "/relocations?status=rejected").rows("relocations")] == [
        f"#{other} lap-a1 LAP-2"]
    assert page(client, "/relocations?status=lost", 422).texts["e-status"].startswith(
        "Phải là một trong các giá trị: pending")
    html = client.get("/relocations?status=superseded").get_data(as_text=True)
    assert "Không có yêu cầu chuyển đơn vị nào ở trạng thái này." in html


def test_no_relocations_says_what_they_are(org, officer):
    html = officer.get("/relocations").get_data(as_text=True)
    assert "Chưa có yêu cầu chuyển đơn vị nào" in html
