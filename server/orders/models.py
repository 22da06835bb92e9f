"""Rectification orders (整改通知 / 督办单) and the units' responses (整改反馈)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, Timestamps, UUIDPrimaryKey, str_enum


class OrderStatus(enum.Enum):
    TRIAGE = "triage"  # no responsible unit yet: a supervisor must assign it
    ISSUED = "issued"  # with the unit, deadline running
    RESPONDED = "responded"  # the unit replied; waiting for verification (复查)
    CLOSED = "closed"  # 销号
    PARKED = "parked"  # 挂账: cannot be fixed in the limit; clock paused until review
    VOIDED = "voided"  # 作废
    ESCALATED = "escalated"  # superseded by a follow-up order (督办单) at the next level


class Order(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "orders"
    __table_args__ = (
        sa.Index("ix_orders_status_due_at", "status", "due_at"),
    )

    finding_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id", ondelete="SET NULL"), index=True)
    #: 1 整改通知 (yellow), 2 督办单 (orange), 3 通报/问责 (red), as the escalation policy names them.
    level: Mapped[int] = mapped_column(default=1)
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus), default=OrderStatus.ISSUED)
    issued_at: Mapped[dt.datetime]
    due_at: Mapped[dt.datetime | None]
    #: The deadline falls in a year whose official holiday schedule was not loaded yet.
    due_provisional: Mapped[bool] = mapped_column(default=False)
    #: The escalation policy version the order was created under; it keeps it for life.
    policy_version: Mapped[int] = mapped_column(default=1)
    #: The order this one follows up (a 督办单 points at the 整改通知 it escalates).
    parent_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("orders.id", ondelete="SET NULL"))
    issued_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[dt.datetime | None]
    #: Bumped by every step; a device's command names the version it acted on.
    version: Mapped[int] = mapped_column(default=1)


class Response(UUIDPrimaryKey, Timestamps, Base):
    """A unit's reply to an order: the measures taken, with after-photos (PhotoRef role=after)."""

    __tablename__ = "responses"

    order_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="RESTRICT"))
    responder_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    device_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("devices.id", ondelete="SET NULL"))
    measures: Mapped[str] = mapped_column(sa.Text)
    responded_at: Mapped[dt.datetime]
