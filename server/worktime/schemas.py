from __future__ import annotations

from typing import Any

import marshmallow as ma

from server.worktime.schedule import ScheduleDay
from server.worktime.services import NAME_MAX, SOURCE_MAX
from sync_protocol.fields import Date, DateTime, Integer, String

#: A year has at most 366 days, so a longer list cannot be a schedule.
_MAX_DAYS = 366


class HolidayDayInSchema(ma.Schema):
    date = Date(required=True)
    kind = String(required=True, validate=ma.validate.OneOf(["off", "work"]),
                            metadata={"description": "off: a day off (休); work: a make-up working day (班)"})
    name = String(load_default="", validate=ma.validate.Length(max=NAME_MAX))

    @ma.post_load
    def to_day(self, data: dict[str, Any], **_kwargs: Any) -> ScheduleDay:
        return ScheduleDay(data["date"], data["kind"] == "work", data["name"])


class HolidayScheduleInSchema(ma.Schema):
    """A year's official schedule: every day off and every make-up working day."""

    source = String(load_default="", validate=ma.validate.Length(max=SOURCE_MAX),
                              metadata={"description": "Where it comes from, e.g. the State Council notice"})
    days = ma.fields.List(ma.fields.Nested(HolidayDayInSchema), required=True,
                          validate=ma.validate.Length(max=_MAX_DAYS))


class HolidayDaySchema(ma.Schema):
    date = Date()
    name = String()


class HolidayYearSchema(ma.Schema):
    year = Integer()
    confirmed = ma.fields.Boolean(metadata={"description": "False: deadlines crossing this year are provisional"})
    origin = String(metadata={"description": "official (loaded by an administrator) or package"})
    reference = String(metadata={"description": "The loaded schedule's source, or the package version"})
    loaded_at = DateTime(allow_none=True)
    loaded_by = Integer(allow_none=True)
    days_off = ma.fields.List(ma.fields.Nested(HolidayDaySchema))
    make_up_days = ma.fields.List(ma.fields.Nested(HolidayDaySchema))
