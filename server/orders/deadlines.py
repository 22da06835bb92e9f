"""Deadlines and reminder times of an order, in the campaign's working time.

A reminder fires when a share of the order's current window (from when its clock last
started to its deadline) has passed, or a stated time before the deadline; for working-time
limits both are measured in office time, so "half the time" of 2 working days is the end
of the first working day, not noon of a holiday.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, TypeVar

from flask import current_app
from sqlalchemy.orm import Session

from server.orders.models import Order
from server.orders.policy import Reminder, policy
from server.worktime.calendar import Deadline, WorkCalendar
from server.worktime.limits import Limit
from server.worktime.services import calendar_for

T = TypeVar("T")


def calendar(session: Session) -> WorkCalendar:
    """The calendar, asked for once per session: a sweep over thousands of orders asks once."""
    found: WorkCalendar | None = session.info.get(_CALENDAR)
    if found is None:
        with session.no_autoflush:
            found = session.info[_CALENDAR] = calendar_for(session, current_app.config)
    return found


_CALENDAR = "xuncha.calendar"


def forget_calendar(session: Session) -> None:
    """The session's calendar and arithmetic are stale once a schedule is loaded in it."""
    session.info.pop(_CALENDAR, None)
    session.info.pop(_ARITHMETIC, None)


_SCHEDULE = ("due_at", "due_provisional", "escalate_at", "remind_at", "reminder_index")


def set_deadline(session: Session, order: Order, start: dt.datetime, limit: Limit, *, now: dt.datetime) -> None:
    """The order's clock starts at ``start`` with ``limit`` to run."""
    order.started_at, order.time_limit = start, str(limit)
    key = ("schedule", order.policy_version, order.level, start, order.time_limit, now)

    def compute() -> tuple[object, ...]:
        move_deadline(session, order, calendar(session).deadline(start, limit), now=now)
        return tuple(getattr(order, name) for name in _SCHEDULE)

    # Everything below depends only on the key, so orders sharing it share the arithmetic.
    for name, value in zip(_SCHEDULE, _memo(session, key, compute)):
        setattr(order, name, value)


def _memo(session: Session, key: tuple[object, ...], compute: Callable[[], T]) -> T:
    """Deadline arithmetic remembered for the session: orders escalated together mostly share
    their missed deadline (the close of office) and so their new window and reminders."""
    cache: dict[tuple[object, ...], Any] = session.info.setdefault(_ARITHMETIC, {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


_ARITHMETIC = "xuncha.deadline_arithmetic"


def move_deadline(session: Session, order: Order, deadline: Deadline, *, now: dt.datetime) -> None:
    """A new deadline in the same window (延期, 挂账恢复): escalation and reminders follow it."""
    order.due_at, order.due_provisional = deadline.at, deadline.provisional
    schedule_escalation(session, order)
    schedule_reminders(session, order, now=now)


def stop_clock(order: Order) -> None:
    """Answered or closed: nothing more to escalate or remind; the deadline stays on record."""
    order.remind_at = order.escalate_at = None


def clear_deadline(order: Order) -> None:
    """No clock runs (triage, parked, answered, closed, void): nothing to escalate or remind."""
    order.due_at = order.remind_at = order.escalate_at = None


def _working(limit: str) -> bool:
    return bool(limit) and Limit.parse(limit).unit.working


def reminder_times(session: Session, order: Order) -> tuple[dt.datetime, ...]:
    """When each of the policy's reminders falls in the order's current window."""
    assert order.started_at is not None and order.due_at is not None
    reminders = policy(session, order.policy_version).reminders
    key = ("reminders", order.policy_version, order.started_at, order.due_at, order.time_limit)
    return _memo(session, key, lambda: tuple(reminder_time(calendar(session), order, r) for r in reminders))


def reminder_time(cal: WorkCalendar, order: Order, reminder: Reminder) -> dt.datetime:
    assert order.started_at is not None and order.due_at is not None
    working = _working(order.time_limit)
    if working:
        window = cal.working_seconds(order.started_at, order.due_at)
    else:
        window = (order.due_at - order.started_at).total_seconds()
    if reminder.at is not None:
        offset = window * reminder.at
    else:
        assert reminder.before is not None
        if working:
            before = cal.working_seconds(order.started_at, cal.deadline(order.started_at, reminder.before).at)
        else:
            before = (cal.deadline(order.started_at, reminder.before).at - order.started_at).total_seconds()
        offset = max(0.0, window - before)
    if working:
        return cal.add_working_seconds(order.started_at, offset).at
    return order.started_at + dt.timedelta(seconds=offset)


def schedule_escalation(session: Session, order: Order) -> None:
    """Overdue orders below the top level are escalated when their deadline passes."""
    top = policy(session, order.policy_version).top
    order.escalate_at = order.due_at if order.level < top else None


def schedule_reminders(session: Session, order: Order, *, now: dt.datetime) -> None:
    """Point the order at its next reminder still ahead of ``now`` and before its deadline."""
    order.remind_at, order.reminder_index = None, 0
    if order.due_at is None or order.started_at is None:
        return
    for index, at in enumerate(reminder_times(session, order)):
        if at > now and at < order.due_at:
            order.remind_at, order.reminder_index = at, index
            return


def due_reminder(session: Session, order: Order, *, now: dt.datetime) -> tuple[int, Reminder] | None:
    """The latest reminder whose time has come (older ones missed while down are not sent too),
    and moves the order on to the next one."""
    if order.due_at is None or order.due_at <= now:
        order.remind_at = None
        return None
    reminders = policy(session, order.policy_version).reminders
    times = reminder_times(session, order)
    fired: tuple[int, Reminder] | None = None
    order.remind_at = None
    for index in range(order.reminder_index, len(reminders)):
        at = times[index]
        if at <= now:
            fired = (index, reminders[index])
        elif at < order.due_at:
            order.remind_at, order.reminder_index = at, index
            break
    return fired
