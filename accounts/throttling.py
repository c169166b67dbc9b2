"""Sign-in throttling: slow password guessing down without letting a guesser lock the real user out.

Failed sign-ins are counted over the last 15 minutes, three ways:
- one address against one user name: 5 failures, then that pair is refused for the rest of the window;
- one address against any names: 20 failures, then that address is refused, except for the users who
  signed in from it (an office behind one NAT address);
- every address against one user name (a guesser spreading over many addresses): from the 10th failure
  on, each attempt waits 2 ** (failures - 10) seconds after the last failure (1, 2, 4 ... capped at a
  minute), and at 50 failures the name is refused. Addresses the user signed in from in the last 30
  days are spared these two, so a guesser elsewhere cannot keep the real user out.
An IPv6 address counts as its /64. A throttled attempt is refused before the password is checked, and
is not counted itself.
Failures are kept by the user name as `failure_key` normalises it, in Python: the database's lower()
folds differently (SQLite's not past ASCII), and a name that folds to another must count against it.
Each sign-in deletes a bounded batch of failures past the window, so the table does not only grow.

The address is the request's `remote_addr`: behind a reverse proxy, set TRUSTED_PROXIES (see
`accounts.web.install`), or every user shares the proxy's address and its limits."""
import datetime as dt
import ipaddress
import math

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from accounts.errors import TooManyAttempts
from accounts.models import SignInFailure, User, UserSession
from core.i18n import Reason
from core.time import utcnow

FAILURE_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_PAIR = 5       # one address, one user name
MAX_FAILURES_PER_ADDRESS = 20   # one address, any user names
MAX_FAILURES_PER_ACCOUNT = 50   # all addresses but the user's own, one user name
DELAYS_AFTER_FAILURES = 10      # per user name, before the delays start
MAX_DELAY = dt.timedelta(minutes=1)
KNOWN_ADDRESS_AGE = dt.timedelta(days=30)
PURGE_BATCH = 1000              # rows deleted by one sign-in attempt: its cost stays bounded
THROTTLED = Reason("too many failed sign-ins; wait 15 minutes and try again")
ACCOUNT_THROTTLED = Reason("too many failed sign-ins for this account; wait 15 minutes and try again")


def refuse_if_throttled(session: Session, username: str, ip: str, user: User | None) -> None:
    """Raise TooManyAttempts if this attempt must not even be checked. `user`: the account named, if any.

    From an address the user signed in from, only their own name's failures there count: a city office
    shares one address behind its NAT, and a guesser there must not lock the office's users out."""
    now = utcnow()
    recent = select(func.count(SignInFailure.id)).where(SignInFailure.at >= now - FAILURE_WINDOW,
                                                        SignInFailure.ip == address_key(ip))
    if session.scalar(recent.where(_named(username))) >= MAX_FAILURES_PER_PAIR:
        raise TooManyAttempts(THROTTLED, field="username")
    if user is not None and _signed_in_from(session, user.id, ip, now):
        return
    if session.scalar(recent) >= MAX_FAILURES_PER_ADDRESS:
        raise TooManyAttempts(THROTTLED, field="username")
    by_account, last_failure_at = session.execute(
        select(func.count(SignInFailure.id), func.max(SignInFailure.at))
        .where(_named(username), SignInFailure.at >= now - FAILURE_WINDOW)).one()
    refusal = account_refusal(by_account, last_failure_at, now)
    if refusal:
        raise refusal


def account_refusal(failures: int, last_failure_at: dt.datetime | None, now: dt.datetime) -> TooManyAttempts | None:
    """The refusal of an attempt on a user name with `failures` recent failures now, or None. A delay's
    refusal says how long to wait in `details` too (`retry_after_s`), for the page to translate."""
    if failures >= MAX_FAILURES_PER_ACCOUNT:
        return TooManyAttempts(ACCOUNT_THROTTLED, field="username")
    if failures < DELAYS_AFTER_FAILURES or last_failure_at is None:
        return None
    delay = min(dt.timedelta(seconds=2 ** (failures - DELAYS_AFTER_FAILURES)), MAX_DELAY)
    wait_s = math.ceil((last_failure_at + delay - now).total_seconds())
    if wait_s <= 0:
        return None
    # English here, for the API and the log; a page says it with ngettext from `retry_after_s` (accounts.pages).
    return TooManyAttempts(f"too many failed sign-ins for this account; try again in {wait_s} "
                           f"second{'' if wait_s == 1 else 's'}", field="username", details={"retry_after_s": wait_s})


def address_key(ip: str) -> str:
    """The address failures are counted by: an IPv6 client holds a whole /64 (privacy addresses change
    within it), so its /64 is one address here; IPv4, and anything unparsable, as it is."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:64]
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d is that IPv4 client
        return str(address.ipv4_mapped)
    return str(ipaddress.ip_network(f"{address}/64", strict=False))


def failure_key(username: str) -> str:
    """The name failures are kept and counted by: "\u212Aim" (a Kelvin sign) and " KIM " count against kim."""
    return username.strip().lower()[:64]


def count_failure(session: Session, username: str, ip: str) -> None:
    session.add(SignInFailure(username=failure_key(username), ip=address_key(ip), at=utcnow()))
    session.flush()


def purge_old_failures(session: Session) -> None:
    """Delete up to PURGE_BATCH failures that no longer count; a batch, so one attempt's cost stays bounded."""
    old = select(SignInFailure.id).where(SignInFailure.at < utcnow() - FAILURE_WINDOW).limit(PURGE_BATCH)
    session.execute(delete(SignInFailure).where(SignInFailure.id.in_(old)),
                    execution_options={"synchronize_session": False})


def forget_failures(session: Session, username: str, ip: str) -> None:
    """After a success, from this address only: a guesser elsewhere keeps the failures counted against it."""
    session.execute(delete(SignInFailure).where(_named(username), SignInFailure.ip == address_key(ip)))


def _named(username: str):
    return SignInFailure.username == failure_key(username)


def _signed_in_from(session: Session, user_id: int, ip: str, now: dt.datetime) -> bool:
    return session.scalar(select(UserSession.id).where(
        UserSession.user_id == user_id, UserSession.ip == ip[:64],
        UserSession.created_at >= now - KNOWN_ADDRESS_AGE).limit(1)) is not None
