"""catalog/compliance.py and catalog/reports.py on real databases (SQLite and PostgreSQL): the example organisation
and the example catalog (catalog/data/), devices recorded through the inventory's one ingestion path, their
judgements as the subscriber stores them after each commit, explained in English and in Vietnamese, kept current
when a scan changes one device, when the day passes and when another version takes effect; counts and device
lists for a unit's subtree within the caller's scope; and what the norms require of a ward and of an agency.

The judgements' day is TODAY: dates in the example catalog (end of sale, end of support, service life) are
compared with it, not with the day the tests run. The day is given to the product's functions (recompute_all,
ensure_current, the reports' `on`); nothing is replaced. The subscriber and publishing judge on the real day
(compliance.today()): where a test reads stored judgements as of TODAY it first stores them for TODAY."""
import datetime as dt
from fractions import Fraction
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import Babel
from sqlalchemy import func, select, update

from catalog import compliance
from catalog.compliance import ensure_current, publish_and_judge, recompute_all
from catalog.content import numbered
from catalog.examples import load_example_catalog
from catalog.explain import STATUS_LABELS, explain, explain_all
from catalog.models import CatalogVersion, Compliance
from catalog.reports import (
    compliance_devices,
    norms_by_code,
    unit_compliance,
    unit_norms,
)
from catalog.services import (
    create_version,
    replace_content,
    sheet_rows,
    version_in_force,
)
from core.errors import InvalidInput
from core.i18n import select_locale
from inventory.examples import load_example_organisation
from inventory.ingest import IngestBatch, ingest
from inventory.models import Unit
from inventory.observations import ObservedDevice
from tests.conftest import table_contents

TODAY = dt.date(2026, 12, 7)  # a Monday in the city
T0 = dt.datetime(2026, 11, 2, 8, 0)
TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"
COMPLIANT_PC = {"ram_gb": "16 GB", "storage_gb": "512 GB SSD", "cpu_model": "Intel Core i5-12500",
                "os_version": "22H2"}

# name: (unit, fields, specs), as the units' asset registers record them (method import).
DEVICES = {
    "compliant": ("VD-STC", {"device_class": "workstation", "vendor": "Dell", "model": "OptiPlex 7010",
                             "serial": "DL0001", "purchase_date": "2024-03-01"}, COMPLIANT_PC),
    "past_service_life": ("VD-STC", {"device_class": "workstation", "vendor": "Dell", "model": "OptiPlex 7070",
                                     "serial": "DL0002", "purchase_date": "2020-03-01"}, COMPLIANT_PC),
    "below_spec": ("VD-STC-NS", {"device_class": "workstation", "vendor": "HP", "model": "ProDesk 400 G1",
                                 "serial": "HP0001", "purchase_date": "2023-05-02"},
                   {"ram_gb": "4 GB", "storage_gb": "500 GB HDD", "cpu_model": "Intel Core i5-4590",
                    "os_version": "21H2"}),
    "ram_low": ("VD-STC-NS", {"device_class": "workstation", "vendor": "Lenovo", "model": "ThinkCentre M70q",
                              "serial": "LN0001"}, COMPLIANT_PC | {"ram_gb": "4 GB"}),
    "no_category": ("VD-STC-NS", {"device_class": "other", "vendor": "APC", "model": "AP8932", "serial": "PDU0001"},
                    {}),
    "any_model": ("VD-P01", {"device_class": "router", "vendor": "Cisco", "model": "ISR4331", "serial": "FDO0001"},
                  {}),
    "printer": ("VD-P01", {"device_class": "printer", "vendor": "HP", "model": "LaserJet Pro M404dn",
                           "serial": "PHB0001"}, {"duplex": "không", "printer_ppm": "38 ppm"}),
    "end_of_support": ("VD-P01", {"device_class": "switch", "vendor": "Cisco", "model": "WS-C3560G-48TS-E",
                                  "serial": "FOC0001"}, {"port_count": "48", "uplink_ports": "4"}),
    "end_of_sale": ("VD-P01", {"device_class": "switch", "vendor": "D-Link", "model": "DES-3200-28",
                               "serial": "DL3200001"}, {"port_count": "28", "poe": "có"}),
    "unapproved_model": ("VD-P01", {"device_class": "workstation", "vendor": "Acer", "model": "Veriton X2690",
                                    "serial": "AC0001"}, COMPLIANT_PC),
    "no_vendor": ("VD-P01", {"device_class": "workstation", "serial": "NV0001"}, COMPLIANT_PC),
    "no_model": ("VD-P01", {"device_class": "workstation", "vendor": "Dell", "serial": "NM0001"},
                 COMPLIANT_PC | {"storage_gb": "512 GB"}),
}

RAM_4 = {"status": "below_spec", "spec": "ram_gb", "op": "at_least", "required": 8, "found": 4, "severity": "required"}
# name: (category, status, findings as stored, explanation in English, the same in Vietnamese)
EXPECTED = {
    "compliant": ("desktop", "compliant", [], ["an approved model that meets every requirement of its category"],
                  ["mẫu thiết bị được phê duyệt, đáp ứng mọi yêu cầu của loại thiết bị"]),
    "past_service_life": (
        "desktop", "past_service_life", [{"status": "past_service_life", "on": "2025-03-01", "years": 5}],
        ["past its service life of 5 years since 01/03/2025"],
        ["đã hết thời gian sử dụng 5 năm từ ngày 01/03/2025"]),
    "below_spec": (
        "desktop", "below_spec",
        [RAM_4,
         {"status": "below_spec", "spec": "storage_kind", "op": "is", "required": "ssd", "found": "hdd",
          "severity": "required"},
         {"status": "below_spec", "spec": "cpu_generation", "op": "at_least", "required": 8, "found": 4,
          "severity": "recommended"},
         {"status": "below_spec", "spec": "os_version", "op": "at_least", "required": "22H2", "found": "21H2",
          "severity": "recommended"}],
        ["RAM is 4 GB, below the 8 GB required", "storage kind is HDD; SSD is required",
         "recommended, not required: CPU generation is 4, below the 8 required",
         "recommended, not required: OS version is 21H2, below the 22H2 required"],
        ["bộ nhớ RAM là 4 GB, thấp hơn mức tối thiểu 8 GB", "loại ổ cứng là HDD; yêu cầu: SSD",
         "khuyến nghị, không bắt buộc: thế hệ CPU là 4, thấp hơn mức tối thiểu 8",
         "khuyến nghị, không bắt buộc: phiên bản hệ điều hành là 21H2, thấp hơn mức tối thiểu 22H2"]),
    "ram_low": ("desktop", "below_spec", [RAM_4], ["RAM is 4 GB, below the 8 GB required"],
                ["bộ nhớ RAM là 4 GB, thấp hơn mức tối thiểu 8 GB"]),
    "no_category": (
        None, "unknown", [{"status": "unknown", "missing": "category", "device_class": "other"}],
        [("no category of this catalog takes devices of class other; correct the device's class or add the class to "
         "a category")],
        [("không loại thiết bị nào của danh mục này nhận thiết bị thuộc lớp other; hãy sửa lớp của thiết bị hoặc "
         "bổ sung lớp này vào một loại thiết bị")]),
    "any_model": ("router", "compliant", [],
                  ["meets every requirement of its category, for which the catalog approves no particular model"],
                  ["đáp ứng mọi yêu cầu của loại thiết bị; danh mục không quy định mẫu cụ thể cho loại này"]),
    "printer": ("printer", "below_spec",
                [{"status": "below_spec", "spec": "duplex", "op": "is", "required": True, "found": False,
                  "severity": "required"}],
                ["two-sided printing is no; yes is required"], ["in 2 mặt là không; yêu cầu: có"]),
    "end_of_support": ("core_switch", "end_of_support", [{"status": "end_of_support", "on": "2018-01-31"}],
                       ["its model is out of support since 31/01/2018"],
                       ["mẫu thiết bị đã hết hỗ trợ từ ngày 31/01/2018"]),
    "end_of_sale": ("access_switch", "end_of_sale", [{"status": "end_of_sale", "on": "2021-12-31"}],
                    ["its model is no longer sold since 31/12/2021 (still supported)"],
                    ["mẫu thiết bị đã ngừng bán từ ngày 31/12/2021 (vẫn còn được hỗ trợ)"]),
    "unapproved_model": (
        "desktop", "unapproved_model", [{"status": "unapproved_model", "vendor": "Acer", "model": "Veriton X2690"}],
        ["Acer Veriton X2690 is not an approved model of its category"],
        ["Acer Veriton X2690 không phải là mẫu được phê duyệt của loại thiết bị này"]),
    "no_vendor": (
        "desktop", "unknown", [{"status": "unknown", "missing": "vendor"}],
        [("vendor not known, so the approved models cannot be checked: poll the device with SNMP or record its "
         "vendor")],
        [("chưa biết nhà sản xuất nên chưa thể đối chiếu với các mẫu được phê duyệt: hãy đọc thiết bị qua SNMP "
         "hoặc ghi nhận nhà sản xuất")]),
    "no_model": (
        "desktop", "unknown",
        [{"status": "unknown", "missing": "model"}, {"status": "unknown", "missing": "storage_kind",
                                                    "severity": "required"}],
        ["model not known, so the approved models cannot be checked: poll the device with SNMP or record its model",
         "storage kind not known: import it or install the inventory agent"],
        [("chưa biết mẫu thiết bị nên chưa thể đối chiếu với các mẫu được phê duyệt: hãy đọc thiết bị qua SNMP "
         "hoặc ghi nhận mẫu thiết bị"),
         "chưa biết loại ổ cứng: hãy nhập thông tin này hoặc cài đặt phần mềm thu thập kiểm kê (agent)"]),
}
STATUSES_IN_VIETNAMESE = {
    "compliant": "đạt yêu cầu", "below_spec": "dưới cấu hình tối thiểu", "end_of_support": "hết hỗ trợ",
    "end_of_sale": "ngừng bán", "past_service_life": "quá thời gian sử dụng",
    "unapproved_model": "mẫu chưa được phê duyệt", "unknown": "chưa đủ dữ liệu"}


@pytest.fixture
def city(sessions):
    """The example organisation and catalog, then every device of DEVICES recorded in one committed batch (the
    subscriber judges them after the commit); the devices' ids by name."""
    with sessions() as session, session.begin():
        load_example_organisation(session)
        load_example_catalog(session)
    return register(sessions, DEVICES)


def register(sessions, names, at: dt.datetime = T0) -> dict[str, int]:
    observations = [ObservedDevice(method="import", observed_at=at, unit_code=DEVICES[name][0],
                                   source=f"assets.xlsx row {row}", fields=DEVICES[name][1], specs=DEVICES[name][2])
                    for row, name in enumerate(names, start=2)]
    with sessions() as session, session.begin():
        ids = ingest(session, IngestBatch(observations)).device_ids
    return dict(zip(names, ids))


def judged_on_today(sessions) -> None:
    """Every device's judgement stored for TODAY (the subscriber stored them for the real day)."""
    with sessions() as session, session.begin():
        recompute_all(session, TODAY)


def judgements(sessions) -> dict[int, tuple]:
    """Every stored judgement by device id."""
    with sessions() as session:
        return {row.device_id: (row.version_id, row.category_code, row.approved_model_id, row.status.value,
                                row.findings, row.judged_on) for row in session.scalars(select(Compliance))}


def in_force_id(sessions, on: dt.date = TODAY) -> int:
    with sessions() as session:
        return version_in_force(session, on).id


def in_language(language: str):
    """A request of an application reading the project's catalogue, in `language` (the app's own selector)."""
    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=select_locale)
    return app.test_request_context(f"/?lang={language}")


def copy_of_in_force(sessions, name: str, effective_on: dt.date, sheets=None) -> int:
    """A draft copying the version in force, with `sheets` replaced; committed."""
    with sessions() as session, session.begin():
        draft = create_version(session, {"name": name, "effective_on": effective_on,
                                         "copy_of": version_in_force(session, TODAY).id}, by="test")
        if sheets:
            replace_content(session, draft.id, sheets(draft), by="test")
        return draft.id


# ---- judgements and their explanations --------------------------------------------------------------------------

def test_every_status_is_stored_with_its_findings_and_explained_in_english(sessions, city):
    judged_on_today(sessions)
    stored = judgements(sessions)
    version_id = in_force_id(sessions)
    assert {name: stored[city[name]][1:2] + stored[city[name]][3:] for name in DEVICES} == {
        name: (category, status, findings, TODAY) for name, (category, status, findings, _en, _vi) in EXPECTED.items()}
    assert {row[0] for row in stored.values()} == {version_id}
    assert {s for _c, s, *_ in EXPECTED.values()} == set(STATUS_LABELS)  # every status is here
    for name, (_category, _status, findings, english, _vietnamese) in EXPECTED.items():
        approved = stored[city[name]][2] is not None
        assert explain_all(stored[city[name]][4], approved=approved) == english, name
        with in_language("en"):
            assert [r.translated() for r in explain_all(findings, approved=approved)] == english, name
    with in_language("en"):
        assert {s: str(label) for s, label in STATUS_LABELS.items()} == {
            "compliant": "compliant", "below_spec": "below specification", "end_of_support": "out of support",
            "end_of_sale": "no longer sold", "past_service_life": "past its service life",
            "unapproved_model": "model not approved", "unknown": "not enough data"}
    # approved models: those of the example catalog that the devices are
    with sessions() as session:
        approved = {name: session.get(Compliance, city[name]).approved_model_id is not None for name in DEVICES}
    assert [name for name, yes in approved.items() if yes] == [
        "compliant", "past_service_life", "below_spec", "ram_low", "printer", "end_of_support", "end_of_sale"]


def test_every_status_is_explained_in_vietnamese(sessions, city):
    judged_on_today(sessions)
    stored = judgements(sessions)
    with in_language("vi"):
        for name, (_category, _status, _findings, _english, vietnamese) in EXPECTED.items():
            _version, _category, model_id, _status, findings, _on = stored[city[name]]
            assert [r.translated() for r in explain_all(findings, approved=model_id is not None)] == vietnamese, name
        assert {s: str(label) for s, label in STATUS_LABELS.items()} == STATUSES_IN_VIETNAMESE


# Finding forms the example catalog does not produce: the other operators, a choice, a derived spec.
OTHER_FINDINGS = [
    ({"status": "below_spec", "spec": "screen_inch", "op": "at_most", "required": 27, "found": 32,
      "severity": "required"},
     "screen size is 32 inch, above the 27 inch allowed", "kích thước màn hình là 32 inch, vượt mức tối đa cho phép 27 inch"),
    ({"status": "below_spec", "spec": "os_name", "op": "one_of", "required": ["Windows 10 Pro", "Windows 11 Pro"],
      "found": "Windows 7", "severity": "required"},
     "operating system is Windows 7; one of Windows 10 Pro, Windows 11 Pro is required",
     "hệ điều hành là Windows 7; yêu cầu một trong các giá trị: Windows 10 Pro, Windows 11 Pro"),
    ({"status": "below_spec", "spec": "battery_status", "op": "is", "required": "normal", "found": "low",
      "severity": "required"},
     "battery status is low; normal is required", "tình trạng ắc quy là yếu; yêu cầu: bình thường"),
    ({"status": "below_spec", "spec": "firmware_version", "op": "at_least", "required": "15.2", "found": "12.2(55)SE3",
      "severity": "recommended"},
     "recommended, not required: firmware version is 12.2(55)SE3, below the 15.2 required",
     "khuyến nghị, không bắt buộc: phiên bản firmware là 12.2(55)SE3, thấp hơn mức tối thiểu 15.2"),
    ({"status": "unknown", "missing": "ram_gb", "severity": "required"},
     "RAM not known: import it or install the inventory agent",
     "chưa biết bộ nhớ RAM: hãy nhập thông tin này hoặc cài đặt phần mềm thu thập kiểm kê (agent)"),
]


def test_the_other_finding_forms_in_both_languages():
    assert [explain(finding) for finding, _en, _vi in OTHER_FINDINGS] == [en for _f, en, _vi in OTHER_FINDINGS]
    with in_language("en"):
        assert [explain(f).translated() for f, _en, _vi in OTHER_FINDINGS] == [en for _f, en, _vi in OTHER_FINDINGS]
    with in_language("vi"):
        assert [explain(f).translated() for f, _en, _vi in OTHER_FINDINGS] == [vi for _f, _en, vi in OTHER_FINDINGS]


# ---- kept current ------------------------------------------------------------------------------------------------

OLD_DAY = dt.date(2000, 1, 1)  # a day no judgement is made on: a row that keeps it was not written again


def test_a_scan_that_changes_one_device_judges_that_device_only(engine, sessions, city):
    with sessions() as session, session.begin():
        session.execute(update(Compliance).values(judged_on=OLD_DAY))
    before = judgements(sessions)
    assert len(before) == len(DEVICES) and before[city["ram_low"]][3:5] == ("below_spec", [RAM_4])

    # The unit's SNMP scan reads the Lenovo's RAM after an upgrade: 16 GB.
    scan = ObservedDevice(method="snmp", observed_at=T0 + dt.timedelta(days=30), unit_code="VD-STC-NS",
                          source="snmp 10.0.0.7", fields={"serial": "LN0001"}, specs={"ram_gb": "16384 MB"})
    with sessions() as session, session.begin():
        assert ingest(session, IngestBatch([scan])).device_ids == [city["ram_low"]]

    after = judgements(sessions)
    assert {i: row for i, row in after.items() if row != before[i]} == {
        city["ram_low"]: (before[city["ram_low"]][0], "desktop", before[city["ram_low"]][2], "compliant", [],
                           compliance.today())}  # the subscriber judges on the real day
    assert all(row[5] == OLD_DAY for i, row in after.items() if i != city["ram_low"])


def test_a_commit_that_changes_no_device_judges_nothing(sessions, city):
    with sessions() as session, session.begin():
        session.execute(update(Compliance).values(judged_on=OLD_DAY))
    before = judgements(sessions)
    again = ObservedDevice(method="import", observed_at=T0 + dt.timedelta(days=1), unit_code="VD-STC-NS",
                           source="assets.xlsx row 2", fields=DEVICES["ram_low"][1], specs=DEVICES["ram_low"][2])
    with sessions() as session, session.begin():
        ingest(session, IngestBatch([again]))  # the same register again: nothing changed
    assert judgements(sessions) == before


def test_ensure_current_judges_everything_again_when_the_day_changes(sessions, city):
    later = dt.date(2028, 1, 5)  # past the D-Link's end of support (31/12/2027)
    judged_on_today(sessions)
    with sessions() as session, session.begin():
        assert ensure_current(session, TODAY) is False  # today's judgements under the version in force: nothing to do
    before = judgements(sessions)
    with sessions() as session, session.begin():
        assert ensure_current(session, later) is True
    after = judgements(sessions)
    assert {row[5] for row in after.values()} == {later}
    assert after[city["end_of_sale"]][3:5] == ("end_of_support", [{"status": "end_of_support", "on": "2027-12-31"}])
    changed = {name for name, i in city.items() if after[i][:5] != before[i][:5]}
    assert changed == {"end_of_sale"}
    with sessions() as session, session.begin():
        assert ensure_current(session, later) is False
        assert ensure_current(session, TODAY) is True  # back to today: judged on today again
    assert judgements(sessions) == before


def test_ensure_current_judges_a_device_that_has_no_judgement(sessions, city):
    with sessions() as session, session.begin():
        session.execute(Compliance.__table__.delete().where(Compliance.device_id == city["printer"]))
    with sessions() as session, session.begin():
        assert ensure_current(session, TODAY) is True
    assert judgements(sessions)[city["printer"]][3] == "below_spec"


def test_a_version_taking_effect_is_judged_under(sessions, city):
    old = in_force_id(sessions)
    # Publishing judges on the real day: the version takes effect the day after it.
    tomorrow = compliance.today() + dt.timedelta(days=1)
    scheduled = copy_of_in_force(sessions, "Danh mục 2027", tomorrow)
    with sessions() as session, session.begin():
        publish_and_judge(session, scheduled, by="test")  # in force tomorrow: today's judgements stay
    assert {row[0] for row in judgements(sessions).values()} == {old}
    with sessions() as session, session.begin():
        assert ensure_current(session, tomorrow) is True
    after = judgements(sessions)
    assert {(row[0], row[5]) for row in after.values()} == {(scheduled, tomorrow)}
    with sessions() as session:
        models = {m.id: (m.vendor, m.model_pattern) for m in session.get(CatalogVersion, scheduled).models}
    assert models[after[city["end_of_support"]][2]] == ("Cisco", "WS-C3560G-*")  # the new version's own model row


def test_publishing_a_version_in_force_today_judges_every_device_under_it(sessions, city):
    before = judgements(sessions)
    # Publishing judges on the real day: the copy is in force from it.
    today_copy = copy_of_in_force(sessions, "Danh mục sửa đổi", compliance.today())
    with sessions() as session, session.begin():
        publish_and_judge(session, today_copy, by="test")
    after = judgements(sessions)
    assert {row[0] for row in after.values()} == {today_copy}
    # the same content: the same judgements, under the new version's model rows
    assert {i: row[1:2] + row[3:] for i, row in after.items()} == {i: row[1:2] + row[3:] for i, row in before.items()}


def test_with_no_version_in_force_no_judgement_is_stored(sessions):
    with sessions() as session, session.begin():
        load_example_organisation(session)
        create_version(session, {"name": "Nháp", "effective_on": TODAY}, by="test")  # a draft: in force on no day
    ids = register(sessions, ["compliant", "printer"])  # the subscriber finds no version: judges nothing
    assert len(ids) == 2 and judgements(sessions) == {}
    with sessions() as session, session.begin():
        assert recompute_all(session, TODAY) == 0
        assert ensure_current(session, TODAY) is False
    assert judgements(sessions) == {}


def test_a_day_before_any_version_clears_the_judgements(sessions, city):
    with sessions() as session, session.begin():
        assert recompute_all(session, dt.date(2025, 12, 31)) == 0  # the example takes effect on 01/01/2026
        assert session.scalar(select(func.count()).select_from(Compliance)) == 0
    with sessions() as session, session.begin():
        assert recompute_all(session, TODAY) == len(DEVICES)
    assert len(judgements(sessions)) == len(DEVICES)


def test_publishing_is_refused_when_devices_in_use_would_have_no_category(engine, sessions, city):
    cameras = [ObservedDevice(method="import", observed_at=T0, unit_code="VD-P01", source="assets.xlsx",
                              fields={"device_class": "camera", "vendor": "Hikvision", "model": "DS-2CD1043G2-I",
                                      "serial": serial, "status": status})
               for serial, status in (("DS0001", "in_use"), ("DS0002", "in_use"), ("DS0003", "spare"))]
    with sessions() as session, session.begin():
        ingest(session, IngestBatch(cameras))
    draft = copy_of_in_force(sessions, "Danh mục không có camera", TODAY, lambda draft: {
        "categories": numbered(row for row in sheet_rows(draft, "categories") if row["code"] != "camera")})
    before = table_contents(engine)
    with pytest.raises(InvalidInput) as refused, sessions() as session, session.begin():
        publish_and_judge(session, draft, by="test")
    assert str(refused.value.reason) == ("devices in use would have no category under this version: camera (2); "
                                         "add these classes to a category, or loosen its conditions, first")
    assert refused.value.field == "categories"
    assert table_contents(engine) == before
    with sessions() as session:
        assert session.get(CatalogVersion, draft).published_at is None


def test_publishing_is_refused_when_a_category_s_conditions_leave_devices_out(engine, sessions, city):
    # Switches are taken only by the core category, for 48 ports and more: a switch whose ports are not known and
    # whose model the version does not approve has no category: the new TP-Link, and the city's D-Link, whose
    # approved model (an access switch) went with its category.
    switch = ObservedDevice(method="import", observed_at=T0, unit_code="VD-P01", source="assets.xlsx",
                            fields={"device_class": "switch", "vendor": "TP-Link", "model": "TL-SG1024",
                                    "serial": "TP0001"})
    with sessions() as session, session.begin():
        ingest(session, IngestBatch([switch]))
    draft = copy_of_in_force(sessions, "Danh mục chỉ có switch lõi", TODAY, lambda draft: {
        "categories": numbered(row for row in sheet_rows(draft, "categories") if row["code"] != "access_switch"),
        "requirements": numbered(row for row in sheet_rows(draft, "requirements")
                                 if row["category"] != "access_switch"),
        "models": numbered(row for row in sheet_rows(draft, "models") if row["category"] != "access_switch"),
        "norms": numbered(row for row in sheet_rows(draft, "norms") if row["category"] != "access_switch")})
    before = table_contents(engine)
    with pytest.raises(InvalidInput) as refused, sessions() as session, session.begin():
        publish_and_judge(session, draft, by="test")
    assert str(refused.value.reason) == ("devices in use would have no category under this version: switch (2); "
                                         "add these classes to a category, or loosen its conditions, first")
    assert table_contents(engine) == before


# ---- reports -----------------------------------------------------------------------------------------------------

def unit_ids(sessions, *codes: str) -> frozenset[int]:
    with sessions() as session:
        return frozenset(session.scalars(select(Unit.id).where(Unit.code.in_(codes))))


def test_counts_over_a_units_subtree_within_the_callers_scope(sessions, city):
    with sessions() as session:
        counts = unit_compliance(session, "VD-STC", None, on=TODAY)
        assert counts.unit.code == "VD-STC" and counts.version.id == in_force_id(sessions)
        assert counts.counts == {("desktop", "compliant"): 1, ("desktop", "past_service_life"): 1,
                                 ("desktop", "below_spec"): 2, (None, "unknown"): 1}
        assert counts.by_status() == {"compliant": 1, "past_service_life": 1, "below_spec": 2, "unknown": 1}
        assert counts.categories() == ["desktop", None]
        child = unit_compliance(session, "VD-STC-NS", None, on=TODAY)
        assert child.counts == {("desktop", "below_spec"): 2, (None, "unknown"): 1}
        # an officer of the agency who does not answer for its department: the department's devices are not counted
        mine = unit_compliance(session, "VD-STC", unit_ids(sessions, "VD-STC", "VD-P01"), on=TODAY)
        assert mine.counts == {("desktop", "compliant"): 1, ("desktop", "past_service_life"): 1}
        city_counts = unit_compliance(session, "VD", None, on=TODAY)
        assert sum(city_counts.counts.values()) == len(DEVICES)
        assert city_counts.by_status() == {"compliant": 2, "past_service_life": 1, "below_spec": 3, "unknown": 3,
                                           "end_of_support": 1, "end_of_sale": 1, "unapproved_model": 1}


def test_devices_behind_a_count_filtered_and_paged(sessions, city):
    by_id = {i: name for name, i in city.items()}

    def listed(**wanted):
        with sessions() as session:
            found, total = compliance_devices(session, "VD", None, on=TODAY, **wanted)
        return [by_id[j.device.id] for j in found], total

    assert listed(status="below_spec") == (["below_spec", "ram_low", "printer"], 3)
    assert listed(status="below_spec", category="desktop") == (["below_spec", "ram_low"], 2)
    assert listed(category="none") == (["no_category"], 1)
    assert listed(status="unknown", per_page=2, page=1) == (["no_category", "no_vendor"], 3)
    assert listed(status="unknown", per_page=2, page=2) == (["no_model"], 3)
    assert listed(status="unknown", per_page=2, page=3) == ([], 3)
    with sessions() as session:
        [judged], total = compliance_devices(session, "VD-P01", None, status="end_of_sale", on=TODAY)
    assert (judged.device.serial, judged.category, judged.status, judged.findings, total) == (
        "DL3200001", "access_switch", "end_of_sale", ({"status": "end_of_sale", "on": "2021-12-31"},), 1)
    with sessions() as session, pytest.raises(InvalidInput) as refused:
        compliance_devices(session, "VD", None, status="broken", on=TODAY)
    assert str(refused.value.reason) == (
        "'broken' is not a compliance status; use one of end_of_support, past_service_life, below_spec, "
        "unapproved_model, end_of_sale, unknown, compliant")


def test_another_version_is_judged_on_the_spot_as_it_would_be_stored(sessions, city):
    """A draft that asks 32 GB of RAM of a desktop: the compliant OptiPlex is below it. Computed on the spot while a
    draft, then published in force today and stored: the same counts and lists. The counts are TODAY's; publishing
    stores the real day's (compliance.today()), compared with the draft's on the spot on that day."""
    def more_ram(draft):
        rows = sheet_rows(draft, "requirements")
        return {"requirements": numbered(r | {"value": "32 GB"} if (r["category"], r["spec"]) == ("desktop", "ram_gb")
                                         else r for r in rows)}
    example = in_force_id(sessions)
    real_day = compliance.today()  # publishing judges and stores on the real day: the draft is in force from it
    draft = copy_of_in_force(sessions, "Danh mục 2027", real_day, more_ram)

    def reports_under(version_id, on=TODAY):
        with sessions() as session:
            counts = unit_compliance(session, "VD", None, version_id=version_id, on=on).counts
            lists = {}
            for status in ("compliant", "below_spec", "unknown"):
                found, total = compliance_devices(session, "VD", None, status=status, version_id=version_id,
                                                  per_page=2, page=2, on=on)
                lists[status] = ([(j.device.id, j.category, j.status, tuple(j.findings)) for j in found], total)
            return counts, lists

    stored_before = judgements(sessions)
    on_the_spot = reports_under(draft)
    on_the_spot_real_day = reports_under(draft, real_day)
    assert judgements(sessions) == stored_before  # computing on the spot stores nothing
    # Under 32 GB every desktop with 16 GB is below it, unless something worse holds (past its service life).
    assert on_the_spot[0] == {("desktop", "below_spec"): 6, ("desktop", "past_service_life"): 1,
                              ("printer", "below_spec"): 1, ("router", "compliant"): 1, (None, "unknown"): 1,
                              ("core_switch", "end_of_support"): 1, ("access_switch", "end_of_sale"): 1}
    with sessions() as session, session.begin():
        publish_and_judge(session, draft, by="test")
    assert {row[0] for row in judgements(sessions).values()} == {draft}
    assert reports_under(None, real_day) == reports_under(draft, real_day) == on_the_spot_real_day
    assert reports_under(None) == reports_under(draft) == on_the_spot
    with sessions() as session:
        compliant_pc = session.get(Compliance, city["compliant"])
        assert (compliant_pc.status.value, compliant_pc.findings) == ("below_spec", [
            {"status": "below_spec", "spec": "ram_gb", "op": "at_least", "required": 32, "found": 16,
             "severity": "required"}])
        # the version before, superseded now, on the spot: the same device compliant under it
        assert unit_compliance(session, "VD", None, version_id=example, on=TODAY).counts == {
            ("desktop", "compliant"): 1, ("desktop", "past_service_life"): 1, ("desktop", "below_spec"): 2,
            ("desktop", "unapproved_model"): 1, ("desktop", "unknown"): 2, ("printer", "below_spec"): 1,
            ("router", "compliant"): 1, (None, "unknown"): 1, ("core_switch", "end_of_support"): 1,
            ("access_switch", "end_of_sale"): 1}
        [judged], _total = compliance_devices(session, "VD-STC", None, status="compliant", version_id=example,
                                               on=TODAY)
        assert judged.device.id == city["compliant"]


# ---- norms -------------------------------------------------------------------------------------------------------

WARD_FACTS = {"staff_count": 22, "leader_count": 3, "specialist_count": 15, "meeting_rooms": 1, "sites": 1,
              "archive_pages": 45_000, "archive_deadline": dt.date(2027, 6, 30), "on_secure_network": True}
AGENCY_FACTS = {"staff_count": 120, "leader_count": 6, "specialist_count": 90, "meeting_rooms": 4, "sites": 3,
                "archive_pages": 250_000, "archive_deadline": dt.date(2027, 12, 31), "on_secure_network": True}


def set_facts(sessions, code: str, facts: dict) -> None:
    with sessions() as session, session.begin():
        unit = session.scalars(select(Unit).where(Unit.code == code)).one()
        for name, value in facts.items():
            setattr(unit, name, value)


def test_norms_of_a_ward_of_22_staff(sessions, city):
    set_facts(sessions, "VD-P03", WARD_FACTS)
    with sessions() as session:
        norms = unit_norms(session, "VD-P03", None, on=TODAY)
    assert norms.on == TODAY and norms.version.id == in_force_id(sessions)
    # From catalog/data/norms.csv, by hand: desktops one per leader (3), specialist (15) and other staff (22 - 3 -
    # 15 = 4); a laptop and an IP phone per leader; a printer per 5 staff (22 / 5 -> 5); one scanner per 2,000
    # pages a working day (45,000 pages over the 147 weekdays from Monday 07/12/2026 to 30/06/2027: 306.1 a day);
    # a ward's video-conference endpoint; a router, firewall and UPS per site, two access points per site; access
    # switches of 24 ports for the wired terminals (22 desktops + 5 printers + 1 endpoint + 3 phones + 2 access
    # points = 33 ports, 20% spare: 39.6 -> 2 switches, the most 33 ports allow: 2).
    assert [(q.norm, q.category, q.basis_value, q.computed, q.maximum, q.required) for q in norms.quantities] == [
        ("pc-leader", "desktop", 3, 3, 3, 3), ("pc-specialist", "desktop", 15, 15, 15, 15),
        ("pc-staff", "desktop", 4, 4, 4, 4), ("laptop-leader", "laptop", 3, 3, 3, 3),
        ("printer-staff", "printer", 22, 5, 5, 5),
        ("scanner-archive", "scanner", Fraction(45_000, 147), 1, 1, 1),
        ("vc-ward", "vc_endpoint", 1, 1, 1, 1), ("phone-leader", "ip_phone", 3, 3, 3, 3),
        ("router-site", "router", 1, 1, 1, 1), ("firewall-site", "firewall", 1, 1, 1, 1),
        ("ups-site", "rack_ups", 1, 1, 1, 1), ("wifi-site", "wireless", 1, 2, 4, 2),
        ("switch-ports", "access_switch", 33, 2, None, 2)]
    assert norms.totals() == {"desktop": 22, "laptop": 3, "printer": 5, "scanner": 1, "vc_endpoint": 1,
                              "ip_phone": 3, "router": 1, "firewall": 1, "rack_ups": 1, "wireless": 2,
                              "access_switch": 2}
    assert not any(q.capped for q in norms.quantities)


def test_norms_of_an_agency_of_120_staff_with_4_meeting_rooms_and_3_sites(sessions, city):
    set_facts(sessions, "VD-STC", AGENCY_FACTS)
    with sessions() as session:
        norms = unit_norms(session, "VD-STC", None, on=TODAY)
        prices = {code: norm.max_unit_price_vnd for code, norm in norms_by_code(norms.version).items()}
    # By hand: desktops for 6 leaders, 90 specialists and 24 other staff; 120 / 5 = 24 printers; 250,000 pages over
    # the 279 weekdays to 31/12/2027 (896.1 a day): one scanner; an endpoint per meeting room (an agency's norm,
    # not a ward's); a core switch, router, firewall and UPS per site, two access points per site (at most 4 each);
    # wired ports 120 + 24 + 4 + 6 + 6 = 160, with 20% spare 192 / 24 = 8 switches, but the law allows one per
    # 24 ports counted: ceil(160 / 24) = 7. Capped at 7.
    assert [(q.norm, q.basis_value, q.computed, q.maximum, q.required, prices[q.norm])
            for q in norms.quantities] == [
        ("pc-leader", 6, 6, 6, 6, 15_000_000), ("pc-specialist", 90, 90, 90, 90, 10_000_000),
        ("pc-staff", 24, 24, 24, 24, 10_000_000), ("laptop-leader", 6, 6, 6, 6, 15_000_000),
        ("printer-staff", 120, 24, 24, 24, 10_000_000),
        ("scanner-archive", Fraction(250_000, 279), 1, 1, 1, 40_000_000),
        ("vc-meeting-room", 4, 4, 4, 4, 70_000_000), ("phone-leader", 6, 6, 6, 6, 1_750_000),
        ("core-site", 3, 3, 3, 3, 190_000_000), ("router-site", 3, 3, 3, 3, 60_000_000),
        ("firewall-site", 3, 3, 3, 3, 90_000_000), ("ups-site", 3, 3, 3, 3, 30_000_000),
        ("wifi-site", 3, 6, 12, 6, 6_000_000), ("switch-ports", 160, 8, None, 8, 45_000_000)]
    assert [q.norm for q in norms.quantities if q.capped] == []
    assert all(q.maximum is None or q.required <= q.maximum for q in norms.quantities)
    assert norms.totals() == {"desktop": 120, "laptop": 6, "printer": 24, "scanner": 1, "vc_endpoint": 4,
                              "ip_phone": 6, "core_switch": 3, "router": 3, "firewall": 3, "rack_ups": 3,
                              "wireless": 6, "access_switch": 8}
    # the most the norms allow spending on the agency's desktops: each norm's quantity at its maximum unit price
    assert sum(q.required * prices[q.norm] for q in norms.quantities if q.category == "desktop") == \
        6 * 15_000_000 + 114 * 10_000_000


def test_norms_follow_the_unit_kind(sessions, city):
    """The same facts on a ward and on an agency: a ward's endpoint is per unit, an agency's per meeting room, and
    only an agency has a core switch per site."""
    set_facts(sessions, "VD-P03", AGENCY_FACTS)
    with sessions() as session:
        totals = unit_norms(session, "VD-P03", None, on=TODAY).totals()
    assert (totals["vc_endpoint"], "core_switch" in totals) == (1, False)
