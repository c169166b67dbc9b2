"""Judgements in words: each finding of catalog/rules.py as a sentence in the reader's language (a Reason:
English in the API's text, Vietnamese on a Vietnamese page), saying what was found, what is required and,
when data is missing, how to get it."""
import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from catalog.content import value_text
from core.i18n import Reason
from inventory.specs import SPECS, SpecLabel

STATUS_LABELS = {
    "compliant": _l("compliant"), "below_spec": _l("below specification"), "end_of_support": _l("out of support"),
    "end_of_sale": _l("no longer sold"), "past_service_life": _l("past its service life"),
    "unapproved_model": _l("model not approved"), "unknown": _l("not enough data")}
DERIVED_LABELS = {"firmware_version": _l("firmware version"), "cpu_generation": _l("CPU generation")}
BATTERY_WORDS = {"normal": Reason("normal"), "low": Reason("low"), "depleted": Reason("depleted")}


def explain(finding: Mapping[str, Any]) -> Reason:
    status = finding["status"]
    reason = _EXPLAIN[status](finding)
    if finding.get("severity") == "recommended":
        return Reason("recommended, not required: %(reason)s", reason=reason)
    return reason


def explain_all(findings: list[Mapping[str, Any]], *, approved: bool) -> list[Reason]:
    """Every finding in words; none: why the device is compliant (an approved model, or any model where the
    catalog approves none in particular)."""
    if findings:
        return [explain(f) for f in findings]
    if approved:
        return [Reason("an approved model that meets every requirement of its category")]
    return [Reason("meets every requirement of its category, for which the catalog approves no particular model")]


def spec_label(spec: str) -> Any:
    return SpecLabel(spec) if spec in SPECS else DERIVED_LABELS.get(spec, spec)


def shown_value(spec: str, value: Any) -> str | Reason:
    """8 and 'GB' is '8 GB'; True is 'yes'; a list is 'a, b'. A value that is a word (yes, no, a battery's state)
    is a Reason: a Vietnamese explanation says it in Vietnamese."""
    if isinstance(value, list):
        return ", ".join(shown_value(spec, v) for v in value)
    if isinstance(value, bool):
        return Reason("yes") if value else Reason("no")
    if spec == "battery_status" and value in BATTERY_WORDS:
        return BATTERY_WORDS[value]
    unit = SPECS[spec].unit if spec in SPECS else None
    text = value_text(value).upper() if spec == "storage_kind" else value_text(value)
    return f"{text} {unit}" if unit else text


def _day(finding: Mapping[str, Any]) -> str:
    return dt.date.fromisoformat(finding["on"]).strftime("%d/%m/%Y")


def _unknown(finding: Mapping[str, Any]) -> Reason:
    missing = finding["missing"]
    if missing == "category":
        return Reason("no category of this catalog takes devices of class %(device_class)s; correct the device's "
                      "class or add the class to a category", device_class=finding["device_class"])
    if missing == "vendor":
        return Reason("vendor not known, so the approved models cannot be checked: poll the device with SNMP or "
                      "record its vendor")
    if missing == "model":
        return Reason("model not known, so the approved models cannot be checked: poll the device with SNMP or "
                      "record its model")
    return Reason("%(spec)s not known: import it or install the inventory agent", spec=spec_label(missing))


def _below(finding: Mapping[str, Any]) -> Reason:
    spec, op = finding["spec"], finding["op"]
    values = {"spec": spec_label(spec), "found": shown_value(spec, finding["found"]),
              "required": shown_value(spec, finding["required"])}
    if op == "at_least":
        return Reason("%(spec)s is %(found)s, below the %(required)s required", **values)
    if op == "at_most":
        return Reason("%(spec)s is %(found)s, above the %(required)s allowed", **values)
    if op == "one_of":
        return Reason("%(spec)s is %(found)s; one of %(required)s is required", **values)
    return Reason("%(spec)s is %(found)s; %(required)s is required", **values)


_EXPLAIN = {
    "unknown": _unknown,
    "below_spec": _below,
    "end_of_support": lambda f: Reason("its model is out of support since %(day)s", day=_day(f)),
    "end_of_sale": lambda f: Reason("its model is no longer sold since %(day)s (still supported)", day=_day(f)),
    "past_service_life": lambda f: Reason("past its service life of %(years)s years since %(day)s",
                                          years=f["years"], day=_day(f)),
    "unapproved_model": lambda f: Reason("%(vendor)s %(model)s is not an approved model of its category",
                                         vendor=f["vendor"], model=f["model"]),
}
