"""What a collector's states are called, in the reader's language: its pages' and the dashboards' one wording."""
from flask_babel import lazy_gettext as _l

STATES = {"never_seen": _l("never seen"), "ok": _l("in contact"), "silent": _l("silent for 15 minutes or more"),
          "revoked": _l("revoked")}
