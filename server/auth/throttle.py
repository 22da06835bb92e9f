"""Throttling of logins and other abuse-prone requests, counted in a store every worker shares.

Three limits, each a ``limits`` rate string from the settings:

- failed logins per account (``LOGIN_RATE_LIMIT``), from any address: a password guessed
  slowly from many addresses is stopped too. A wrong current password on a password change
  counts here as well. A successful login clears the account's count.
- failed logins per client address (``LOGIN_ADDRESS_RATE_LIMIT``), over every username: one
  address spraying a common password across accounts. Never cleared by a success, or one
  valid account would let an attacker reset their own count.
- requests per client address to the login, password and token endpoints
  (``AUTH_RATE_LIMIT``), succeeded or not.

Only failures count against the login limits, so a user who types the password right is never
slowed down. The counters live where ``RATELIMIT_STORAGE_URI`` says: the app's database by
default (shared by every worker and process), Redis, or memory (one process only).
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import sqlalchemy as sa
from flask import current_app, request
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from server.errors import AppError
from sync_protocol.problems import ProblemCode

F = TypeVar("F", bound=Callable[..., Any])

#: RATELIMIT_STORAGE_URI's value for the app's own database.
DATABASE = "database"


class RateLimited(AppError):
    status = 429
    code = ProblemCode.RATE_LIMITED
    title = "Too many requests"


@dataclass(frozen=True)
class Lockout:
    """A limit that the failure just counted used up."""

    limit: str
    retry_after: int


def build_throttle_storage(uri: str, engine: sa.Engine) -> Storage:
    if uri == DATABASE:
        from server.auth.throttle_storage import DatabaseStorage

        return DatabaseStorage(engine)
    return storage_from_string(uri)


class Throttle:
    LOGIN_ACCOUNT = "login-account"
    LOGIN_ADDRESS = "login-address"
    REQUESTS = "auth-requests"

    def __init__(self, storage: Storage, *, login_account: str, login_address: str, requests: str) -> None:
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._limits: dict[str, list[RateLimitItem]] = {
            self.LOGIN_ACCOUNT: parse_many(login_account),
            self.LOGIN_ADDRESS: parse_many(login_address),
            self.REQUESTS: parse_many(requests),
        }

    # -- logins ------------------------------------------------------------------------------

    def check_login(self, address: str, username: str) -> None:
        """Refuse (429) a login, or a password change, while the account or the address is locked out."""
        wait = max(self._wait(self.LOGIN_ACCOUNT, _account(username)) or 0,
                   self._wait(self.LOGIN_ADDRESS, address) or 0)
        if wait:
            raise RateLimited(f"Too many failed logins; try again in {wait} seconds.",
                              headers={"Retry-After": str(wait)})

    def login_failed(self, address: str, username: str) -> list[Lockout]:
        """Count a failure; the lockouts it caused (for the audit trail), usually none."""
        return [*self._count(self.LOGIN_ACCOUNT, _account(username)), *self._count(self.LOGIN_ADDRESS, address)]

    def locked_out(self, username: str) -> int | None:
        """Seconds until the account may try to log in again, if it is locked out (the console
        shows it to the office; a lockout lifts by itself)."""
        return self._wait(self.LOGIN_ACCOUNT, _account(username))

    def login_succeeded(self, username: str) -> None:
        self.lift_lockout(username)

    def lift_lockout(self, username: str) -> None:
        """Clear the account's failed logins: it logged in, or the office reset its password (the
        person is to log in with the new one now, not after the lockout's window)."""
        for item in self._limits[self.LOGIN_ACCOUNT]:
            self._limiter.clear(item, self.LOGIN_ACCOUNT, _account(username))

    # -- requests ----------------------------------------------------------------------------

    def count_request(self, address: str) -> None:
        """Count a request to an abuse-prone endpoint; refuse it (429) beyond the limit."""
        for item in self._limits[self.REQUESTS]:
            if not self._limiter.hit(item, self.REQUESTS, address):
                wait = self._retry_after(item, self.REQUESTS, address)
                raise RateLimited(f"Too many requests from this address; try again in {wait} seconds.",
                                  headers={"Retry-After": str(wait)})

    # -- the counting ------------------------------------------------------------------------

    def _wait(self, name: str, subject: str) -> int | None:
        waits = [self._retry_after(item, name, subject) for item in self._limits[name]
                 if not self._limiter.test(item, name, subject)]
        return max(waits) if waits else None

    def _count(self, name: str, subject: str) -> list[Lockout]:
        lockouts = []
        for item in self._limits[name]:
            self._limiter.hit(item, name, subject)
            if not self._limiter.test(item, name, subject):
                lockouts.append(Lockout(f"{name}: {item}", self._retry_after(item, name, subject)))
        return lockouts

    def _retry_after(self, item: RateLimitItem, name: str, subject: str) -> int:
        reset = self._limiter.get_window_stats(item, name, subject).reset_time
        return max(1, math.ceil(reset - time.time()))


def _account(username: str) -> str:
    return username.strip().lower()


def client_address() -> str:
    """The caller's address: the peer, or what the trusted proxies said (TRUSTED_PROXIES)."""
    return request.remote_addr or "-"


def throttle() -> Throttle:
    return current_app.extensions["xuncha.throttle"]  # type: ignore[no-any-return]


def throttled(view: F) -> F:
    """Count each request to ``view`` against AUTH_RATE_LIMIT for its client address."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        throttle().count_request(client_address())
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
