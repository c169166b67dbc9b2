"""Accounts, the units an officer answers for, sessions, API tokens and sign-in failures."""
import datetime as dt
import enum

from sqlalchemy import JSON, Column, DateTime, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from core.time import utcnow
from inventory.models import Unit


class Role(enum.StrEnum):
    ADMIN = "admin"                # everything, everywhere
    UNIT_OFFICER = "unit_officer"  # reads and records the inventory of the subtrees they answer for
    FINANCE = "finance"            # reads everywhere; reviews and approves budget plans
    AUDITOR = "auditor"            # reads everything, the audit log included; changes nothing


user_unit = Table(
    "user_unit", Base.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("unit.id"), primary_key=True),
)


class User(Base):
    """A person who signs in. Unit officers see only the subtrees of their `units`."""

    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id
    role: Mapped[Role]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    units: Mapped[list[Unit]] = relationship(secondary=user_unit, order_by=Unit.code)
    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user")


class UserSession(Base):
    """A signed-in browser. The signed cookie carries a random key; only its SHA-256 hash is kept here, so
    that signing out (`ended_at`) makes a copy of the cookie worthless too."""

    __tablename__ = "user_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The address signed in from: failures elsewhere do not delay the user's sign-ins from it.
    ip: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)  # for the absolute lifetime
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)  # for the idle timeout
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A token for a script or a remote collector: it acts as its user, limited to `permissions`.

    Only a SHA-256 hash of the token is kept: the token itself is shown once, when created. A token
    made by another token records it as `parent_id`, and is revoked with it."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to recognise it in a list
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    permissions: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id"), index=True)

    user: Mapped[User] = relationship(back_populates="tokens")


class SignInFailure(Base):
    """A failed sign-in, counted to slow down password guessing."""

    __tablename__ = "sign_in_failure"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
