"""The catalog's pages (catalog/pages.py): its versions, a version's content and changes, creating, importing and
publishing a draft; a unit's compliance (its page's section, the devices behind each count) and norms; a device's
judgement on its page. Read through the test client, signed in as people are, on both databases; in English
(?lang=en, kept by a cookie: the texts are the msgids) and, where it says so, in Vietnamese, the default."""
import datetime as dt
import html as html_module
import io
import re

import openpyxl
import pytest

from accounts.models import Role
from accounts.services import create_user
from catalog.compliance import today
from catalog.examples import load_example_catalog
from catalog.rules import add_years
from catalog.services import create_version
from inventory.examples import load_example_organisation
from inventory.ingest import IngestBatch, ingest
from inventory.observations import ObservedDevice
from tests.accounts.test_pages_accounts import signed_in
from tests.conftest import PASSWORD, T0, table_contents
from tests.inventory.test_pages_transfer import element_text, flashes, table_rows, text_of

# One account of each kind the pages tell apart; the officer answers for VD-P01 (Phường Hoà Bình).
ACCOUNTS = {"admin": (Role.ADMIN, []), "officer": (Role.UNIT_OFFICER, ["VD-P01"]), "finance": (Role.FINANCE, [])}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def city(sessions):
    """The example organisation and the accounts above; no catalog yet."""
    with sessions() as session, session.begin():
        load_example_organisation(session)
        for username, (role, units) in ACCOUNTS.items():
            create_user(session, username, username.capitalize(), PASSWORD, role, units)
    return sessions


def years_ago(years: int) -> dt.date:
    """A purchase `years` full years and a month before today, so that the years of use stay `years`."""
    return add_years(today(), -years) - dt.timedelta(days=31)


# (host name, class, vendor, model, specs, purchase date, price) of VD-P01's devices, and one of VD-P02.
DEVICES = {
    "VD-P01": [
        ("pc-new", "workstation", "Dell", "OptiPlex 7010",
         {"ram_gb": "16 GB", "storage_gb": "512 GB SSD", "cpu_model": "Intel Core i5-12500", "os_version": "23H2"},
         years_ago(2), 16_000_000),
        ("pc-old", "workstation", "Dell", "OptiPlex 3020", {"ram_gb": "4 GB", "storage_gb": "500 GB HDD"},
         years_ago(7), 12_000_000),
        ("pc-ram", "workstation", "HP", "ProDesk 400 G5", {"ram_gb": "4 GB", "storage_gb": "256 GB SSD"},
         years_ago(1), None),
        ("pc-acer", "workstation", "Acer", "Veriton X", {"ram_gb": "8 GB", "storage_gb": "256 GB SSD"}, None, None),
        ("prn-1", "printer", "HP", "LaserJet Pro M404dn", {"duplex": "có"}, None, None),
        ("sw-1", "switch", "Brocade", "ICX6430-24", {"port_count": "24"}, None, None),
        ("sw-2", "switch", "D-Link", "DES-3200-28", {"port_count": "24"}, None, None),
        ("mystery", "other", None, None, {}, None, None)],
    "VD-P02": [("pc-p02", "workstation", "Dell", "OptiPlex 7010", {"ram_gb": "16 GB", "storage_gb": "512 GB SSD"},
                None, None)],
}


@pytest.fixture
def fleet(city) -> dict[str, int]:
    """The devices above, as an import records them: their ids by host name."""
    ids = {}
    with city() as session, session.begin():
        for unit, devices in DEVICES.items():
            batch = [ObservedDevice("import", T0, unit, "sheet", fields={
                "hostname": host, "device_class": device_class,
                **{k: v for k, v in (("vendor", vendor), ("model", model), ("purchase_date", bought),
                                     ("purchase_price_vnd", price)) if v is not None}}, specs=specs)
                for host, device_class, vendor, model, specs, bought, price in devices]
            ids.update(zip([d[0] for d in devices], ingest(session, IngestBatch(batch)).device_ids))
    return ids


@pytest.fixture
def catalog(fleet, city) -> dict[str, int]:
    """The example catalog, published and in force since 01/01/2026: every device judged under it."""
    with city() as session, session.begin():
        load_example_catalog(session)
    return fleet


def html(browser, url: str, status: int = 200) -> str:
    response = browser.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[-2000:]
    return response.get_data(as_text=True)


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post(browser, url: str, data: dict, form_page: str = "/catalog"):
    return browser.post(url, data={**data, "csrf_token": csrf(html(browser, form_page))})


def section_of(page: str, section_id: str) -> str:
    found = re.search(rf'<section[^>]*id="{section_id}".*?</section>', page, re.S)
    return found.group(0) if found else ""


def plain(fragment: str) -> str:
    """The text of an element as it reads, without the space text_of puts where a tag was."""
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def element_plain(page: str, element_id: str) -> str:
    found = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    return plain(found.group(2))


def plain_rows(page: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    return [[plain(cell) for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def header_row(page: str, table_id: str) -> list[str]:
    head = re.search(rf'<table[^>]*id="{table_id}".*?<thead>(.*?)</thead>', page, re.S).group(1)
    return [text_of(cell) for cell in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]


# ---- the versions -----------------------------------------------------------------------------------------------

def test_no_version_yet_says_what_to_do(city, app):
    admin, finance = signed_in(app, "admin"), signed_in(app, "finance")
    assert element_text(html(admin, "/catalog"), "new-version-title") == "New version"
    assert text_of(re.search(r'<div class="empty-state".*?</div>', html(admin, "/catalog"), re.S).group(0)) == (
        "No catalog version yet. Create one below and import the city office's workbook into it, or load the "
        "example catalog with “flask seed” and adapt it. Create a version")
    page = html(finance, "/catalog")
    assert text_of(re.search(r'<div class="empty-state".*?</div>', page, re.S).group(0)) == (
        "No catalog version yet. The office that issues the catalog imports it, or an administrator loads the "
        "example with “flask seed”; devices are judged once a version is published.")
    assert 'id="new-version"' not in page
    # Without a version in force, the unit's and the device's pages have no compliance section, and its lists
    # say why.
    assert 'id="unit-compliance"' not in html(admin, "/units/VD-P01")
    assert element_text(html(admin, "/units/VD-P01/compliance"), "content").count(
        "No catalog version is in force, so no device is judged yet.") == 1


def test_the_versions_show_the_one_in_force_first_with_their_counts(catalog, app, city):
    with city() as session, session.begin():  # a later draft, listed after the version in force
        create_version(session, {"name": "Danh mục 2027", "effective_on": dt.date(2027, 1, 1)}, by="test")
    page = html(signed_in(app, "finance"), "/catalog")
    assert header_row(page, "versions") == ["Version", "In force from", "Status", "Published", "Categories",
                                            "Approved models", "Requirements", "Norms"]
    rows = table_rows(page, "versions")
    assert [row[:3] + row[4:] for row in rows] == [
        ["Danh mục mẫu 2026", "01/01/2026", "in force", "18", "39", "18", "15"],
        ["Danh mục 2027", "01/01/2027", "draft", "0", "0", "0", "0"]]
    assert rows[0][3].startswith("seed · ") and rows[1][3] == "—"
    assert 'class="fw-semibold"' in re.search(r'<tr id="version-1".*?>', page).group(0)
    assert element_text(page, "example-warning").startswith("The version in force is the example shipped")
    assert 'id="new-version"' not in page and 'id="publish-' not in page  # the finance officer only reads


def test_a_finance_officer_may_not_create_a_version(catalog, app, city, engine):
    finance = signed_in(app, "finance")
    before = table_contents(engine)
    response = post(finance, "/catalog/versions", {"name": "Danh mục 2027", "effective_on": "2027-01-01"})
    assert response.status_code == 403
    assert element_text(response.get_data(as_text=True), "reason") == \
        "a finance may not do this (needs catalog:manage)"
    for url in ("/catalog/1/publish", "/catalog/1/delete"):
        assert finance.get(url).status_code == 403
    assert table_contents(engine) == before


def test_a_refused_new_version_says_why_next_to_the_field_and_stores_nothing(catalog, app, engine):
    admin = signed_in(app, "admin")
    before = table_contents(engine)
    response = post(admin, "/catalog/versions", {"name": "", "effective_on": "31/12/2027", "copy_of": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (element_text(page, "e-name"), element_text(page, "e-effective_on")) == \
        ("Missing data for required field.", "Not a valid date.")
    assert 'value="31/12/2027"' in page  # what was typed stays
    response = post(admin, "/catalog/versions", {"name": "Danh mục mẫu 2026", "effective_on": "2027-01-01"})
    assert response.status_code == 409
    assert element_text(response.get_data(as_text=True), "e-name") == \
        "a catalog version named 'Danh mục mẫu 2026' already exists"
    assert table_contents(engine) == before


def new_draft(browser, name: str = "Danh mục 2027", effective_on: str | None = None) -> int:
    response = post(browser, "/catalog/versions", {"name": name, "effective_on": effective_on or
                                                   today().isoformat(), "copy_of": "1", "legal_basis": "QĐ 12/2026"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_a_draft_copy_shows_its_content_and_no_changes_yet(catalog, app):
    admin = signed_in(app, "admin")
    draft = new_draft(admin)
    page = html(admin, f"/catalog/{draft}")
    assert flashes(page) == ["Draft Danh mục 2027 created: import its workbook or change it, then publish it."]
    assert (element_text(page, "version-name"), element_text(page, "version-status")) == ("Danh mục 2027", "draft")
    assert element_text(page, "about-based-on") == "Danh mục mẫu 2026"
    assert element_text(page, "changes-title") == "Changes since Danh mục mẫu 2026"
    assert element_text(page, "no-changes") == "The same content as Danh mục mẫu 2026."
    assert 'id="import-form"' in page and 'id="publish"' in page
    # The content, category by category: models with their dates, requirements in words, parts, norms.
    assert table_rows(page, "models-access_switch")[3] == ["Brocade", "ICX6430-*", "—", "30/06/2019 passed",
                                                           "30/06/2024 passed", "Hết hỗ trợ"]
    assert table_rows(page, "models-desktop")[0] == ["Dell", "OptiPlex *", "₫9,900,000", "", "", ""]
    assert table_rows(page, "requirements-desktop") == [
        ["RAM", "≥ 8 GB", "required"], ["storage size", "≥ 256 GB", "required"], ["storage kind", "= SSD", "required"],
        ["CPU generation", "≥ 8", "recommended"], ["OS version", "≥ 22H2", "recommended"]]
    assert table_rows(page, "requirements-printer")[0] == ["two-sided printing", "= yes", "required"]
    assert element_text(page, "life-desktop") == \
        "5 years · wear 20% a year · Ví dụ theo Thông tư 23/2023/TT-BTC (kiểm tra văn bản hiện hành)"
    assert element_text(page, "parts-desktop") == \
        "RAM DDR4 8 GB (₫750,000): RAM + 8 GB SSD 256 GB SATA (₫850,000): storage size → 256 GB, storage kind → SSD"
    assert table_rows(page, "norms")[4] == [
        "printer-staff", "Printer", "staff", "1 for every 5 · at least 1", "1", "₫10,000,000", "every kind",
        "Quyết định 50/2017/QĐ-TTg (ví dụ): 1 máy in cho 5 người"]
    assert table_rows(page, "norms")[9][:4] == [
        "switch-ports", "Access switch", "wired ports the unit's terminals need", "1 for every 24 · 20% spare"]
    # The version it was copied from has no version before it.
    assert element_text(html(admin, "/catalog/1"), "no-changes") == \
        "The first version: there is none before it to compare with."


def workbook(browser, version_id: int) -> openpyxl.Workbook:
    response = browser.get(f"/catalog/{version_id}/workbook.xlsx")
    assert (response.status_code, response.mimetype) == (200, XLSX)
    assert response.headers["Content-Disposition"] == f"attachment; filename=catalog-{version_id}.xlsx"
    return openpyxl.load_workbook(io.BytesIO(response.data))


def upload(browser, version_id: int, book: openpyxl.Workbook, name: str = "danh-muc.xlsx"):
    content = io.BytesIO()
    book.save(content)
    token = csrf(html(browser, f"/catalog/{version_id}"))
    return browser.post(f"/catalog/{version_id}/workbook", data={"csrf_token": token, "file": (
        io.BytesIO(content.getvalue()), name)}, content_type="multipart/form-data")


def test_a_workbook_with_problems_shows_each_and_stores_nothing_then_a_good_one_imports(catalog, app, engine):
    admin = signed_in(app, "admin")
    draft = new_draft(admin)
    book = workbook(admin, 1)
    models = book["models"]
    assert [c.value for c in models[1]][:4] == ["category", "vendor", "model_pattern", "price_vnd"]
    assert [c.value for c in models[2]][:4] == ["desktop", "Dell", "OptiPlex *", 9_900_000]
    models["D2"] = -5
    models["A3"] = "desk"
    before = table_contents(engine)
    response = upload(admin, draft, book)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert element_text(page, "verdict") == \
        "The workbook was refused and nothing was stored. Correct the cells listed below and import it again."
    assert element_text(page, "problems-title") == "2 problems"
    assert table_rows(page, "problems") == [
        ["models.price_vnd", "2", "'-5' is negative; an amount in VND is 0 or more"],
        ["models.category", "3", "there is no category 'desk' in this catalog"]]
    assert table_contents(engine) == before

    models["D2"], models["A3"] = 9_500_000, "desktop"
    response = upload(admin, draft, book)
    assert response.status_code == 302
    page = html(admin, f"/catalog/{draft}")
    assert flashes(page) == ["danh-muc.xlsx imported into Danh mục 2027."]
    assert table_rows(page, "models-desktop")[0][2] == "₫9,500,000"
    assert plain_rows(page, "changes-models") == [["Dell OptiPlex *", "price_vnd: 9900000 → 9500000"]]
    assert 'id="changes-categories"' not in page  # a sheet without changes says so
    # Not a workbook: refused next to the file field.
    response = admin.post(f"/catalog/{draft}/workbook", data={"csrf_token": csrf(page), "file": (
        io.BytesIO(b"code\n"), "danh-muc.txt")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert element_text(response.get_data(as_text=True), "workbook-error") == \
        "'danh-muc.txt': only .csv and .xlsx files can be imported"


def test_publishing_a_draft_warns_then_judges_every_device_under_it(catalog, app, city):
    admin = signed_in(app, "admin")
    draft = new_draft(admin)
    book = workbook(admin, draft)
    requirements = book["requirements"]
    assert [c.value for c in requirements[2]] == ["desktop", "ram_gb", ">=", "8", "required"]
    requirements["D2"] = "32"  # pc-new's 16 GB is now too little
    assert upload(admin, draft, book).status_code == 302
    page = html(admin, f"/catalog/{draft}/publish")
    assert element_text(page, "publish-warning") == (
        "Publishing freezes this version: none of its rows can change afterwards; a later change is a new version. "
        f"It takes effect on {today():%d/%m/%Y}, which has come: it becomes the catalog in force now, and every "
        "device (9) is judged under it at once.")
    assert element_text(page, "confirm") == "Publish and judge every device"
    response = admin.post(f"/catalog/{draft}/publish", data={"csrf_token": csrf(page)})
    assert response.status_code == 302
    page = html(admin, f"/catalog/{draft}")
    assert flashes(page) == [f"Danh mục 2027 is published: it is in force from {today():%d/%m/%Y}."]
    assert element_text(page, "version-status") == "in force"
    assert 'id="import-form"' not in page and 'id="publish"' not in page
    assert [row[:3] for row in table_rows(html(admin, "/catalog"), "versions")] == [
        ["Danh mục 2027", f"{today():%d/%m/%Y}", "in force"], ["Danh mục mẫu 2026", "01/01/2026", "superseded"]]
    device = html(admin, f"/devices/{catalog['pc-new']}")
    assert element_text(device, "compliance-status") == "below specification"
    assert element_text(device, "compliance-reasons") == "RAM is 16 GB, below the 32 GB required"
    # A published version cannot be published or deleted again.
    response = admin.get(f"/catalog/{draft}/publish")
    assert response.status_code == 409
    assert element_text(response.get_data(as_text=True), "reason") == \
        "Danh mục 2027 is published and can no longer change; create a new version from it"


def test_a_refused_publication_says_why_and_a_draft_can_be_deleted(catalog, app, engine):
    admin = signed_in(app, "admin")
    draft = new_draft(admin, "Trùng ngày", "2026-01-01")
    page = html(admin, f"/catalog/{draft}/publish")
    before = table_contents(engine)
    response = admin.post(f"/catalog/{draft}/publish", data={"csrf_token": csrf(page)})
    assert response.status_code == 409
    assert element_text(response.get_data(as_text=True), "form-problems") == (
        "Danh mục mẫu 2026 already takes effect on 01/01/2026: two versions cannot be in force on one date; change "
        "this version's effective date")
    assert table_contents(engine) == before
    page = html(admin, f"/catalog/{draft}/delete")
    assert element_text(page, "delete-warning").startswith("The draft and all its rows are deleted.")
    response = admin.post(f"/catalog/{draft}/delete", data={"csrf_token": csrf(page)})
    assert (response.status_code, response.headers["Location"]) == (302, "/catalog")
    page = html(admin, "/catalog")
    assert flashes(page) == ["Draft Trùng ngày deleted."]
    assert [row[0] for row in table_rows(page, "versions")] == ["Danh mục mẫu 2026"]


# ---- a unit's compliance and norms --------------------------------------------------------------------------------

def test_the_unit_page_counts_its_devices_by_category_and_status(catalog, app):
    page = html(signed_in(app, "admin"), "/units/VD-P01")
    section = section_of(page, "unit-compliance")
    assert element_text(section, "unit-compliance-version") == (
        "This unit and its sub-units, under Danh mục mẫu 2026 (in force since 01/01/2026). Each number opens the "
        "list of those devices with the reasons.")
    assert header_row(section, "compliance-by-category") == [
        "Category", "compliant", "below specification", "model not approved", "no longer sold", "out of support",
        "past its service life", "not enough data", "Total"]
    rows = table_rows(section, "compliance-by-category")
    counts = [[re.sub(r" .*", "", cell) if i else cell for i, cell in enumerate(row)] for row in rows]
    assert counts == [["Desktop computer", "1", "1", "1", "0", "0", "1", "0", "4"],
                      ["Printer", "1", "0", "0", "0", "0", "0", "0", "1"],
                      ["Access switch", "0", "0", "0", "1", "1", "0", "0", "2"],
                      ["no category", "0", "0", "0", "0", "0", "0", "1", "1"]]
    assert element_text(section, "compliance-total") == "8 all devices"
    links = re.findall(r'href="([^"]+)"', section)
    assert "/units/VD-P01/compliance?category=desktop&amp;status=below_spec" in links
    assert "/units/VD-P01/compliance?category=none&amp;status=unknown" in links
    assert "/units/VD-P01/norms" in links
    # The city counts its wards' devices too.
    city_rows = table_rows(section_of(html(signed_in(app, "admin"), "/units/VD"), "unit-compliance"),
                           "compliance-by-category")
    assert city_rows[0][0] == "Desktop computer" and city_rows[0][-1].startswith("5 ")


def test_a_count_leads_to_its_devices_with_what_decides_their_status(catalog, app):
    admin = signed_in(app, "admin")
    page = html(admin, "/units/VD-P01/compliance?category=desktop&status=below_spec")
    assert [row[0] for row in table_rows(page, "judged-devices")] == [f"#{catalog['pc-ram']} pc-ram"]
    assert table_rows(page, "judged-devices")[0][1:] == [
        "VD-P01", "desktop computer", "HP ProDesk 400 G5", "Desktop computer", "below specification",
        "RAM is 4 GB, below the 8 GB required"]
    page = html(admin, "/units/VD-P01/compliance")
    assert [(row[0], row[5], row[6]) for row in table_rows(page, "judged-devices")] == [
        (f"#{catalog['pc-new']} pc-new", "compliant", "an approved model that meets every requirement of its category"),
        (f"#{catalog['pc-old']} pc-old", "past its service life",
         f"past its service life of 5 years since {add_years(years_ago(7), 5):%d/%m/%Y}"),
        (f"#{catalog['pc-ram']} pc-ram", "below specification", "RAM is 4 GB, below the 8 GB required"),
        (f"#{catalog['pc-acer']} pc-acer", "model not approved",
         "Acer Veriton X is not an approved model of its category"),
        (f"#{catalog['prn-1']} prn-1", "compliant",
         "recommended, not required: print speed not known: import it or install the inventory agent"),
        (f"#{catalog['sw-1']} sw-1", "out of support", "its model is out of support since 30/06/2024"),
        (f"#{catalog['sw-2']} sw-2", "no longer sold",
         "its model is no longer sold since 31/12/2021 (still supported)"),
        (f"#{catalog['mystery']} mystery", "not enough data",
         ("no category of this catalog takes devices of class other; correct the device's class or add the class "
          "to a category"))]
    assert element_text(page, "page-summary") == "1–8 of 8"
    page = html(admin, "/units/VD-P01/compliance?category=none")
    assert [row[0] for row in table_rows(page, "judged-devices")] == [f"#{catalog['mystery']} mystery"]
    page = html(admin, "/units/VD-P01/compliance?status=end_of_sale&category=desktop")
    assert "No device of this unit matches these filters." in page


def test_a_bad_filter_is_refused_next_to_it(catalog, app, engine):
    admin = signed_in(app, "admin")
    page = html(admin, "/units/VD-P01/compliance?status=broken", 422)
    assert element_text(page, "e-status").startswith("Must be one of: end_of_support, past_service_life")
    assert 'id="judged-devices"' not in page
    page = html(admin, "/units/VD-P01/compliance?version=99", 422)
    assert element_text(page, "e-version") == "catalog version 99 does not exist"
    page = html(admin, "/units/VD-P01/norms?version=x", 422)
    assert element_text(page, "e-version") == "Not a valid integer."


def test_another_version_judges_on_the_spot(catalog, app, city):
    admin = signed_in(app, "admin")
    draft = new_draft(admin, "Danh mục 2027", "2027-06-01")
    page = html(admin, f"/units/VD-P01/compliance?version={draft}&category=desktop")
    assert 'selected>Danh mục 2027</option>' in page
    assert [row[5] for row in table_rows(page, "judged-devices")] == [
        "compliant", "past its service life", "below specification", "model not approved"]


def test_the_norms_of_a_ward_and_the_city(catalog, app):
    admin = signed_in(app, "admin")
    page = html(admin, "/units/VD-P01/norms")
    assert element_plain(page, "norms-version") == f"Under Danh mục mẫu 2026, on {today():%d/%m/%Y}. The unit's facts"
    rows = table_rows(page, "norm-quantities")
    assert rows[0] == ["pc-leader", "Desktop computer", "leaders", "3", "1 for each", "3", "3", "3", "₫15,000,000",
                       "Quyết định 50/2017/QĐ-TTg, Phụ lục I (ví dụ)"]
    assert [row[0] for row in rows] == ["pc-leader", "pc-specialist", "pc-staff", "laptop-leader", "printer-staff",
                                        "scanner-archive", "vc-ward", "phone-leader", "router-site", "firewall-site",
                                        "ups-site", "wifi-site", "switch-ports"]
    assert rows[4][:8] == ["printer-staff", "Printer", "staff", "28", "1 for every 5 · at least 1", "6", "6", "6"]
    assert rows[11][:8] == ["wifi-site", "Wireless access point or controller", "sites (buildings)", "1",
                            "2 for each", "2", "4", "2"]
    assert rows[12][:8] == ["switch-ports", "Access switch", "wired ports the unit's terminals need", "40",
                            "1 for every 24 · 20% spare", "2", "—", "2"]
    assert table_rows(page, "norm-totals") == [
        ["Desktop computer", "28"], ["Laptop", "3"], ["Printer", "6"], ["Document scanner", "1"],
        ["Video-conference endpoint", "1"], ["IP phone", "3"], ["Router", "1"], ["Firewall", "1"], ["Rack UPS", "1"],
        ["Wireless access point or controller", "2"], ["Access switch", "2"]]
    # The city has no staff of its own: the printer norm's minimum of 1 is capped by its maximum of 0.
    city_rows = {row[0]: row for row in table_rows(html(admin, "/units/VD/norms"), "norm-quantities")}
    assert city_rows["printer-staff"][5:8] == ["1", "0", "0 capped"]


def test_an_officer_sees_their_units_compliance_and_not_another_units(catalog, app, engine):
    officer = signed_in(app, "officer")
    html(officer, "/units/VD-P01")  # the judgements are current: reading changes nothing from here on
    before = table_contents(engine)
    page = html(officer, "/units/VD-P01/compliance")
    assert len(table_rows(page, "judged-devices")) == 8
    assert 'id="unit-compliance"' in html(officer, "/units/VD-P01")
    for url in ("/units/VD-P02/compliance", "/units/VD-P02/norms", "/units/VD-P02/compliance?status=compliant",
                f"/devices/{catalog['pc-p02']}"):
        page = html(officer, url, 404)
        assert 'id="device-compliance"' not in page and 'id="judged-devices"' not in page
    assert element_text(html(officer, "/units/VD-P02/compliance", 404), "reason") == "unit 'VD-P02' does not exist"
    assert element_text(html(officer, f"/devices/{catalog['pc-p02']}", 404), "reason") == \
        f"device {catalog['pc-p02']} does not exist"
    html(officer, "/units/VD/compliance", 404)  # nor is the city above their ward
    assert officer.post("/catalog/versions", data={}).status_code == 403
    assert table_contents(engine) == before


# ---- a device's judgement -------------------------------------------------------------------------------------

def test_the_device_page_explains_its_status_and_its_value(catalog, app):
    admin = signed_in(app, "admin")
    page = section_of(html(admin, f"/devices/{catalog['pc-old']}"), "device-compliance")
    assert element_text(page, "compliance-status") == "past its service life"
    assert 'class="badge text-bg-danger" id="compliance-status"' in page
    assert element_text(page, "compliance-category") == "Desktop computer"
    assert element_text(page, "compliance-model") == "Dell OptiPlex * · reference price ₫9,900,000"
    assert element_plain(page, "compliance-version") == f"under Danh mục mẫu 2026, on {today():%d/%m/%Y}"
    ends = add_years(years_ago(7), 5)
    assert re.findall(r"<li>(.*?)</li>", section_of(page, "device-compliance")) == [
        f"past its service life of 5 years since {ends:%d/%m/%Y}",
        "RAM is 4 GB, below the 8 GB required",
        "storage kind is HDD; SSD is required",
        "recommended, not required: CPU generation not known: import it or install the inventory agent",
        "recommended, not required: OS version not known: import it or install the inventory agent"]
    assert table_rows(page, "compliance-wear") == [
        ["Original price", "₫12,000,000"], ["Wear rate", "20% a year"], ["Years in use", "7"],
        ["Accumulated wear", "₫12,000,000"], ["Remaining value", "₫0"], ["Service life ends", f"{ends:%d/%m/%Y} past"]]
    page = section_of(html(admin, f"/devices/{catalog['pc-new']}"), "device-compliance")
    assert 'class="badge text-bg-success" id="compliance-status"' in page
    assert re.findall(r"<li>(.*?)</li>", page) == [
        "an approved model that meets every requirement of its category"]
    assert table_rows(page, "compliance-wear")[1:5] == [
        ["Wear rate", "20% a year"], ["Years in use", "2"], ["Accumulated wear", "₫6,400,000"],
        ["Remaining value", "₫9,600,000"]]
    page = section_of(html(admin, f"/devices/{catalog['mystery']}"), "device-compliance")
    assert (element_text(page, "compliance-category"), element_text(page, "compliance-model")) == \
        ("no category", "none")
    assert element_text(page, "compliance-no-wear").startswith(
        "Its wear and remaining value need its purchase date and price, and its category's wear rate.")


def test_no_device_section_without_a_version_in_force(fleet, app):
    page = html(signed_in(app, "admin"), f"/devices/{fleet['pc-old']}")
    assert 'id="device-compliance"' not in page and element_text(page, "specs-title") == "Specifications"


# ---- in Vietnamese, the default ---------------------------------------------------------------------------------
# The catalog pages' own Vietnamese texts, from translations/vi.

def test_the_pages_speak_vietnamese_by_default(catalog, app):
    officer = signed_in(app, "officer", lang="vi")
    page = html(officer, "/catalog")
    assert re.search(r"<h1[^>]*>(.*?)</h1>", page).group(1) == "Danh mục thiết bị"
    assert '<a class="nav-link active" aria-current="page" href="/catalog">Danh mục thiết bị</a>' in page
    assert table_rows(page, "versions")[0][:3] == ["Danh mục mẫu 2026", "01/01/2026", "đang có hiệu lực"]
    unit = section_of(html(officer, "/units/VD-P01"), "unit-compliance")
    assert element_text(unit, "unit-compliance-title") == "Mức độ đáp ứng danh mục"
    assert element_text(unit, "compliance-total") == "8 tất cả thiết bị"
    device = section_of(html(officer, f"/devices/{catalog['pc-old']}"), "device-compliance")
    assert table_rows(device, "compliance-wear")[:2] == [["Nguyên giá", "12.000.000 ₫"],
                                                         ["Tỷ lệ hao mòn", "20% mỗi năm"]]
    norms = html(officer, "/units/VD-P01/norms")
    assert table_rows(norms, "norm-quantities")[4][2:5] == ["cán bộ, công chức", "28", "1 cho mỗi 5 · tối thiểu 1"]


def test_english_is_asked_for_once_and_kept(catalog, app):
    browser = signed_in(app, "officer", lang="vi")
    assert re.search(r"<h1[^>]*>(.*?)</h1>", html(browser, "/catalog?lang=en")).group(1) == "Equipment catalog"
    assert element_text(section_of(html(browser, "/units/VD-P01"), "unit-compliance"), "unit-compliance-title") == \
        "Compliance with the catalog"
