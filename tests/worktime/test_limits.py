from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.settings import ConfigError, load_settings
from server.worktime.calendar import Limit, LimitUnit
from server.worktime.limits import MAX_AMOUNT
from server.worktime.office_hours import OfficeHours


@pytest.mark.parametrize("text,limit", [
    ("4wh", Limit(4, LimitUnit.WORKING_HOURS)),
    ("20wd", Limit(20, LimitUnit.WORKING_DAYS)),
    ("48h", Limit(48, LimitUnit.HOURS)),
    ("3d", Limit(3, LimitUnit.DAYS)),
    (" 5wd ", Limit(5, LimitUnit.WORKING_DAYS)),
])
def test_parse(text, limit):
    assert Limit.parse(text) == limit
    assert str(limit) == text.strip()


@given(st.integers(min_value=1, max_value=MAX_AMOUNT), st.sampled_from(LimitUnit))
def test_round_trip(amount, unit):
    limit = Limit(amount, unit)
    assert Limit.parse(str(limit)) == limit


@pytest.mark.parametrize("amount", [0, MAX_AMOUNT + 1, 100000])
def test_a_limit_is_from_one_to_the_maximum(amount):
    with pytest.raises(ValueError, match="from 1 to 9999"):
        Limit(amount, LimitUnit.WORKING_DAYS)


@pytest.mark.parametrize("text", ["", "wd", "0wd", "-1wd", "10000wd", "100000wd", "4", "4 wh", "4WH", "4.5h", "4w", "4wdx", "二十wd", "1e3h"])
def test_parse_refuses_anything_else(text):
    with pytest.raises(ValueError, match="is not a time limit; write a whole number"):
        Limit.parse(text)


@pytest.mark.parametrize("amount", [0, -3, True, 2.5, "4"])
def test_a_limit_needs_a_positive_whole_amount(amount):
    with pytest.raises(ValueError):
        Limit(amount, LimitUnit.DAYS)


def test_office_hours_parse_and_print():
    hours = OfficeHours.parse("9:00-12:00, 13:30-17:30")
    assert hours.periods == ((dt.time(9), dt.time(12)), (dt.time(13, 30), dt.time(17, 30)))
    assert str(hours) == "09:00-12:00,13:30-17:30"
    assert hours.day_length == dt.timedelta(hours=7)


@pytest.mark.parametrize("text,message", [
    ("", "is not a period"),
    ("09:00", "is not a period"),
    ("12:00-09:00", "ends before it starts"),
    ("09:00-12:00,11:00-17:00", "overlaps"),
    ("13:30-17:30,09:00-12:00", "overlaps or precedes"),
    ("09:00-25:00", "not a time of day"),
    ("18:00-24:00", "23:59"),
])
def test_office_hours_refuse_nonsense(text, message):
    with pytest.raises(ValueError, match=message):
        OfficeHours.parse(text)


def test_the_office_hours_setting(tmp_path):
    settings = load_settings({"INSTANCE_DIR": str(tmp_path)}, environ={"XUNCHA_OFFICE_HOURS": "8:30-12:00,14:30-18:00"})
    assert settings["OFFICE_HOURS"] == "08:30-12:00,14:30-18:00"
    assert load_settings({"INSTANCE_DIR": str(tmp_path)}, environ={})["OFFICE_HOURS"] == "09:00-12:00,13:30-17:30"
    with pytest.raises(ConfigError, match="XUNCHA_OFFICE_HOURS='9-12': '9-12' is not a period"):
        load_settings({"INSTANCE_DIR": str(tmp_path)}, environ={"XUNCHA_OFFICE_HOURS": "9-12"})
