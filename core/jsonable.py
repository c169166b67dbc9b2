"""Values as JSON holds them: the one place that turns dates and enums into text for stored JSON (history,
evidence, provenance, the audit log), so a value reads back as it was written, whoever wrote it."""
import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

_SCALARS = frozenset({str, int, float, bool, type(None)})


def json_value(value: Any) -> Any:
    """Dates and times as ISO text, enums as their value, mappings and sequences inside out; the rest as it is."""
    kind = type(value)
    if kind in _SCALARS:  # most values: no ABC check, no attribute lookup (a StrEnum is not exactly str)
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if kind is dict or isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dt.date):  # a datetime is a date too
        return value.isoformat()
    return value
