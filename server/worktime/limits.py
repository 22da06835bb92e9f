"""Time limits as city rules write them: 4 working hours, 20 working days, 48 hours, 3 days."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class LimitUnit(enum.Enum):
    WORKING_HOURS = "working_hours"  # 工作时: office hours on working days
    WORKING_DAYS = "working_days"  # 工作日: N个工作日内
    HOURS = "hours"  # plain hours, nights and holidays included
    DAYS = "days"  # calendar days

    @property
    def working(self) -> bool:
        return self in (LimitUnit.WORKING_HOURS, LimitUnit.WORKING_DAYS)


_SUFFIXES = {
    LimitUnit.WORKING_HOURS: "wh",
    LimitUnit.WORKING_DAYS: "wd",
    LimitUnit.HOURS: "h",
    LimitUnit.DAYS: "d",
}
_UNITS = {suffix: unit for unit, suffix in _SUFFIXES.items()}
_PATTERN = re.compile(r"([0-9]+)(wh|wd|h|d)")
#: The most of any unit a limit may be (as the sync protocol's LIMIT says): 9999 working days
#: is some forty years, so no deadline computed from a limit runs past the calendar.
MAX_AMOUNT = 9999
_HELP = "write a whole number from 1 to 9999 and a unit: 4wh (working hours), 20wd (working days), " \
        "48h (hours) or 3d (calendar days)"


@dataclass(frozen=True)
class Limit:
    amount: int
    unit: LimitUnit

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or not 1 <= self.amount <= MAX_AMOUNT:
            raise ValueError(f"a time limit needs a whole number from 1 to {MAX_AMOUNT}, not {self.amount!r}")
        if not isinstance(self.unit, LimitUnit):
            raise ValueError(f"{self.unit!r} is not a LimitUnit")

    @classmethod
    def parse(cls, text: str) -> Limit:
        """``"4wh"``, ``"20wd"``, ``"48h"`` or ``"3d"``; anything else raises ValueError."""
        match = _PATTERN.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None or not 1 <= int(match.group(1)) <= MAX_AMOUNT:
            raise ValueError(f"{text!r} is not a time limit; {_HELP}")
        return cls(int(match.group(1)), _UNITS[match.group(2)])

    def __str__(self) -> str:
        return f"{self.amount}{_SUFFIXES[self.unit]}"
