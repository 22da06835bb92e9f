"""A live server for the client's tests: the real app over real HTTP, in its own process, on
the test database (the same one the ``world`` fixture fills and the ``app`` fixture empties)."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from sample_client.simulator import make_photo
from tests.conftest import FAST_ARGON2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(url: str, port: int, instance: Path) -> subprocess.Popen:  # type: ignore[type-arg]
    env = {**os.environ, "XUNCHA_DATABASE_URL": url, "XUNCHA_INSTANCE_DIR": str(instance),
           **{f"XUNCHA_{k}": str(v) for k, v in FAST_ARGON2.items()}}
    env.pop("FLASK_RUN_FROM_CLI", None)
    with (instance.parent / f"server-{port}.log").open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "server.cli", "run", "--port", str(port), "--no-reload",
                                    "--no-debugger", "--with-threads"], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process
        assert process.poll() is None, "the server stopped at start"
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


@pytest.fixture
def live_server(world, database_url_for_tests: str, tmp_path: Path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The server's base URL; stopped before the ``app`` fixture empties the database."""
    port = free_port()
    instance = tmp_path / "server-instance"
    instance.mkdir()
    process = serve(database_url_for_tests, port, instance)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def camera(tmp_path: Path):  # type: ignore[no-untyped-def]
    """``camera()``: the path of a new JPEG nobody took before (Pillow, a few KB)."""
    rng = random.Random(7)
    folder = tmp_path / "camera"
    folder.mkdir()
    count = iter(range(10_000))

    def take(px: int = 320) -> Path:
        path = folder / f"IMG_{next(count):04d}.jpg"
        path.write_bytes(make_photo(rng, px))
        return path

    return take
