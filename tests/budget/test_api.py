"""The budget API over the example organisation and catalog: a ward's gaps, every number traceable to its norms,
the ward's facts and the device ids behind it; a subtree's totals; the transfer list; and every answer within
the caller's units."""
import pytest

from accounts.models import Role
from accounts.permissions import ROLE_PERMISSIONS
from accounts.services import create_token, create_user
from inventory.examples import load_example_organisation
from tests.budget.test_load import P01_NEEDS, TODAY, city  # noqa: F401  (fixtures)
from tests.conftest import PASSWORD, client_as, table_contents


@pytest.fixture
def admin(app, city, token_for):  # noqa: F811
    return client_as(app, token_for(Role.ADMIN))


@pytest.fixture
def p01_officer(app, city, sessions):  # noqa: F811
    """The API client of VD-P01's unit officer."""
    with sessions() as session, session.begin():
        user = create_user(session, "officer-p01", "Officer P01", PASSWORD, Role.UNIT_OFFICER, ["VD-P01"])
        _, token = create_token(session, user, "tests", ROLE_PERMISSIONS[Role.UNIT_OFFICER.value])
    return client_as(app, token)


def gap(category, required, usable_ids=(), *, norms, replacement_ids=(), upgrade_ids=(), unit="VD-P01"):
    usable = len(usable_ids)
    return {"unit_code": unit, "category": category, "required": required, "usable": usable,
            "shortfall": max(required - usable, 0), "surplus": max(usable - required, 0),
            "replacements": len(replacement_ids), "upgrade_candidates": len(upgrade_ids), "norms": list(norms),
            "usable_ids": list(usable_ids), "unknown_ids": [], "replacement_ids": list(replacement_ids),
            "upgrade_ids": list(upgrade_ids)}


def test_vd_p01_lacks_2_desktop_pcs_traceably(admin, city, engine):  # noqa: F811
    before = table_contents(engine)
    got = admin.get(f"/api/budget/units/VD-P01/gaps?on={TODAY}").json
    assert (got["unit"], got["on"], got["version"]["name"]) == (
        {"code": "VD-P01", "name": "Phường Hoà Bình"}, TODAY.isoformat(), "Danh mục mẫu 2026")
    assert got["units"] == [{"code": "VD-P01", "name": "Phường Hoà Bình", "kind": "ward", "staff_count": 5,
                             "leader_count": 1, "specialist_count": 3, "meeting_rooms": 1, "sites": 1,
                             "archive_pages": 0, "archive_deadline": None, "on_secure_network": True}]
    expected = {category: gap(category, required, norms=norms) for category, required, norms in P01_NEEDS}
    # 3 usable desktops of 5 required: VD-P01 lacks 2, by the norms for its leader, specialists and other staff.
    expected["desktop"] = gap("desktop", 5, (city["p01-a"], city["p01-b"], city["p01-c"]),
                              norms=("pc-leader", "pc-specialist", "pc-staff"),
                              replacement_ids=(city["p01-old"], city["p01-broken"]), upgrade_ids=(city["p01-slow"],))
    expected["core_switch"] = gap("core_switch", 0, norms=(), replacement_ids=(city["p01-core"],))
    assert got["gaps"] == [expected[c] for c in sorted(expected)]
    [desktop] = [g for g in got["gaps"] if g["category"] == "desktop"]
    assert (desktop["shortfall"], desktop["usable"], desktop["replacements"], desktop["upgrade_candidates"]) == \
        (2, 3, 2, 1)
    assert got["totals"] == [{key: value for key, value in g.items() if key != "unit_code"} | {"units": ["VD-P01"]}
                             for g in got["gaps"]]
    assert table_contents(engine) == before  # a read: nothing written (the judgements were current)


def test_a_subtree_s_totals(admin, city):  # noqa: F811
    got = admin.get(f"/api/budget/units/VD-STC/gaps?on={TODAY}").json
    assert [u["code"] for u in got["units"]] == ["VD-STC", "VD-STC-NS", "VD-STC-TCDN"]
    [desktops] = [t for t in got["totals"] if t["category"] == "desktop"]
    assert desktops == {"category": "desktop", "required": 175, "usable": 1, "shortfall": 174, "surplus": 0,
                        "replacements": 0, "upgrade_candidates": 0,
                        "norms": ["pc-leader", "pc-specialist", "pc-staff"], "usable_ids": [city["ns-a"]],
                        "unknown_ids": [], "replacement_ids": [], "upgrade_ids": [],
                        "units": ["VD-STC", "VD-STC-NS", "VD-STC-TCDN"]}


def test_the_neighbouring_ward_s_surplus_is_in_the_transfer_list(admin, city):  # noqa: F811
    got = admin.get(f"/api/budget/units/VD/transfers?on={TODAY}").json
    assert (got["unit"], got["on"]) == ({"code": "VD", "name": "Thành phố Ví Dụ (ví dụ)"}, TODAY.isoformat())
    assert [t for t in got["transfers"] if t["category"] == "desktop"] == [
        {"device_id": city["p02-b"], "category": "desktop", "from_unit": "VD-P02", "to_unit": "VD-P01", "distance": 2},
        {"device_id": city["p02-c"], "category": "desktop", "from_unit": "VD-P02", "to_unit": "VD-P01", "distance": 2}]
    remaining = {(g["unit_code"], g["category"]): g for g in got["remaining"]}
    assert ("VD-P01", "desktop") not in remaining and ("VD-P02", "desktop") not in remaining
    assert remaining[("VD-P03", "desktop")]["shortfall"] == 26  # the example ward's 26 staff, nothing to give
    # Within VD-P01 alone: nothing to give it, so its desktops stay short beside every other category.
    got = admin.get(f"/api/budget/units/VD-P01/transfers?on={TODAY}").json
    assert (got["transfers"], [g["category"] for g in got["remaining"]]) == (
        [], [c for c, required, _ in P01_NEEDS if required])
    assert [g["shortfall"] for g in got["remaining"]] == [1, 2, 1, 1, 1, 1, 1, 1, 1, 2]


def test_a_unit_officer_sees_their_own_ward_only(p01_officer, admin):
    own = p01_officer.get(f"/api/budget/units/VD-P01/gaps?on={TODAY}")
    assert (own.status_code, own.json) == (200, admin.get(f"/api/budget/units/VD-P01/gaps?on={TODAY}").json)
    assert p01_officer.get(f"/api/budget/units/VD-P01/transfers?on={TODAY}").json["transfers"] == []
    for path in ("/api/budget/units/VD-P02/gaps", "/api/budget/units/VD-P02/transfers",
                 "/api/budget/units/VD/gaps", "/api/budget/units/VD/transfers", "/api/budget/units/VD-P99/gaps"):
        code = path.split("/")[4]
        response = p01_officer.get(path)
        assert (response.status_code, response.json["message"]) == \
            (403, f"unit '{code}' is not one of your units"), path


@pytest.mark.parametrize("path", ["/api/budget/units/VD-P99/gaps", "/api/budget/units/VD-P99/transfers"])
def test_an_unknown_unit_is_not_found(admin, path):
    response = admin.get(path)
    assert (response.status_code, response.json["message"]) == (404, "unit 'VD-P99' does not exist")


def test_without_a_catalog_in_force_the_gaps_say_so(app, sessions, token_for):
    with sessions() as session, session.begin():
        load_example_organisation(session)
    response = client_as(app, token_for(Role.ADMIN)).get(f"/api/budget/units/VD-P01/gaps?on={TODAY}")
    assert (response.status_code, response.json["message"]) == (
        404, "no catalog version is in force on 07/12/2026; publish one first")


def test_reading_gaps_needs_a_signed_in_caller(anonymous, city):  # noqa: F811
    assert anonymous.get("/api/budget/units/VD-P01/gaps").status_code == 401
