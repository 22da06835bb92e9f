"""A year's holiday schedule (放假安排), as the package knows it or as the State Council published it.

The `holidays` package keeps China's schedule as data: the statutory days off, the days moved
by each year's notice, and ``weekend_workdays``, the Saturdays and Sundays worked in exchange
(调休上班). Its ``special_public_holidays`` table has an entry for every year whose notice it
has transcribed; later years are only estimated from the statutory festivals, without the
swaps, so they are not *confirmed* (a deadline that crosses one is provisional).
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.metadata
from dataclasses import dataclass
from typing import Iterable, NamedTuple

#: Saturday and Sunday, as in the package and in the State Council's notices.
WEEKEND = frozenset({5, 6})

#: The name given to a make-up working day: the package lists only the day off it pays for.
MAKE_UP_DAY_NAME = "调休上班"


class ScheduleDay(NamedTuple):
    """One exception to the Monday–Friday week: a day off, or a weekend day worked."""

    date: dt.date
    working: bool
    name: str = ""


@dataclass(frozen=True)
class YearSchedule:
    year: int
    #: Days off (including weekend days inside a holiday, when the source lists them) and
    #: make-up working days, by date.
    days: tuple[ScheduleDay, ...]
    #: True when the year's official schedule is known: loaded by an administrator, or
    #: transcribed in the package.
    confirmed: bool
    #: "official" for a schedule an administrator loaded, "package" otherwise.
    origin: str

    @property
    def days_off(self) -> tuple[ScheduleDay, ...]:
        return tuple(day for day in self.days if not day.working)

    @property
    def make_up_days(self) -> tuple[ScheduleDay, ...]:
        return tuple(day for day in self.days if day.working)

    def working_ordinals(self) -> tuple[int, ...]:
        """Every working day of the year as ``date.toordinal()``, ascending."""
        exceptions = {day.date: day.working for day in self.days}
        first = dt.date(self.year, 1, 1).toordinal()
        last = dt.date(self.year, 12, 31).toordinal()
        working = []
        for ordinal in range(first, last + 1):
            day = dt.date.fromordinal(ordinal)
            if exceptions.get(day, day.weekday() not in WEEKEND):
                working.append(ordinal)
        return tuple(working)


def official_schedule(year: int, days: Iterable[ScheduleDay]) -> YearSchedule:
    """A schedule an administrator loaded: it replaces the package's for that year entirely."""
    return YearSchedule(year=year, days=tuple(sorted(days)), confirmed=True, origin="official")


def package_version() -> str:
    return importlib.metadata.version("holidays")


def package_years() -> range:
    """The years the package can say anything about."""
    from holidays.countries.china import China

    return range(China.start_year, China.end_year + 1)


@functools.lru_cache(maxsize=None)
def package_schedule(year: int) -> YearSchedule:
    """The package's schedule for ``year``; built once per process, the package is not cheap."""
    import holidays

    # Only full days off: the half-day category (Women's Day, Youth Day ...) leaves offices open.
    china = holidays.China(years=year, categories=(holidays.PUBLIC,), language="zh_CN")
    days = {day: ScheduleDay(day, False, name) for day, name in china.items() if day.year == year}
    for day in china.weekend_workdays:
        if day.year == year:
            days[day] = ScheduleDay(day, True, MAKE_UP_DAY_NAME)
    confirmed = year in getattr(china, "special_public_holidays", {})
    return YearSchedule(year=year, days=tuple(sorted(days.values())), confirmed=confirmed, origin="package")
