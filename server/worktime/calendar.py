"""The working-time calendar rectification deadlines are computed with. Pure: no Flask, no database.

Working days follow China's public-holiday calendar including the make-up working days (调休):
the `holidays` package by default, replaced year by year by the official schedules an
administrator loaded (``official``). Days and office hours are those of the campaign's time
zone; instants come in and go out as aware datetimes (UTC out).

How a limit becomes a deadline (also in docs/admin.md):

* **working days** (``20wd``, "20个工作日内"): counted from the day after the start day, whatever
  the hour of the start; the deadline is the close of office hours on the N-th working day.
* **working hours** (``4wh``): N hours of office time from the start instant; a start outside
  office hours counts from the next opening. A total that ends a period exactly ends at that
  period's close (12:00), not at the next opening.
* **hours / days** (``48h``, ``3d``): plain arithmetic; days are calendar days in the campaign's
  time zone (same wall-clock time N days later).

A deadline is *provisional* when a day counted for it lies in a year whose official schedule is
not known yet (not loaded and not in the package): it may move once the State Council publishes
that year. Calendar limits never depend on the schedule and are never provisional.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from dataclasses import dataclass
from typing import Mapping
from zoneinfo import ZoneInfo

from server.worktime.limits import Limit, LimitUnit
from server.worktime.office_hours import DEFAULT_OFFICE_HOURS, OfficeHours
from server.worktime.schedule import YearSchedule, package_schedule, package_years

__all__ = ["Deadline", "Limit", "LimitUnit", "OfficeHours", "WorkCalendar"]

_UTC = dt.timezone.utc


@dataclass(frozen=True)
class Deadline:
    #: Timezone-aware, in UTC.
    at: dt.datetime
    #: A day counted for it lies in a year without a confirmed official schedule.
    provisional: bool


@dataclass(frozen=True)
class _Year:
    #: Working days as ``date.toordinal()``, ascending: a bisect finds the N-th after any date.
    working: tuple[int, ...]
    working_set: frozenset[int]
    confirmed: bool


class WorkCalendar:
    """Working days and office hours of one campaign time zone.

    ``timezone`` is an IANA name; ``office_hours`` an :class:`OfficeHours` or its text
    ("09:00-12:00,13:30-17:30"); ``official`` maps a year to the schedule an administrator
    loaded for it, which replaces the package's for that year and makes it confirmed.
    Year tables are built on first use and kept: the escalation sweep asks for thousands of
    deadlines per run, each a couple of bisects. Servers get theirs from
    :func:`server.worktime.services.calendar_for`.
    """

    def __init__(self, timezone: str = "Asia/Shanghai", office_hours: OfficeHours | str = DEFAULT_OFFICE_HOURS,
                 *, official: Mapping[int, YearSchedule] | None = None) -> None:
        self.tz = ZoneInfo(timezone)
        self.office_hours = office_hours if isinstance(office_hours, OfficeHours) else OfficeHours.parse(office_hours)
        self._official = dict(official or {})
        self._years: dict[int, _Year] = {}
        self._day_length = self.office_hours.day_length
        self._supported = package_years()

    # -- days -------------------------------------------------------------------------------

    def schedule(self, year: int) -> YearSchedule:
        """The schedule in force for ``year``: the loaded official one, else the package's."""
        self._check_year(year)
        return self._official.get(year) or package_schedule(year)

    def is_confirmed(self, year: int) -> bool:
        return self._year(year).confirmed

    def is_working_day(self, day: dt.date) -> bool:
        return day.toordinal() in self._year(day.year).working_set

    def _year(self, year: int) -> _Year:
        table = self._years.get(year)
        if table is None:
            schedule = self.schedule(year)
            working = schedule.working_ordinals()
            table = _Year(working=working, working_set=frozenset(working), confirmed=schedule.confirmed)
            self._years[year] = table
        return table

    def _check_year(self, year: int) -> None:
        if year not in self._supported:
            raise ValueError(f"the holiday calendar covers {self._supported.start}–{self._supported.stop - 1}, "
                             f"not {year}")

    def _nth_working_day_after(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day (n ≥ 1) strictly after ``day``."""
        year = day.year
        table = self._year(year)
        index = bisect.bisect_right(table.working, day.toordinal())
        while index + n > len(table.working):
            n -= len(table.working) - index
            year += 1
            table = self._year(year)
            index = 0
        return dt.date.fromordinal(table.working[index + n - 1])

    def _working_days_between(self, first: dt.date, stop: dt.date) -> int:
        """How many working days ``first <= day < stop``."""
        count = 0
        for year in range(first.year, stop.year + 1):
            working = self._year(year).working
            low = bisect.bisect_left(working, first.toordinal()) if year == first.year else 0
            high = bisect.bisect_left(working, stop.toordinal()) if year == stop.year else len(working)
            count += high - low
        return count

    def _provisional(self, first: dt.date, last: dt.date) -> bool:
        return any(not self._year(year).confirmed for year in range(first.year, last.year + 1))

    # -- instants ---------------------------------------------------------------------------

    def _local(self, moment: dt.datetime) -> dt.datetime:
        """Wall-clock time in the campaign's zone, naive, for day and office-hour arithmetic."""
        if moment.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware one (UTC or any zone)")
        return moment.astimezone(self.tz).replace(tzinfo=None)

    def _instant(self, wall: dt.datetime) -> dt.datetime:
        return wall.replace(tzinfo=self.tz).astimezone(_UTC)

    def _office_passed(self, wall: dt.datetime) -> dt.timedelta:
        """Office time of ``wall``'s day already gone at ``wall`` (none on a day off)."""
        if not self.is_working_day(wall.date()):
            return dt.timedelta(0)
        return self.office_hours.before(wall.time())

    def _office_end(self, day: dt.date, elapsed: dt.timedelta) -> dt.datetime:
        return dt.datetime.combine(day, self.office_hours.at(elapsed))

    def _office_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        if end <= start:
            return dt.timedelta(0)
        a, b = self._local(start), self._local(end)
        days = self._working_days_between(a.date(), b.date())
        return days * self._day_length - self._office_passed(a) + self._office_passed(b)

    def _add_office_time(self, start: dt.datetime, amount: dt.timedelta) -> Deadline:
        wall = self._local(start)
        day = wall.date()
        if amount <= dt.timedelta(0):
            return Deadline(start.astimezone(_UTC), self._provisional(day, day))
        remaining = amount
        if self.is_working_day(day):
            passed = self.office_hours.before(wall.time())
            left_today = self._day_length - passed
            if remaining <= left_today:
                return Deadline(self._instant(self._office_end(day, passed + remaining)),
                                self._provisional(day, day))
            remaining -= left_today
        # Whole working days first, then what is left (0 < rest ≤ one day) on the day after them.
        whole_days = -(-remaining // self._day_length) - 1
        rest = remaining - whole_days * self._day_length
        target = self._nth_working_day_after(day, whole_days + 1)
        return Deadline(self._instant(self._office_end(target, rest)), self._provisional(day, target))

    # -- the public API ---------------------------------------------------------------------

    def deadline(self, start: dt.datetime, limit: Limit) -> Deadline:
        """When ``limit`` runs out for something issued at ``start`` (see the module docstring)."""
        if limit.unit is LimitUnit.WORKING_HOURS:
            return self._add_office_time(start, dt.timedelta(hours=limit.amount))
        if limit.unit is LimitUnit.WORKING_DAYS:
            issued = self._local(start).date()
            last = self._nth_working_day_after(issued, limit.amount)
            at = self._instant(dt.datetime.combine(last, self.office_hours.closing))
            return Deadline(at, self._provisional(issued, last))
        if limit.unit is LimitUnit.HOURS:
            return Deadline(start.astimezone(_UTC) + dt.timedelta(hours=limit.amount), False)
        wall = self._local(start) + dt.timedelta(days=limit.amount)
        return Deadline(self._instant(wall), False)

    def working_seconds(self, start: dt.datetime, end: dt.datetime) -> float:
        """Office seconds between two instants (0 when ``end`` is not after ``start``)."""
        return self._office_between(start, end).total_seconds()

    def add_working_seconds(self, start: dt.datetime, seconds: float) -> Deadline:
        """The instant when ``seconds`` of office time have passed since ``start``.

        Resumes a paused order with the office time it had left.
        """
        if not math.isfinite(seconds):
            raise ValueError(f"office time must be a finite number of seconds, not {seconds!r}")
        return self._add_office_time(start, dt.timedelta(seconds=seconds))

    def at_fraction(self, start: dt.datetime, limit: Limit, fraction: float) -> dt.datetime:
        """When ``fraction`` of ``limit`` has elapsed (0.5, 0.75, 1.0 ... for reminders).

        Office time for working limits (the share of office time between start and deadline),
        plain time for calendar limits. A fraction above 1 lies past the deadline.
        """
        if not math.isfinite(fraction) or fraction < 0:
            raise ValueError(f"a fraction of a limit must be 0 or more, not {fraction!r}")
        end = self.deadline(start, limit).at
        if not limit.unit.working:
            return start.astimezone(_UTC) + (end - start) * fraction
        return self._add_office_time(start, self._office_between(start, end) * fraction).at
