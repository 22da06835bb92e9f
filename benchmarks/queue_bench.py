#!/usr/bin/env python
"""The issue queue (server.orders.queue) over a large order table, beside its own SQL alone.

    python benchmarks/queue_bench.py --quick      # 20,000 orders
    python benchmarks/queue_bench.py              # 100,000 orders
    python benchmarks/queue_bench.py --postgres postgresql://postgres@127.0.0.1:5432/NAME

The database (a temporary SQLite file, or the PostgreSQL database named, which is emptied and
rebuilt) is built by the real migrations and filled as benchmarks/escalation_bench.py fills it
(200 units, 10,000 findings, the orders), with the findings spread over five categories and
their descriptions varied so the filters have something to choose from.

Measured, for a supervisor (the campaign's whole queue in scope) with the console's usual
filters (status issued, one category, a word of free text, sorted by deadline, 50 rows):

- ``queue``: :func:`server.orders.queue.queue` as the orders list calls it: the page of rows
  with their photo, flag and request extras, and the counts per status under the filters;
- ``query alone``: the same filtered, sorted and limited SELECT the queue runs for its rows,
  executed on its own with nothing else;
- ``page``: the console's queue page (``GET /console/queue`` with those filters in its URL,
  as a supervisor's browser asks for it, through the app with its cookie session): the queue,
  the filter form's lists and the HTML.

Each is timed ``--repeat`` times (9; 5 with ``--quick``), in turns, and the median taken: this
machine is shared, and a busy moment should slow both, not one. The issue asks
for the queue page in under 10 times the query alone. The last line printed is one JSON object:
``queue_ms``, ``query_alone_ms``, ``queue_ratio``, ``page_ms``, ``page_ratio`` (and the database
and order count). Nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from benchmarks.escalation_bench import NOW, _app, fill  # noqa: E402
from benchmarks.sync_bench import say  # noqa: E402

FULL, QUICK = 100_000, 20_000
CATEGORIES = ("杂物乱堆", "占道经营", "野广告", "暴露垃圾", "违法搭建")


def vary(app: Any) -> None:
    """Spread the findings over the categories and give a fifth of them the searched word."""
    engine = app.extensions["xuncha.db"].engine
    cases = " ".join(f"WHEN {i} THEN '{c}'" for i, c in enumerate(CATEGORIES))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE findings SET category = CASE unit_id % 5 {cases} END")
        conn.exec_driver_sql("UPDATE findings SET description = '菜市场门口西侧人行道' WHERE unit_id % 7 = 0")
        conn.exec_driver_sql("ANALYZE")


def medians_ms(runs: list[Callable[[], Any]], repeat: int) -> list[float]:
    """The median time of each run, taken in turns so a machine busy for a moment slows both."""
    for run in runs:
        run()  # warm: mappers, the policy, the statement caches
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeat):
        for run, taken in zip(runs, times):
            started = time.perf_counter()
            run()
            taken.append((time.perf_counter() - started) * 1000)
    return [statistics.median(taken) for taken in times]


def measure(app: Any, repeat: int) -> dict[str, Any]:
    from server.auth.models import User
    from server.auth.scope import reach_of_user
    from server.orders import queue
    from server.orders.models import OrderStatus

    database = app.extensions["xuncha.db"]
    tz = app.config["TIMEZONE"]
    filters = queue.QueueFilters(statuses=(OrderStatus.ISSUED,), categories=("杂物乱堆",), text="西侧")
    with app.app_context(), database.session() as session:
        reach = reach_of_user(session.scalar(sa.select(User).where(User.username == "sup")))
        page: dict[str, Any] = {}

        def whole() -> None:
            page.update(queue.queue(session, reach, filters, now=NOW, tz=tz, limit=50))
            session.rollback()

        keys = queue.sort_keys(queue.QueueSort.DEADLINE)
        alone = (queue.filtered(reach, filters, now=NOW, tz=tz)
                 .order_by(*(k.ordering() for k in keys)).limit(51))

        def query_alone() -> None:
            session.execute(alone).all()
            session.rollback()

        browser = _console(app, session)

        def console_page() -> None:
            answer = browser.get("/console/queue?status=issued&category=杂物乱堆&q=西侧")
            assert answer.status_code == 200, answer.status_code

        queue_ms, alone_ms, page_ms = medians_ms([whole, query_alone, console_page], repeat)
    return {"queue_ms": round(queue_ms, 2), "query_alone_ms": round(alone_ms, 2),
            "queue_ratio": round(queue_ms / alone_ms, 2), "page_ms": round(page_ms, 2),
            "page_ratio": round(page_ms / alone_ms, 2), "rows": len(page["items"]), "total": page["total"]}


def _console(app: Any, session: Any) -> Any:
    """A test client logged in to the console as the supervisor (a login token in its session
    cookie, as the console's login leaves it)."""
    import datetime as dt
    import uuid

    from server.auth.models import Device, User
    from server.auth.services import issue_token
    from server.clock import app_clock
    from server.web.session import TOKEN_KEY

    user = session.scalar(sa.select(User).where(User.username == "sup"))
    device = Device(id=uuid.uuid4(), user_id=user.id, platform="web")
    session.add(device)
    session.flush()
    token = issue_token(session, app_clock(), user, device, dt.timedelta(hours=1)).token
    session.commit()
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie[TOKEN_KEY] = token
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK:,} orders instead of {FULL:,}")
    parser.add_argument("--postgres", metavar="URL", help="run on this PostgreSQL database (emptied first)")
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args()
    orders = QUICK if args.quick else FULL
    repeat = args.repeat or (5 if args.quick else 9)
    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            from server.db import make_engine
            from server.models import Base

            url = args.postgres
            engine = make_engine(url)
            with engine.begin() as conn:
                Base.metadata.drop_all(conn)
                conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
            engine.dispose()
        else:
            url = f"sqlite:///{Path(tmp) / 'queue.sqlite3'}"
        app = _app(url, Path(tmp) / "instance")
        started = time.perf_counter()
        fill(app, orders, overdue=orders // 100)
        vary(app)
        say(f"filled {orders:,} orders in {time.perf_counter() - started:.1f} s")
        result = measure(app, repeat)
        app.extensions["xuncha.db"].dispose()
    database = "postgres" if args.postgres else "sqlite"
    say(f"{database}: queue {result['queue_ms']:.1f} ms (page of {result['rows']}, {result['total']:,} matching, "
        f"counts per status), the query alone {result['query_alone_ms']:.1f} ms: ratio {result['queue_ratio']:.2f}; "
        f"the console's queue page {result['page_ms']:.1f} ms: ratio {result['page_ratio']:.2f}")
    print(json.dumps({**result, "database": database, "orders": orders}))


if __name__ == "__main__":
    main()
