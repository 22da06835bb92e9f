"""Properties of the calendar over arbitrary instants, across holidays, make-up days and years."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from server.worktime.calendar import Limit, LimitUnit, WorkCalendar
from tests.worktime.helpers import CST

calendar = WorkCalendar("Asia/Shanghai", "09:00-12:00,13:30-17:30")

# Through 2027, so that unconfirmed days are crossed too.
instants = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2027, 6, 30),
                        timezones=st.just(CST))
amounts = st.integers(min_value=1, max_value=60)
units = st.sampled_from(LimitUnit)
working_units = st.sampled_from([LimitUnit.WORKING_HOURS, LimitUnit.WORKING_DAYS])


@given(instants, instants, amounts, units)
def test_deadline_is_monotonic_in_the_start(a, b, amount, unit):
    first, second = sorted((a, b))
    limit = Limit(amount, unit)
    assert calendar.deadline(first, limit).at <= calendar.deadline(second, limit).at


@given(instants, amounts, amounts, working_units)
def test_deadline_grows_with_the_amount(start, m, n, unit):
    small, large = sorted((m, n))
    earlier, later = calendar.deadline(start, Limit(small, unit)).at, calendar.deadline(start, Limit(large, unit)).at
    assert earlier < later if small < large else earlier == later


@given(instants, amounts)
def test_working_hours_hold_exactly_their_office_time(start, hours):
    deadline = calendar.deadline(start, Limit(hours, LimitUnit.WORKING_HOURS))
    assert calendar.working_seconds(start, deadline.at) == hours * 3600
    assert deadline.at > start


@given(instants, instants)
def test_pausing_and_resuming_loses_no_office_time(a, b):
    start, end = sorted((a, b))
    spent = calendar.working_seconds(start, end)
    resumed = calendar.add_working_seconds(start, spent).at
    assert resumed <= end
    assert calendar.working_seconds(start, resumed) == spent


@given(instants, amounts, units)
def test_the_whole_of_a_limit_is_its_deadline(start, amount, unit):
    limit = Limit(amount, unit)
    assert calendar.at_fraction(start, limit, 1.0) == calendar.deadline(start, limit).at


@given(instants, amounts, units, st.floats(min_value=0, max_value=1), st.floats(min_value=0, max_value=1))
def test_reminders_come_in_order(start, amount, unit, f, g):
    limit = Limit(amount, unit)
    low, high = sorted((f, g))
    assert calendar.at_fraction(start, limit, low) <= calendar.at_fraction(start, limit, high)


@given(instants, amounts)
def test_working_days_end_at_closing_on_a_working_day(start, amount):
    end = calendar.deadline(start, Limit(amount, LimitUnit.WORKING_DAYS)).at.astimezone(CST)
    assert end.time() == dt.time(17, 30) and calendar.is_working_day(end.date())
    assert end.date() > start.date()
