"""Refusals of discovery: a target outside the allowlist, a credential that does not add up."""
from core.errors import InvalidInput


class OutsideAllowlist(InvalidInput):
    """A network or address that no scan may touch (422, naming the field)."""
