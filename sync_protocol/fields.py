"""marshmallow fields that refuse, as a validation error, what the database or the clock cannot hold.

Every schema that reads input (the push envelope and its entities here, the REST schemas in
``server/``) takes its integers, strings and dates from this module, so a value that would
overflow a 64-bit column, crash a PostgreSQL ``text`` or a UTF-8 encoder, or run a deadline past
year 9999 is answered 422 naming the field, instead of failing deep inside a query or a write.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma

#: What an SQL ``INTEGER`` holds (ids, versions, counts): PostgreSQL refuses even to compare
#: such a column with a larger number.
INT32_MIN = -(2 ** 31)
INT32_MAX = 2 ** 31 - 1
#: What an SQL ``BIGINT`` holds (sequence numbers, clock offsets), and SQLite's INTEGER.
INT64_MIN = -(2 ** 63)
INT64_MAX = 2 ** 63 - 1
#: Dates outside these years are refused. Wide enough for a phone whose clock fell back to
#: 1970 and for any real deadline; narrow enough that adding the longest time limit or a
#: device's clock offset never runs past ``datetime.max`` (year 9999).
EARLIEST_YEAR = 1900
LATEST_YEAR = 2999


class Integer(ma.fields.Integer):
    """An integer that fits an SQL ``INTEGER`` column (documented as ``int32`` with its bounds)."""

    low, high = INT32_MIN, INT32_MAX

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # A validator apispec reads for "minimum"/"maximum"; a narrower Range of the caller wins.
        self.validators.insert(0, ma.validate.Range(min=self.low, max=self.high,
                                                    error="must be between {min} and {max}"))


class BigInteger(Integer):
    """An integer that fits an SQL ``BIGINT`` column (documented as ``int64``)."""

    low, high = INT64_MIN, INT64_MAX


def _clean(value: str) -> str:
    if "\x00" in value:
        raise ma.ValidationError("must not contain the NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (JSON "\ud800"): no UTF-8 text holds it, so no column can.
        raise ma.ValidationError("must not contain lone surrogates (invalid Unicode)") from None
    return value


class String(ma.fields.String):
    """Text a column can store: no NUL (PostgreSQL refuses it) and no lone surrogates."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return _clean(super()._deserialize(value, attr, data, **kwargs))


def _in_range(value: dt.date) -> None:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ma.ValidationError(f"must lie between the years {EARLIEST_YEAR} and {LATEST_YEAR}")


class AwareDateTime(ma.fields.AwareDateTime):
    """An ISO 8601 instant with its offset, between the years EARLIEST_YEAR and LATEST_YEAR."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        result = super()._deserialize(value, attr, data, **kwargs)
        _in_range(result)
        return result


class DateTime(ma.fields.DateTime):
    """An ISO 8601 date and time, between the years EARLIEST_YEAR and LATEST_YEAR."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        result = super()._deserialize(value, attr, data, **kwargs)
        _in_range(result)
        return result


class Date(ma.fields.Date):
    """An ISO 8601 date, between the years EARLIEST_YEAR and LATEST_YEAR."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        result = super()._deserialize(value, attr, data, **kwargs)
        _in_range(result)
        return result
