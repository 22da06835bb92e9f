"""The production command of docs/operations.md, for real: gunicorn with sync workers serving
``server:create_app()`` from XUNCHA_* variables alone, in production mode."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sample_client import Device, HttpTransport
from tests.conftest import FAST_ARGON2
from tests.factories import PASSWORD
from tests.world import finding_fields

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def test_gunicorn_workers_serve_the_app_in_production_mode(world, database_url_for_tests, tmp_path: Path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_") and k != "FLASK_RUN_FROM_CLI"}
    env.update({"XUNCHA_ENV": "production", "XUNCHA_SECRET_KEY": "q8Vd2LrX0s9pKf3N7bYtZc6WmH1jAeRu4GxTiOvS5lQ",
                "XUNCHA_DATABASE_URL": database_url_for_tests, "XUNCHA_INSTANCE_DIR": str(tmp_path / "instance"),
                "XUNCHA_MEDIA_ROOT": str(tmp_path / "media"),
                **{f"XUNCHA_{k}": str(v) for k, v in FAST_ARGON2.items()}})
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                                   "--timeout", "60", "server:create_app()"], env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _type, body = _get(base + "/healthz")
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert status == 200 and json.loads(body)["status"] == "ok"

        # Errors stay problem+json in production: no debug page, no HTML.
        status, content_type, body = _get(base + "/api/v1/no-such-thing")
        assert status == 404 and content_type == "application/problem+json"
        assert json.loads(body)["status"] == 404

        # Each request may land on either worker: what one phone pushed, another pulls. Both
        # phones compress: pushes go gzip-encoded, pulls come back gzip-encoded.
        inspector = Device(HttpTransport(base, timeout=30), batch_size=10)
        inspector.login("alice", PASSWORD)
        made = {inspector.create("finding", finding_fields(world.units[0].id, description=f"门前杂物堆放{i}"))
                for i in range(25)}
        outbox = len(json.dumps(inspector.store.outbox(100), ensure_ascii=False).encode())
        sent_before = inspector.transport.sent_bytes
        results = inspector.push()
        assert len(results) == 25 and {r["outcome"] for r in results} == {"applied"}
        assert inspector.transport.sent_bytes - sent_before < outbox / 2
        colleague = Device(HttpTransport(base, timeout=30), page_size=100)
        colleague.login("alice", PASSWORD)
        colleague.pull()
        assert made <= {record_id for _entity, record_id in colleague.store.records("finding")}
        plain = Device(HttpTransport(base, timeout=30, compress=False), page_size=100)
        plain.login("alice", PASSWORD)
        plain.pull()
        assert plain.store.records() == colleague.store.records()
        assert colleague.transport.received_bytes < plain.transport.received_bytes / 2
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=30)
    assert code == 0, log.read_text()  # a graceful stop: workers finish and exit
    assert "Traceback" not in log.read_text()
