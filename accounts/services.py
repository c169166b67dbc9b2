"""Accounts, sign-in with throttling, API tokens, and the caller a request acts as.

Nothing here commits; the caller owns the transaction."""
import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from accounts.errors import Forbidden, TooManyAttempts, Unauthenticated
from accounts.models import ApiToken, Role, SignInFailure, User, user_unit
from accounts.permissions import ROLE_PERMISSIONS, Permission
from inventory.errors import Conflict, InvalidInput, NotFound
from inventory.models import Unit, utcnow
from inventory.units import get_unit, subtree_ids

HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "rdy_"
# Sign-in throttling: past these many failures in the window, further attempts are refused.
FAILURE_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 20


@dataclass(frozen=True)
class Caller:
    """Who a request acts as, and what it may touch. `unit_ids` None means every unit."""
    name: str
    role: Role
    permissions: frozenset[Permission]
    unit_ids: frozenset[int] | None
    user_id: int
    via: str  # "session" or "token"

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password")
    return HASHER.hash(password)


def create_user(session: Session, username: str, display_name: str, password: str, role: Role,
                unit_codes: Iterable[str] = ()) -> User:
    if session.scalars(select(User.id).where(func.lower(User.username) == username.lower())).first():
        raise Conflict(f"user {username} already exists", field="username")
    user = User(username=username, display_name=display_name, password_hash=hash_password(password), role=role,
                active=True, session_version=1, units=_units(session, role, unit_codes))
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id, options=[selectinload(User.units)])
    if user is None:
        raise NotFound(f"user {user_id} does not exist", field="user_id")
    return user


def find_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(func.lower(User.username) == username.lower())).one_or_none()
    if user is None:
        raise NotFound(f"user {username!r} does not exist", field="username")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).options(selectinload(User.units)).order_by(User.username)))


def update_user(session: Session, user_id: int, changes: Mapping[str, object]) -> User:
    user = get_user(session, user_id)
    role = changes.get("role", user.role)
    if "display_name" in changes:
        user.display_name = changes["display_name"]
    if "password" in changes:
        user.password_hash = hash_password(str(changes["password"]))
        user.session_version += 1
    if "active" in changes:
        user.active = bool(changes["active"])
        user.session_version += 1
    if "unit_codes" in changes or "role" in changes:
        codes = changes.get("unit_codes", [u.code for u in user.units])
        user.units = _units(session, role, codes)
        user.role = role
    _keep_an_active_admin(session)
    return user


def sign_in(session: Session, username: str, password: str, ip: str) -> User:
    """The user, if the password is right and guessing has not been throttled; each failure is counted.

    The same message for an unknown user and a wrong password, so that names cannot be probed."""
    since = utcnow() - FAILURE_WINDOW
    by_name = session.scalar(select(func.count(SignInFailure.id)).where(
        func.lower(SignInFailure.username) == username.lower(), SignInFailure.at >= since))
    by_address = session.scalar(select(func.count(SignInFailure.id)).where(SignInFailure.ip == ip,
                                                                            SignInFailure.at >= since))
    if by_name >= MAX_FAILURES_PER_USERNAME or by_address >= MAX_FAILURES_PER_ADDRESS:
        raise TooManyAttempts("too many failed sign-ins; wait 15 minutes and try again", field="username")
    user = session.scalars(select(User).where(func.lower(User.username) == username.lower())).one_or_none()
    if user is None or not user.active or not _password_matches(user, password):
        session.add(SignInFailure(username=username[:64], ip=ip[:64], at=utcnow()))
        session.flush()
        raise Unauthenticated("wrong user name or password", field="password")
    session.execute(delete(SignInFailure).where(func.lower(SignInFailure.username) == username.lower()))
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    return user


def create_token(session: Session, user: User, name: str, permissions: Iterable[Permission],
                 expires_at: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """A new token and its secret value, which is never stored and never shown again."""
    wanted = set(permissions)
    beyond = sorted(p.value for p in wanted - ROLE_PERMISSIONS[user.role.value])
    if beyond:
        raise Forbidden(f"a token cannot do more than its user: {', '.join(beyond)}", field="permissions")
    value = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, prefix=value[:12], token_hash=_token_hash(value),
                     permissions=sorted(p.value for p in wanted | {Permission.PUBLIC}), expires_at=expires_at,
                     created_at=utcnow())
    session.add(token)
    session.flush()
    return token, value


def list_tokens(session: Session, user_id: int | None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.scalars(query))


def revoke_token(session: Session, token_id: int, caller: Caller) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != caller.user_id and not caller.may(Permission.ACCOUNTS_MANAGE)):
        raise NotFound(f"token {token_id} does not exist", field="token_id")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def caller_for_session(session: Session, user_id: int, session_version: int) -> Caller:
    user = session.get(User, user_id)
    if user is None or not user.active or user.session_version != session_version:
        raise Unauthenticated("your session has ended; sign in again")
    return _caller(session, user, ROLE_PERMISSIONS[user.role.value], "session")


def caller_for_token(session: Session, value: str) -> Caller:
    token = session.scalars(select(ApiToken).where(ApiToken.token_hash == _token_hash(value))).one_or_none()
    now = utcnow()
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        raise Unauthenticated("the API token is unknown, revoked or expired")
    if not token.user.active:
        raise Unauthenticated("the API token's user is deactivated")
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        token.last_used_at = now  # at most one write a minute per token, not one per request
    permissions = ROLE_PERMISSIONS[token.user.role.value] & {Permission(p) for p in token.permissions}
    return _caller(session, token.user, frozenset(permissions), "token")


def _caller(session: Session, user: User, permissions: frozenset[Permission], via: str) -> Caller:
    unit_ids = None
    if user.role is Role.UNIT_OFFICER:
        unit_ids = frozenset(i for unit in user.units for i in subtree_ids(session, unit.code))
    return Caller(user.username, user.role, permissions, unit_ids, user.id, via)


def follow_reorganisation(session: Session, successors: Mapping[int, int]) -> None:
    """An officer of a merged or split unit answers for its successor."""
    rows = session.execute(select(user_unit.c.user_id, user_unit.c.unit_id)
                           .where(user_unit.c.unit_id.in_(successors))).all()
    for user_id, unit_id in rows:
        user = session.get(User, user_id)
        successor = session.get(Unit, successors[unit_id])
        user.units = sorted({*[u for u in user.units if u.id != unit_id], successor}, key=lambda u: u.code)
    session.flush()


def _units(session: Session, role: Role, codes: Iterable[str]) -> list[Unit]:
    codes = list(dict.fromkeys(codes))
    if role is Role.UNIT_OFFICER and not codes:
        raise InvalidInput("a unit officer needs at least one unit", field="unit_codes")
    if role is not Role.UNIT_OFFICER and codes:
        raise InvalidInput(f"only unit officers are limited to units; a {role.value} sees all of them",
                           field="unit_codes")
    units = [get_unit(session, code, field="unit_codes") for code in codes]
    inactive = [u.code for u in units if not u.active]
    if inactive:
        raise Conflict(f"unit {inactive[0]} is inactive", field="unit_codes")
    return units


def _keep_an_active_admin(session: Session) -> None:
    session.flush()
    admins = session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN, User.active.is_(True)))
    if admins == 0:
        raise Conflict("this would leave no active administrator", field="role")


def _password_matches(user: User, password: str) -> bool:
    try:
        return HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
