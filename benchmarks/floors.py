"""What a hot path's own records cost the database: the floor under the benchmarks' goals.

A benchmark writes again, as plain copies, the rows the measured code wrote, with the
project's fastest bulk insert (``server.db.insert_rows``: COPY on PostgreSQL, the driver's
executemany on SQLite). No code that keeps those records can be faster than that, so a goal
below it cannot be met on the schema as it is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Written:
    """One table's copies: how many rows, the seconds of the insert, and of converting the values
    alone (Python turning them into what the driver takes: uuids, datetimes, JSON)."""

    table: str
    rows: int
    seconds: float
    converting: float

    @property
    def database(self) -> float:
        return max(self.seconds - self.converting, 0.0)


def insert_copies(session: Session, copies: list[tuple[sa.Table, list[dict[str, Any]]]]) -> list[Written]:
    """Insert each table's rows in the session's transaction, in the order given, timing each.

    The conversion is timed on its own twice over first: once to warm the datetime conversion
    caches (as the code measured had them warm), once timed, so ``database`` is what the
    insert costs beyond it. The garbage collector is paused, as it is for the push and the
    sweep: walking the copies held here would otherwise land at random in either timing. The
    caller rolls back.
    """
    from server.db import _shape, insert_rows
    from server.gcpause import gc_paused

    dialect = session.connection().dialect
    written = []
    with gc_paused():
        for table, rows in copies:
            if not rows:
                continue
            shape = _shape(dialect, table, tuple(rows[0]))
            list(shape.bound(rows))
            started = time.perf_counter()
            list(shape.bound(rows))
            converting = time.perf_counter() - started
            started = time.perf_counter()
            insert_rows(session, table, rows)
            session.flush()
            written.append(Written(table.name, len(rows), time.perf_counter() - started, converting))
    return written


def describe(written: list[Written]) -> str:
    """Per table, slowest first: rows, milliseconds in all, of which converting."""
    return ", ".join(f"{w.table} {w.rows:,} rows {1000 * w.seconds:.0f} ms ({1000 * w.converting:.0f} converting)"
                     for w in sorted(written, key=lambda w: -w.seconds))
