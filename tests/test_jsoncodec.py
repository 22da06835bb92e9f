"""The server's JSON: the standard library's compact UTF-8 spelling, for every value it stores."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import uuid

from server import jsoncodec


class Colour(enum.Enum):
    YELLOW = "yellow"


def test_spelling_matches_the_standard_library_for_plain_and_converted_values() -> None:
    ident = uuid.uuid4()
    value = {"text": "市新华书店办公楼西侧杂物堆积墙边 \"quoted\" \n", "n": 3, "x": 1.5, "none": None, "yes": True,
             "nested": {"list": [1, "二"]}, 7: "int key"}
    assert jsoncodec.dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    converted = {"id": ident, "colour": Colour.YELLOW, "day": dt.date(2026, 10, 1),
                 "at": dt.datetime(2026, 10, 1, 1, 2, 3, 4, tzinfo=dt.timezone.utc),
                 "whole": dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc), "money": decimal.Decimal("2.50")}
    assert jsoncodec.loads(jsoncodec.dumps(converted)) == {
        "id": str(ident), "colour": "yellow", "day": "2026-10-01", "at": "2026-10-01T01:02:03.000004+00:00",
        "whole": "2026-10-01T00:00:00+00:00", "money": "2.50"}


def test_what_cannot_be_written_is_refused_by_name() -> None:
    try:
        jsoncodec.dumps({"x": object()})
    except TypeError as exc:
        assert "object" in str(exc)
    else:
        raise AssertionError("an object was written as JSON")
