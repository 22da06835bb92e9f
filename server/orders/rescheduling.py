"""When a year's official holiday schedule is loaded, the provisional (暂定) deadlines of open
orders are worked out again with it: each order whose clock runs gets the deadline its limit
gives under the official days, no longer 暂定, and its unit is told when the date moved.

Only a deadline that is still the plain result of the order's start and limit is recomputed;
one set otherwise (延期 to a date, 挂账恢复 with the time left) stays as it was set: recomputing
it from the start would undo what a supervisor decided.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from server.audit.models import AuditEvent
from server.audit.services import record
from server.clock import Clock
from server.findings.models import Finding
from server.notifications.texts import format_deadline
from server.orders import notices
from server.orders.deadlines import calendar, forget_calendar, move_deadline
from server.orders.models import Order, OrderStatus
from server.worktime import services as worktime
from server.worktime.calendar import WorkCalendar
from server.worktime.limits import Limit
from server.worktime.models import HolidayYear


@dataclass(frozen=True)
class Rescheduled:
    #: Orders whose deadline is no longer provisional.
    confirmed: int
    #: Of those, the ones whose deadline moved (their units were told).
    moved: int


def load_schedule(session: Session, clock: Clock, year: int, days: Sequence[tuple[dt.date, bool, str]], *,
                  actor_id: int | None, source: str) -> tuple[HolidayYear, Rescheduled]:
    """Load the year's official schedule (:func:`server.worktime.services.load_schedule`), then
    put the provisional deadlines of open orders on it."""
    before = worktime.calendar_for(session, current_app.config)
    loaded = worktime.load_schedule(session, clock, year, days, actor_id=actor_id, source=source)
    return loaded, reschedule_provisional(session, clock, before, load=loaded)


def reschedule_provisional(session: Session, clock: Clock, before: WorkCalendar, *,
                           load: HolidayYear | None = None) -> Rescheduled:
    """Recompute the provisional deadlines of orders with a running clock, against the calendar
    as it is now; ``before`` is the calendar the deadlines were computed with, ``load`` the
    schedule whose loading caused it (its audit events name it: :func:`rescheduled_by`).
    Flushes, does not commit."""
    forget_calendar(session)
    now = clock.now()
    orders = session.scalars(sa.select(Order).where(Order.status == OrderStatus.ISSUED,
                                                    Order.due_provisional.is_(True),
                                                    Order.due_at.is_not(None), Order.started_at.is_not(None))
                             .order_by(Order.id)).all()
    confirmed = moved = 0
    for order in orders:
        if not order.time_limit:
            continue
        assert order.started_at is not None and order.due_at is not None
        limit = Limit.parse(order.time_limit)
        if before.deadline(order.started_at, limit).at != order.due_at:
            continue
        deadline = calendar(session).deadline(order.started_at, limit)
        if deadline.provisional:
            continue  # it crosses another year still without its official schedule
        previous = order.due_at
        move_deadline(session, order, deadline, now=now)
        order.version += 1
        confirmed += 1
        record(session, clock, "order.rescheduled", entity="order", entity_id=order.id,
               reason="法定节假日安排已公布", data={"from": _iso(previous), "to": _iso(order.due_at), **_cause(load)})
        if order.due_at != previous:
            moved += 1
            finding = session.get_one(Finding, order.finding_id)
            notices.to_unit(session, clock, order, finding, kind="order.rescheduled",
                            extra={"previous": format_deadline(previous, current_app.config["TIMEZONE"])})
    session.flush()
    return Rescheduled(confirmed, moved)


def rescheduled_by(session: Session, load: HolidayYear) -> list[AuditEvent]:
    """What the year's current schedule did when it was loaded: the deadlines it confirmed, in
    the order they were, each event's ``from`` and ``to`` (its unit was told where they differ)."""
    if load.loaded_at is None:
        return []
    cause = _cause(load)
    events = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "order.rescheduled",
                                                         AuditEvent.occurred_at >= load.loaded_at)
                             .order_by(AuditEvent.occurred_at, AuditEvent.entity_id))
    return [event for event in events if all(event.data.get(key) == value for key, value in cause.items())]


def _cause(load: HolidayYear | None) -> dict[str, object]:
    return {} if load is None else {"schedule_year": load.year, "schedule_revision": str(load.revision)}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
