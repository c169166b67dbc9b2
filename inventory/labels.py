"""What the pages call the inventory's coded values, in the page's language (the codes stay English in the
API and in files)."""
from flask_babel import lazy_gettext as _l

UNIT_KINDS = {"city": _l("city"), "agency": _l("agency"), "ward": _l("ward"), "commune": _l("commune"),
              "department": _l("department"), "other": _l("other")}
DEVICE_CLASSES = {"switch": _l("switch"), "router": _l("router"), "firewall": _l("firewall"),
                  "wireless": _l("wireless access point"), "printer": _l("printer"), "scanner": _l("scanner"),
                  "ups": _l("UPS"), "pdu": _l("power distribution unit"), "server": _l("server"),
                  "workstation": _l("desktop computer"), "laptop": _l("laptop"), "nas": _l("network storage"),
                  "storage": _l("storage array"), "camera": _l("camera"), "phone": _l("IP phone"),
                  "video-conference": _l("video-conference endpoint"), "other": _l("other device")}
DEVICE_STATUSES = {"in_use": _l("in use"), "spare": _l("spare"), "broken": _l("broken"),
                   "retired": _l("retired"), "missing": _l("missing")}
RELOCATION_STATUSES = {"pending": _l("pending"), "confirmed": _l("confirmed"), "rejected": _l("rejected"),
                       "superseded": _l("superseded")}
# Where a value came from: the observation's method.
METHODS = {"manual": _l("recorded by hand"), "import": _l("imported"), "agent": _l("inventory agent"),
           "snmp": _l("SNMP poll"), "nmap": _l("nmap sweep"), "fdb": _l("switch forwarding table"),
           "arp": _l("ARP table"), "collector": _l("remote collector")}
REORGANISATION_KINDS = {"merge": _l("merge"), "split": _l("split")}


def label(labels: dict, code: object) -> str:
    """The label of a code (an enum or its value); an unknown code is shown as it is."""
    value = getattr(code, "value", code)
    return str(labels.get(value, value)) if value is not None else ""
