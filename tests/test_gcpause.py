"""The collector pause around bulk work: counted across threads, and never turns collection on
for a process that had it off."""

from __future__ import annotations

import gc
import threading

from server.gcpause import gc_paused


def test_nested_and_concurrent_pauses_resume_collection_when_the_last_ends() -> None:
    assert gc.isenabled()
    inside, release = threading.Event(), threading.Event()

    def worker() -> None:
        with gc_paused():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=worker)
    with gc_paused():
        thread.start()
        inside.wait(5)
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread's pause is still running
    release.set()
    thread.join(5)
    assert gc.isenabled()


def test_a_process_without_collection_keeps_it_off() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_error_inside_still_ends_the_pause() -> None:
    try:
        with gc_paused():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gc.isenabled()
