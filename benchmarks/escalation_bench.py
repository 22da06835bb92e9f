#!/usr/bin/env python
"""One escalation sweep over a large order table, on SQLite and on PostgreSQL.

    python benchmarks/escalation_bench.py --quick     # CI: 50,000 orders, 1,000 overdue
    python benchmarks/escalation_bench.py             # 1,000,000 orders, 10,000 overdue
    python benchmarks/escalation_bench.py --postgres postgresql://postgres@127.0.0.1:5432
    python benchmarks/escalation_bench.py --no-postgres

Each database is built by the real migrations (a temporary SQLite file; a throwaway PostgreSQL
database ``xuncha_bench_<pid>`` created from the base URL and dropped at the end). It is
filled with Core executemany: 200 units each with a liaison, a supervisor, 10,000 findings and
the orders, most of them closed, answered or not yet due, the overdue ones at level 1 with
their deadline an hour ago.

Measured, per database:

- ``sweep``: the scheduler's job ``orders.escalate`` as ``xuncha scheduler`` runs it, in one
  transaction: finding the overdue orders on their index, escalating each to level 2 with its
  new deadline in working days, the escalation rows, audit events, the notices for the unit's
  liaison and the supervisors with their outbox rows, and the sync feed rows of it all. It is
  timed ``--repeat`` times (3; 2 with ``--quick``), each time on a fresh copy of the filled
  database, and the median is the figure: this machine's speed moves by a third from one run
  to the next;
- ``floor``: the least any sweep must do to its orders, by hand in SQL: the same index scan and
  as many orders moved up a level, 500 to an UPDATE as the sweep groups them, in one
  transaction. ``sweep / floor`` says what the workflow's rules and records cost on top;
- ``rows``: the other rows the sweep wrote (ladder rows, audit events, notices, outbox and feed
  rows), written again as plain copies with the project's bulk insert and rolled back: what
  those records cost with no workflow around them, and of that the database's part (less
  Python converting the values; :mod:`benchmarks.floors`);
- ``records floor``: ``floor`` plus the database's part of ``rows``. No sweep that keeps these
  records can be faster on this schema and this database server.

The query plan of the sweep's query is printed (it must use ``ix_orders_status_escalate_at``).
The last line printed is one JSON object with ``sweep_s_sqlite``, ``sweep_s_postgres`` (the
medians), ``escalated``, the floors (``records_floor_s_*``) and every run's time. Nothing
asserts a timing.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from benchmarks.sync_bench import FAST_ARGON2, postgres_database, say  # noqa: E402

FULL = {"orders": 1_000_000, "overdue": 10_000}
QUICK = {"orders": 50_000, "overdue": 1_000}
GOALS = {"sqlite": 2.0, "postgres": 1.0}
FINDINGS = 10_000
UNITS = 200
NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.timezone.utc)  # a Tuesday, 10:00 in Shanghai


def _app(url: str, instance: Path) -> Any:
    from server import create_app
    from server.cli import upgrade_database
    from server.clock import FrozenClock

    upgrade_database(url)
    return create_app({"DATABASE_URL": url, "INSTANCE_DIR": str(instance), "SECRET_KEY": "bench-" + "k" * 40,
                       "LOG_LEVEL": "WARNING", **FAST_ARGON2}, clock=FrozenClock(NOW))


def fill(app: Any, orders: int, overdue: int) -> None:
    """The campaign, its people, findings and orders, written with Core in large chunks."""
    from server.auth.models import Role, User
    from server.campaigns.models import Campaign
    from server.findings.models import Finding, FindingStatus, Severity
    from server.orders.policy import current_policy
    from server.units.models import Unit

    database = app.extensions["xuncha.db"]
    clock = app.extensions["xuncha.clock"]
    with app.app_context(), database.session() as session, session.begin():
        campaign = Campaign(name="基准测试双创")
        session.add(campaign)
        session.flush()
        session.execute(sa.insert(Unit), [{"campaign_id": campaign.id, "code": f"B{i:04d}", "name": f"市基准局{i}"}
                                          for i in range(UNITS)])
        unit_ids = list(session.scalars(sa.select(Unit.id).order_by(Unit.id)))
        people = [{"username": f"liaison{i}", "display_name": f"联络员{i}", "role": Role.LIAISON,
                   "password_hash": "x", "campaign_id": campaign.id, "unit_id": unit_id}
                  for i, unit_id in enumerate(unit_ids)]
        people.append({"username": "sup", "display_name": "督查员", "role": Role.SUPERVISOR, "password_hash": "x",
                       "campaign_id": campaign.id, "unit_id": None})
        session.execute(sa.insert(User), people)
        reporter = session.scalar(sa.select(User.id).where(User.username == "sup"))
        policy_version = current_policy(session, clock).version

    with database.session() as session, session.begin():
        finding_ids = [uuid.uuid4() for _ in range(FINDINGS)]
        session.execute(sa.insert(Finding), [
            {"id": fid, "campaign_id": campaign.id, "unit_id": unit_ids[i % UNITS], "category": "环境卫生",
             "description": "办公楼西侧杂物堆积墙边", "severity": Severity.NORMAL, "status": FindingStatus.COMPLETE,
             "location_text": "", "reported_by": reporter, "observed_at": NOW, "version": 1, "field_meta": {}}
            for i, fid in enumerate(finding_ids)])

    _fill_orders(database.engine, orders, overdue, policy_version)


def _fill_orders(engine: sa.Engine, orders: int, overdue: int, policy_version: int) -> None:
    """The orders made by the database itself in one INSERT ... SELECT (Python would spend
    minutes building a million rows): the first ``overdue`` are at level 1, an hour past their
    deadline; of the rest, six in ten closed, three in ten issued and not yet due, one answered."""
    from server.orders.models import Order

    pg = engine.dialect.name == "postgresql"
    series = ("generate_series(0, :orders - 1) AS n(i)" if pg else
              "(WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < :orders) "
              "SELECT i FROM s) AS n")
    new_id = "gen_random_uuid()" if pg else "lower(hex(randomblob(16)))"
    when = Order.__table__.c.due_at.type
    statement = sa.text(f"""
        INSERT INTO orders (id, finding_id, unit_id, level, status, issued_at, started_at, due_at, escalate_at,
                            time_limit, reminder_index, policy_version, bounces, needs_supervisor, due_provisional,
                            version, created_at, updated_at)
        SELECT {new_id}, f.id, f.unit_id, 1,
               CASE WHEN n.i < :overdue THEN 'issued' WHEN n.i % 10 < 6 THEN 'closed'
                    WHEN n.i % 10 < 9 THEN 'issued' ELSE 'responded' END,
               :issued, :issued,
               CASE WHEN n.i < :overdue THEN :late WHEN n.i % 10 < 6 THEN :long_ago ELSE :ahead END,
               CASE WHEN n.i < :overdue THEN :late WHEN n.i % 10 < 6 THEN NULL
                    WHEN n.i % 10 < 9 THEN :ahead ELSE NULL END,
               '5wd', 0, :policy, 0, false, false, 1, :now, :now
        FROM {series} JOIN bench_findings f ON f.k = n.i % :findings
    """).bindparams(*(sa.bindparam(name, type_=when) for name in ("issued", "late", "long_ago", "ahead", "now")))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TEMP TABLE bench_findings AS SELECT row_number() OVER (ORDER BY id) - 1 AS k, "
                             "id, unit_id FROM findings")
        conn.execute(statement, {"orders": orders, "overdue": overdue, "findings": FINDINGS, "policy": policy_version,
                                 "issued": NOW - dt.timedelta(days=10), "late": NOW - dt.timedelta(hours=1),
                                 "long_ago": NOW - dt.timedelta(days=40), "ahead": NOW + dt.timedelta(days=3),
                                 "now": NOW})
        conn.exec_driver_sql("DROP TABLE bench_findings")
        conn.exec_driver_sql("ANALYZE")


def query_plan(app: Any) -> str:
    from server.orders.models import Order, OrderStatus

    stmt = (sa.select(Order.id).where(Order.status == OrderStatus.ISSUED, Order.escalate_at <= NOW)
            .order_by(Order.escalate_at).limit(1000))
    engine = app.extensions["xuncha.db"].engine
    with engine.connect() as conn:
        compiled = stmt.compile(conn, compile_kwargs={"literal_binds": True})
        if conn.dialect.name == "postgresql":
            rows = conn.exec_driver_sql(f"EXPLAIN {compiled}").all()
            return "\n".join(r[0] for r in rows)
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
        return "\n".join(r[-1] for r in rows)


def sweep(app: Any, profile: Path | None = None) -> tuple[float, int]:
    from server.scheduling import JOBS, run_job

    job = next(job for job in JOBS if job.id == "orders.escalate")
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    result = run_job(app, job)
    seconds = time.perf_counter() - started
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(profile))
    return seconds, result.steps


def warm(app: Any) -> float:
    """What a scheduler process does once, at its first run, not per sweep: import the holiday
    tables and build this year's working-day calendar, configure the mappers, import the
    delivery channels."""
    from sqlalchemy.orm import configure_mappers

    from server.notifications.channels import configured_channels
    from server.worktime.limits import Limit
    from server.worktime.services import calendar_for

    started = time.perf_counter()
    configure_mappers()
    configured_channels(app.config)
    with app.app_context(), app.extensions["xuncha.db"].session() as session:
        calendar_for(session, app.config).deadline(NOW, Limit.parse("3wd"))
    return time.perf_counter() - started


def measure(url: str, instance: Path, sizes: dict[str, int], label: str, repeat: int = 1,
            profile: Path | None = None) -> dict[str, Any]:
    app = _app(url, instance)
    started = time.perf_counter()
    fill(app, sizes["orders"], sizes["overdue"])
    say(f"[{label}] filled {sizes['orders']:,} orders ({sizes['overdue']:,} overdue) in "
        f"{time.perf_counter() - started:.0f} s")
    plan = query_plan(app)
    say(f"[{label}] sweep query plan:\n    " + plan.replace("\n", "\n    "))
    say(f"[{label}] first use in the process (holiday tables, mappers, channels; once per scheduler process, "
        f"not counted): {warm(app):.2f} s")
    if profile:
        profile.mkdir(parents=True, exist_ok=True)
    runs: list[float] = []
    with snapshot(app, url, repeat > 1) as restore:
        for run in range(repeat):
            if run:
                restore()
            seconds, steps = sweep(app, profile / f"sweep-{label.lower()}.pstats" if profile and not run else None)
            runs.append(seconds)
            say(f"[{label}] sweep {run + 1} of {repeat}: {steps:,} escalations in {seconds:.2f} s "
                f"({steps / seconds:,.0f} orders/s)")
    seconds = statistics.median(runs)
    if repeat > 1:
        say(f"[{label}] sweep: median {seconds:.2f} s, fastest {min(runs):.2f} s, slowest {max(runs):.2f} s")
    from benchmarks.floors import describe

    written = write_floor(app)
    writes_s, writes_db_s = sum(w.seconds for w in written), sum(w.database for w in written)
    say(f"[{label}] the other {sum(w.rows for w in written):,} rows it wrote, written again as plain copies in bulk: "
        f"{writes_s:.2f} s, of which {writes_db_s:.2f} s the database's; {describe(written)}")
    floor_s = floor(app, steps)
    say(f"[{label}] floor (index scan + UPDATE of {steps:,} orders, 500 a statement): {floor_s:.2f} s; "
        f"sweep/floor {seconds / floor_s:.1f}x; sweep/(floor + rows) {seconds / (floor_s + writes_s):.1f}x")
    say(f"[{label}] records floor (the orders' update and the database's part of the other rows): "
        f"{floor_s + writes_db_s:.2f} s")
    app.extensions["xuncha.db"].dispose()
    return {"sweep_s": seconds, "runs": runs, "escalated": steps, "floor_s": floor_s, "writes_s": writes_s,
            "writes_db_s": writes_db_s, "plan": plan}


def write_floor(app: Any) -> list[Any]:
    """The rows the sweep wrote besides the orders (ladder rows, audit events, notices, outbox
    and feed rows), written again as plain copies with the project's fastest bulk insert, in a
    transaction rolled back: what the sweep's writes cost with no workflow around them
    (:mod:`benchmarks.floors`)."""
    from sqlalchemy.orm import Session

    from benchmarks.floors import insert_copies
    from server.audit.models import AuditEvent
    from server.notifications.models import Delivery, Notification
    from server.orders.models import Escalation
    from server.sync.models import SyncRow

    engine = app.extensions["xuncha.db"].engine
    with engine.connect() as conn:
        copies: list[tuple[Any, list[dict[str, Any]]]] = []
        for model, fresh in ((Escalation, lambda r: {**r, "level": r["level"] + 100}),
                             (AuditEvent, lambda r: {**r, "id": uuid.uuid4()}),
                             (Notification, lambda r: {k: v for k, v in r.items() if k != "id"} | {"dedupe_key": None}),
                             (Delivery, lambda r: {k: v for k, v in r.items() if k != "id"}),
                             (SyncRow, lambda r: {**r, "entity_id": str(uuid.uuid4()), "seq": r["seq"] + 10**12})):
            table = model.__table__
            rows = [fresh(dict(row._mapping)) for row in conn.execute(sa.select(table))]
            if model is AuditEvent:
                rows = [r for r in rows if r["action"] == "order.escalated"]
            if model is SyncRow:
                rows = [r for r in rows if r["entity"] in ("order", "notification")]
            copies.append((table, rows))
        with Session(bind=conn) as session:
            written = insert_copies(session, copies)
            session.rollback()
    return written


def floor(app: Any, count: int) -> float:
    """What any sweep must pay for its orders: the same index scan, and the orders moved up with
    the fewest statements (one UPDATE per 500 ids, as the sweep groups them), in one
    transaction. The sweep escalated as many orders as this updates; those are no longer
    overdue, so it takes the next ones due within the month."""
    from sqlalchemy.orm import Session

    from server.db import among
    from server.orders.escalation import _IDS_PER_UPDATE
    from server.orders.models import Order, OrderStatus

    engine = app.extensions["xuncha.db"].engine
    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        ids = session.scalars(sa.select(Order.id).where(Order.status == OrderStatus.ISSUED,
                                                        Order.escalate_at <= NOW + dt.timedelta(days=30))
                              .order_by(Order.escalate_at).limit(count)).all()
        later = NOW + dt.timedelta(days=40)
        for start in range(0, len(ids), _IDS_PER_UPDATE):
            session.execute(sa.update(Order).where(among(session, Order.id, ids[start:start + _IDS_PER_UPDATE]))
                            .values(level=Order.level + 1, due_at=later, escalate_at=later, version=Order.version + 1))
    return time.perf_counter() - started


@contextlib.contextmanager
def sqlite_url(workdir: Path) -> Iterator[str]:
    yield f"sqlite:///{workdir / 'escalation.sqlite3'}"


@contextlib.contextmanager
def snapshot(app: Any, url: str, wanted: bool = True) -> Iterator[Callable[[], None]]:
    """A copy of the filled database, and a function that puts it back, so the sweep can be
    timed several times on the same data: one run on this machine says little (its speed moves
    by a third from run to run). SQLite: the file; PostgreSQL: a database made from it as a
    template."""
    if not wanted:
        yield lambda: None
        return
    engine = app.extensions["xuncha.db"].engine
    engine.dispose()
    if engine.dialect.name == "sqlite":
        path = Path(engine.url.database)
        with contextlib.closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        kept = path.with_suffix(".kept")
        shutil.copyfile(path, kept)

        def restore() -> None:
            engine.dispose()
            for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
            shutil.copyfile(kept, path)
            os.sync()  # not timed: the copy's write-back would otherwise run during the sweep

        try:
            yield restore
        finally:
            kept.unlink(missing_ok=True)
        return
    import psycopg
    from psycopg import sql

    name = engine.url.database
    kept_name = f"{name}_kept"
    admin = engine.url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)

    def admin_run(*statements: sql.Composed) -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    admin_run(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(kept_name), sql.Identifier(name)))

    def restore_pg() -> None:
        engine.dispose()
        admin_run(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)),
                  sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(kept_name)))
        os.sync()

    try:
        yield restore_pg
    finally:
        admin_run(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(kept_name)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI)")
    parser.add_argument("--postgres", metavar="URL", default=os.environ.get("XUNCHA_BENCH_POSTGRES",
                                                                            "postgresql://postgres@127.0.0.1:5432"),
                        help="PostgreSQL base URL; a throwaway database is created there (default: %(default)s)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--orders", type=int, help="orders in the table")
    parser.add_argument("--overdue", type=int, help="of which overdue")
    parser.add_argument("--repeat", type=int, help="sweeps per database, each on a fresh copy of the filled data; "
                                                   "the median is reported (default: 3, --quick 2)")
    parser.add_argument("--profile", metavar="DIR", type=Path, help="cProfile the first sweep into DIR/sweep-<db>.pstats")
    args = parser.parse_args(argv)
    repeat = max(1, args.repeat or (2 if args.quick else 3))
    sizes = dict(QUICK if args.quick else FULL)
    for key in ("orders", "overdue"):
        if getattr(args, key):
            sizes[key] = getattr(args, key)
    say(f"escalation benchmark ({'quick' if args.quick else 'full'}): {repeat} sweep(s) per database over "
        f"{sizes['orders']:,} orders, {sizes['overdue']:,} overdue; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")

    results: dict[str, dict[str, Any] | None] = {"sqlite": None, "postgres": None}
    with tempfile.TemporaryDirectory(prefix="xuncha_escalation_") as tmp:
        workdir = Path(tmp)
        with sqlite_url(workdir) as url:
            results["sqlite"] = measure(url, workdir / "instance-sqlite", sizes, "SQLite", repeat, args.profile)
        if args.no_postgres:
            say("[PostgreSQL] skipped (--no-postgres)")
        else:
            try:
                with postgres_database(args.postgres) as url:
                    results["postgres"] = measure(url, workdir / "instance-pg", sizes, "PostgreSQL", repeat,
                                                  args.profile)
            except Exception as exc:  # noqa: BLE001 - a missing server is reported, not fatal
                if os.environ.get("CI") == "true":
                    raise
                say(f"[PostgreSQL] not measured: {exc.__class__.__name__}: {exc}")

    for name, label in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        r = results[name]
        if r is not None:
            verdict = "within" if r["sweep_s"] <= GOALS[name] else "OVER"
            say(f"{label}: {r['sweep_s']:.2f} s per sweep, the median of {len(r['runs'])} "
                f"({verdict} the goal of {GOALS[name]:.0f} s at full size)")
    escalated = next((r["escalated"] for r in results.values() if r is not None), 0)
    say(json.dumps({
        "sweep_s_sqlite": round(results["sqlite"]["sweep_s"], 3) if results["sqlite"] else None,
        "sweep_s_postgres": round(results["postgres"]["sweep_s"], 3) if results["postgres"] else None,
        "escalated": escalated,
        "floor_s_sqlite": round(results["sqlite"]["floor_s"], 3) if results["sqlite"] else None,
        "floor_s_postgres": round(results["postgres"]["floor_s"], 3) if results["postgres"] else None,
        "rows_s_sqlite": round(results["sqlite"]["writes_s"], 3) if results["sqlite"] else None,
        "rows_s_postgres": round(results["postgres"]["writes_s"], 3) if results["postgres"] else None,
        "records_floor_s_sqlite": (round(results["sqlite"]["floor_s"] + results["sqlite"]["writes_db_s"], 3)
                                   if results["sqlite"] else None),
        "records_floor_s_postgres": (round(results["postgres"]["floor_s"] + results["postgres"]["writes_db_s"], 3)
                                     if results["postgres"] else None),
        "orders": sizes["orders"],
        "runs_s_sqlite": [round(x, 3) for x in results["sqlite"]["runs"]] if results["sqlite"] else None,
        "runs_s_postgres": [round(x, 3) for x in results["postgres"]["runs"]] if results["postgres"] else None,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
