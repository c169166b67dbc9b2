"""Reading one cell of a catalog's rows: text, whole numbers, VND, dates, yes/no, choices, percentages, and the
specifications that requirements, conditions and parts name, typed as the spec registry types a device's own.
Pure: a cell in, a typed value out, or `Bad` with the reason."""
import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from catalog.rules import DERIVED_SPECS, VERSION_SPECS, Check
from core.i18n import Reason
from inventory.specs import SPECS, InvalidSpec, SpecKind
from inventory.tables import cell_date, plain_text

OP_WORDS = {">=": "at_least", "<=": "at_most", "=": "is", "in": "one_of", **{op: op for op in
            ("at_least", "at_most", "is", "one_of")}}
OP_SYMBOLS = {"at_least": ">=", "at_most": "<=", "is": "=", "one_of": "in"}
CONDITION = re.compile(r"\s*(?P<spec>[a-z_]+)\s*(?P<op>>=|<=|=|\bin\b)\s*(?P<value>.+?)\s*")
YES = {"yes", "y", "có", "co", "x", "true", "1"}
NO = {"no", "n", "không", "khong", "false", "0", ""}
VND_MAX = 10 ** 15  # a thousand trillion dong: past any public budget, inside BigInteger


class Bad(ValueError):
    """A cell that cannot be read: its reason."""

    def __init__(self, reason: Reason):
        super().__init__(reason)
        self.reason = reason


# ---- cells ----------------------------------------------------------------------------------------------------

def text(value: Any, *, most: int = 2000, required: bool = False) -> str:
    found = " ".join(plain_text(value).split())
    if required and not found:
        raise Bad(Reason("a value is required"))
    if len(found) > most:
        raise Bad(Reason("%(length)s characters is longer than the %(most)s this column takes", length=len(found),
                         most=most))
    return found


def _finite(number: Decimal) -> Decimal:
    """NaN and Infinity read as Decimals but are no cell's number (and NaN refuses to compare)."""
    if not number.is_finite():
        raise InvalidOperation
    return number


def whole(value: Any, *, least: int = 0, most: int = 1_000_000, blank: int | None = None) -> int | None:
    """A whole number from a cell: 5, 5.0 (a spreadsheet's number), '5'; blank gives `blank`."""
    shown = plain_text(value)
    if not shown:
        return blank
    try:
        number = _finite(Decimal(shown))
    except InvalidOperation:
        raise Bad(Reason("%(value)r is not a whole number", value=shown)) from None
    if number != number.to_integral_value() or not least <= number <= most:
        raise Bad(Reason("%(value)r is not a whole number from %(least)s to %(most)s", value=shown, least=least,
                         most=most))
    return int(number)


THOUSANDS = re.compile(r"\d{1,3}(?:([.,\s])\d{3})(?:\1\d{3})*")


def vnd(value: Any) -> int | None:
    """Whole dong, >= 0: 15000000, or as text '15.000.000' or '15,000,000' (grouped thousands); blank is none."""
    shown = plain_text(value)
    if not shown:
        return None
    # Grouped thousands are read in text only: a spreadsheet's number 12.345 is twelve and a fraction, not 12345.
    digits = re.sub(r"[.,\s]", "", shown) if isinstance(value, str) and THOUSANDS.fullmatch(shown) else shown
    try:
        number = _finite(Decimal(digits))
    except InvalidOperation:
        raise Bad(Reason("%(value)r is not an amount in VND (whole dong, like 15000000)", value=shown)) from None
    if number < 0:
        raise Bad(Reason("%(value)r is negative; an amount in VND is 0 or more", value=shown))
    if number != number.to_integral_value():
        raise Bad(Reason("%(value)r is not whole dong; VND has no smaller unit", value=shown))
    if number > VND_MAX:
        raise Bad(Reason("%(value)r is larger than any amount this service takes", value=shown))
    return int(number)


def day(value: Any) -> dt.date | None:
    """dd/mm/yyyy as Vietnamese write dates, yyyy-mm-dd, or a spreadsheet's date cell; blank is none."""
    found = cell_date(value)
    shown = plain_text(value)
    if found is not None or not shown:
        return found
    raise Bad(Reason("%(value)r is not a date; write it as dd/mm/yyyy", value=shown))


def flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    shown = plain_text(value).lower()
    if shown in YES:
        return True
    if shown in NO:
        return False
    raise Bad(Reason("%(value)r is neither yes nor no (có/không)", value=shown))


def choices(value: Any, allowed: Iterable[str], *, what: Reason) -> tuple[str, ...]:
    """Values joined by | or , ; each one of `allowed`."""
    allowed = list(allowed)
    found = tuple(part.strip() for part in re.split(r"[|,;]", plain_text(value)) if part.strip())
    for part in found:
        if part not in allowed:
            raise Bad(Reason("%(value)r is not a %(what)s; use one of %(allowed)s", value=part, what=what,
                             allowed=", ".join(allowed)))
    return found


def percent(value: Any) -> Decimal | None:
    shown = plain_text(value).removesuffix("%").strip().replace(",", ".")
    if not shown:
        return None
    try:
        number = _finite(Decimal(shown))
    except InvalidOperation:
        raise Bad(Reason("%(value)r is not a percentage", value=shown)) from None
    if not 0 < number <= 100 or number != number.quantize(Decimal("0.01")):
        raise Bad(Reason("%(value)r is not a percentage above 0 and at most 100, with two decimals at most",
                         value=shown))
    return number


# ---- specs in requirements, conditions and parts --------------------------------------------------------------

def spec_name(value: Any) -> str:
    name = text(value, required=True)
    if name not in SPECS and name not in DERIVED_SPECS:
        known = ", ".join(sorted([*SPECS, *DERIVED_SPECS]))
        raise Bad(Reason("%(name)r is no specification; known ones are %(known)s", name=name, known=known))
    return name


def allowed_ops(spec: str) -> tuple[str, ...]:
    if spec in VERSION_SPECS:
        return ("at_least", "at_most", "is", "one_of")
    if spec == "cpu_generation" or SPECS[spec].kind in (SpecKind.INTEGER, SpecKind.NUMBER):
        return ("at_least", "at_most", "is")
    return ("is", "one_of")


def operator(spec: str, value: Any) -> str:
    shown = text(value, required=True).lower()
    op = OP_WORDS.get(shown)
    allowed = allowed_ops(spec)
    if op not in allowed:
        raise Bad(Reason("%(op)r does not compare %(spec)s; use %(allowed)s", op=shown, spec=spec,
                         allowed=", ".join(OP_SYMBOLS[o] for o in allowed)))
    return op


def spec_value(spec: str, op: str, value: Any) -> Any:
    """The value typed as the device's own would be: '8 GB' is 8, 'SSD' is 'ssd', 'có' True."""
    if op == "one_of":
        parts = [part for part in re.split(r"\s*\|\s*", plain_text(value)) if part]
        if not parts:
            raise Bad(Reason("a value is required"))
        return [_one_value(spec, part) for part in parts]
    return _one_value(spec, value)


def _one_value(spec: str, value: Any) -> Any:
    if spec == "cpu_generation":
        return whole(value, least=1, most=99)
    if spec == "firmware_version":
        return text(value, most=64, required=True)
    try:
        return SPECS[spec].parse(value)
    except InvalidSpec as error:
        raise Bad(error.problem) from None


def condition_list(value: Any) -> tuple[Check, ...]:
    """'port_count >= 48; poe = có': what a device of the category's classes must also have."""
    checks = []
    for part in filter(None, (p.strip() for p in plain_text(value).split(";"))):
        found = CONDITION.fullmatch(part)
        if not found:
            raise Bad(Reason("%(value)r is not a condition; write it like 'port_count >= 48'", value=part))
        spec = spec_name(found["spec"])
        op = operator(spec, found["op"])
        checks.append(Check(spec, op, spec_value(spec, op, found["value"])))
    return tuple(checks)


def raised_specs(value: Any) -> dict[str, Any]:
    """'storage_gb=256; storage_kind=ssd': the specs a part gives a device."""
    raised = {}
    for part in filter(None, (p.strip() for p in plain_text(value).split(";"))):
        name, sep, amount = part.partition("=")
        if not sep:
            raise Bad(Reason("%(value)r is not spec=value, like 'ram_gb=8'", value=part))
        spec = spec_name(name.strip())
        if spec in DERIVED_SPECS:
            raise Bad(Reason("a part cannot raise %(spec)s", spec=spec))
        raised[spec] = _one_value(spec, amount.strip())
    if not raised:
        raise Bad(Reason("a value is required"))
    return raised
