"""Loading official holiday schedules, and the working-time calendar the rest of the server uses."""

from __future__ import annotations

import collections
import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.audit.services import record as audit
from server.clock import Clock
from server.db import new_id
from server.errors import Conflict, ValidationFailed
from server.worktime.calendar import WorkCalendar
from server.worktime.models import HolidayYear, OfficialDay
from server.worktime.schedule import (WEEKEND, ScheduleDay, YearSchedule, official_schedule, package_version,
                                      package_years)

#: Lengths of the columns, checked before the database sees them (PostgreSQL would refuse).
SOURCE_MAX = 200
NAME_MAX = 100

_WEEKDAYS = "一二三四五六日"


def check_schedule(year: int, days: Sequence[ScheduleDay], source: str = "") -> list[dict[str, Any]]:
    """Every problem with a schedule, as ``{"field": "days.3.date", "message": ...}``; empty if fine."""
    supported = package_years()
    if year not in supported:
        return [{"field": "year", "message": f"must be between {supported.start} and {supported.stop - 1}"}]
    problems: list[dict[str, Any]] = []
    if len(source) > SOURCE_MAX:
        problems.append({"field": "source", "message": f"longer than {SOURCE_MAX} characters"})
    first_at: dict[dt.date, int] = {}
    for index, day in enumerate(days):
        field = f"days.{index}"
        if day.date.year != year:
            problems.append({"field": f"{field}.date", "message": f"{day.date} is not in {year}"})
        if day.date in first_at:
            problems.append({"field": f"{field}.date",
                             "message": f"{day.date} is listed twice (days {first_at[day.date]} and {index})"})
        else:
            first_at[day.date] = index
        if day.working and day.date.weekday() not in WEEKEND:
            # A weekday is worked anyway; a 班 on one is nearly always a 休 typed in the wrong column.
            problems.append({"field": f"{field}.kind",
                             "message": f"{day.date} is a weekday (星期{_WEEKDAYS[day.date.weekday()]}); only a "
                                        "Saturday or Sunday can be a make-up working day"})
        if len(day.name) > NAME_MAX:
            problems.append({"field": f"{field}.name", "message": f"longer than {NAME_MAX} characters"})
    if all(day.working for day in days):
        problems.append({"field": "days", "message": "the schedule lists no day off; a year's schedule names "
                                                     "every holiday day off (休) and every make-up working day (班)"})
    return problems


def load_schedule(session: Session, clock: Clock, year: int, days: Sequence[tuple[dt.date, bool, str]], *,
                  actor_id: int | None, source: str) -> HolidayYear:
    """Make ``days`` the official schedule of ``year``, replacing any loaded before, all at once.

    Raises :class:`ValidationFailed` listing every problem (nothing is written), or
    :class:`Conflict` if another load of the same year won a race. Flushed, not committed:
    the caller owns the transaction. The new revision makes every process's cached calendar
    stale (see :func:`calendar_for`).
    """
    schedule_days = [ScheduleDay(*day) for day in days]
    problems = check_schedule(year, schedule_days, source)
    if problems:
        raise ValidationFailed(f"The {year} schedule was not loaded.", errors=problems)
    savepoint = session.begin_nested()
    try:
        # Locked first, so on PostgreSQL a second load of the same year waits and then replaces
        # this one whole; two first loads of a year collide on its key instead (Conflict).
        holiday_year = session.get(HolidayYear, year, with_for_update=True)
        session.execute(sa.delete(OfficialDay).where(OfficialDay.year == year))
        replaced = holiday_year is not None
        if holiday_year is None:
            holiday_year = HolidayYear(year=year)
            session.add(holiday_year)
        holiday_year.source = source
        holiday_year.loaded_at = clock.now()
        holiday_year.loaded_by = actor_id
        holiday_year.revision = new_id()
        session.flush()  # the year before its days, which refer to it
        session.add_all(OfficialDay(date=day.date, year=year, working=day.working, name=day.name)
                        for day in schedule_days)
        audit(session, clock, "holidays.loaded", actor_id=actor_id, entity="holiday_year", entity_id=year,
              data={"source": source, "replaced": replaced,
                    "days_off": sum(not day.working for day in schedule_days),
                    "make_up_days": sum(day.working for day in schedule_days)})
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        raise Conflict(f"Another load of {year} ran at the same time; nothing was changed. Try again.") from None
    savepoint.commit()
    return holiday_year


# -- the calendar, cached per process ---------------------------------------------------------

#: Calendars kept per process: one per (zone, office hours, loaded revisions) in use.
_CACHE_SIZE = 4
_cache: collections.OrderedDict[tuple[Any, ...], WorkCalendar] = collections.OrderedDict()
_cache_lock = threading.Lock()


def calendar_for(session: Session, config: Mapping[str, Any]) -> WorkCalendar:
    """The working-time calendar for the app's settings and the schedules loaded so far.

    One small query (the loaded years' revisions) decides whether the calendar built last
    time still holds, so callers may ask for it per order. A load gives its year a new
    revision, which every process sees at its next call.
    """
    stamp = frozenset(tuple(row) for row in session.execute(sa.select(HolidayYear.year, HolidayYear.revision)))
    key = (config["TIMEZONE"], config["OFFICE_HOURS"], stamp)
    with _cache_lock:
        calendar = _cache.get(key)
        if calendar is not None:
            _cache.move_to_end(key)
            return calendar
    calendar = WorkCalendar(config["TIMEZONE"], config["OFFICE_HOURS"], official=_official(session))
    with _cache_lock:
        _cache[key] = calendar
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return calendar


def _official(session: Session) -> dict[int, YearSchedule]:
    by_year: dict[int, list[ScheduleDay]] = {year: [] for year in session.scalars(sa.select(HolidayYear.year))}
    for day in session.scalars(sa.select(OfficialDay)):
        by_year.setdefault(day.year, []).append(ScheduleDay(day.date, day.working, day.name))
    return {year: official_schedule(year, days) for year, days in by_year.items()}


# -- what an administrator sees -----------------------------------------------------------------

@dataclass(frozen=True)
class YearReport:
    year: int
    confirmed: bool
    #: "official" (loaded by an administrator) or "package" (the holidays package).
    origin: str
    #: The loaded schedule's source, or the package and its version.
    reference: str
    loaded_at: dt.datetime | None
    loaded_by: int | None
    days_off: tuple[ScheduleDay, ...]
    make_up_days: tuple[ScheduleDay, ...]


def year_report(session: Session, config: Mapping[str, Any], year: int) -> YearReport:
    supported = package_years()
    if year not in supported:
        raise ValidationFailed(f"There is no holiday calendar for {year}.", errors=[
            {"field": "year", "message": f"must be between {supported.start} and {supported.stop - 1}"}])
    schedule = calendar_for(session, config).schedule(year)
    loaded = session.get(HolidayYear, year) if schedule.origin == "official" else None
    return YearReport(
        year=year, confirmed=schedule.confirmed, origin=schedule.origin,
        reference=loaded.source if loaded else f"holidays {package_version()}",
        loaded_at=loaded.loaded_at if loaded else None, loaded_by=loaded.loaded_by if loaded else None,
        days_off=schedule.days_off, make_up_days=schedule.make_up_days)


def describe_days(days: Iterable[ScheduleDay]) -> list[str]:
    """One line per day for people: ``2026-10-01 星期四 国庆节``."""
    return [f"{day.date} 星期{_WEEKDAYS[day.date.weekday()]} {day.name}".rstrip() for day in days]
