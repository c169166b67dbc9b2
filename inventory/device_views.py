"""How a device's page shows the device: pure functions turning a device, its links and its history into the rows
its template draws, each value labelled and formatted in the page's language, with who said it and when."""
from collections.abc import Mapping
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.pages import day, moment, number, vnd
from core.time import as_utc
from inventory.devices import LinkAsSeen
from inventory.labels import DEVICE_CLASSES, DEVICE_STATUSES, METHODS, label
from inventory.models import Device
from inventory.specs import SPECS, Spec, SpecKind

FIELDS = {"unit_id": _l("Unit"), "device_class": _l("Class"), "vendor": _l("Vendor"), "model": _l("Model"),
          "serial": _l("Serial number"), "hostname": _l("Host name"), "firmware": _l("Firmware"),
          "os": _l("Operating system"), "status": _l("Status"), "location": _l("Location"),
          "purchase_date": _l("Purchase date"), "purchase_price_vnd": _l("Purchase price"),
          "warranty_end": _l("Warranty ends"), "interfaces": _l("Interfaces")}
CHOICES = {"ssd": "SSD", "hdd": "HDD", "normal": _l("normal"), "low": _l("low"), "depleted": _l("depleted")}
# Who wrote a history entry, beside the observation methods (inventory.labels.METHODS).
EVENT_METHODS = {"scan": _l("scan"), "reorganisation": _l("unit reorganisation")}
LINK_PROTOCOLS = {"lldp": "LLDP", "cdp": "CDP", "manual": _l("recorded by hand")}


def identity(device: Device) -> list[dict[str, Any]]:
    """Each identifying value with who said it (method, source) and when."""
    values = {"unit_id": f"{device.unit.code} · {device.unit.name}",
              "device_class": label(DEVICE_CLASSES, device.device_class), "vendor": device.vendor,
              "model": device.model, "serial": device.serial, "hostname": device.hostname,
              "firmware": device.firmware, "os": device.os, "status": label(DEVICE_STATUSES, device.status),
              "location": device.location, "purchase_date": day(device.purchase_date),
              "purchase_price_vnd": vnd(device.purchase_price_vnd), "warranty_end": day(device.warranty_end)}
    return [{"key": key, "label": FIELDS[key], "value": value, "said": _said(device.provenance.get(key))}
            for key, value in values.items()]


def _said(provenance: Mapping[str, str] | None) -> dict[str, str] | None:
    if not provenance:
        return None
    return {"method": label(METHODS, provenance.get("method")), "source": provenance.get("source", ""),
            "at": moment(as_utc(provenance["at"])) if provenance.get("at") else ""}


def specs(device: Device) -> list[dict[str, Any]]:
    """The device's specifications in the registry's order, labelled in the page's language, with units."""
    stored = device.specs or {}
    return [{"key": name, "label": spec_label(spec), "value": spec_text(spec, stored[name]),
             "said": _said(device.provenance.get(f"specs.{name}"))}
            for name, spec in SPECS.items() if stored.get(name) is not None]


def spec_label(spec: Spec) -> str:
    """The registry's label in the page's language, as a heading (the registry's fit inside sentences)."""
    text = spec.label_vi if get_locale().language == "vi" else spec.label_en
    return text[:1].upper() + text[1:]


def spec_text(spec: Spec, value: Any) -> str:
    if spec.kind is SpecKind.BOOLEAN:
        return _("yes") if value else _("no")
    if spec.kind is SpecKind.CHOICE:
        return str(CHOICES.get(value, value))
    if isinstance(value, int | float):
        return f"{number(value)} {spec.unit}" if spec.unit else number(value)
    return str(value)


def neighbour(link: LinkAsSeen, device_id: int, names: Mapping[int, str]) -> dict[str, Any]:
    """A link seen from this device: its own port, the device at the other end (None: another unit's) and its
    port there."""
    mine = link.device_id == device_id
    other = link.remote_device_id if mine else link.device_id
    return {"port": link.port if mine else link.remote_port, "other_id": other,
            "other_name": names.get(other) if other is not None else None,
            "other_port": link.remote_port if mine else link.port,
            "protocol": str(LINK_PROTOCOLS.get(link.protocol, link.protocol)),
            "first_seen": link.first_seen, "last_seen": link.last_seen}


def event(event, unit_codes: Mapping[int, str]) -> dict[str, Any]:
    """One entry of the timeline: what happened, the values before and after, who said so."""
    entry = {"id": event.id, "at": event.at, "kind": event.kind, "changes": [], "detail": event.detail,
             "method": label(METHODS if event.method in METHODS else EVENT_METHODS, event.method),
             "source": event.source}
    field_label = _field_label(event.field)
    if event.kind == "created":
        entry["title"] = _("Recorded")
        entry["changes"] = [(_field_label(name), None, _value(name, value, unit_codes))
                            for name, value in (event.new_value or {}).items()]
    elif event.kind == "moved" and event.method == "reorganisation":
        entry["title"] = _("Moved by a reorganisation: %(before)s → %(after)s",
                           before=_value("unit_id", event.old_value, unit_codes),
                           after=_value("unit_id", event.new_value, unit_codes))
    elif event.kind == "moved":
        entry["title"] = _("Moved: %(before)s → %(after)s", before=_value("unit_id", event.old_value, unit_codes),
                           after=_value("unit_id", event.new_value, unit_codes))
    elif event.kind == "sighted":
        entry["title"] = _("Seen by a scan of %(unit)s; it stays in %(own)s until someone decides",
                           unit=_value("unit_id", event.new_value, unit_codes),
                           own=_value("unit_id", event.old_value, unit_codes))
    elif event.kind == "relocation":
        entry["title"] = _("Relocation confirmed") if " confirmed: " in event.detail else _("Relocation rejected")
    else:  # changed, status, interfaces
        entry["title"] = _("%(field)s changed", field=field_label)
        entry["changes"] = [(None, _value(event.field, event.old_value, unit_codes),
                             _value(event.field, event.new_value, unit_codes))]
    return entry


def _field_label(name: str | None) -> str:
    if name and name.startswith("specs.") and name[6:] in SPECS:
        return spec_label(SPECS[name[6:]])
    return str(FIELDS.get(name or "", name or ""))


def _value(name: str | None, value: Any, unit_codes: Mapping[int, str]) -> str:
    """A value the history keeps (as JSON), as the page shows it."""
    if value is None or value == "" or value == []:
        return "—"
    if name == "unit_id":
        return unit_codes.get(value, str(value))
    if name == "device_class":
        return label(DEVICE_CLASSES, value)
    if name == "status":
        return label(DEVICE_STATUSES, value)
    if name == "purchase_price_vnd" and isinstance(value, int):
        return vnd(value)
    if name in ("purchase_date", "warranty_end") and isinstance(value, str):
        return value[8:10] + "/" + value[5:7] + "/" + value[:4] if len(value) == 10 else value
    if name and name.startswith("specs.") and name[6:] in SPECS:
        return spec_text(SPECS[name[6:]], value)
    if name == "interfaces" and isinstance(value, list):
        return "; ".join(" ".join(str(part) for part in _interface_parts(item)) for item in value) or "—"
    return str(value)


def _interface_parts(item: Any) -> list[Any]:
    """An interface as the history keeps it: [mac, name, addresses, speed]."""
    if not isinstance(item, list) or len(item) != 4:
        return [item]
    mac, name, ips, speed = item
    return [part for part in (name, mac, ", ".join(ips or ()), f"{speed} Mbit/s" if speed else "") if part]


def agent_inventory(observation: Any) -> dict[str, Any] | None:
    """The hardware an inventory agent last reported (an observation of method `agent`, its `raw` evidence as the
    agent said it), as the device page's block shows it; None when no agent reported the device."""
    if observation is None:
        return None
    raw = (observation.evidence or {}).get("raw") or {}
    return {"agent_id": raw.get("agent_id"), "agent_version": raw.get("agent_version"),
            "at": observation.observed_at,
            "cpus": [{"name": cpu.get("name") or "", "cores": _count(cpu.get("cores")),
                      "threads": _count(cpu.get("threads"))} for cpu in raw.get("cpus") or []],
            "disks": [{"name": " ".join(part for part in (disk.get("name"), disk.get("model")) if part),
                       "size": _megabytes(disk.get("size_mb")),
                       "kind": str(CHOICES.get(disk.get("kind"), disk.get("kind") or "")),
                       "serial": disk.get("serial") or ""} for disk in raw.get("disks") or []],
            "monitors": [" ".join(part for part in (monitor.get("manufacturer"), monitor.get("caption")) if part)
                         + (f" ({monitor['serial']})" if monitor.get("serial") else "")
                         for monitor in raw.get("monitors") or []],
            "memory": f"{number(raw['memory_mb'])} MB" if isinstance(raw.get("memory_mb"), int) else "",
            "last_user": raw.get("last_user")}


def _count(value: Any) -> str:
    return number(value) if isinstance(value, int) else ""


def _megabytes(value: Any) -> str:
    """A disk's size, which agents give in decimal MB: in GB from 1,000 MB, as the label on the disk says."""
    if not isinstance(value, int | float):
        return ""
    return f"{number(round(value / 1000))} GB" if value >= 1000 else f"{number(value)} MB"
