"""Pausing Python's cyclic garbage collector while a bulk operation builds its records.

A sweep over ten thousand orders, or a push of five hundred findings, allocates a few hundred
thousand objects that all stay alive until the commit. Each allocation burst makes the
collector walk the whole growing heap again, for nothing: measured on the escalation sweep, it
was 40 % of the time. The work is bounded (one transaction), so its garbage waits for the
collector's next run after it.

Collection is a process-wide switch and jobs and requests run in threads, so pauses are
counted: the collector runs again when the last one ends, and only if it ran before.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
