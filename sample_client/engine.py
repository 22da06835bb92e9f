"""The sync engine: push, then pull, then photos; retries as the protocol says (§10, §11).

What it does with each answer:

- no answer (offline, timeout, a lost response), 429, 500, 502, 503 (``sync_busy`` or
  ``service_unavailable``), 504: wait and send **the same** request again; the wait grows
  exponentially with full jitter and is never shorter than the server's ``Retry-After``;
- 401 ``unauthenticated`` and 403 ``device_mismatch``: log in again with the same device id
  (when a password is at hand) and carry on, else :class:`LoginRequired`;
- 403 ``device_revoked`` and 426 ``protocol_unsupported``: stop for good, keep everything
  (:class:`SyncStopped`);
- 413 ``batch_too_large`` / ``payload_too_large``: send fewer mutations per push;
- 410 ``cursor_expired`` and 400 ``cursor_invalid``: drop pulled data and pull from scratch
  (the push came first, the outbox and the sequence stay);
- anything else (422 ``validation_failed``, 400 ``malformed_request``): an app bug; raised, the
  outbox kept as it is.

Rejected and conflicting mutations are kept by the store (:meth:`Store.rejected`) for the user,
and so are creates the server applied where this phone's pulls do not reach (:meth:`Store.handed_over`).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, TypeVar

from sample_client.device import Device, handed_over
from sample_client.errors import ClientError, GaveUp, LoginRequired, NetworkError, ServerRefused, SyncStopped
from sample_client.uploads import PhotoQueue

T = TypeVar("T")

#: Statuses that mean "not now": the request changed nothing, send it again later.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Codes after which this app must not sync again as it is.
STOP_CODES = frozenset({"device_revoked", "protocol_unsupported"})
RELOGIN_CODES = frozenset({"unauthenticated", "device_mismatch"})
CURSOR_CODES = frozenset({"cursor_expired", "cursor_invalid"})


class Backoff:
    """Exponential backoff with full jitter (a random wait up to ``base * 2**attempt``, capped),
    so a crowd of phones coming back online does not knock in step."""

    def __init__(self, base: float = 0.5, cap: float = 60.0, rng: random.Random | None = None) -> None:
        self.base = base
        self.cap = cap
        self.rng = rng or random.Random()

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        wait = self.rng.uniform(0, min(self.cap, self.base * 2 ** attempt))
        return max(wait, retry_after or 0.0)


@dataclass
class SyncStats:
    push_ms: list[float] = field(default_factory=list)
    pull_ms: list[float] = field(default_factory=list)
    retries: int = 0
    pushed: int = 0
    pulled: int = 0
    photos: int = 0


@dataclass
class SyncReport:
    pushed: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    pulled: int = 0
    photos_sent: int = 0
    photos_failed: int = 0
    #: This phone's creates applied elsewhere (another team's unit, triage): the store's notes.
    handed_over: list[dict[str, Any]] = field(default_factory=list)


class SyncEngine:
    def __init__(self, device: Device, photos: PhotoQueue, *, backoff: Backoff | None = None,
                 attempts: int = 8, sleep: Callable[[float], None] = time.sleep,
                 relogin: Callable[[], None] | None = None,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)) -> None:
        self.device = device
        self.store = device.store
        self.photos = photos
        self.backoff = backoff or Backoff()
        self.attempts = attempts
        self.sleep = sleep
        self.relogin = relogin
        self.clock = clock
        self.stats = SyncStats()

    # -- the one retry loop --------------------------------------------------------------------
    def retrying(self, step: Callable[[], T], *, may_log_in: bool = True) -> T:
        """Run ``step`` until it succeeds, waiting between attempts; ``may_log_in=False`` for
        the login itself, whose 401 means a wrong password."""
        attempt = 0
        log_in = logged_in_again = False
        while True:
            try:
                if log_in:  # inside the try: a login refused (revoked, say) is judged as any answer
                    log_in = False
                    self.relogin()  # type: ignore[misc]
                return step()
            except NetworkError:
                delay = self.backoff.delay(attempt)
            except ServerRefused as refused:
                if refused.code in STOP_CODES:
                    self.store.put("stopped", refused.code)
                    raise SyncStopped(str(refused)) from refused
                if not may_log_in and refused.status not in RETRY_STATUSES:
                    raise
                if refused.status == 401 or refused.code in RELOGIN_CODES:
                    if self.relogin is None or logged_in_again:
                        raise LoginRequired(str(refused)) from refused
                    log_in = logged_in_again = True
                    continue
                if refused.status not in RETRY_STATUSES:
                    raise
                delay = self.backoff.delay(attempt, refused.retry_after)
            attempt += 1
            if attempt >= self.attempts:
                raise GaveUp(f"no success after {attempt} attempts; everything unsent is kept")
            self.stats.retries += 1
            self.sleep(delay)

    # -- steps ---------------------------------------------------------------------------------
    def push(self, on_batch: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
        answered: list[dict[str, Any]] = []
        while self.store.outbox_depth():
            oldest = self.store.outbox(1)[0]["seq"]
            try:
                results = self.retrying(self._push_one)
            except ServerRefused as refused:
                if not self._fewer_per_push(refused):
                    raise
                continue
            answered += results
            if self.store.outbox(1) and self.store.outbox(1)[0]["seq"] == oldest:
                # The server took none of the batch: sending it again would get the same answer.
                raise ClientError(f"the server acknowledged nothing from seq {oldest}; the outbox is kept")
            if on_batch:
                on_batch(len(results))
        self.stats.pushed += len(answered)
        return answered

    def _push_one(self) -> list[dict[str, Any]]:
        started = time.perf_counter()
        results = self.device.push(max_batches=1)
        self.stats.push_ms.append((time.perf_counter() - started) * 1000)
        return results

    def _fewer_per_push(self, refused: ServerRefused) -> bool:
        if refused.code == "batch_too_large" and refused.problem.get("limit"):
            self.device.batch_size = min(self.device.batch_size, int(refused.problem["limit"]))
            return True
        if refused.code == "payload_too_large" and self.device.batch_size > 1:
            self.device.batch_size //= 2
            return True
        return False

    def pull(self, on_page: Callable[[dict[str, Any]], None] | None = None) -> tuple[int, list[str]]:
        """Pull until caught up; returns the changes applied and the photos the server lacks."""
        missing: list[str] = []
        mark = [time.perf_counter()]

        def page(body: dict[str, Any]) -> None:
            now = time.perf_counter()
            self.stats.pull_ms.append((now - mark[0]) * 1000)
            mark[0] = now
            missing.extend(body.get("missing_photos") or [])
            if on_page:
                on_page(body)

        def attempt() -> int:
            mark[0] = time.perf_counter()
            return self.device.pull(page)

        try:
            applied = self.retrying(attempt)
        except ServerRefused as refused:
            if refused.code not in CURSOR_CODES:
                raise
            self.push()  # §8.8: push first, then start over
            with self.store.transaction():
                self.store.forget_pulled()
            applied = self.retrying(attempt)
        self.stats.pulled += applied
        return applied, missing

    def upload_photos(self, missing: Iterable[str] = (),
                      on_bytes: Callable[[int], None] | None = None) -> tuple[int, int]:
        for sha256 in missing:  # the server lacks a photo it once had: send it again
            kept = self.store.photo(sha256)
            if kept is not None and kept["status"] == "done":
                self.store.set_photo(sha256, status="pending", offset=0, upload_url=None)
        sent = failed = 0
        for photo in self.photos.pending():
            outcome = self.retrying(lambda: self.photos.upload(photo["sha256"], on_bytes))
            sent += outcome == "done"
            failed += outcome == "failed"
        self.stats.photos += sent
        return sent, failed

    def sync(self, *, on_batch: Callable[[int], None] | None = None,
             on_page: Callable[[dict[str, Any]], None] | None = None,
             on_bytes: Callable[[int], None] | None = None) -> SyncReport:
        """Push, pull, then photos (records first: a finding may name a photo not yet uploaded,
        and a photo arriving first waits for nothing)."""
        stopped = self.store.get("stopped")
        if stopped:
            raise SyncStopped(f"this phone may not sync ({stopped}); its data is kept")
        report = SyncReport()
        results = self.push(on_batch)
        report.pushed = len(results)
        report.rejected = [r for r in results if r["outcome"] in ("rejected", "conflict")]
        report.handed_over = self.store.handed_over(r["id"] for r in results if handed_over(r))
        report.pulled, missing = self.pull(on_page)
        report.photos_sent, report.photos_failed = self.upload_photos(missing, on_bytes)
        self.store.put("last_sync", self.clock().isoformat())
        return report
