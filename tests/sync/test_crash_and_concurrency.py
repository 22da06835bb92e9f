"""A server killed mid-push, and pushers racing pullers: nothing lost, nothing twice."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from sample_client import Device, HttpTransport, NetworkError, WSGITransport
from server.findings.models import Finding
from server.orders.models import Order
from server.sync.models import SyncReceipt
from tests.conftest import FAST_ARGON2
from tests.factories import PASSWORD
from tests.world import finding_fields


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(url: str, port: int, instance: Path) -> subprocess.Popen:  # type: ignore[type-arg]
    env = {**os.environ, "XUNCHA_DATABASE_URL": url, "XUNCHA_INSTANCE_DIR": str(instance),
           **{f"XUNCHA_{k}": str(v) for k, v in FAST_ARGON2.items()}}
    env.pop("FLASK_RUN_FROM_CLI", None)
    process = subprocess.Popen([sys.executable, "-m", "server.cli", "run", "--port", str(port), "--no-reload",
                                "--no-debugger", "--with-threads"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def count(session, model) -> int:  # type: ignore[no-untyped-def]
    session.rollback()
    return session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.slow
def test_sigkill_in_the_middle_of_a_push_then_retry_applies_everything_once(
        world, database_url_for_tests, session, tmp_path):
    port = _free_port()
    server = _serve(database_url_for_tests, port, tmp_path / "instance")
    try:
        phone = Device(HttpTransport(f"http://127.0.0.1:{port}", timeout=60), batch_size=1000)
        phone.login("alice", PASSWORD)
        for i in range(1000):
            # Photos named by each finding make the push long enough to be cut in the middle.
            photos = [f"{i:060d}{n:04d}" for n in range(3)]
            phone.create("finding", finding_fields(world.units[i % 2].id, description=f"问题{i}", photos=photos))
        failure: list[BaseException] = []
        pushing = threading.Thread(target=lambda: _capture(phone.push, failure))
        pushing.start()
        time.sleep(0.4)  # the batch is being applied
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        pushing.join(timeout=60)
        assert failure and isinstance(failure[0], NetworkError), "the push should have lost its answer"
        assert phone.store.outbox_depth() == 1000  # nothing was acknowledged, nothing dropped
        half_done = count(session, Finding)
        assert half_done in (0, 1000)  # one transaction: all or nothing survived the kill

        server = _serve(database_url_for_tests, port, tmp_path / "instance")
        results = phone.push()
        assert len(results) == 1000 and {r["outcome"] for r in results} == {"applied"}
        assert phone.store.outbox_depth() == 0
        assert count(session, Finding) == 1000 and count(session, Order) == 1000
        assert count(session, SyncReceipt) == 1000
    finally:
        server.kill()
        server.wait(timeout=10)


def _capture(call, failures):  # type: ignore[no-untyped-def]
    try:
        call()
    except BaseException as exc:  # noqa: BLE001 - handed to the test thread
        failures.append(exc)


@pytest.mark.slow
def test_concurrent_pushers_and_pullers_never_miss_a_row(world, app, session):
    pushers = [Device(WSGITransport(app), batch_size=20) for _ in range(3)]
    pullers = [Device(WSGITransport(app), page_size=7) for _ in range(2)]
    for device in pushers + pullers:
        device.login("alice", PASSWORD)
    errors: list[BaseException] = []
    done = threading.Event()
    seen: list[set[str]] = [set(), set()]

    def push_many(device: Device) -> None:
        try:
            for round_ in range(6):
                for i in range(20):
                    device.create("finding", finding_fields(world.units[(round_ + i) % 2].id))
                device.push()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def pull_forever(index: int) -> None:
        try:
            while not done.is_set():
                pullers[index].pull()
                seen[index].update(i for (e, i) in pullers[index].store.records("finding"))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=push_many, args=(d,)) for d in pushers]
    threads += [threading.Thread(target=pull_forever, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads[:3]:
        thread.join(timeout=120)
    done.set()
    for thread in threads[3:]:
        thread.join(timeout=60)
    assert not errors, errors
    for index, puller in enumerate(pullers):
        puller.pull()  # the last changes after the pushers stopped
        held = {i for (e, i) in puller.store.records("finding")}
        assert len(held) == 360
        assert seen[index] <= held
    session.rollback()
    assert {str(i) for i in session.scalars(sa.select(Finding.id))} == held
    assert all(isinstance(uuid.UUID(i), uuid.UUID) for i in held)
