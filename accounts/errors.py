"""Refusals of identity and permission, mapped to HTTP like every DomainError."""
from inventory.errors import DomainError, InvalidInput


class Unauthenticated(DomainError):
    status_code = 401


class Forbidden(DomainError):
    status_code = 403


class TooManyAttempts(DomainError):
    status_code = 429


class WrongPassword(InvalidInput):
    """The current password, given to change it, is wrong: counted like a failed sign-in."""
