"""Who a request acts as. The accounts package identifies the caller before each request (`g.caller`);
every other package only reads it here, so none of them needs to know how accounts, sessions or tokens work."""
from dataclasses import dataclass

from flask import g

from core.errors import Unauthenticated
from core.i18n import Reason
from core.permissions import Permission


@dataclass(frozen=True)
class Caller:
    """Who a request acts as, and what it may touch. `unit_ids` None means every unit."""
    name: str
    role: str  # a StrEnum of accounts (admin, unit_officer, finance, auditor)
    permissions: frozenset[Permission]
    unit_ids: frozenset[int] | None
    user_id: int
    via: str  # "session" or "token"
    session_id: int | None = None  # the UserSession, for a session
    token_id: int | None = None    # the ApiToken, for a token

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions


def current_caller() -> Caller:
    caller = g.get("caller")
    if caller is None:  # the accounts hook lets no such request reach a handler that asks
        raise Unauthenticated(Reason("sign in first"))
    return caller


def caller_scope() -> frozenset[int] | None:
    """The unit ids the caller may see and touch; None for every unit."""
    return current_caller().unit_ids
