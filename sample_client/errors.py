"""The client's exceptions.

- :class:`ClientError`: base of all
  - :class:`NetworkError`: no answer (offline, timeout, lost response); safe to retry
  - :class:`ServerRefused`: the server answered with a problem (``code`` from the API)
"""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    pass


class NetworkError(ClientError):
    pass


class ServerRefused(ClientError):
    def __init__(self, status: int, problem: Any) -> None:
        problem = problem if isinstance(problem, dict) else {}
        super().__init__(f"{status} {problem.get('code')}: {problem.get('detail') or problem.get('title')}")
        self.status = status
        self.code = problem.get("code")
        self.problem = problem
