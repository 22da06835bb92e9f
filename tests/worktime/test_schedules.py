"""Loading official schedules into the database, and the calendar built from them."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from server.audit.models import AuditEvent
from server.errors import ValidationFailed
from server.worktime.calendar import Limit
from server.worktime.models import HolidayYear, OfficialDay
from server.worktime.schedule import ScheduleDay
from server.worktime.services import calendar_for, load_schedule, year_report
from tests.worktime.helpers import SCHEDULE_2027, local


def test_loading_2027_moves_deadlines_and_confirms_the_year(app, session, clock):
    start, limit = local(2026, 12, 31, 10), Limit.parse("2wd")
    before = calendar_for(session, app.config).deadline(start, limit)
    assert before.at == local(2027, 1, 5, 17, 30) and before.provisional

    loaded = load_schedule(session, clock, 2027, SCHEDULE_2027, actor_id=None, source="国办发明电〔2026〕X号")
    session.commit()
    assert (loaded.year, loaded.loaded_at, loaded.source) == (2027, clock.now(), "国办发明电〔2026〕X号")

    after = calendar_for(session, app.config).deadline(start, limit)
    assert after.at == local(2027, 1, 6, 17, 30) and not after.provisional
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "holidays.loaded"))
    assert event.entity_id == "2027" and event.data["days_off"] == 2 and event.data["make_up_days"] == 1


def test_loading_again_replaces_the_year(app, session, clock):
    load_schedule(session, clock, 2027, SCHEDULE_2027, actor_id=None, source="first")
    session.commit()
    assert not calendar_for(session, app.config).is_working_day(dt.date(2027, 1, 4))
    load_schedule(session, clock, 2027, [ScheduleDay(dt.date(2027, 1, 1), False, "元旦")], actor_id=None,
                  source="corrected")
    session.commit()
    session.rollback()
    calendar = calendar_for(session, app.config)
    assert calendar.is_working_day(dt.date(2027, 1, 4)) and not calendar.is_working_day(dt.date(2027, 1, 10))
    assert session.scalars(sa.select(OfficialDay.date)).all() == [dt.date(2027, 1, 1)]
    assert session.get(HolidayYear, 2027).source == "corrected"
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 2


def test_the_calendar_is_reused_until_a_load(app, session, clock):
    first = calendar_for(session, app.config)
    assert calendar_for(session, app.config) is first
    load_schedule(session, clock, 2027, SCHEDULE_2027, actor_id=None, source="x")
    session.commit()
    assert calendar_for(session, app.config) is not first


def test_another_process_sees_a_load(app, session, clock):
    # The web worker that loads and the scheduler that computes deadlines are different processes;
    # all they share is the database, so the stamp must come from there.
    stale = calendar_for(session, app.config)
    with app.extensions["xuncha.db"].session() as other:
        load_schedule(other, clock, 2027, SCHEDULE_2027, actor_id=None, source="x")
        other.commit()
    session.rollback()
    assert calendar_for(session, app.config) is not stale
    assert not calendar_for(session, app.config).is_working_day(dt.date(2027, 1, 4))


@pytest.mark.parametrize("days,field,message", [
    ([ScheduleDay(dt.date(2028, 1, 1), False, "元旦")], "days.0.date", "2028-01-01 is not in 2027"),
    ([ScheduleDay(dt.date(2027, 1, 1), False, "元旦"), ScheduleDay(dt.date(2027, 1, 1), False, "元旦")],
     "days.1.date", "listed twice"),
    ([ScheduleDay(dt.date(2027, 1, 1), False, "元旦"), ScheduleDay(dt.date(2027, 2, 10), True, "春节")],
     "days.1.kind", "2027-02-10 is a weekday (星期三)"),
    ([ScheduleDay(dt.date(2027, 1, 10), True, "")], "days", "lists no day off"),
    ([], "days", "lists no day off"),
    ([ScheduleDay(dt.date(2027, 1, 1), False, "元" * 101)], "days.0.name", "longer than 100"),
])
def test_a_bad_schedule_changes_nothing(app, session, clock, days, field, message):
    load_schedule(session, clock, 2027, SCHEDULE_2027, actor_id=None, source="good")
    session.commit()
    with pytest.raises(ValidationFailed) as caught:
        load_schedule(session, clock, 2027, days, actor_id=None, source="bad")
    assert any(e["field"] == field and message in e["message"] for e in caught.value.errors), caught.value.errors
    session.rollback()
    assert session.get(HolidayYear, 2027).source == "good"
    assert len(session.scalars(sa.select(OfficialDay)).all()) == len(SCHEDULE_2027)


def test_years_outside_the_calendar_are_refused(session, clock):
    with pytest.raises(ValidationFailed) as caught:
        load_schedule(session, clock, 2101, [ScheduleDay(dt.date(2101, 1, 1), False, "元旦")], actor_id=None,
                      source="x")
    assert caught.value.errors == [{"field": "year", "message": "must be between 1950 and 2100"}]


def test_year_report(app, session, clock):
    report = year_report(session, app.config, 2026)
    assert report.confirmed and report.origin == "package" and report.reference.startswith("holidays ")
    assert ScheduleDay(dt.date(2026, 9, 20), True, "调休上班") in report.make_up_days
    assert ScheduleDay(dt.date(2026, 10, 1), False, "国庆节") in report.days_off
    assert not year_report(session, app.config, 2027).confirmed


def test_two_loads_of_a_year_at_once_leave_one_whole_schedule(app, session, clock, is_postgres):
    if not is_postgres:
        pytest.skip("row locks and concurrent writers: PostgreSQL only (SQLite has one writer)")
    import threading

    load_schedule(session, clock, 2027, SCHEDULE_2027, actor_id=None, source="first")
    session.commit()
    database = app.extensions["xuncha.db"]
    second_days = [ScheduleDay(dt.date(2027, 2, 8), False, "春节"), ScheduleDay(dt.date(2027, 2, 20), True, "")]
    errors: list[BaseException] = []
    with database.session() as a:
        load_schedule(a, clock, 2027, SCHEDULE_2027[:1], actor_id=None, source="a")  # holds the year's row lock

        def load_b() -> None:
            try:
                with database.session() as b:
                    load_schedule(b, clock, 2027, second_days, actor_id=None, source="b")
                    b.commit()
            except Exception as exc:  # the main thread asserts there was none
                errors.append(exc)

        thread = threading.Thread(target=load_b)
        thread.start()
        thread.join(timeout=1)
        assert thread.is_alive(), "the second load should wait for the first"
        a.commit()
        thread.join(timeout=30)
    assert not errors
    session.rollback()
    assert session.get(HolidayYear, 2027).source == "b"
    assert [(d.date, d.working) for d in session.scalars(sa.select(OfficialDay).order_by(OfficialDay.date))] == [
        (dt.date(2027, 2, 8), False), (dt.date(2027, 2, 20), True)]
