"""Users, the devices they log in from, and their bearer tokens."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, IntPrimaryKey, Timestamps, str_enum


class Role(enum.Enum):
    ADMIN = "admin"  # imports units, zones, standards and users; everything
    SUPERVISOR = "supervisor"  # 双创办 / 督查室: everything in their campaign
    INSPECTOR = "inspector"  # 检查组成员: units assigned to their teams in active rounds
    LIAISON = "liaison"  # 单位联络员: their own unit only


#: The field's roles: their phones are set up with a one-time code (enrolment) rather than a
#: typed password, and a supervisor manages their accounts in the campaign. Staff accounts log in
#: with their password and are the admins' to manage.
FIELD_ROLES = frozenset({Role.INSPECTOR, Role.LIAISON})


class User(IntPrimaryKey, Timestamps, Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    #: argon2id hash; never the password.
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    #: The campaign a supervisor, inspector or liaison works in; None for admins (all campaigns).
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="SET NULL"))
    #: A liaison's unit; required for liaisons, empty for everyone else.
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id", ondelete="SET NULL"), index=True)
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    email: Mapped[str] = mapped_column(sa.String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)


class Device(Timestamps, Base):
    """A phone or browser; registered on its first login with the id it made for itself."""

    __tablename__ = "devices"

    #: Chosen by the device (UUID) so it can be known before the first successful login.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    #: Its owner: the user who registered it. Nobody else logs in on it until the owner
    #: releases it (a shared team phone changing hands, docs/sync-protocol.md).
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    platform: Mapped[str] = mapped_column(sa.String(40), default="")
    app_version: Mapped[str] = mapped_column(sa.String(40), default="")
    last_seen_at: Mapped[dt.datetime | None]
    #: A lost or stolen phone: no token is issued to it and its tokens stop working.
    revoked_at: Mapped[dt.datetime | None]
    #: Released by its owner with its outbox drained: the next user to log in on it owns it.
    released_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()


class AuthToken(IntPrimaryKey, Base):
    """A bearer token; only its SHA-256 is stored, so a database leak yields no usable token."""

    __tablename__ = "auth_tokens"

    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()
    device: Mapped[Device] = relationship()


class RateLimitCounter(Base):
    """One window's count of one throttle key (failed logins of an account, requests from an
    address ...), shared by every worker and process serving the same database."""

    __tablename__ = "rate_limit_counters"

    #: The limit, what it counts for (an account, an address) and the window's number.
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    count: Mapped[int]
    #: Seconds since the epoch, as the ``limits`` library counts time; the row means nothing after it.
    expires_at: Mapped[float] = mapped_column(sa.Float, index=True)


class EnrolmentCode(IntPrimaryKey, Base):
    """A one-time code that sets up a user's phone instead of a typed password (shown as a QR
    code); only its SHA-256 is stored. Used once, or it lapses at ``expires_at``."""

    __tablename__ = "enrolment_codes"

    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime]
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    #: The device it set up.
    device_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("devices.id", ondelete="SET NULL"))
