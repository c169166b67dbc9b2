"""Reviews, scenarios, transfers carried out and readiness recorded (budget/reviews.py, scenarios.py, services.py,
scores.py) on real databases, over the example organisation and catalog of tests/budget/test_load.py. Prices are
catalog/data/models.csv's: a desktop is bought as the cheapest on sale, Lenovo ThinkCentre * at 9,500,000.

Reviews and transfers judge the inventory as it stands on the real day (the services take no day); plans,
differences and readiness are given TODAY."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from budget import scenarios, scores, services
from budget.models import HeadlineFigure, ReadinessScore, Scenario
from budget.readiness import Readiness
from budget.reviews import resolve_gap
from budget.scenarios import Difference
from core.audit import AuditEntry
from core.errors import Conflict, InvalidInput, NotFound, OutsideScope
from inventory.ingest import IngestBatch, ingest
from inventory.models import Device, DeviceEvent, Unit
from inventory.observations import ObservedDevice
from inventory.units import subtree_ids, update_unit
from tests.budget.test_load import COMPLIANT_PC, T0, TODAY, city, pc  # noqa: F401  (fixture)
from tests.conftest import table_contents

DESKTOP_PRICE = 9_500_000  # Lenovo ThinkCentre *, the cheapest desktop on sale
CAPS = [300_000_000, 200_000_000]  # 2027, 2028


def audit_count(session, action: str) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


def p01_plan(session):
    """VD-P01's targeted plan alone (no neighbour to take desktops from), uncapped, on TODAY."""
    return scenarios.compute(session, "VD-P01", None, "targeted", {"first_year": 2027}, TODAY)


def desktop_lines(plan) -> list[tuple]:
    return [(line.reason, line.model, line.quantity, line.unit_price_vnd, line.device_ids)
            for line in plan.lines if line.category == "desktop"]


def p01_scope(session) -> frozenset[int]:
    return frozenset(subtree_ids(session, "VD-P01"))


def dispute_p01_desktops(sessions) -> None:
    with sessions() as session, session.begin():
        services.review(session, "VD-P01", "desktop", "disputed", "two PCs are on order already",
                        by="officer-p01", scope=p01_scope(session))


def resolve_p01_desktops(sessions, state: str) -> None:
    with sessions() as session, session.begin():
        resolve_gap(session, "VD-P01", "desktop", state, "checked on site", by="admin", scope=None)


# ---- reviews ----------------------------------------------------------------------------------------------------

def test_without_a_review_vd_p01_s_desktops_are_upgraded_and_replaced(sessions, city):  # noqa: F811
    with sessions() as session:
        plan = p01_plan(session)
    # Two short: the slow PC is upgraded (RAM 750,000 + SSD 850,000, under half a new PC), the 2020 one replaced.
    assert desktop_lines(plan) == [
        ("upgrade", "ram-8gb-desktop x1 + ssd-256gb-desktop x1", 1, 1_600_000, (city["p01-slow"],)),
        ("past_service_life", "Lenovo ThinkCentre *", 1, DESKTOP_PRICE, (city["p01-old"],))]
    assert plan.excluded == ()


def test_a_dispute_takes_the_gap_out_of_the_plan_until_an_admin_upholds_it(sessions, city):  # noqa: F811
    with sessions() as session:
        lines_before = desktop_lines(p01_plan(session))
    dispute_p01_desktops(sessions)
    with sessions() as session:
        plan = p01_plan(session)
        assert desktop_lines(plan) == []
        assert [(g.unit_code, g.category, g.shortfall) for g in plan.excluded] == [("VD-P01", "desktop", 2)]
        assert len(plan.lines) == 9  # every other category of the ward is still planned
        assert (audit_count(session, "budget.gap.review"), audit_count(session, "budget.gap.resolve")) == (1, 0)
    resolve_p01_desktops(sessions, "upheld")
    with sessions() as session:
        plan = p01_plan(session)
        assert (desktop_lines(plan), plan.excluded) == (lines_before, ())
        assert (audit_count(session, "budget.gap.review"), audit_count(session, "budget.gap.resolve")) == (1, 1)


def test_a_withdrawn_gap_stays_out_of_the_plan(sessions, city):  # noqa: F811
    dispute_p01_desktops(sessions)
    resolve_p01_desktops(sessions, "withdrawn")
    with sessions() as session:
        plan = p01_plan(session)
        assert desktop_lines(plan) == []
        assert [(g.unit_code, g.category, g.shortfall) for g in plan.excluded] == [("VD-P01", "desktop", 2)]
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "budget.gap.resolve"))
    assert (entry.actor, entry.before["state"], entry.after) == ("admin", "disputed", {
        "unit": "VD-P01", "category": "desktop", "state": "withdrawn", "shortfall": 2,
        "comment": "two PCs are on order already", "resolution": "checked on site"})


def test_a_confirmed_gap_stays_in_the_plan(sessions, city):  # noqa: F811
    with sessions() as session, session.begin():
        review = services.review(session, "VD-P01", "desktop", "confirmed", "", by="officer-p01",
                                 scope=p01_scope(session))
        assert (review.state, review.shortfall, review.reviewed_by) == ("confirmed", 2, "officer-p01")
    with sessions() as session:
        assert len(desktop_lines(p01_plan(session))) == 2
        assert audit_count(session, "budget.gap.review") == 1


def test_a_dispute_without_a_comment_is_refused(sessions, city, engine):  # noqa: F811
    before = table_contents(engine)
    with pytest.raises(InvalidInput) as refusal:
        with sessions() as session, session.begin():
            services.review(session, "VD-P01", "desktop", "disputed", "   ", by="officer-p01",
                            scope=p01_scope(session))
    assert (refusal.value.reason, refusal.value.field) == ("say why the gap is disputed", "comment")
    assert table_contents(engine) == before


def test_an_officer_cannot_review_another_unit_s_gap(sessions, city, engine):  # noqa: F811
    before = table_contents(engine)
    with pytest.raises(OutsideScope) as refusal:
        with sessions() as session, session.begin():
            services.review(session, "VD-P02", "desktop", "confirmed", "", by="officer-p01", scope=p01_scope(session))
    assert refusal.value.reason == "unit 'VD-P02' is not one of your units"
    assert table_contents(engine) == before


def test_a_review_of_a_category_without_a_gap_is_not_found(sessions, city, engine):  # noqa: F811
    before = table_contents(engine)
    with pytest.raises(NotFound) as refusal:
        with sessions() as session, session.begin():
            # No norm asks VD-P01 for a camera and it holds none: there is no gap to review.
            services.review(session, "VD-P01", "camera", "confirmed", "", by="officer-p01", scope=p01_scope(session))
    assert (refusal.value.reason, refusal.value.field) == ("unit VD-P01 has no gap in category 'camera'", "category")
    assert table_contents(engine) == before


def test_only_a_disputed_gap_is_resolved(sessions, city, engine):  # noqa: F811
    with sessions() as session, session.begin():
        services.review(session, "VD-P01", "desktop", "confirmed", "", by="officer-p01", scope=p01_scope(session))
    before = table_contents(engine)
    for category in ("desktop", "laptop"):  # confirmed, and never reviewed
        with pytest.raises(Conflict) as refusal:
            with sessions() as session, session.begin():
                resolve_gap(session, "VD-P01", category, "upheld", "", by="admin", scope=None)
        assert refusal.value.reason == f"the {category} gap of VD-P01 is not disputed"
    assert table_contents(engine) == before


def test_a_resolved_dispute_is_not_reopened_until_the_gap_changes(sessions, city, engine):  # noqa: F811
    dispute_p01_desktops(sessions)
    resolve_p01_desktops(sessions, "upheld")
    before = table_contents(engine)
    with pytest.raises(Conflict) as refusal:
        with sessions() as session, session.begin():
            services.review(session, "VD-P01", "desktop", "disputed", "again", by="officer-p01",
                            scope=p01_scope(session))
    assert refusal.value.reason == ("an administrator has resolved the dispute over this gap; it can be reviewed "
                                    "again once the gap changes")
    assert table_contents(engine) == before


def test_a_shortfall_grown_since_the_dispute_returns_the_difference_to_the_plan(sessions, city):  # noqa: F811
    dispute_p01_desktops(sessions)  # 2 short when disputed
    with sessions() as session, session.begin():
        update_unit(session, "VD-P01", {"staff_count": 6})  # a sixth post: 3 short now
    with sessions() as session:
        plan = p01_plan(session)
    assert [(g.unit_code, g.category, g.shortfall) for g in plan.excluded] == [("VD-P01", "desktop", 2)]
    # The third missing PC is planned: the one position left filled by the best held device to fix (the upgrade).
    assert desktop_lines(plan) == [("upgrade", "ram-8gb-desktop x1 + ssd-256gb-desktop x1", 1, 1_600_000,
                                    (city["p01-slow"],))]


def test_no_transfer_goes_into_a_disputed_gap(sessions, city):  # noqa: F811
    with sessions() as session:
        offered = [t.device_id for t in services.transfer_list(session, "VD", None, on=TODAY).transfers
                   if t.to_unit == "VD-P01" and t.category == "desktop"]
    assert offered == [city["p02-b"], city["p02-c"]]
    dispute_p01_desktops(sessions)
    with sessions() as session:
        moved = services.transfer_list(session, "VD", None, on=TODAY).transfers
    assert [t for t in moved if t.to_unit == "VD-P01" and t.category == "desktop"] == []


# ---- saved scenarios --------------------------------------------------------------------------------------------

def save(sessions, kind: str = "targeted", name: str = "Kế hoạch 2027", unit: str = "VD", **parameters) -> int:
    with sessions() as session, session.begin():
        return scenarios.save(session, unit, None, name, kind, {"first_year": 2027, **parameters},
                              by="finance-officer", on=TODAY).id


def stored(sessions, scenario_id: int) -> tuple[Scenario, list]:
    with sessions() as session:
        scenario = session.get(Scenario, scenario_id)
        return scenario, list(scenario.lines)


def test_a_targeted_plan_for_the_city_under_two_years_caps(sessions, city):  # noqa: F811
    scenario, lines = stored(sessions, save(sessions, caps_vnd=CAPS))
    desktops = [(line.unit_code, line.model, line.quantity, line.unit_price_vnd, line.reason, line.priority, line.year)
                for line in lines if line.category == "desktop" and line.unit_code in ("VD-P03", "VD-P04")]
    # Desktops are priority 1 and the most readiness per VND; VD-P03 (26 staff, none held) comes first by code:
    # 26 x 9,500,000 = 247,000,000 in 2027; VD-P04 (33 staff) gets what is left of 2027's cap, 53,000,000 // 9,500,000
    # = 5, then 2028's 200,000,000 // 9,500,000 = 21; its other 7 fit in no year.
    assert desktops == [("VD-P03", "Lenovo ThinkCentre *", 26, DESKTOP_PRICE, "no_device", 1, 2027),
                        ("VD-P04", "Lenovo ThinkCentre *", 5, DESKTOP_PRICE, "no_device", 1, 2027),
                        ("VD-P04", "Lenovo ThinkCentre *", 21, DESKTOP_PRICE, "no_device", 1, 2028),
                        ("VD-P04", "Lenovo ThinkCentre *", 7, DESKTOP_PRICE, "no_device", 1, None)]
    spent = {year: sum(line.quantity * line.unit_price_vnd for line in lines if line.year == year)
             for year in (2027, 2028)}
    # 2027: the desktops' 294,500,000, then three IP phones at 1,700,000 (the cheapest priority-2 gain) in the
    # 5,500,000 left; 2028: 21 desktops, 199,500,000, and 500,000 left buys nothing.
    assert spent == {2027: 299_600_000, 2028: 199_500_000}
    assert all(spent[year] <= cap for year, cap in zip((2027, 2028), CAPS))
    assert scenario.funded_vnd == 499_100_000
    assert scenario.total_vnd == sum(line.quantity * line.unit_price_vnd for line in lines)
    funded = [line for line in lines if line.year is not None]
    unfunded = [line for line in lines if line.year is None]
    assert lines == funded + unfunded  # the funded lines first, year by year
    assert [line.year for line in funded] == sorted(line.year for line in funded)
    for year in (2027, 2028):
        priorities = [line.priority for line in funded if line.year == year]
        assert priorities == sorted(priorities)
    assert [line.priority for line in unfunded] == sorted(line.priority for line in unfunded)
    # VD-P02's two spare PCs go to VD-P01 first: VD-P01 has no desktop line at all.
    assert [(t["from_unit"], t["to_unit"], t["category"]) for t in scenario.transfers] == [
        ("VD-P02", "VD-P01", "desktop")] * 2
    assert not [line for line in lines if line.unit_code == "VD-P01" and line.category == "desktop"]
    assert (scenario.kind, scenario.judged_on, scenario.excluded, scenario.approved_at) == (
        "targeted", TODAY, [], None)


def test_saving_is_audited(sessions, city):  # noqa: F811
    scenario_id = save(sessions, caps_vnd=CAPS)
    with sessions() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "budget.scenario.create"))
    assert (entry.actor, entry.target_id, entry.after["unit"], entry.after["funded_vnd"]) == (
        "finance-officer", str(scenario_id), "VD", 499_100_000)


def test_replacing_everything_old_costs_more_than_the_targeted_plan(sessions, city):  # noqa: F811
    targeted, _ = stored(sessions, save(sessions))
    blanket, lines = stored(sessions, save(sessions, "blanket_age", "Thay thế đồng loạt", older_than_years=5))
    assert blanket.total_vnd >= targeted.total_vnd
    # The only difference in the example: the blanket plan buys VD-P01 its 2 missing desktops (it replaces the
    # 2020 PC and keeps 3 usable of 5) where the targeted plan takes VD-P02's 2 spare ones.
    assert blanket.total_vnd - targeted.total_vnd == 2 * DESKTOP_PRICE
    [p01] = [line for line in lines if (line.unit_code, line.category) == ("VD-P01", "desktop")]
    assert (p01.quantity, p01.reason, p01.device_ids) == (2, "blanket", [city["p01-old"]])
    assert blanket.transfers == [] and targeted.funded_vnd == targeted.total_vnd  # no caps: all in 2027


@pytest.mark.parametrize("kit", [None, {}, {"desktop": 0}])
def test_a_standard_kit_needs_a_kit(sessions, city, engine, kit):  # noqa: F811
    before = table_contents(engine)
    with pytest.raises(InvalidInput) as refusal:
        save(sessions, "standard_kit", "Bộ chuẩn", **({} if kit is None else {"kit": kit}))
    assert (refusal.value.reason, refusal.value.field) == (
        "a standard kit needs at least one category and quantity", "kit")
    assert table_contents(engine) == before


def test_a_standard_kit_for_every_unit(sessions, city):  # noqa: F811
    scenario, lines = stored(sessions, save(sessions, "standard_kit", "Bộ chuẩn", unit="VD-STC",
                                            kit={"desktop": 2, "printer": 1}))
    # Two PCs at 9,500,000 and a printer at 4,800,000 (Brother HL-L*) for each of the 3 units, whatever they hold.
    assert [(line.unit_code, line.category, line.quantity) for line in lines] == [
        ("VD-STC", "desktop", 2), ("VD-STC", "printer", 1), ("VD-STC-NS", "desktop", 2), ("VD-STC-NS", "printer", 1),
        ("VD-STC-TCDN", "desktop", 2), ("VD-STC-TCDN", "printer", 1)]
    assert scenario.total_vnd == 3 * (2 * DESKTOP_PRICE + 4_800_000) == 71_400_000


def test_approval_freezes_a_targeted_plan(sessions, city, engine):  # noqa: F811
    scenario_id = save(sessions, caps_vnd=CAPS)
    with sessions() as session, session.begin():
        scenarios.approve(session, scenario_id, None, "  within the 2027 estimate ", by="finance-officer")
    scenario, _ = stored(sessions, scenario_id)
    assert (scenario.approved_by, scenario.approval_comment) == ("finance-officer", "within the 2027 estimate")
    assert scenario.approved_at is not None
    with sessions() as session:
        assert audit_count(session, "budget.scenario.approve") == 1
    before = table_contents(engine)
    with pytest.raises(Conflict) as again:
        with sessions() as session, session.begin():
            scenarios.approve(session, scenario_id, None, "", by="admin")
    in_the_city = scenario.approved_at + dt.timedelta(hours=7)  # stored in UTC, told in the city's time (UTC+7)
    assert again.value.reason == (f"scenario {scenario_id} was approved by finance-officer on "
                                  f"{in_the_city:%d/%m/%Y %H:%M}")
    with pytest.raises(Conflict) as deleting:
        with sessions() as session, session.begin():
            scenarios.delete(session, scenario_id, None, by="admin")
    assert deleting.value.reason == f"scenario {scenario_id} is an approved plan: it is kept as approved"
    assert table_contents(engine) == before


def test_a_blanket_plan_is_not_approved(sessions, city, engine):  # noqa: F811
    scenario_id = save(sessions, "blanket_age", "Thay thế đồng loạt", older_than_years=5)
    before = table_contents(engine)
    with pytest.raises(Conflict) as refusal:
        with sessions() as session, session.begin():
            scenarios.approve(session, scenario_id, None, "", by="finance-officer")
    assert refusal.value.reason == "only a targeted plan is approved; 'Thay thế đồng loạt' is a comparison"
    assert table_contents(engine) == before


def test_a_draft_is_deleted_with_its_lines(sessions, city):  # noqa: F811
    scenario_id = save(sessions, caps_vnd=CAPS)
    with sessions() as session, session.begin():
        scenarios.delete(session, scenario_id, None, by="finance-officer")
    with sessions() as session:
        assert session.get(Scenario, scenario_id) is None
        assert audit_count(session, "budget.scenario.delete") == 1
        assert session.scalar(select(func.count()).select_from(Scenario)) == 0


def record_desktop(sessions, unit: str, serial: str) -> int:
    """A compliant PC bought in 2025, recorded as the fixture records devices (an asset register import)."""
    observation = ObservedDevice(method="import", observed_at=T0, unit_code=unit, source="assets.xlsx row 99",
                                 fields=pc(serial, "2025-06-01"), specs=COMPLIANT_PC)
    with sessions() as session, session.begin():
        [device_id] = ingest(session, IngestBatch([observation])).device_ids
    return device_id


def test_the_difference_since_approval(sessions, city):  # noqa: F811
    scenario_id = save(sessions, caps_vnd=CAPS)
    with sessions() as session, session.begin():
        scenarios.approve(session, scenario_id, None, "", by="finance-officer")
    with sessions() as session:
        assert scenarios.difference(session, session.get(Scenario, scenario_id), None, TODAY) == []
    record_desktop(sessions, "VD-P03", "DL5001")
    with sessions() as session:
        changes = scenarios.difference(session, session.get(Scenario, scenario_id), None, TODAY)
    # VD-P03 needs 25 now, not 26; the 9,500,000 freed in 2027 moves a VD-P04 PC a year earlier, but VD-P04's
    # quantity over the years (and every other line's) is what it was.
    assert changes == [Difference("VD-P03", "desktop", "no_device", 26, 247_000_000, 25, 237_500_000)]


# ---- transfers carried out --------------------------------------------------------------------------------------

def test_a_proposed_transfer_moves_the_device(sessions, city):  # noqa: F811
    with sessions() as session, session.begin():
        transfer = services.carry_out_transfer(session, "VD", city["p02-b"], "VD-P01", by="officer", scope=None)
    assert (transfer.from_unit, transfer.to_unit, transfer.category) == ("VD-P02", "VD-P01", "desktop")
    with sessions() as session:
        assert session.get(Device, city["p02-b"]).unit.code == "VD-P01"
        moves = session.scalars(select(DeviceEvent).where(DeviceEvent.device_id == city["p02-b"],
                                                          DeviceEvent.kind == "moved")).all()
        assert len(moves) == 1
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "budget.transfer"))
        assert (entry.actor, entry.target_id, entry.before, entry.after) == (
            "officer", str(city["p02-b"]), {"unit": "VD-P02"}, {"unit": "VD-P01", "category": "desktop"})


def test_a_transfer_not_proposed_is_refused(sessions, city, engine):  # noqa: F811
    before = table_contents(engine)
    # VD-P02 keeps its two oldest PCs for its own two staff: p02-a is not offered.
    with pytest.raises(Conflict) as refusal:
        with sessions() as session, session.begin():
            services.carry_out_transfer(session, "VD", city["p02-a"], "VD-P01", by="officer", scope=None)
    assert (refusal.value.reason, refusal.value.field) == (
        f"the transfers of VD do not propose device {city['p02-a']} for VD-P01", "device_id")
    assert table_contents(engine) == before


def test_an_officer_carries_out_no_transfer_from_another_unit(sessions, city, engine):  # noqa: F811
    before = table_contents(engine)
    with pytest.raises(OutsideScope) as refusal:
        with sessions() as session, session.begin():
            services.carry_out_transfer(session, "VD", city["p02-b"], "VD-P01", by="officer-p01",
                                        scope=p01_scope(session))
    assert refusal.value.reason == "unit 'VD' is not one of your units"
    assert table_contents(engine) == before


def test_a_draft_is_compared_with_the_approved_plan(sessions, city):  # noqa: F811
    approved = save(sessions, caps_vnd=CAPS)
    with sessions() as session, session.begin():
        scenarios.approve(session, approved, None, "", by="finance-officer")
    record_desktop(sessions, "VD-P03", "DL5002")
    draft = save(sessions, name="Kế hoạch 2027, lần 2", caps_vnd=CAPS)
    with sessions() as session:
        changes = scenarios.compare_lines(scenarios.lines_of(session.get(Scenario, approved)),
                                          scenarios.lines_of(session.get(Scenario, draft)))
    assert changes == [Difference("VD-P03", "desktop", "no_device", 26, 247_000_000, 25, 237_500_000)]


# ---- readiness --------------------------------------------------------------------------------------------------

def stored_counts(session) -> tuple[int, int]:
    return (session.scalar(select(func.count()).select_from(ReadinessScore).where(ReadinessScore.day == TODAY)),
            session.scalar(select(func.count()).select_from(HeadlineFigure).where(HeadlineFigure.day == TODAY)))


def test_recording_a_day_scores_every_active_unit_once(sessions, city):  # noqa: F811
    for _ in range(2):  # the second run replaces the first's rows
        with sessions() as session, session.begin():
            count, figures = scores.record_day(session, TODAY, by="test")
        with sessions() as session:
            assert (count, stored_counts(session)) == (15, (15, 3))
    # The example's staff: 85 + 120 + 95 + 70 + 110 + 30 + 25 + 40 and the wards' 5 + 2 + 26 + 33 + 22 + 19 = 682;
    # the devices were imported, so no scan has seen any on the secure network.
    assert [(f.key, f.count, f.out_of) for f in figures][:2] == [("secure_network_staff", 0, 682),
                                                                 ("wards_with_vc", 0, 6)]
    with sessions() as session:
        p01 = session.scalars(select(ReadinessScore).join(Unit, Unit.id == ReadinessScore.unit_id)
                              .where(ReadinessScore.day == TODAY, Unit.code == "VD-P01")).one()
        assert (p01.required, p01.covered, p01.score) == (33, 9, 27.3)
        assert audit_count(session, "budget.readiness") == 2


def test_vd_p01_s_readiness(sessions, city):  # noqa: F811
    with sessions() as session:
        found = scores.readiness(session, "VD-P01", None, TODAY)
    # Weight 3 (priority 1 for a ward): desktop 5, firewall 1, laptop 1, router 1, vc_endpoint 1 (scanner 0, the
    # out-of-support core switch 0) = 3 x 9 = 27 required, 3 x 3 usable desktops = 9 covered; weight 1:
    # access_switch 1, ip_phone 1, printer 1, rack_ups 1, wireless 2 = 6 required, none held.
    assert found.total == Readiness("VD-P01", 33, 9) and found.total.score == 27.3  # 900 / 33
    assert found.units == (Readiness("VD-P01", 33, 9),)
    assert [(f.key, f.count, f.out_of) for f in found.figures] == [
        ("secure_network_staff", 0, 5), ("wards_with_vc", 0, 1), ("archive_scanners", 0, 0)]
    assert found.history == ()
