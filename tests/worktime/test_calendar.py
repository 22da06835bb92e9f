"""Deadlines checked by hand against the State Council's 2026 schedule (国办发明电〔2025〕7号):
中秋节 9月25日（周五）至27日; 国庆节 10月1日至7日, with 9月20日（周日）and 10月10日（周六）worked."""

from __future__ import annotations

import datetime as dt

import holidays
import pytest

from server.worktime.calendar import Deadline, Limit, WorkCalendar
from server.worktime.schedule import official_schedule
from tests.worktime.helpers import SCHEDULE_2027, local

calendar = WorkCalendar("Asia/Shanghai", "09:00-12:00,13:30-17:30")


def at(start: dt.datetime, limit: str) -> dt.datetime:
    return calendar.deadline(start, Limit.parse(limit)).at


def test_the_national_day_holiday_and_its_make_up_days():
    assert calendar.is_working_day(dt.date(2026, 9, 20))  # Sunday worked for National Day
    assert calendar.is_working_day(dt.date(2026, 10, 10))  # Saturday worked
    assert not calendar.is_working_day(dt.date(2026, 9, 25))  # Mid-Autumn Festival, a Friday
    assert not any(calendar.is_working_day(dt.date(2026, 10, day)) for day in range(1, 8))
    assert not calendar.is_working_day(dt.date(2026, 10, 11))  # an ordinary Sunday
    assert calendar.is_working_day(dt.date(2026, 10, 8))


def test_half_days_off_are_working_days():
    # Women's Day gives women half a day off; offices stay open.
    assert calendar.is_working_day(dt.date(2027, 3, 8))


def test_five_working_days_from_the_last_day_before_national_day():
    # Issued Wednesday 30 September, the last working day before the holiday: Oct 8 (Thu), 9 (Fri),
    # 10 (make-up Saturday), 12 (Mon), 13 (Tue).
    deadline = calendar.deadline(local(2026, 9, 30, 16), Limit.parse("5wd"))
    assert deadline == Deadline(local(2026, 10, 13, 17, 30).astimezone(dt.timezone.utc), False)
    assert deadline.at.tzinfo == dt.timezone.utc


def test_five_working_days_from_mid_autumn_day():
    # Issued on the holiday itself; counting starts the day after: Sep 28, 29, 30, Oct 8, 9.
    assert at(local(2026, 9, 25, 10), "5wd") == local(2026, 10, 9, 17, 30)


def test_the_hour_of_issue_does_not_matter_for_working_days():
    assert at(local(2026, 11, 23, 0, 1), "2wd") == at(local(2026, 11, 23, 23, 59), "2wd") == local(2026, 11, 25, 17, 30)


def test_four_working_hours_from_friday_afternoon_end_monday_morning():
    # 16:30–17:30 on Friday, then 09:00–12:00 on Monday.
    assert at(local(2026, 11, 20, 16, 30), "4wh") == local(2026, 11, 23, 12, 0)


def test_four_working_hours_counted_through_the_lunch_break():
    assert at(local(2026, 11, 23, 11), "4wh") == local(2026, 11, 23, 16, 30)
    assert at(local(2026, 11, 23, 12, 30), "4wh") == local(2026, 11, 23, 17, 30)  # starts at 13:30
    assert at(local(2026, 11, 23, 7), "4wh") == local(2026, 11, 23, 14, 30)  # starts at 09:00


def test_working_hours_on_the_make_up_saturday():
    assert at(local(2026, 10, 9, 16, 30), "4wh") == local(2026, 10, 10, 12, 0)


def test_calendar_limits_are_plain_arithmetic_and_never_provisional():
    start = local(2026, 12, 30, 10)
    assert calendar.deadline(start, Limit.parse("48h")) == Deadline(local(2027, 1, 1, 10), False)
    assert calendar.deadline(start, Limit.parse("3d")) == Deadline(local(2027, 1, 2, 10), False)


def test_a_deadline_crossing_an_unconfirmed_year_is_provisional():
    # 2027's schedule is not in the package: 29, 30, 31 December, then 4 and 5 January.
    deadline = calendar.deadline(local(2026, 12, 28, 10), Limit.parse("5wd"))
    assert deadline.at == local(2027, 1, 5, 17, 30) and deadline.provisional
    assert not calendar.deadline(local(2026, 12, 21, 10), Limit.parse("5wd")).provisional
    assert calendar.is_confirmed(2026) and not calendar.is_confirmed(2027)


def test_an_official_schedule_replaces_the_package_for_its_year():
    loaded = WorkCalendar(official={2027: official_schedule(2027, SCHEDULE_2027)})
    deadline = loaded.deadline(local(2026, 12, 31, 10), Limit.parse("2wd"))
    # Jan 4 is now off and Sunday Jan 10 worked: Jan 5, 6.
    assert deadline == Deadline(local(2027, 1, 6, 17, 30).astimezone(dt.timezone.utc), False)
    assert calendar.deadline(local(2026, 12, 31, 10), Limit.parse("2wd")).at == local(2027, 1, 5, 17, 30)
    assert loaded.is_working_day(dt.date(2027, 1, 10))
    # The package's estimated Spring Festival days are gone with the rest of its 2027.
    assert not calendar.is_working_day(dt.date(2027, 2, 9)) and loaded.is_working_day(dt.date(2027, 2, 9))


def test_working_seconds_over_a_weekend():
    assert calendar.working_seconds(local(2026, 11, 20, 16), local(2026, 11, 23, 10)) == 2.5 * 3600
    assert calendar.working_seconds(local(2026, 11, 21, 9), local(2026, 11, 22, 17)) == 0
    assert calendar.working_seconds(local(2026, 11, 23, 10), local(2026, 11, 20, 10)) == 0


def test_working_seconds_over_the_national_day_holiday():
    # Wed 30 Sep 17:00 → Thu 8 Oct 10:00: half an hour, then one hour.
    assert calendar.working_seconds(local(2026, 9, 30, 17), local(2026, 10, 8, 10)) == 1.5 * 3600


def test_resuming_a_paused_order_with_the_time_it_had_left():
    resumed = calendar.add_working_seconds(local(2026, 11, 20, 16, 30), 3 * 3600)
    assert resumed == Deadline(local(2026, 11, 23, 11, 0).astimezone(dt.timezone.utc), False)
    assert calendar.add_working_seconds(local(2026, 11, 21, 10), 0).at == local(2026, 11, 21, 10)


def test_half_of_two_working_days():
    # From Monday 10:00 the limit holds 6 + 7 + 7 office hours; half is 10: Monday's 6, then 4 on Tuesday.
    limit = Limit.parse("2wd")
    assert calendar.at_fraction(local(2026, 11, 23, 10), limit, 0.5) == local(2026, 11, 24, 14, 30)
    # Issued after closing, the limit is Tuesday and Wednesday: half is Tuesday's close.
    assert calendar.at_fraction(local(2026, 11, 23, 18), limit, 0.5) == local(2026, 11, 24, 17, 30)
    assert calendar.at_fraction(local(2026, 11, 23, 18), limit, 1.0) == at(local(2026, 11, 23, 18), "2wd")


def test_fractions_of_calendar_limits_are_plain_time():
    assert calendar.at_fraction(local(2026, 11, 23, 10), Limit.parse("3d"), 0.75) == local(2026, 11, 25, 16)


@pytest.mark.parametrize("fraction", [-0.1, float("nan"), float("inf")])
def test_a_fraction_must_be_a_finite_non_negative_number(fraction):
    with pytest.raises(ValueError):
        calendar.at_fraction(local(2026, 11, 23, 10), Limit.parse("2wd"), fraction)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        calendar.deadline(dt.datetime(2026, 11, 23, 10), Limit.parse("1wd"))


def test_years_outside_the_calendar_are_refused():
    with pytest.raises(ValueError, match="covers 1950–2100"):
        calendar.is_working_day(dt.date(2101, 1, 3))


def test_office_hours_in_another_time_zone():
    urumqi = WorkCalendar("Asia/Urumqi", "10:00-14:00,16:00-20:00")
    start = dt.datetime(2026, 11, 23, 19, tzinfo=urumqi.tz)
    assert urumqi.deadline(start, Limit.parse("2wh")).at == dt.datetime(2026, 11, 24, 11, tzinfo=urumqi.tz)
    assert urumqi.deadline(start, Limit.parse("1wd")).at == dt.datetime(2026, 11, 24, 20, tzinfo=urumqi.tz)


def test_every_day_agrees_with_the_package():
    china = holidays.China(years=range(2001, 2031))
    day = dt.date(2001, 1, 1)
    while day.year < 2031:
        assert calendar.is_working_day(day) == china.is_working_day(day), day
        day += dt.timedelta(days=1)


def test_the_package_years_with_an_official_schedule_are_confirmed():
    assert all(calendar.is_confirmed(year) for year in range(2001, 2027))
    assert not calendar.is_confirmed(2000) and not calendar.is_confirmed(2027)
