"""Login throttling: failed attempts per client address and username, in a moving window.

Only failures count, so a user who types the password right is never slowed down. The
counters live where RATELIMIT_STORAGE_URI says (memory for one process, Redis when
several workers must share them).
"""

from __future__ import annotations

import math
import time

from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


class LoginThrottle:
    def __init__(self, limit: str, storage_uri: str) -> None:
        self._items = parse_many(limit)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    @staticmethod
    def key(address: str, username: str) -> str:
        return f"login:{address}:{username.strip().lower()}"

    def retry_after(self, key: str) -> int | None:
        """Seconds to wait before another attempt, or None when one is allowed now."""
        waits = []
        for item in self._items:
            if not self._limiter.test(item, key):
                reset = self._limiter.get_window_stats(item, key).reset_time
                waits.append(max(1, math.ceil(reset - time.time())))
        return max(waits) if waits else None

    def failed(self, key: str) -> None:
        for item in self._items:
            self._limiter.hit(item, key)

    def succeeded(self, key: str) -> None:
        for item in self._items:
            self._limiter.clear(item, key)
