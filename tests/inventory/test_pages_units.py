"""The organisation's pages (inventory/unit_pages.py and reorganisation_pages.py): the tree, a unit's page, and the
forms that create, edit, merge and split units, read through the test client on both databases. Pages are asked for
in English (?lang=en, kept by a cookie), whose texts are the msgids."""
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import event, select

from accounts.models import Role
from core.audit import AuditEntry
from inventory.ingest import IngestBatch, ingest
from inventory.models import Device, Unit, UnitKind
from inventory.observations import ObservedDevice
from inventory.units import NewUnit, create_unit
from tests.conftest import T0, client_as, table_contents

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """A page as a user reads it: the text of each element with an id, its attributes, and the rows of tables."""

    def __init__(self, response):
        super().__init__()
        self.status = response.status_code
        self.html = response.get_data(as_text=True)
        self.open: list[tuple[str, str | None]] = []
        self.texts: dict[str, list[str]] = {}
        self.attributes: dict[str, dict[str, str | None]] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self.cell: list[str] | None = None
        self.feed(self.html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        element_id = attributes.get("id")
        if element_id:
            assert element_id not in self.attributes, f"id {element_id} twice"
            self.attributes[element_id] = attributes
            self.texts[element_id] = []
        if tag in VOID:
            return
        self.open.append((tag, element_id))
        if tag == "table" and element_id:
            self.tables[element_id] = []
        elif tag == "tr" and self._table() is not None:
            self.tables[self._table()].append([])
        elif tag in ("td", "th") and self._table() is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None and self._table() is not None:
            self.tables[self._table()][-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                break

    def handle_data(self, data):
        for _tag, element_id in self.open:
            if element_id:
                self.texts[element_id].append(data)
        if self.cell is not None:
            self.cell.append(data)

    def _table(self) -> str | None:
        tables = [element_id for tag, element_id in self.open if tag == "table" and element_id]
        return tables[-1] if tables else None

    def text(self, element_id: str) -> str:
        return " ".join("".join(self.texts[element_id]).split())

    def attr(self, element_id: str, name: str) -> str | None:
        return self.attributes[element_id].get(name)

    def has(self, element_id: str) -> bool:
        return element_id in self.attributes

    def rows(self, table_id: str) -> list[list[str]]:
        return self.tables[table_id]

    def breadcrumbs(self) -> list[tuple[str, str | None]]:
        items = re.findall(r'<li class="breadcrumb-item[^"]*"[^>]*>(?:<a href="([^"]*)">)?([^<]*)', self.html)
        return [(text.strip(), href or None) for href, text in items]


def page(client, url: str, **kwargs) -> Page:
    return Page(client.get(url, **kwargs))


def english(client):
    client.get("/units?lang=en")  # the choice is kept in a cookie for the next requests
    return client


def add_devices(sessions, unit_code: str, *devices: tuple[str, str, str]) -> list[int]:
    """Devices (host name, class, status) recorded in a unit, as an import would."""
    with sessions() as session, session.begin():
        batch = [ObservedDevice("import", T0, unit_code, "sheet", fields={
            "hostname": host, "device_class": device_class, "status": status}) for host, device_class, status in devices]
        return ingest(session, IngestBatch(batch)).device_ids


@pytest.fixture
def admin(client):
    return english(client)


@pytest.fixture
def fleet(org):
    """W1: two desktops in use, one broken, one printer spare; W2: one laptop; A1-D1: two switches in use."""
    add_devices(org, "W1", ("pc-1", "workstation", "in_use"), ("pc-2", "workstation", "in_use"),
                ("pc-3", "workstation", "broken"), ("prn-1", "printer", "spare"))
    add_devices(org, "W2", ("lap-1", "laptop", "in_use"))
    add_devices(org, "A1-D1", ("sw-1", "switch", "in_use"), ("sw-2", "switch", "in_use"))
    return org


def audit_actions(sessions) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# The tree.

def branch(tree: Page, code: str) -> str | None:
    """Whether a unit's branch is open or closed; None for a unit without sub-units."""
    found = re.search(rf'<li id="node-{re.escape(code)}">(?:(?!<li ).)*?<details( open)?>', tree.html, re.DOTALL)
    return None if found is None else "open" if found.group(1) else "closed"


def test_the_tree_nests_every_unit_with_its_devices(fleet, admin):
    tree = page(admin, "/units")
    assert tree.status == 200
    assert tree.breadcrumbs() == [("Units", None)]
    # Devices of the unit itself, and with its sub-units for a branch.
    counts = {code: tree.text(f"node-{code}") for code in ("A1-D1", "W1", "W2")}
    assert counts == {"A1-D1": "A1-D1 Department department 2 devices", "W1": "W1 Ward One ward 4 devices",
                      "W2": "W2 Ward Two ward 1 device"}
    assert tree.text("node-C").startswith("C City city 0 devices, 7 with its sub-units C: 3 sub-units A1 Agency One "
                                          "agency 0 devices, 2 with its sub-units A1: 1 sub-unit A1-D1")
    # Collapsible without JavaScript: the root's branch is open, the ones below it closed; a leaf has no toggle.
    assert branch(tree, "C") == "open" and branch(tree, "A1") == "closed" and branch(tree, "W1") is None
    assert branch(page(admin, "/units?expand=all"), "A1") == "open"
    assert not tree.has("former-units")
    assert "No unit has been merged or split. When units are reorganised, merge them here" in tree.html


def test_a_search_shows_the_matches_with_their_ancestors(fleet, admin):
    found = page(admin, "/units?q=depart")
    assert found.text("match-count") == "1 unit matches “depart”"
    assert [code for code in ("C", "A1", "A1-D1", "W1", "W2") if found.has(f"node-{code}")] == ["C", "A1", "A1-D1"]
    assert branch(found, "A1") == "open"
    assert "<mark>Department</mark>" in found.html
    assert found.attr("clear-search", "href") == "/units"
    assert page(admin, "/units?q=w").text("match-count") == "2 units match “w”"  # W1, W2 (by code or name)


def test_a_search_reads_vietnamese_as_it_is_typed(org, admin):
    with org() as session, session.begin():
        create_unit(session, NewUnit("P-01", "Phường Hoà Bình", UnitKind.WARD, 28), parent_code="C")
        create_unit(session, NewUnit("P-02", "Phường Tân Lập", UnitKind.WARD, 31), parent_code="C")
        create_unit(session, NewUnit("S-KH", "Sở Khoa học", UnitKind.AGENCY, 50), parent_code="C")
        create_unit(session, NewUnit("P-03", "Phường Thủy Châu", UnitKind.WARD, 20), parent_code="C")

    def found(query: str) -> list[str]:
        tree = page(admin, "/units", query_string={"q": query})
        return [code for code in ("P-01", "P-02", "P-03", "S-KH", "W1") if tree.has(f"node-{code}")]
    # Typed with accents, the accents count ("Hoà" is not "Khoa"), whichever vowel carries the tone mark.
    assert found("Hoà") == found("HÒA") == found("hoà bình") == ["P-01"]
    assert found("Thuỷ") == found("thủy") == ["P-03"]
    # Typed without them, any accents match.
    assert found("hoa") == ["P-01", "S-KH"]
    assert found("tan lap") == ["P-02"]


def test_a_search_that_finds_nothing_says_what_to_do(org, admin):
    found = page(admin, "/units?q=zzz")
    assert found.status == 200
    assert found.text("match-count") == "0 units match “zzz”"
    assert "No active unit matches “zzz”. Check the spelling, or search by a part of the code or of the name." \
        in found.html
    assert not found.has("unit-tree")


def test_merged_and_split_units_are_listed_apart_with_their_successors(fleet, admin):
    assert admin.post("/api/units/merge", json={"sources": ["W2"], "into_code": "W1",
                                                "effective_on": "2026-07-01"}).status_code == 201
    assert admin.post("/api/units/A1/split", json={"targets": [
        {"code": "A1N", "name": "North", "kind": "agency"}, {"code": "A1S", "name": "South", "kind": "agency"}],
        "effective_on": "2026-08-01"}).status_code == 201
    tree = page(admin, "/units")
    assert not tree.has("node-W2") and not tree.has("node-A1")
    assert tree.has("node-A1N") and tree.has("node-A1S")
    assert tree.rows("former-units") == [
        ["Code", "Name", "Kind", "What happened", "Since", "Successor"],
        ["A1", "Agency One", "agency", "split", "01/08/2026", "A1N North; A1S South"],
        ["W2", "Ward Two", "ward", "merged", "01/07/2026", "W1 Ward One"]]
    assert 'href="/units/A1S"' in tree.html
    assert page(admin, "/units?q=two").rows("former-units")[1][0] == "W2"


def test_an_officer_sees_only_their_units(fleet, app, token_for):
    officer = english(client_as(app, token_for(Role.UNIT_OFFICER)))  # W1's officer
    tree = page(officer, "/units")
    assert [c for c in ("C", "A1", "A1-D1", "W1", "W2") if tree.has(f"node-{c}")] == ["W1"]
    assert not tree.has("new-unit") and not tree.has("merge-units")
    for code in ("W2", "C", "A1-D1", "NOPE"):
        refused = page(officer, f"/units/{code}")
        assert (refused.status, refused.text("reason")) == (404, f"unit {code!r} does not exist")
    mine = page(officer, "/units/W1")
    assert mine.status == 200
    # The parent the officer may not open is named, not linked.
    assert mine.breadcrumbs() == [("Units", "/units"), ("Ward One", None)]
    assert mine.text("fact-parent") == "C City"
    assert not mine.has("unit-actions")


def test_an_unknown_unit_is_404(org, admin):
    refused = page(admin, "/units/W9")
    assert (refused.status, refused.text("reason")) == (404, "unit 'W9' does not exist")


# A unit's page.

def test_a_units_page_shows_its_facts_and_devices_by_class_and_status(fleet, admin):
    ward = page(admin, "/units/W1")
    assert ward.breadcrumbs() == [("Units", "/units"), ("City", "/units/C"), ("Ward One", None)]
    assert [ward.text(f"fact-{name}") for name in ("code", "name", "kind", "staff", "parent", "status")] == \
        ["W1", "Ward One", "ward", "20", "C City", "active"]
    assert ward.rows("devices-by-class") == [
        ["Class", "in use", "spare", "broken", "retired", "missing", "Total"],
        ["printer", "0", "1 printer, spare", "0", "0", "0", "1 printer"],
        ["desktop computer", "2 desktop computer, in use", "0", "1 desktop computer, broken", "0", "0",
         "3 desktop computer"],
        ["Total", "2 in use", "1 spare", "1 broken", "0", "0", "4 all devices"]]
    assert 'href="/devices?unit=W1&amp;class=workstation&amp;status=broken"' in ward.html
    assert 'href="/devices?unit=W1&amp;class=printer"' in ward.html
    assert ward.attr("edit-unit", "href") == "/units/W1/edit"
    assert not ward.has("sub-units")
    assert "This unit has no sub-units. Add one if it has departments or offices of its own." in ward.html


def test_a_parents_page_counts_its_sub_units_devices(fleet, admin):
    city = page(admin, "/units/C")
    assert city.breadcrumbs() == [("Units", "/units"), ("City", None)]
    assert city.text("fact-parent") == "none: the top of the organisation"
    assert city.rows("devices-by-class")[-1] == ["Total", "5 in use", "1 spare", "1 broken", "0", "0",
                                                  "7 all devices"]
    assert city.rows("sub-units") == [["Code", "Name", "Kind", "Staff", "Devices with its sub-units"],
                                      ["A1", "Agency One", "agency", "40", "2"],
                                      ["W1", "Ward One", "ward", "20", "4"],
                                      ["W2", "Ward Two", "ward", "15", "1"]]


def test_a_unit_without_devices_says_what_to_do(org, admin, app, token_for):
    empty = page(admin, "/units/W2")
    assert not empty.has("devices-by-class")
    assert "No devices recorded in this unit yet" in empty.html
    finance = english(client_as(app, token_for(Role.FINANCE)))
    read_only = page(finance, "/units/A1-D1")
    assert "Its unit officer records them by import, by hand or by scanning its networks." in read_only.html
    assert "This unit has no sub-units. An administrator can add them." in read_only.html
    assert not read_only.has("unit-actions")


def test_an_inactive_units_page_links_to_its_successor(fleet, admin):
    admin.post("/api/units/merge", json={"sources": ["W1", "W2"], "into_new": {
        "code": "W12", "name": "Ward One-Two", "kind": "ward"}, "effective_on": "2026-07-01"})
    old = page(admin, "/units/W1")
    assert old.text("inactive") == ("This unit was merged on 01/07/2026 into W12 Ward One-Two. "
                                    "Its devices and sub-units are there now.")
    assert 'href="/units/W12"' in old.html
    assert old.text("fact-status") == "inactive since 01/07/2026"
    assert not old.has("unit-actions") and not old.has("devices-by-class")
    assert page(admin, "/units/W12").rows("devices-by-class")[-1][-1] == "5 all devices"
    refused = page(admin, "/units/W1/edit")
    assert (refused.status, refused.text("reason")) == (
        409, "unit W1 is inactive since 2026-07-01: it can no longer be changed")


# Creating and editing.

def test_a_unit_form_refuses_bad_fields_next_to_them_and_changes_nothing(org, admin, engine):
    before = table_contents(engine)
    refused = Page(admin.post("/units/new", data={"code": "W 3", "name": "", "kind": "ward", "parent_code": "C",
                                                  "staff_count": "-1"}))
    assert refused.status == 422
    assert (refused.text("e-code"), refused.text("e-name"), refused.text("e-staff_count")) == (
        "1 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit", "Missing data for required field.",
        "Must be greater than or equal to 0 and less than or equal to 1000000.")
    assert refused.attr("f-code", "value") == "W 3" and "is-invalid" in refused.attr("f-code", "class")
    taken = Page(admin.post("/units/new", data={"code": "W1", "name": "x", "kind": "ward", "parent_code": "",
                                                "staff_count": "1"}))
    assert (taken.status, taken.text("e-code")) == (409, "unit W1 already exists")
    missing_parent = Page(admin.post("/units/new", data={"code": "W3", "name": "x", "kind": "ward",
                                                         "parent_code": "Z9"}))
    assert (missing_parent.status, missing_parent.text("e-parent_code")) == (404, "unit 'Z9' does not exist")
    assert table_contents(engine) == before


def test_a_services_refusal_is_in_vietnamese_by_default_and_in_english_when_asked(org, client, engine):
    """The service's reason (core.i18n.Reason) in the page's language; the API keeps its English."""
    before = table_contents(engine)
    taken = {"code": "W1", "name": "x", "kind": "ward", "parent_code": "", "staff_count": "1"}
    vietnamese = Page(client.post("/units/new", data=taken))
    assert (vietnamese.status, vietnamese.text("e-code")) == (409, "đơn vị W1 đã tồn tại")
    below_itself = Page(client.post("/units/A1/edit", data={"name": "Agency One", "kind": "agency",
                                                             "parent_code": "A1-D1", "staff_count": "40"}))
    assert (below_itself.status, below_itself.text("e-parent_code")) == (
        409, "đơn vị A1-D1 trực thuộc A1: một đơn vị không thể là cấp trên của chính nó")
    assert client.post("/api/units", json={"code": "W1", "name": "x", "kind": "ward"}).json["message"] == \
        "unit W1 already exists"
    english = Page(client.post("/units/new?lang=en", data=taken))
    assert (english.status, english.text("e-code")) == (409, "unit W1 already exists")
    assert table_contents(engine) == before


def test_a_unit_is_created_and_audited_as_the_api_does(org, admin):
    form = page(admin, "/units/new?parent=A1")
    assert re.search(r'<option value="A1" selected>A1 — Agency One</option>', form.html)
    done = admin.post("/units/new", data={"code": "A1-D2", "name": "Second department", "kind": "department",
                                          "parent_code": "A1", "staff_count": "7"})
    assert (done.status_code, done.headers["Location"]) == (302, "/units/A1-D2")
    created = page(admin, "/units/A1-D2")
    assert "Unit A1-D2 created." in created.html
    assert [created.text(f"fact-{n}") for n in ("kind", "staff", "parent")] == ["department", "7",
                                                                                 "A1 Agency One"]
    assert admin.get("/api/audit?action=unit.create").json["items"][0]["after"] == \
        admin.get("/api/units/A1-D2").json


def test_a_unit_is_edited_and_cannot_sit_below_itself(org, admin, engine):
    form = page(admin, "/units/A1/edit")
    assert form.attr("f-name", "value") == "Agency One"
    assert form.breadcrumbs() == [("Units", "/units"), ("City", "/units/C"), ("Agency One", "/units/A1"),
                                  ("Edit", None)]
    assert 'value="A1-D1"' not in form.html  # its own sub-unit is no parent to choose
    before = table_contents(engine)
    refused = Page(admin.post("/units/A1/edit", data={"name": "Agency One", "kind": "agency",
                                                      "parent_code": "A1-D1", "staff_count": "40"}))
    assert (refused.status, refused.text("e-parent_code")) == (
        409, "unit A1-D1 is inside A1: a unit cannot be its own ancestor")
    assert table_contents(engine) == before
    done = admin.post("/units/A1/edit", data={"name": "Agency Uno", "kind": "agency", "parent_code": "",
                                              "staff_count": "41"})
    assert done.headers["Location"] == "/units/A1"
    unit = admin.get("/api/units/A1").json
    assert (unit["name"], unit["staff_count"], unit["parent_code"]) == ("Agency Uno", 41, None)
    entry = admin.get("/api/audit?action=unit.update").json["items"][0]
    assert (entry["before"]["name"], entry["after"]["name"], entry["after"]["parent_code"]) == \
        ("Agency One", "Agency Uno", None)


@pytest.mark.parametrize(("role", "method", "path"), [
    (Role.FINANCE, "get", "/units/new"), (Role.AUDITOR, "get", "/units/W1/edit"),
    (Role.UNIT_OFFICER, "post", "/units/merge"), (Role.UNIT_OFFICER, "get", "/units/W1/split")])
def test_only_administrators_manage_units(org, app, token_for, engine, role, method, path):
    caller = client_as(app, token_for(role))
    before = table_contents(engine)
    response = getattr(caller, method)(path, data={"sources": ["W1"], "into": "existing", "into_code": "W2",
                                                   "effective_on": "2026-07-01", "confirm": "1"})
    assert response.status_code == 403
    assert table_contents(engine) == before


# Merging and splitting: a preview first, then the confirmation.

MERGE = {"sources": ["W1", "W2"], "into": "new", "into_code": "", "new_code": "W12", "new_name": "Ward One-Two",
         "new_kind": "ward", "parent_code": "", "effective_on": "2026-07-01", "note": "Resolution 12/2026"}


def test_a_merge_shows_what_moves_where_before_it_is_confirmed(fleet, admin, engine):
    with fleet() as session, session.begin():
        create_unit(session, NewUnit("W2-X", "Hamlet office", UnitKind.OTHER, 3), parent_code="W2")
    form = page(admin, "/units/merge?sources=W1")
    assert re.search(r'<option value="W1" selected>W1 — Ward One</option>', form.html)
    assert form.attr("f-effective_on", "type") == "date"
    before = table_contents(engine)
    preview = Page(admin.post("/units/merge", data=MERGE))
    assert preview.status == 200
    assert preview.text("preview-summary") == "5 devices and 1 sub-units move to W12 Ward One-Two."
    assert preview.rows("preview-moves") == [
        ["From", "To", "Devices", "Sub-units", "Which sub-units"],
        ["W1 Ward One", "W12", "4", "0", "—"], ["W2 Ward Two", "W12", "1", "1", "W2-X"],
        ["Total", "5", "1", ""]]
    assert preview.rows("preview-targets")[1] == ["W12", "Ward One-Two", "ward", "C City", "35", "new unit"]
    assert table_contents(engine) == before  # a preview changes nothing, and audits nothing
    carried = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', preview.html)
    assert ("sources", "W1") in carried and ("sources", "W2") in carried and ("new_code", "W12") in carried
    changed = Page(admin.post("/units/merge", data=MERGE | {"change": "1"}))
    assert changed.attr("f-new_code", "value") == "W12" and not changed.has("preview")
    done = admin.post("/units/merge", data=MERGE | {"confirm": "1"})
    assert (done.status_code, done.headers["Location"]) == (302, "/units/W12")
    merged = page(admin, "/units/W12")
    assert "W1, W2 merged into W12." in merged.html
    assert merged.rows("devices-by-class")[-1][-1] == "5 all devices"
    assert merged.rows("sub-units")[1][0] == "W2-X"
    assert audit_actions(fleet)[-1] == "units.merge"
    assert admin.get("/api/audit?action=units.merge").json["items"][0]["after"]["note"] == "Resolution 12/2026"


def test_a_merge_into_an_existing_unit(fleet, admin):
    data = {"sources": ["W2"], "into": "existing", "into_code": "W1", "effective_on": "2026-07-01"}
    preview = Page(admin.post("/units/merge", data=data))
    assert preview.text("preview-summary") == "1 devices and 0 sub-units move to W1 Ward One."
    assert preview.rows("preview-targets")[1] == ["W1", "Ward One", "ward", "C City", "35", "existing unit"]
    assert admin.post("/units/merge", data=data | {"confirm": "1"}).headers["Location"] == "/units/W1"
    assert admin.get("/api/units/W2").json["successor_code"] == "W1"


@pytest.mark.parametrize(("data", "status", "field", "message"), [
    ({"sources": ["W1"], "into": "existing", "into_code": "W1"}, 422, "sources",
     "unit W1 cannot be merged into itself"),
    ({"sources": ["W1"], "into": "existing", "into_code": ""}, 422, "into_code",
     "give exactly one of into_code and into_new"),
    ({"sources": [], "into": "existing", "into_code": "W1"}, 422, "sources", "Length must be between 1 and 500."),
    ({"sources": ["A1"], "into": "existing", "into_code": "A1-D1"}, 409, "into_code",
     "unit A1-D1 is inside a unit being merged"),
    ({"sources": ["W1", "W2"], "into": "new", "new_code": "A1", "new_name": "x", "new_kind": "ward"}, 409,
     "new_code", "unit A1 already exists"),
    ({"sources": ["W1", "W2"], "into": "new", "new_code": "W 12", "new_kind": "ward"}, 422, "new_code",
     "1 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit"),
    ({"sources": ["W1", "W2"], "into": "new", "new_code": "W12", "new_kind": "ward"}, 422, "new_name",
     "Missing data for required field."),
])
@pytest.mark.parametrize("confirm", ["", "1"])
def test_a_refused_merge_says_why_next_to_the_field_and_changes_nothing(fleet, admin, engine, data, status, field,
                                                                        message, confirm):
    before = table_contents(engine)
    refused = Page(admin.post("/units/merge", data=data | {"effective_on": "2026-07-01", "confirm": confirm}))
    assert (refused.status, refused.text(f"e-{field}")) == (status, message)
    assert not refused.has("preview")
    assert table_contents(engine) == before


def test_a_merge_without_a_date_is_refused_on_the_date(org, admin):
    refused = Page(admin.post("/units/merge", data={"sources": ["W2"], "into": "existing", "into_code": "W1",
                                                    "effective_on": ""}))
    assert (refused.status, refused.text("e-effective_on")) == (422, "Missing data for required field.")


SPLIT = {"rows": "2", "targets-1-code": "W1N", "targets-1-name": "North", "targets-1-kind": "ward",
         "targets-1-staff_count": "12", "targets-2-code": "W1S", "targets-2-name": "South", "targets-2-kind": "ward",
         "targets-2-staff_count": "8", "effective_on": "2026-09-01", "note": ""}


def test_a_split_sends_each_device_where_the_form_says_after_a_preview(fleet, admin, engine):
    with fleet() as session, session.begin():
        create_unit(session, NewUnit("W1-X", "Hamlet office", UnitKind.OTHER, 3), parent_code="W1")
        ids = list(session.scalars(select(Device.id).join(Device.unit).where(Unit.code == "W1").order_by(Device.id)))
    form = page(admin, "/units/W1/split")
    assert form.breadcrumbs()[-1] == ("Split", None)
    assert form.attr("f-targets-1-kind", "id") and "<option value=\"ward\" selected>" in form.html
    assert form.rows("split-devices")[1][:3] == [f"#{ids[3]}", "printer", ""]  # by class, then id
    assert form.text("split-sub-units") == "These go to the first new unit: W1-X."
    data = SPLIT | {f"device-{ids[0]}": "2", f"device-{ids[3]}": "2"} | {f"device-{i}": "1" for i in ids[1:3]}
    before = table_contents(engine)
    preview = Page(admin.post("/units/W1/split", data=data))
    assert preview.status == 200
    assert preview.text("preview-summary") == "4 devices and 1 sub-units of W1 go to 2 new units."
    assert preview.rows("preview-moves")[1:] == [["W1 Ward One", "W1N", "2", "1", "W1-X"],
                                                 ["W1 Ward One", "W1S", "2", "0", "—"], ["Total", "4", "1", ""]]
    assert [row[:5] for row in preview.rows("preview-targets")[1:]] == [["W1N", "North", "ward", "C City", "12"],
                                                                       ["W1S", "South", "ward", "C City", "8"]]
    assert table_contents(engine) == before
    done = admin.post("/units/W1/split", data=data | {"confirm": "1"})
    assert done.headers["Location"] == "/units/W1"
    old = page(admin, "/units/W1")
    assert "W1 split into W1N, W1S." in old.html
    assert old.text("inactive").startswith("This unit was split on 01/09/2026 into W1N North, W1S South.")
    assert sorted(d["id"] for d in admin.get("/api/devices?unit=W1S").json["items"]) == [ids[0], ids[3]]
    assert admin.get("/api/units/W1-X").json["parent_code"] == "W1N"
    assert audit_actions(fleet)[-1] == "unit.split"


def test_a_split_form_grows_a_row_and_refuses_next_to_the_row(fleet, admin, engine):
    grown = Page(admin.post("/units/W1/split", data=SPLIT | {"add_row": "1"}))
    assert grown.status == 200 and grown.has("f-targets-3-code") and not grown.has("f-targets-4-code")
    assert grown.attr("f-targets-2-code", "value") == "W1S"
    before = table_contents(engine)
    one_row = {k: v for k, v in SPLIT.items() if not k.startswith("targets-2")}
    refused = Page(admin.post("/units/W1/split", data=one_row))
    assert (refused.status, refused.text("e-targets")) == (422, "Length must be between 2 and 100.")
    taken = Page(admin.post("/units/W1/split", data=SPLIT | {"targets-2-code": "A1"}))
    assert (taken.status, taken.text("e-targets-2-code")) == (409, "unit A1 already exists")
    nameless = Page(admin.post("/units/W1/split", data=SPLIT | {"targets-2-name": "", "confirm": "1"}))
    assert (nameless.status, nameless.text("e-targets-2-name")) == (422, "Missing data for required field.")
    assert table_contents(engine) == before


# Speed: a fixed number of queries, however many units and devices.

def queries_of(engine, client, url: str) -> int:
    statements = []

    def listener(_connection, _cursor, statement, *_args):
        statements.append(statement)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


def test_the_tree_and_a_unit_page_take_the_same_queries_for_300_units(org, admin, app):
    engine = app.extensions["engine"]
    small = [queries_of(engine, admin, url) for url in ("/units", "/units/C", "/units?q=ward")]
    with org() as session, session.begin():
        for agency in range(20):
            create_unit(session, NewUnit(f"B{agency}", f"Agency {agency}", UnitKind.AGENCY, 10), parent_code="C")
            for ward in range(14):
                create_unit(session, NewUnit(f"B{agency}-{ward}", f"Ward {agency}.{ward}", UnitKind.WARD, 5),
                            parent_code=f"B{agency}")
    add_devices(org, "B3-4", ("x-1", "server", "in_use"), ("x-2", "nas", "spare"))
    assert [queries_of(engine, admin, url) for url in ("/units", "/units/C", "/units?q=ward")] == small
    assert page(admin, "/units/C").rows("devices-by-class")[-1][-1] == "2 all devices"
