#!/usr/bin/env python
"""The notification outbox at the size of an escalation sweep, on SQLite (default) or PostgreSQL.

    python benchmarks/notify_bench.py --quick      # CI: 1,000 notices
    python benchmarks/notify_bench.py              # 10,000 notices to 1,000 people
    python benchmarks/notify_bench.py --postgres postgresql://postgres@127.0.0.1/xuncha_bench

The database is built by the real migrations: a temporary SQLite file, or the PostgreSQL
database named, which must be a throwaway one (it is emptied first). Email and webhook are
both configured, so each notice gets two outbox rows. Measured:

- ``notify_many_s``: one :func:`notify_many` call for every notice, with dedupe keys, and the
  commit (which also writes the sync feed rows);
- ``notify_each_s``: the same notices through one :func:`notify` call each, in one
  transaction, as a caller looping over orders would do;
- ``deliver_s``: one :func:`deliver_due` run over all the outbox rows with channels that
  accept everything at once, i.e. the job's database work (claim, group, record) alone.

The last line printed is one JSON object. Nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from typing import Any, Sequence

import sqlalchemy as sa

from server import create_app
from server.auth.models import Role, User
from server.clock import SystemClock
from server.cli import upgrade_database
from server.notifications.channels import Message, SendFailed
from server.notifications.models import DeliveryChannel
from server.notifications.services import Notice, deliver_due, notify, notify_many


class _Accepting:
    def send(self, messages: Sequence[Message]) -> list[SendFailed | None]:
        return [None] * len(messages)


def _database(args: argparse.Namespace, tmp: str) -> str:
    if not args.postgres:
        return f"sqlite:///{tmp}/bench.sqlite3"
    from server.db import make_engine
    from server.models import Base
    from server.settings import database_url

    url = database_url(args.postgres)
    engine = make_engine(url)
    with engine.begin() as conn:  # a throwaway database: emptied, then built by the migrations
        Base.metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--postgres", help="URL of a throwaway PostgreSQL database; it is emptied")
    args = parser.parse_args()
    notices, people = (1_000, 100) if args.quick else (10_000, 1_000)

    with tempfile.TemporaryDirectory() as tmp:
        url = _database(args, tmp)
        upgrade_database(url)
        app = create_app({"DATABASE_URL": url, "INSTANCE_DIR": tmp, "SMTP_HOST": "mail.invalid",
                          "WEBHOOK_URL": "https://hooks.invalid/x", "WEBHOOK_SECRET": "x" * 32,
                          "NOTIFY_BATCH_SIZE": 1000, "LOG_LEVEL": "WARNING"})
        results = _run(app, notices, people)
        app.extensions["xuncha.db"].dispose()
    print(f"{notices} notices to {people} people, two channels, {'PostgreSQL' if args.postgres else 'SQLite'}")
    print(f"  notify_many + commit: {results['notify_many_s']:.2f} s")
    print(f"  notify per notice + commit: {results['notify_each_s']:.2f} s")
    print(f"  deliver_due (database work only): {results['deliver_s']:.2f} s, {results['messages']} messages")
    print(json.dumps(results))


def _run(app: Any, count: int, people: int) -> dict[str, Any]:
    clock = SystemClock()
    database = app.extensions["xuncha.db"]
    with database.session() as session:
        session.add_all([User(username=f"u{n}", display_name=f"用户{n}", role=Role.LIAISON, password_hash="-",
                              email=f"u{n}@example.cn") for n in range(people)])
        session.commit()
        ids = list(session.scalars(sa.select(User.id).order_by(User.id)))

    def batch(tag: str) -> list[Notice]:
        return [Notice([ids[n % people]], "order.reminder", f"市审计局整改提醒 {n}", "责任单位：市审计局\n问题：杂物堆积",
                       {"order": n}, dedupe_key=f"{tag}:{n}") for n in range(count)]

    with app.app_context(), database.session() as session:
        started = time.perf_counter()
        notify_many(session, clock, batch("many"))
        session.commit()
        many = time.perf_counter() - started

        started = time.perf_counter()
        for notice in batch("each"):
            notify(session, clock, user_ids=notice.user_ids, kind=notice.kind, title=notice.title, body=notice.body,
                   data=notice.data, dedupe_key=notice.dedupe_key)
        session.commit()
        each = time.perf_counter() - started

    started = time.perf_counter()
    report = deliver_due(database.sessionmaker, clock, app.config,
                         channels={DeliveryChannel.EMAIL: _Accepting(), DeliveryChannel.WEBHOOK: _Accepting()})
    deliver = time.perf_counter() - started
    return {"notices": count, "notify_many_s": round(many, 3), "notify_each_s": round(each, 3),
            "deliver_s": round(deliver, 3), "deliveries": report.sent, "messages": report.messages}


if __name__ == "__main__":
    main()
