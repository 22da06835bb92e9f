"""A weak mobile link between a phone and the server: latency, and requests or answers lost.

Wraps any transport. A lost request never reaches the server; a lost answer does (the server
acts on it) and only the phone is left without a reply: the case exactly-once must survive.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Callable

from sample_client.errors import NetworkError
from sample_client.transport import Transport, Wire


class FaultyLink(Wire):
    def __init__(self, inner: Transport, *, loss: float = 0.0, latency_ms: float = 0.0,
                 rng: random.Random | None = None, sleep: Callable[[float], None] = time.sleep,
                 compress: bool = True) -> None:
        super().__init__(compress)
        self.inner = inner
        self.loss = loss
        self.latency_ms = latency_ms
        self.rng = rng or random.Random()
        self.sleep = sleep
        #: While false the phone is out of coverage: every request fails at once.
        self.online = True
        self.lost = 0
        self._lock = threading.Lock()

    def _chance(self) -> float:
        with self._lock:
            return self.rng.random()

    def send(self, method: str, path: str, *, data: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        if not self.online:
            raise NetworkError("no signal")
        if self.latency_ms:
            self.sleep(self.latency_ms * (0.5 + self._chance()) / 1000)  # one way, jittered
        if self._chance() < self.loss / 2:
            self.lost += 1
            raise NetworkError("the request was lost")
        answer = self.inner.send(method, path, data=data, headers=headers)
        if self._chance() < self.loss / 2:
            self.lost += 1
            raise NetworkError("the answer was lost")
        return answer
