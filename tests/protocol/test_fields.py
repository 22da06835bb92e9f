"""The shared input fields refuse what no column or clock holds, whatever path a value came by."""

from __future__ import annotations

import datetime as dt

import marshmallow as ma
import pytest

from sync_protocol.fields import AwareDateTime, BigInteger, Date, Integer, String


class _Input(ma.Schema):
    text = String(load_default="")
    number = Integer(load_default=0, validate=ma.validate.Range(min=1))
    big = BigInteger(load_default=0)
    at = AwareDateTime(load_default=None)
    day = Date(load_default=None)


@pytest.mark.parametrize("field,value,message", [
    ("text", "a\x00b", "must not contain the NUL character"),
    ("text", "a\ud800b", "must not contain lone surrogates (invalid Unicode)"),
    ("number", 2 ** 31, f"must be between {-2 ** 31} and {2 ** 31 - 1}"),
    ("number", -(2 ** 31) - 1, f"must be between {-2 ** 31} and {2 ** 31 - 1}"),
    ("big", 2 ** 63, f"must be between {-2 ** 63} and {2 ** 63 - 1}"),
    ("at", "9999-12-31T23:59:59+00:00", "must lie between the years 1900 and 2999"),
    ("at", "1899-12-31T23:59:59+00:00", "must lie between the years 1900 and 2999"),
    ("day", "3000-01-01", "must lie between the years 1900 and 2999"),
])
def test_out_of_range_input_is_a_validation_error(field, value, message):
    with pytest.raises(ma.ValidationError) as refused:
        _Input().load({field: value})
    assert message in refused.value.messages[field]


def test_values_within_range_load():
    loaded = _Input().load({"text": "杂物堆积", "number": 2 ** 31 - 1, "big": 2 ** 63 - 1,
                            "at": "1970-01-01T00:00:00+00:00", "day": "2999-12-31"})
    assert loaded == {"text": "杂物堆积", "number": 2 ** 31 - 1, "big": 2 ** 63 - 1,
                      "at": dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc), "day": dt.date(2999, 12, 31)}


def test_a_narrower_range_of_the_schema_still_applies():
    with pytest.raises(ma.ValidationError) as refused:
        _Input().load({"number": 0})
    assert refused.value.messages == {"number": ["Must be greater than or equal to 1."]}
