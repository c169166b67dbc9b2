"""What the budget's coded values are called, in the reader's language: the pages' and the exports' one wording."""
from flask_babel import lazy_gettext as _l

REASONS = {"no_device": _l("No device"), "broken": _l("Broken"), "end_of_support": _l("End of support"),
           "upgrade": _l("Upgrade"), "below_spec": _l("Below specification"),
           "past_service_life": _l("Past service life"), "blanket": _l("Blanket replacement"),
           "standard_kit": _l("Standard kit")}
KINDS = {"targeted": _l("Targeted"), "blanket_age": _l("Blanket replacement by age"),
         "standard_kit": _l("Standard kit")}
PRIORITIES = {1: _l("P1: staff without a computer, a network that cannot work, a programme's deadline"),
              2: _l("P2: below specification"), 3: _l("P3: ageing")}
