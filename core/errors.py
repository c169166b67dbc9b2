"""Domain errors: a reason for the user and the field at fault, mapped to HTTP once in app.py."""


class DomainError(Exception):
    """A refusal the user can act on. `reason` is shown as is; `field` names the input at fault."""

    status_code = 400

    def __init__(self, reason: str, *, field: str | None = None, details: object = None):
        super().__init__(reason)
        self.reason = reason
        self.field = field
        self.details = details


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class InvalidInput(DomainError):
    """Input that passed the schema but breaks a domain rule (422, like a schema error)."""

    status_code = 422


class MethodNotAllowed(DomainError):
    """A page asked with a method it does not take (a GET of a form's action)."""

    status_code = 405


class TooLarge(DomainError):
    """More than the service accepts at once (an upload past its size limit)."""

    status_code = 413


class Busy(DomainError):
    """The work asked for is already running as much as the service allows: try again later."""

    status_code = 429


class SchemaNotMigrated(DomainError):
    status_code = 503


class Unauthenticated(DomainError):
    """No one is signed in, or the credentials are not (or no longer) valid."""

    status_code = 401


class Forbidden(DomainError):
    """The caller's role does not allow this."""

    status_code = 403


class OutsideScope(DomainError):
    """The caller may not touch this unit: it is not one of the units they answer for."""

    status_code = 403
