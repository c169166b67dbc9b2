"""Refusals of discovery: a target outside the allowlist, a credential that does not add up."""
from core.errors import Conflict, InvalidInput


class RunAbandoned(Conflict):
    """The run was failed as abandoned while its worker still worked (no heartbeat landed in time)."""


class OutsideAllowlist(InvalidInput):
    """A network or address that no scan may touch (422, naming the field)."""
