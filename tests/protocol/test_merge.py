"""The merge rules alone, as pure functions: no server, no database."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from sync_protocol.merge import clock_offset, effective_time, merge_fields, stamp_fields, union

T0 = dt.datetime(2026, 10, 23, 1, 0, tzinfo=dt.timezone.utc)


def meta_for(version: int, at: dt.datetime, device: str) -> dict:  # type: ignore[type-arg]
    return stamp_fields({}, ["description"], version=version, at=at, device=device)


def test_an_edit_on_the_version_it_saw_is_not_concurrent():
    merged = merge_fields({"description": "旧"}, meta_for(3, T0, "b"), {"description": "新"},
                          base_version=3, at=T0 - dt.timedelta(days=1), device="a")
    assert merged.taken == {"description": "新"} and not merged.concurrent


def test_concurrent_edits_go_to_the_later_one_and_keep_the_loser():
    later = merge_fields({"description": "服务器"}, meta_for(4, T0, "b"), {"description": "设备"},
                         base_version=3, at=T0 + dt.timedelta(minutes=1), device="a")
    assert later.taken == {"description": "设备"} and later.overwritten == {"description": "服务器"}
    earlier = merge_fields({"description": "服务器"}, meta_for(4, T0, "b"), {"description": "设备"},
                           base_version=3, at=T0 - dt.timedelta(minutes=1), device="a")
    assert earlier.taken == {} and earlier.lost == {"description": "设备"}


def test_a_device_never_conflicts_with_its_own_earlier_edit():
    merged = merge_fields({"description": "第一次"}, meta_for(5, T0, "a"), {"description": "第二次"},
                          base_version=1, at=T0 - dt.timedelta(hours=5), device="a")
    assert merged.taken == {"description": "第二次"} and not merged.concurrent


def test_the_same_value_written_twice_is_no_conflict():
    merged = merge_fields({"description": "同"}, meta_for(4, T0, "b"), {"description": "同"},
                          base_version=0, at=T0 - dt.timedelta(hours=1), device="a")
    assert not merged.concurrent and merged.taken == {}


@given(skew=st.integers(-48 * 3600, 48 * 3600), minutes_ago=st.integers(0, 7 * 24 * 60))
def test_a_constant_clock_error_cancels_out(skew: int, minutes_ago: int):
    server_now = T0 + dt.timedelta(days=10)
    truth = server_now - dt.timedelta(minutes=minutes_ago)
    error = dt.timedelta(seconds=skew)
    offset = clock_offset(server_now, server_now + error)  # the device's clock reads truth + error
    assert effective_time(truth + error, offset, server_now) == truth


def test_effective_time_is_never_in_the_future():
    now = T0
    assert effective_time(now + dt.timedelta(hours=3), dt.timedelta(0), now) == now


@given(existing=st.sets(st.text(min_size=1, max_size=3)), incoming=st.lists(st.text(min_size=1, max_size=3)))
def test_union_adds_each_new_item_once_in_order(existing: set[str], incoming: list[str]):
    added = union(existing, incoming)
    assert len(added) == len(set(added)) and not set(added) & existing
    assert set(added) == set(incoming) - existing
    assert added == [x for i, x in enumerate(incoming) if x not in existing and x not in incoming[:i]]
