"""The client's exceptions.

- :class:`ClientError`: base of all
  - :class:`NetworkError`: no answer (offline, timeout, lost response); safe to retry
  - :class:`ServerRefused`: the server answered with a problem (``code`` from the API;
    ``retry_after`` in seconds when the answer said when to come back)
  - :class:`SyncStopped`: the server will not sync with this app as it is (device revoked,
    protocol no longer served); keep every capture and tell the user
  - :class:`LoginRequired`: the token is gone or refused and no password is at hand
  - :class:`HandOverRefused`: another user's captures are still unsent on this phone
  - :class:`GaveUp`: the server kept failing (or the network kept dropping) past the retries
    allowed; everything unsent is still in the outbox for the next sync
"""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    pass


class NetworkError(ClientError):
    pass


class ServerRefused(ClientError):
    def __init__(self, status: int, problem: Any, retry_after: float | None = None) -> None:
        problem = problem if isinstance(problem, dict) else {}
        super().__init__(f"{status} {problem.get('code')}: {problem.get('detail') or problem.get('title')}")
        self.status = status
        self.code = problem.get("code")
        self.problem = problem
        self.retry_after = retry_after


class SyncStopped(ClientError):
    pass


class LoginRequired(ClientError):
    pass


class HandOverRefused(ClientError):
    pass


class GaveUp(ClientError):
    pass
