"""Rate-limit counters in the app's own database: a ``limits`` storage, so the throttle works
the same on it as on Redis or in memory, and holds across every worker and process that
serves the database without another service to run.

Each window is one row, counted up by one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``:
atomic on PostgreSQL (the row is locked) and on SQLite (the write lock), so two workers
counting the same key at once both see their own count. Windows are the sliding-window
counters of ``limits`` (the current and the previous fixed window, the previous one weighted
by how much of it still overlaps), so a key costs at most two rows; rows past their expiry
are deleted by the ``purge-rate-limits`` job.
"""

from __future__ import annotations

import time
from math import floor

import sqlalchemy as sa
from limits.storage import Storage
from limits.storage.base import SlidingWindowCounterSupport, TimestampedSlidingWindow
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.auth.models import RateLimitCounter

_counters = RateLimitCounter.__table__


class DatabaseStorage(Storage, SlidingWindowCounterSupport, TimestampedSlidingWindow):
    STORAGE_SCHEME = None  # made by the app with its engine, never from a URI

    def __init__(self, engine: sa.Engine) -> None:
        super().__init__()
        self._engine = engine
        insert = (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(_counters)
        expired = _counters.c.expires_at <= sa.bindparam("now")
        #: A new window starts at ``amount`` with its expiry; a live one is counted up.
        self._incr = insert.values(key=sa.bindparam("key"), count=sa.bindparam("amount"),
                                   expires_at=sa.bindparam("expires_at")).on_conflict_do_update(
            index_elements=[_counters.c.key],
            set_={"count": sa.case((expired, insert.excluded.count),
                                   else_=_counters.c.count + insert.excluded.count),
                  "expires_at": sa.case((expired, insert.excluded.expires_at), else_=_counters.c.expires_at)},
        ).returning(_counters.c.count)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sa.exc.SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._engine.begin() as conn:
            return int(conn.execute(self._incr, {"key": key, "amount": amount, "expires_at": now + expiry,
                                                 "now": now}).scalar_one())

    def decr(self, key: str, amount: int = 1) -> int:
        with self._engine.begin() as conn:
            count = conn.execute(
                sa.update(_counters).where(_counters.c.key == key, _counters.c.expires_at > time.time())
                .values(count=sa.func.max(_counters.c.count - amount, 0) if conn.dialect.name == "sqlite"
                        else sa.func.greatest(_counters.c.count - amount, 0))
                .returning(_counters.c.count)).scalar_one_or_none()
        return count or 0

    def get(self, key: str) -> int:
        return self._live(key)[0]

    def get_expiry(self, key: str) -> float:
        expires_at = self._live(key)[1]
        return expires_at if expires_at is not None else time.time()

    def _live(self, key: str) -> tuple[int, float | None]:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(_counters.c.count, _counters.c.expires_at).where(
                _counters.c.key == key, _counters.c.expires_at > time.time())).one_or_none()
        return (row.count, row.expires_at) if row else (0, None)

    def check(self) -> bool:
        try:
            with self._engine.connect() as conn:
                conn.execute(sa.select(sa.literal(1)))
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self._engine.begin() as conn:
            return conn.execute(sa.delete(_counters)).rowcount

    def clear(self, key: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(sa.delete(_counters).where(_counters.c.key == key))

    # -- sliding window counter (the strategy the throttle uses) -------------------------------

    def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        current_key = self.sliding_window_keys(key, expiry, now)[1]
        previous_count, previous_ttl, current_count, _ = self._sliding_window(key, expiry, now)
        if floor(previous_count * previous_ttl / expiry + current_count) + amount > limit:
            return False
        # A window lives two periods: it is the previous window during the second.
        current_count = self.incr(current_key, 2 * expiry, amount)
        if floor(previous_count * previous_ttl / expiry + current_count) > limit:
            # Another worker counted first: take this hit back, and refuse it.
            self.decr(current_key, amount)
            return False
        return True

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        return self._sliding_window(key, expiry, time.time())

    def _sliding_window(self, key: str, expiry: int, now: float) -> tuple[int, float, int, float]:
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        with self._engine.connect() as conn:
            counts = dict(conn.execute(sa.select(_counters.c.key, _counters.c.count).where(
                _counters.c.key.in_([previous_key, current_key]), _counters.c.expires_at > now)).all())
        previous_count, current_count = counts.get(previous_key, 0), counts.get(current_key, 0)
        # As the memory and Redis storages of ``limits`` count them.
        previous_ttl = (1 - (((now - expiry) / expiry) % 1)) * expiry if previous_count else 0.0
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous_count, previous_ttl, current_count, current_ttl

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(sa.delete(_counters).where(
                _counters.c.key.in_(self.sliding_window_keys(key, expiry, time.time()))))


def purge_expired(session: Session) -> int:
    """Delete the windows that ended: the scheduler's clean-up."""
    return session.execute(sa.delete(_counters).where(_counters.c.expires_at <= time.time())).rowcount
