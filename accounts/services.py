"""Accounts, sign-in, server-side sessions, API tokens, and the caller a request acts as.

Nothing here commits; the caller owns the transaction."""
import datetime as dt
import functools
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from accounts.errors import WrongPassword
from accounts.models import ApiToken, Role, User, UserSession, user_unit
from accounts.permissions import ROLE_PERMISSIONS
from accounts.schemas import TokenSchema, UserSchema
from accounts.throttling import (
    KNOWN_ADDRESS_AGE,
    PURGE_BATCH,
    count_failure,
    forget_failures,
    purge_old_failures,
    refuse_if_throttled,
)
from core.audit import record
from core.caller import Caller
from core.encryption import digest
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from core.i18n import Reason
from core.permissions import Permission
from core.time import utcnow
from inventory.changes import units_reorganised
from inventory.models import Unit
from inventory.units import get_unit, subtree_ids

# argon2id with the library's current recommended parameters: a verification costs about 0.3 s of CPU and
# 64 MiB (the web layer bounds how many run at once: `accounts.web.password_check`).
HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "rdy_"
LAST_USE_PRECISION = dt.timedelta(minutes=1)  # one write a minute per token or session, not one per request
SESSION_ENDED = Reason("your session has ended; sign in again")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(Reason("a password needs at least %(min)s characters", min=MIN_PASSWORD_LENGTH),
                           field="password")
    return HASHER.hash(password)


def create_user(session: Session, username: str, display_name: str, password: str, role: Role,
                unit_codes: Iterable[str] = ()) -> User:
    if session.scalars(select(User.id).where(func.lower(User.username) == username.lower())).first():
        raise Conflict(Reason("user %(username)s already exists", username=username), field="username")
    user = User(username=username, display_name=display_name, password_hash=hash_password(password), role=role,
                active=True, units=_units(session, role, unit_codes))
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id, options=[selectinload(User.units)])
    if user is None:
        raise NotFound(Reason("user %(id)s does not exist", id=user_id), field="user_id")
    return user


def find_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(func.lower(User.username) == username.lower())).one_or_none()
    if user is None:
        raise NotFound(Reason("user %(username)r does not exist", username=username), field="username")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).options(selectinload(User.units)).order_by(User.username)))


def officers_of(session: Session, unit_id: int) -> list[User]:
    """The active accounts that answer for a unit (a unit officer's own units, not the units above them)."""
    return list(session.scalars(select(User).join(user_unit, user_unit.c.user_id == User.id)
                                .where(user_unit.c.unit_id == unit_id, User.active.is_(True))
                                .order_by(User.display_name)))


def update_user(session: Session, user_id: int, changes: Mapping[str, object]) -> User:
    """An administrator's change. A new password ends the user's sessions and revokes their tokens (the
    count is left in `user.tokens_revoked`, not a column); a deactivation ends the sessions."""
    user = get_user(session, user_id)
    user.tokens_revoked = 0
    role = changes.get("role", user.role)
    if "display_name" in changes:
        user.display_name = changes["display_name"]
    if "password" in changes:
        user.password_hash = hash_password(str(changes["password"]))
        user.tokens_revoked = revoke_tokens_of(session, user.id)
    if "active" in changes:
        user.active = bool(changes["active"])
    if "password" in changes or "active" in changes:
        end_sessions_of(session, user.id)
    if "unit_codes" in changes or "role" in changes:
        codes = changes.get("unit_codes", [u.code for u in user.units])
        user.units = _units(session, role, codes)
        user.role = role
    _keep_an_active_admin(session)
    return user


def sign_in(session: Session, username: str, password: str, ip: str) -> User:
    """The user, if the password is right and guessing has not been throttled (`accounts.throttling`);
    each failure is counted, and each attempt deletes a batch of failures that no longer count.

    The same message for an unknown user and a wrong password, and the same work: an unknown or inactive
    user's attempt is verified against a dummy hash, so that response times do not tell names apart."""
    purge_old_failures(session)
    user = _signing_in(session, username)
    refuse_if_throttled(session, username, ip, user)
    matches = _password_matches(user.password_hash if user else dummy_hash(), password)
    if user is None or not user.active or not matches:
        count_failure(session, username, ip)
        raise Unauthenticated(Reason("wrong user name or password"), field="password")
    forget_failures(session, username, ip)
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    return user


def _signing_in(session: Session, username: str) -> User | None:
    """The account a sign-in names. User names are ASCII (their schema): a name outside it matches no one,
    rather than the name it folds to (U+212A, the Kelvin sign, lowers to "k")."""
    name = username.strip()
    if not name.isascii():
        return None
    return session.scalars(select(User).where(func.lower(User.username) == name.lower())).one_or_none()


@functools.cache
def dummy_hash() -> str:
    """A hash of a random password with the real parameters: checked when no account can match."""
    return HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class PasswordChange:
    sessions_ended: int
    tokens_revoked: int


def change_own_password(session: Session, caller: Caller, old_password: str, new_password: str,
                        ip: str) -> PasswordChange:
    """The caller's new password. The old one is required (a wrong one counts as a failed sign-in, and
    is throttled like one); the caller's other sessions end and all their tokens are revoked, while the
    session making the change stays. Only from a session: a script's token does not change passwords."""
    if caller.via != "session":
        raise Forbidden(Reason("change your password from a signed-in session, not with an API token"))
    user = get_user(session, caller.user_id)
    confirm_password(session, user, old_password, ip, field="old_password")
    if new_password == old_password:
        raise InvalidInput(Reason("the new password must differ from the current one"), field="new_password")
    try:
        user.password_hash = hash_password(new_password)
    except InvalidInput as error:
        raise InvalidInput(error.reason, field="new_password") from None
    return PasswordChange(sessions_ended=end_sessions_of(session, user.id, keep_id=caller.session_id),
                          tokens_revoked=revoke_tokens_of(session, user.id))


def confirm_password(session: Session, user: User, password: str, ip: str, *, field: str) -> None:
    """Refuse a wrong current password as a sign-in would: throttled first, then counted as a failure (the
    caller commits it on WrongPassword); a right one forgets this address's failures, as a sign-in does."""
    refuse_if_throttled(session, user.username, ip, user)
    if not _password_matches(user.password_hash, password):
        count_failure(session, user.username, ip)
        raise WrongPassword(Reason("the current password is wrong"), field=field)
    forget_failures(session, user.username, ip)


@dataclass(frozen=True)
class SessionLimits:
    """A session ends `absolute` after signing in however busy, and after `idle` without a request."""
    absolute: dt.timedelta
    idle: dt.timedelta


def open_user_session(session: Session, user_id: int, ip: str, limits: SessionLimits) -> str:
    """A new session's key, for the signed cookie; only its hash is stored."""
    key = secrets.token_urlsafe(32)
    now = utcnow()
    _purge_old_sessions(session, now - max(KNOWN_ADDRESS_AGE, limits.absolute))
    session.add(UserSession(user_id=user_id, key_hash=digest(key), ip=ip[:64], created_at=now, last_seen_at=now))
    session.flush()
    return key


def _purge_old_sessions(session: Session, before: dt.datetime) -> None:
    """Delete up to PURGE_BATCH sessions opened before `before`, a batch so that a sign-in's cost stays
    bounded. Younger ended sessions stay: they mark the addresses the user signed in from, which
    throttling spares (`accounts.throttling.KNOWN_ADDRESS_AGE`); `before` is past any absolute lifetime."""
    old = select(UserSession.id).where(UserSession.created_at < before).limit(PURGE_BATCH)
    session.execute(delete(UserSession).where(UserSession.id.in_(old)),
                    execution_options={"synchronize_session": False})


def end_user_session(session: Session, key: str) -> None:
    """Sign out: every copy of the cookie stops working."""
    session.execute(update(UserSession).where(UserSession.key_hash == digest(key), UserSession.ended_at.is_(None))
                    .values(ended_at=utcnow()))


def end_sessions_of(session: Session, user_id: int, *, keep_id: int | None = None) -> int:
    """End the user's open sessions but `keep_id`; how many ended."""
    query = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if keep_id is not None:
        query = query.where(UserSession.id != keep_id)
    return session.execute(query.values(ended_at=utcnow())).rowcount


def caller_for_session(session: Session, key: str, limits: SessionLimits) -> Caller:
    row = session.scalars(select(UserSession).options(joinedload(UserSession.user))
                          .where(UserSession.key_hash == digest(key))).one_or_none()
    now = utcnow()
    if row is None or row.ended_at is not None or now - row.created_at >= limits.absolute \
            or now - row.last_seen_at >= limits.idle:
        raise Unauthenticated(SESSION_ENDED)
    user = row.user
    if not user.active:
        raise Unauthenticated(SESSION_ENDED)
    # Written at most once a minute, but at least twice per idle timeout: a short one must not end a session
    # whose requests come more often than it.
    if now - row.last_seen_at > min(LAST_USE_PRECISION, limits.idle / 2):
        row.last_seen_at = now
    return _caller(session, user, ROLE_PERMISSIONS[user.role.value], "session", session_id=row.id)


@dataclass(frozen=True)
class TokenLifetimes:
    """A token's expiry when none is asked for, and the latest one may ask for, from its creation."""
    default: dt.timedelta = dt.timedelta(days=90)
    maximum: dt.timedelta = dt.timedelta(days=365)


def create_token(session: Session, user: User, name: str, permissions: Iterable[Permission],
                 expires_at: dt.datetime | None = None, *, parent: ApiToken | None = None,
                 lifetimes: TokenLifetimes = TokenLifetimes()) -> tuple[ApiToken, str]:
    """A new token and its secret value, which is never stored and never shown again.

    A token created by a token (`parent`) may hold only permissions its parent has and expire no later,
    and is revoked with it: a narrow token cannot mint a wider or longer-lived one."""
    wanted = set(permissions)
    beyond = _beyond(wanted, ROLE_PERMISSIONS[user.role.value])
    if beyond:
        raise Forbidden(Reason("a token cannot do more than its user: %(permissions)s", permissions=beyond),
                        field="permissions")
    beyond = _beyond(wanted, token_permissions(parent)) if parent is not None else ""
    if beyond:
        raise Forbidden(Reason("a token cannot create a token that does more than itself: %(permissions)s",
                               permissions=beyond), field="permissions")
    now = utcnow()
    value = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, prefix=value[:12], token_hash=digest(value),
                     permissions=sorted(p.value for p in wanted | {Permission.PUBLIC}),
                     expires_at=_token_expiry(expires_at, parent, lifetimes, now),
                     parent_id=parent.id if parent else None, created_at=now)
    session.add(token)
    session.flush()
    return token, value


def confirm_token_creator(session: Session, caller: Caller, password: str | None, ip: str) -> None:
    """A token made from a session needs the user's current password, so that a stolen session cookie cannot
    mint a long-lived token that outlives signing out. A token making one needs none: its own permissions and
    expiry bound what it makes (`create_token`)."""
    if caller.via != "session":
        return
    if not password:
        raise InvalidInput(Reason("creating a token from a signed-in session needs your current password"),
                           field="password")
    confirm_password(session, get_user(session, caller.user_id), password, ip, field="password")


def token_permissions(token: ApiToken) -> frozenset[Permission]:
    """What a token may do: what it lists, within what its user's role allows today."""
    return ROLE_PERMISSIONS[token.user.role.value] & {Permission(p) for p in token.permissions}


def list_tokens(session: Session, caller: Caller) -> list[ApiToken]:
    """The tokens within the caller's reach (`_within_reach`)."""
    query = select(ApiToken).order_by(ApiToken.id)
    if caller.via == "token":
        query = query.where(ApiToken.id.in_([caller.token_id, *_descendant_ids(session, caller.token_id)]))
    elif not caller.may(Permission.ACCOUNTS_MANAGE):
        query = query.where(ApiToken.user_id == caller.user_id)
    return list(session.scalars(query))


def revoke_token(session: Session, token_id: int, caller: Caller) -> tuple[ApiToken, list[int]]:
    """Revoke a token and the tokens it created, theirs in turn; the second: the ids revoked with it."""
    token = session.get(ApiToken, token_id)
    if token is None or not _within_reach(session, token, caller):
        raise NotFound(Reason("token %(id)s does not exist", id=token_id), field="token_id")
    now = utcnow()
    if token.revoked_at is None:
        token.revoked_at = now
    live = select(ApiToken.id).where(ApiToken.id.in_(_descendant_ids(session, token.id)), ApiToken.revoked_at.is_(None))
    descendants = list(session.scalars(live.order_by(ApiToken.id)))
    session.execute(update(ApiToken).where(ApiToken.id.in_(descendants)).values(revoked_at=now))
    return token, descendants


def revoke_tokens_of(session: Session, user_id: int) -> int:
    """Revoke the user's live tokens; how many."""
    now = utcnow()
    return session.execute(update(ApiToken).where(
        ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None),
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now)).values(revoked_at=now)).rowcount


def caller_for_token(session: Session, value: str) -> Caller:
    token = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest(value))).one_or_none()
    now = utcnow()
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        raise Unauthenticated(Reason("the API token is unknown, revoked or expired"))
    if not token.user.active:
        raise Unauthenticated(Reason("the API token's user is deactivated"))
    if token.last_used_at is None or now - token.last_used_at > LAST_USE_PRECISION:
        token.last_used_at = now
    return _caller(session, token.user, token_permissions(token), "token", token_id=token.id)


def _caller(session: Session, user: User, permissions: frozenset[Permission], via: str, *,
            session_id: int | None = None, token_id: int | None = None) -> Caller:
    unit_ids = None
    if user.role is Role.UNIT_OFFICER:
        unit_ids = frozenset(i for unit in user.units for i in subtree_ids(session, unit.code))
    return Caller(user.username, user.role, permissions, unit_ids, user.id, via, session_id, token_id)


@units_reorganised.connect
def follow_reorganisation(session: Session, *, successors: Mapping[int, int], by: str, **_) -> None:
    """An officer of a merged or split unit answers for its successor; each officer's change is audited,
    as the caller making the reorganisation (their scope widens with a merge)."""
    rows = session.execute(select(user_unit.c.user_id, user_unit.c.unit_id)
                           .where(user_unit.c.unit_id.in_(successors)).order_by(user_unit.c.user_id)).all()
    followed: dict[int, list[int]] = {}
    for user_id, unit_id in rows:
        followed.setdefault(user_id, []).append(unit_id)
    for user_id, unit_ids in followed.items():
        user = session.get(User, user_id)
        before = [u.code for u in user.units]
        moves = [(session.get(Unit, unit_id), session.get(Unit, successors[unit_id])) for unit_id in unit_ids]
        kept = [u for u in user.units if u.id not in unit_ids]
        user.units = sorted({*kept, *(successor for _, successor in moves)}, key=lambda u: u.code)
        record(session, by, "user.follow_reorganisation", "user", user.id, before={"unit_codes": before},
               after={"unit_codes": [u.code for u in user.units]},
               detail="; ".join(f"{old.code} -> {new.code}" for old, new in moves) + ": answers for the successor unit")
    session.flush()


# Each change as the API and the pages make it, with its audit entry: one path for both, so that the log reads
# the same whichever made the change. `caller` (or `by`) is who made it.
def create_user_audited(session: Session, by: str, username: str, display_name: str, password: str, role: Role,
                        unit_codes: Iterable[str] = ()) -> User:
    user = create_user(session, username, display_name, password, role, unit_codes)
    record(session, by, "user.create", "user", user.id, after=UserSchema().dump(user))
    return user


def update_user_audited(session: Session, by: str, user_id: int, changes: Mapping[str, object]) -> User:
    before = UserSchema().dump(get_user(session, user_id))
    user = update_user(session, user_id, changes)
    detail = f"password changed; {user.tokens_revoked} tokens revoked, sessions ended" if "password" in changes else ""
    record(session, by, "user.update", "user", user.id, before=before, after=UserSchema().dump(user), detail=detail)
    return user


def change_own_password_audited(session: Session, caller: Caller, old_password: str, new_password: str,
                                ip: str) -> PasswordChange:
    """`change_own_password`; the web layer holds a password check's slot around it (accounts.web)."""
    change = change_own_password(session, caller, old_password, new_password, ip)
    record(session, caller.name, "user.password_change", "user", caller.user_id,
           detail=f"own password changed; {change.sessions_ended} other sessions ended, "
                  f"{change.tokens_revoked} tokens revoked")
    return change


def create_token_audited(session: Session, caller: Caller, name: str, permissions: Iterable[Permission],
                         expires_at: dt.datetime | None, lifetimes: TokenLifetimes) -> tuple[ApiToken, str]:
    """A token of the caller's, made by a token (then within it) or from a session, whose password the web layer
    has confirmed first (`confirm_token_creator`)."""
    user = get_user(session, caller.user_id)
    parent = session.get(ApiToken, caller.token_id) if caller.token_id is not None else None
    token, value = create_token(session, user, name, permissions, expires_at, parent=parent, lifetimes=lifetimes)
    record(session, caller.name, "token.create", "token", token.id, after=TokenSchema().dump(token))
    return token, value


def revoke_token_audited(session: Session, token_id: int, caller: Caller) -> ApiToken:
    token, descendants = revoke_token(session, token_id, caller)
    detail = f"and the tokens it created: {', '.join(map(str, descendants))}" if descendants else ""
    record(session, caller.name, "token.revoke", "token", token.id, detail=detail)
    return token


def own_tokens(session: Session, user_id: int) -> list[ApiToken]:
    """The user's own tokens, newest first (an administrator's account page: not everyone's)."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())))


def _units(session: Session, role: Role, codes: Iterable[str]) -> list[Unit]:
    codes = list(dict.fromkeys(codes))
    if role is Role.UNIT_OFFICER and not codes:
        raise InvalidInput(Reason("a unit officer needs at least one unit"), field="unit_codes")
    if role is not Role.UNIT_OFFICER and codes:
        raise InvalidInput(Reason("only unit officers are limited to units; a %(role)s sees all of them",
                                  role=role.value), field="unit_codes")
    units = [get_unit(session, code, field="unit_codes") for code in codes]
    inactive = [u.code for u in units if not u.active]
    if inactive:
        raise Conflict(Reason("unit %(code)s is inactive", code=inactive[0]), field="unit_codes")
    return units


def _keep_an_active_admin(session: Session) -> None:
    session.flush()
    admins = session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN, User.active.is_(True)))
    if admins == 0:
        raise Conflict(Reason("this would leave no active administrator"), field="role")


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _beyond(wanted: set[Permission], allowed: frozenset[Permission]) -> str:
    """The permissions wanted but not allowed, in order and comma-separated ("" for none)."""
    return ", ".join(sorted(p.value for p in wanted - allowed))


def _token_expiry(requested: dt.datetime | None, parent: ApiToken | None, lifetimes: TokenLifetimes,
                  now: dt.datetime) -> dt.datetime:
    """The asked expiry if allowed, else the default; never past the creating token's own."""
    limit = parent.expires_at if parent is not None else None
    if requested is not None:
        if requested <= now:
            raise InvalidInput(Reason("expires_at must be in the future"), field="expires_at")
        if requested > now + lifetimes.maximum:
            raise InvalidInput(Reason("a token may live at most %(days)s days", days=lifetimes.maximum.days),
                               field="expires_at")
        if limit is not None and requested > limit:
            raise InvalidInput(Reason("a token cannot outlive the token that creates it: expires_at must be at "
                                      "most %(limit)sZ", limit=f"{limit:%Y-%m-%dT%H:%M:%S}"), field="expires_at")
        return requested
    default = now + lifetimes.default
    return min(default, limit) if limit is not None else default


def _within_reach(session: Session, token: ApiToken, caller: Caller) -> bool:
    """A token reaches itself and the tokens it created, theirs in turn: not its user's other tokens, so a
    script's narrow token cannot revoke a sibling or the token that created it. A session reaches its user's
    tokens; an administrator's session everyone's."""
    if caller.via == "token":
        return token.id == caller.token_id or token.id in _descendant_ids(session, caller.token_id)
    return token.user_id == caller.user_id or caller.may(Permission.ACCOUNTS_MANAGE)


def _descendant_ids(session: Session, token_id: int) -> list[int]:
    found, generation = [], [token_id]
    while generation:
        generation = list(session.scalars(select(ApiToken.id).where(ApiToken.parent_id.in_(generation))))
        found += generation
    return found
