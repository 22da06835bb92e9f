"""Times written as the campaign sees them (Asia/Shanghai) and a few 2027 days for loading."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from server.worktime.schedule import ScheduleDay

CST = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=CST)


#: A made-up 2027 schedule (the real one is not in the package yet): New Year on Friday the 1st
#: plus Monday the 4th off, paid back by working Sunday the 10th.
SCHEDULE_2027 = [
    ScheduleDay(dt.date(2027, 1, 1), False, "元旦"),
    ScheduleDay(dt.date(2027, 1, 4), False, "元旦"),
    ScheduleDay(dt.date(2027, 1, 10), True, "调休上班"),
]
