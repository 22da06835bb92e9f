"""The notices a person receives, and the outbox rows that carry them to email and webhook.

A :class:`Notification` is written in the same transaction as the event it tells of, so a
rolled-back escalation leaves no notice behind, and a committed one cannot lose its notice.
Each channel the person can be reached on gets a :class:`Delivery`, which the scheduler's
``notifications.deliver`` job sends, retries and finally dead-letters.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, IntPrimaryKey, str_enum


class Notification(IntPrimaryKey, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # A scheduler that runs a step twice (or two schedulers at once) notifies once: callers
        # name the step, e.g. "escalate:<order>:2". NULL keys are never equal, so they never clash.
        sa.UniqueConstraint("user_id", "dedupe_key"),
        # The feed: a person's notices, newest first.
        sa.Index("ix_notifications_user_id_id", "user_id", "id"),
    )

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    #: Dotted, e.g. order.reminder, order.escalated, digest.daily; apps pick an icon by it.
    kind: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    #: What the notice is about, for links in the app: order_id, unit, level, deadline ...
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(128))
    created_at: Mapped[dt.datetime]
    read_at: Mapped[dt.datetime | None]


class DeliveryChannel(enum.Enum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryStatus(enum.Enum):
    PENDING = "pending"  # waiting for its next attempt (or being sent now, see claim_token)
    SENT = "sent"
    DEAD = "dead"  # gave up after XUNCHA_NOTIFY_MAX_ATTEMPTS; an admin may resend it


class Delivery(IntPrimaryKey, Base):
    """One notice on one channel: the outbox row."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        # The job's one query: pending rows whose time has come, oldest first.
        sa.Index("ix_notification_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        # The admin list of dead letters, by id.
        sa.Index("ix_notification_deliveries_status_id", "status", "id"),
    )

    notification_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    #: The recipient, copied from the notification so the job groups without a join.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    channel: Mapped[DeliveryChannel] = mapped_column(str_enum(DeliveryChannel))
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    #: When the job may take it; while a job sends it, the end of that job's lease.
    next_attempt_at: Mapped[dt.datetime]
    #: The job run that holds it; its result is recorded only by that run.
    claim_token: Mapped[uuid.UUID | None]
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    sent_at: Mapped[dt.datetime | None]
    #: The message it went out in; the deliveries of one digest share it.
    message_id: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[dt.datetime]

    notification: Mapped[Notification] = relationship(lazy="selectin")
