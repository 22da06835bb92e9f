"""Office hours: the periods of a working day that working-hour limits are counted in."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

#: Government offices' usual day (上午 9:00–12:00, 下午 13:30–17:30); a city sets its own.
DEFAULT_OFFICE_HOURS = "09:00-12:00,13:30-17:30"

_PERIOD = re.compile(r"([0-9]{1,2}):([0-9]{2})-([0-9]{1,2}):([0-9]{2})")


def _time(hour: str, minute: str, text: str) -> dt.time:
    h, m = int(hour), int(minute)
    if h == 24 and m == 0:
        # "17:00-24:00" would be natural to write but is not a time of day.
        raise ValueError(f"{text!r}: write 23:59 rather than 24:00")
    if h > 23 or m > 59:
        raise ValueError(f"{text!r}: {hour}:{minute} is not a time of day")
    return dt.time(h, m)


@dataclass(frozen=True)
class OfficeHours:
    """Periods of one working day, in order and apart; the same on every working day."""

    periods: tuple[tuple[dt.time, dt.time], ...]

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("office hours need at least one period, e.g. 09:00-12:00")
        previous_end: dt.time | None = None
        for start, end in self.periods:
            if start >= end:
                raise ValueError(f"the period {start:%H:%M}-{end:%H:%M} ends before it starts")
            if previous_end is not None and start < previous_end:
                raise ValueError(f"the period {start:%H:%M}-{end:%H:%M} overlaps or precedes the one before; "
                                 "list periods in order of the day")
            previous_end = end

    @classmethod
    def parse(cls, text: str) -> OfficeHours:
        """``"09:00-12:00,13:30-17:30"``: comma-separated periods of the day."""
        periods = []
        for part in text.split(","):
            match = _PERIOD.fullmatch(part.strip().replace(" ", ""))
            if match is None:
                raise ValueError(f"{part.strip()!r} is not a period; write HH:MM-HH:MM, e.g. 09:00-12:00")
            start = _time(match.group(1), match.group(2), part)
            end = _time(match.group(3), match.group(4), part)
            periods.append((start, end))
        return cls(tuple(periods))

    def __str__(self) -> str:
        return ",".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in self.periods)

    @property
    def day_length(self) -> dt.timedelta:
        return sum((_span(start, end) for start, end in self.periods), dt.timedelta(0))

    def before(self, moment: dt.time) -> dt.timedelta:
        """Office time of a working day that has passed at ``moment``."""
        passed = dt.timedelta(0)
        for start, end in self.periods:
            if moment <= start:
                break
            passed += _span(start, min(moment, end))
        return passed

    def at(self, elapsed: dt.timedelta) -> dt.time:
        """The time of day when ``elapsed`` office time (0 < elapsed ≤ day_length) has passed.

        A total that ends a period exactly gives that period's end (12:00), not the next
        opening (13:30): a deadline is the last moment, not the first moment after it.
        """
        for start, end in self.periods:
            length = _span(start, end)
            if elapsed <= length:
                return _add(start, elapsed)
            elapsed -= length
        raise ValueError("more office time than one working day holds")

    @property
    def closing(self) -> dt.time:
        return self.periods[-1][1]


def _span(start: dt.time, end: dt.time) -> dt.timedelta:
    day = dt.date(2000, 1, 1)
    return dt.datetime.combine(day, end) - dt.datetime.combine(day, start)


def _add(moment: dt.time, delta: dt.timedelta) -> dt.time:
    return (dt.datetime.combine(dt.date(2000, 1, 1), moment) + delta).time()
