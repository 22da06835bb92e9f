"""notify(): notices and outbox rows in the caller's transaction, once per dedupe key."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

import pytest
import sqlalchemy as sa

from server.notifications.models import Delivery, DeliveryChannel, Notification
from server.notifications.services import Notice, deliver_due, notify, notify_many
from server.settings import ConfigError, load_settings


def _notify(app, session, clock, users, key=None, **extra):  # type: ignore[no-untyped-def]
    return notify(session, clock, user_ids=[u.id for u in users], kind="order.escalated", title="市审计局问题升级督办",
                  body="逾期未整改，已升级为督办单。", data={"order_id": uuid.UUID(int=7), **extra}, dedupe_key=key,
                  config=app.config)


def counts(session):  # type: ignore[no-untyped-def]
    session.rollback()
    return (session.scalar(sa.select(sa.func.count()).select_from(Notification)),
            session.scalar(sa.select(sa.func.count()).select_from(Delivery)))


def test_one_notice_per_person_and_dedupe_key(app, session, clock, people, smtp):
    alice, bob = people["alice"], people["bob"]
    first = _notify(app, session, clock, [alice, bob], key="escalate:7:2")
    session.commit()
    assert len(first) == 2
    again = _notify(app, session, clock, [alice, bob, alice], key="escalate:7:2")
    session.commit()
    assert again == []
    assert counts(session) == (2, 1)  # only alice has an email address

    assert len(_notify(app, session, clock, [alice], key="escalate:7:3")) == 1
    assert len(_notify(app, session, clock, [alice])) == 1 and len(_notify(app, session, clock, [alice])) == 1
    session.commit()
    assert counts(session) == (5, 4)


def test_the_notice_lives_and_dies_with_the_callers_transaction(app, session, clock, people):
    _notify(app, session, clock, [people["alice"]], key="k")
    session.rollback()
    assert counts(session) == (0, 0)
    # The key is free again: nothing was kept of the rolled-back attempt.
    assert len(_notify(app, session, clock, [people["alice"]], key="k")) == 1


def test_each_reachable_channel_gets_an_outbox_row(app, session, clock, people, smtp, webhook):
    webhook(200)
    people["bob"].active = False
    session.commit()
    _notify(app, session, clock, [people["alice"], people["sup"], people["liaison"], people["bob"]])
    session.commit()
    session.rollback()
    rows = session.execute(sa.select(Delivery.user_id, Delivery.channel)).all()
    expected = {(people["alice"].id, DeliveryChannel.EMAIL), (people["alice"].id, DeliveryChannel.WEBHOOK),
                (people["sup"].id, DeliveryChannel.EMAIL), (people["sup"].id, DeliveryChannel.WEBHOOK),
                (people["liaison"].id, DeliveryChannel.WEBHOOK)}
    assert set(rows) == expected and len(rows) == len(expected)  # inactive bob: nothing


def test_data_is_stored_as_json_text(app, session, clock, people):
    deadline = dt.datetime(2026, 11, 27, 17, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    [notice] = _notify(app, session, clock, [people["alice"]], deadline=deadline, level=2)
    session.commit()
    session.rollback()
    stored = session.get(Notification, notice.id)
    assert stored.data == {"order_id": str(uuid.UUID(int=7)), "deadline": "2026-11-27T09:30:00+00:00", "level": 2}


def test_a_sweep_notifies_thousands_in_one_call(app, session, clock, people, smtp):
    notices = [Notice([people["alice"].id, people["liaison"].id], "order.reminder", f"提醒 {n}", "请整改",
                      {"n": n}, dedupe_key=f"remind:{n}") for n in range(1500)]
    assert len(notify_many(session, clock, notices, config=app.config)) == 3000
    session.commit()
    assert counts(session) == (3000, 1500)
    # A second sweep over the same orders notifies nobody.
    assert notify_many(session, clock, notices, config=app.config) == []


def test_a_webhook_url_needs_a_secret(tmp_path):
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        load_settings({"INSTANCE_DIR": str(tmp_path), "WEBHOOK_URL": "https://hooks.example.cn/x"}, environ={})
    with pytest.raises(ConfigError, match="WEBHOOK_URL"):
        load_settings({"INSTANCE_DIR": str(tmp_path), "WEBHOOK_URL": "ftp://x", "WEBHOOK_SECRET": "s" * 20},
                      environ={})


# --- PostgreSQL: several processes at once ---------------------------------------------------


def test_concurrent_notifies_with_one_key_make_one_notice(app, people, clock, smtp, is_postgres):
    if not is_postgres:
        pytest.skip("concurrent writers need PostgreSQL")
    make = app.extensions["xuncha.db"].sessionmaker
    alice = people["alice"]
    inserted, done = threading.Event(), threading.Event()
    results: dict[str, int] = {}

    def first() -> None:
        with make() as s:
            results["first"] = len(_notify(app, s, clock, [alice], key="escalate:9:2"))
            inserted.set()  # written, not committed: the second must wait on the unique index
            done.wait(10)
            s.commit()

    def second() -> None:
        inserted.wait(10)
        with make() as s:
            results["second"] = len(_notify(app, s, clock, [alice], key="escalate:9:2"))
            s.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    time.sleep(0.5)  # the second is now blocked inside its INSERT
    done.set()
    for t in threads:
        t.join(20)
    assert results == {"first": 1, "second": 0}
    with make() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Notification)) == 1
        assert s.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 1


def test_parallel_delivery_runs_send_each_notice_once(app, session, people, clock, webhook, is_postgres):
    if not is_postgres:
        pytest.skip("parallel schedulers need PostgreSQL")
    receiver = webhook(200, delay=0.01)
    app.config["NOTIFY_BATCH_SIZE"] = 5
    notices = [Notice([u.id], "order.reminder", f"提醒 {n}", "请整改", {}, f"r:{n}")
               for n in range(40) for u in (people["alice"], people["bob"], people["sup"], people["liaison"])]
    notify_many(session, clock, notices, config=app.config)
    session.commit()
    make = app.extensions["xuncha.db"].sessionmaker
    start = threading.Barrier(2)
    reports = []

    def scheduler() -> None:
        start.wait(10)
        reports.append(deliver_due(make, clock, app.config))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    delivered = [n["id"] for body in receiver.bodies() for n in body["notifications"]]
    assert len(delivered) == len(set(delivered)) == 160
    assert sum(r.sent for r in reports) == 160
    assert all(r.sent for r in reports), "both runs should have taken a share"
