"""Refusals of sign-in, mapped to HTTP like every DomainError (Unauthenticated and Forbidden are core's)."""
from core.errors import DomainError, InvalidInput


class TooManyAttempts(DomainError):
    status_code = 429


class WrongPassword(InvalidInput):
    """The current password, given to change it, is wrong: counted like a failed sign-in."""
