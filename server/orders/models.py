"""Rectification orders (整改通知 / 督办单), the units' responses (整改反馈), the requests a unit
makes of a supervisor (延期 / 回退 / 挂账 / 作废), the escalation steps, and the policy versions."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, IntPrimaryKey, Timestamps, UUIDPrimaryKey, str_enum


class OrderStatus(enum.Enum):
    TRIAGE = "triage"  # no responsible unit yet: a supervisor must assign it
    ISSUED = "issued"  # with the unit, deadline running
    RESPONDED = "responded"  # the unit replied; waiting for verification (复查)
    CLOSED = "closed"  # 销号
    PARKED = "parked"  # 挂账: cannot be fixed in the limit; clock paused until review
    VOIDED = "voided"  # 作废


#: States in which an order still needs someone to act.
OPEN_STATUSES = (OrderStatus.TRIAGE, OrderStatus.ISSUED, OrderStatus.RESPONDED, OrderStatus.PARKED)


class Order(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "orders"
    __table_args__ = (
        # The escalation sweep and the reminder job read these two, and nothing else, at scale.
        sa.Index("ix_orders_status_escalate_at", "status", "escalate_at"),
        sa.Index("ix_orders_status_remind_at", "status", "remind_at"),
    )

    finding_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id", ondelete="SET NULL"), index=True)
    #: 1 整改通知 (yellow), 2 督办单 (orange), 3 通报/问责 (red), as the escalation policy names them.
    level: Mapped[int] = mapped_column(default=1)
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus), default=OrderStatus.ISSUED)
    issued_at: Mapped[dt.datetime]
    #: When the current deadline started running (issue, reassignment, rejection, resumption).
    started_at: Mapped[dt.datetime | None]
    due_at: Mapped[dt.datetime | None]
    #: The deadline falls in a year whose official holiday schedule was not loaded yet.
    due_provisional: Mapped[bool] = mapped_column(default=False)
    #: When the scheduler is to escalate it: the deadline, unless it is at the top level already.
    escalate_at: Mapped[dt.datetime | None]
    #: The limit the current deadline was computed from, as the policy writes it ("4wh", "5wd").
    time_limit: Mapped[str] = mapped_column(sa.String(16), default="")
    #: The next reminder to send; empty when none is left before the deadline.
    remind_at: Mapped[dt.datetime | None]
    #: Index into the policy's reminders of the one at remind_at.
    reminder_index: Mapped[int] = mapped_column(default=0)
    #: The escalation policy version the order was created under; it keeps it for life.
    policy_version: Mapped[int] = mapped_column(default=1)
    #: Office time left on the deadline when the order was parked (挂账), in seconds.
    paused_remaining_s: Mapped[float | None]
    #: When a parked order is to be looked at again.
    review_at: Mapped[dt.datetime | None]
    #: How often the order was sent back as mis-dispatched (回退).
    bounces: Mapped[int] = mapped_column(default=0)
    #: Set when a supervisor must decide (bounced too often); cleared by assigning the order.
    needs_supervisor: Mapped[bool] = mapped_column(default=False)
    #: The closed order whose problem came back at the same place (反弹).
    rebound_of_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("orders.id", ondelete="SET NULL"))
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
    #: Sent after the deadline had passed.
    late: Mapped[bool] = mapped_column(default=False)


class RequestKind(enum.Enum):
    EXTENSION = "extension"  # 延期
    RETURN = "return"  # 回退: sent to the wrong unit
    PARK = "park"  # 挂账: cannot be fixed within the limit
    VOID = "void"  # 作废


class RequestStatus(enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"  # the order moved on before anyone decided


class OrderRequest(UUIDPrimaryKey, Timestamps, Base):
    """A unit asks; a supervisor approves or refuses. The order's clock keeps running meanwhile."""

    __tablename__ = "order_requests"
    __table_args__ = (sa.Index("ix_order_requests_status", "status"),)

    order_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[RequestKind] = mapped_column(str_enum(RequestKind))
    status: Mapped[RequestStatus] = mapped_column(str_enum(RequestStatus), default=RequestStatus.PENDING)
    reason: Mapped[str] = mapped_column(sa.Text)
    #: 延期: the extra time asked for ("3wd"); 挂账: when to look at it again.
    extra: Mapped[str] = mapped_column(sa.String(16), default="")
    review_at: Mapped[dt.datetime | None]
    requested_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    requested_at: Mapped[dt.datetime]
    device_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("devices.id", ondelete="SET NULL"))
    decided_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None]
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")


class Escalation(Base):
    """One step up the ladder. The key makes a second scheduler's attempt at the same step fail."""

    __tablename__ = "order_escalations"

    order_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[int] = mapped_column(primary_key=True)
    #: When the step took effect: the missed deadline for the scheduler, the moment for a person.
    escalated_at: Mapped[dt.datetime]
    previous_due_at: Mapped[dt.datetime | None]
    due_at: Mapped[dt.datetime | None]
    #: Empty when the scheduler did it.
    escalated_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(sa.Text, default="")


class PolicyVersion(IntPrimaryKey, Base):
    """An escalation policy as it was loaded; never changed, so old orders keep their rules."""

    __tablename__ = "escalation_policies"

    document: Mapped[dict[str, Any]]
    source: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[dt.datetime]
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
