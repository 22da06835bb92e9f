"""Time as a dependency: services take a clock, so tests can run time forward."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from flask import current_app


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware, in UTC."""


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._now = at

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, delta: dt.timedelta) -> None:
        self._now += delta

    def set(self, at: dt.datetime) -> None:
        self._now = at


def app_clock() -> Clock:
    return current_app.extensions["xuncha.clock"]
