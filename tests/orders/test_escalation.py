"""Deadlines in working time, the escalation ladder, reminders and catch-up after downtime."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
import sqlalchemy as sa

from server.orders import services
from server.orders.escalation import escalate_overdue, send_reminders
from server.orders.models import Escalation, Order, OrderStatus
from server.scheduling import JOBS, run_job
from tests.orders.conftest import as_local, local, notices

pytestmark = pytest.mark.usefixtures("app_context")


def test_deadline_counts_working_days_past_national_day_and_its_make_up_saturday(clock, raise_order):
    # 2026: 10月1日–7日 off; Sunday 9月20日 and Saturday 10月10日 are make-up working days (调休).
    clock.set(local(2026, 9, 30, 16, 0))  # Wednesday, the last working day before the holiday
    order = raise_order(category="环境卫生")  # the default policy's catch-all: 5 working days
    # 10月8日, 9日, 10日 (Saturday, 调休), 12日, 13日: without the make-up day it would be the 14th.
    assert as_local(order.due_at) == local(2026, 10, 13, 17, 30)
    assert order.time_limit == "5wd" and order.due_provisional is False

    clock.set(local(2026, 9, 18, 10, 0))  # the Friday two weeks before: Sunday the 20th is worked
    early = raise_order(category="环境卫生")
    assert as_local(early.due_at) == local(2026, 9, 24, 17, 30)


def test_working_hour_limits_stop_at_closing_time_and_deadlines_next_year_are_provisional(clock, raise_order):
    clock.set(local(2026, 11, 20, 16, 30))  # Friday afternoon, an hour before closing
    order = raise_order(category="暴露垃圾")  # 4 working hours
    assert order.time_limit == "4wh"
    assert as_local(order.due_at) == local(2026, 11, 23, 12, 0)  # Monday: 1 h Friday + 3 h Monday morning

    clock.set(local(2026, 12, 28, 9, 0))
    into_2027 = raise_order(category="违法搭建")  # 20 working days: into January 2027
    assert as_local(into_2027.due_at).year == 2027 and into_2027.due_provisional is True


def test_overdue_order_escalates_once_per_level_and_each_person_hears_once(session, clock, world, head,
                                                                            raise_order):
    liaison = world.users["liaison"]
    clock.set(local(2026, 11, 23, 9, 0))
    order = raise_order(category="暴露垃圾")  # 4 office hours: 3 before lunch, 1 after
    due = order.due_at
    assert as_local(due) == local(2026, 11, 23, 14, 30)
    clock.set(due + dt.timedelta(minutes=1))
    assert escalate_overdue(session, clock).steps == 1
    session.commit()
    assert escalate_overdue(session, clock).steps == 0  # a second run finds nothing new
    session.commit()
    session.refresh(order)
    assert order.level == 2 and order.status is OrderStatus.ISSUED
    # The 督办单's limit (3 working days) runs from the missed deadline, not from when the job ran.
    assert order.due_at > due and order.time_limit == "3wd"
    escalations = session.scalars(sa.select(Escalation).where(Escalation.order_id == order.id)).all()
    assert [(e.level, e.escalated_at, e.previous_due_at) for e in escalations] == [(2, due, due)]
    # Level 2 tells the liaison and the unit head of the order, each once; supervisors get the
    # sweep's summary (one notice, however many orders went up).
    for person in (liaison, head):
        assert len(notices(session, person.id, "order.escalated")) == 1
    summary = notices(session, world.users["sup"].id, "order.escalated.summary")
    assert len(summary) == 1 and summary[0].data["count"] == 1 and summary[0].data["order_ids"] == [str(order.id)]
    assert notices(session, world.users["sup"].id, "order.escalated") == []
    text = notices(session, liaison.id, "order.escalated")[0]
    assert "督办单" in text.title and world.units[0].name in text.title and "杂物堆积" in text.body

    clock.set(order.due_at + dt.timedelta(seconds=1))
    escalate_overdue(session, clock)
    session.commit()
    session.refresh(order)
    assert order.level == 3 and order.escalate_at is None  # the top: nothing further to climb
    assert len(notices(session, liaison.id, "order.escalated")) == 2


def test_an_answer_in_time_stops_the_ladder_and_a_rejection_starts_a_new_deadline(session, clock, world,
                                                                                   raise_order):
    clock.set(local(2026, 11, 23, 9, 0))
    order = raise_order()
    clock.advance(dt.timedelta(hours=2))
    services.respond(session, clock, order, world.users["liaison"], response_id=uuid.uuid4(), measures="已清理")
    session.commit()
    clock.set(order.due_at + dt.timedelta(days=30))
    assert escalate_overdue(session, clock).steps == 0

    services.reject(session, clock, order, world.users["alice"], reason="墙边仍有杂物")
    session.commit()
    assert order.status is OrderStatus.ISSUED and order.level == 1
    assert order.started_at == clock.now() and order.due_at > clock.now()
    assert escalate_overdue(session, clock).steps == 0  # the new deadline has not passed


def test_ten_days_down_then_one_run_ends_where_a_running_scheduler_would(app, session, clock, world, head,
                                                                         raise_order):
    clock.set(local(2026, 11, 23, 9, 0))
    fast = raise_order(category="暴露垃圾")  # 4wh, then 3wd, then 5wd: the top within ten days
    slow = raise_order(category="违法搭建")  # 20 working days: not due yet
    first_due = fast.due_at
    clock.advance(dt.timedelta(days=10))

    job = next(job for job in JOBS if job.id == "orders.escalate")
    run_job(app, job)
    run_job(app, job)  # and once more: nothing is done twice
    session.expire_all()
    steps = session.scalars(sa.select(Escalation).where(Escalation.order_id == fast.id)
                            .order_by(Escalation.level)).all()
    assert [step.level for step in steps] == [2, 3]
    # Each step took effect when the deadline before it was missed, as if the scheduler never stopped.
    assert steps[0].escalated_at == first_due and steps[1].escalated_at == steps[0].due_at
    assert session.get(Order, slow.id).level == 1
    levels = [n.data["level"] for n in notices(session, world.users["liaison"].id, "order.escalated")]
    assert levels == [2, 3]


def test_reminders_fire_at_shares_of_the_limit_to_the_assignee_first_then_up(session, clock, world, head,
                                                                             raise_order):
    clock.set(local(2026, 11, 23, 9, 0))  # Monday
    order = raise_order(severity="serious")  # 3 working days: due Thursday 17:30
    assert as_local(order.due_at) == local(2026, 11, 26, 17, 30)
    clock.set(local(2026, 11, 24, 14, 0))  # under half of the office time has passed
    assert send_reminders(session, clock) == 0
    clock.set(local(2026, 11, 25, 13, 0))  # past half
    assert send_reminders(session, clock) == 1
    session.commit()
    assert len(notices(session, world.users["liaison"].id, "order.reminder")) == 1
    assert notices(session, head.id, "order.reminder") == []
    assert send_reminders(session, clock) == 0
    clock.set(local(2026, 11, 26, 13, 0))  # past three quarters: now the head hears too
    assert send_reminders(session, clock) == 1
    session.commit()
    assert len(notices(session, head.id, "order.reminder")) == 1
    assert "11月26日" in notices(session, head.id, "order.reminder")[0].title


@pytest.mark.timeout(300)
def test_two_schedulers_on_postgresql_escalate_each_order_once(app, session, clock, world, head, raise_order,
                                                               is_postgres):
    if not is_postgres:
        pytest.skip("SKIP LOCKED and concurrent writers: PostgreSQL only (SQLite has one writer)")
    clock.set(local(2026, 11, 23, 9, 0))
    orders = [raise_order(category="暴露垃圾", commit=False) for _ in range(120)]
    session.commit()
    job = next(job for job in JOBS if job.id == "orders.escalate")
    errors: list[BaseException] = []

    def scheduler() -> None:
        try:
            for _ in range(6):
                run_job(app, job)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    for step in range(4):  # ticks across both deadlines: level 2, then level 3
        clock.advance(dt.timedelta(days=2))
        threads = [threading.Thread(target=scheduler) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    session.expire_all()
    counts = dict(session.execute(sa.select(Escalation.level, sa.func.count()).group_by(Escalation.level)).all())
    assert counts == {2: len(orders), 3: len(orders)}
    assert len(notices(session, world.users["liaison"].id, "order.escalated")) == 2 * len(orders)


def test_the_morning_digest_counts_what_waits_for_supervisors_once_a_day(app, session, clock, world,
                                                                        raise_order):
    clock.set(local(2026, 11, 23, 9, 0))
    late = raise_order(category="暴露垃圾")
    raise_order(unit=None)  # triage
    answered = raise_order()
    services.respond(session, clock, answered, world.users["liaison"], response_id=uuid.uuid4(), measures="已整改")
    session.commit()
    clock.set(local(2026, 11, 24, 8, 30))
    job = next(job for job in JOBS if job.id == "orders.daily_digest")
    assert run_job(app, job) == 1
    run_job(app, job)  # a second run the same morning tells nobody again
    session.expire_all()
    digests = notices(session, world.users["sup"].id, "digest.daily")
    assert len(digests) == 1
    data = digests[0].data
    assert (data["overdue"], data["triage"], data["to_verify"]) == (1, 1, 1)
    assert "逾期未整改 1 件" in digests[0].body and "11月24日" in digests[0].title
    assert late.level == 1  # the digest reports; it never escalates



def test_orders_escalated_together_from_different_deadlines_each_keep_their_own_window(session, clock, world,
                                                                                     raise_order):
    # One sweep writes orders sharing a new schedule with one statement; orders whose new
    # windows differ must not get each other's.
    clock.set(local(2026, 11, 23, 9, 0))
    orders = [raise_order(category="暴露垃圾"), raise_order(category="暴露垃圾")]
    clock.set(local(2026, 11, 23, 10, 0))
    orders.append(raise_order(category="暴露垃圾"))  # an hour later: missed an hour later
    clock.set(orders[2].due_at + dt.timedelta(minutes=1))
    assert escalate_overdue(session, clock).steps == 3
    session.commit()
    stored = {}
    for order in orders:
        session.refresh(order)
        step = session.scalars(sa.select(Escalation).where(Escalation.order_id == order.id)).one()
        assert order.level == 2 and order.due_at == step.due_at and order.started_at == step.escalated_at
        stored[order.id] = (order.started_at, order.due_at, order.escalate_at, order.remind_at)
    assert stored[orders[0].id] == stored[orders[1].id]
    assert stored[orders[2].id][0] > stored[orders[0].id][0]


def test_the_sweep_never_overwrites_an_order_changed_after_it_was_read(session, clock, world, raise_order):
    from server.orders import escalation

    clock.set(local(2026, 11, 23, 9, 0))
    order = raise_order(category="暴露垃圾")
    read_version = order.version
    session.execute(sa.update(Order).where(Order.id == order.id).values(version=Order.version + 1))
    copy = Order(**{c: getattr(order, c) for c in Order.__table__.columns.keys()})
    copy.level, copy.version = 2, read_version + 1
    with pytest.raises(escalation.StaleOrders):
        escalation._write(session, [(copy, read_version)], [], [], clock.now())
    session.rollback()
    session.refresh(order)
    assert order.level == 1 and order.version == read_version
