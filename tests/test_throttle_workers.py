"""The login throttle holds across processes: two gunicorn workers, each with its own memory,
count failed logins in the one store they share (the database by default, Redis when set)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from limits.storage import storage_from_string

from tests.conftest import FAST_ARGON2
from tests.test_production_server import _free_port, _get

pytestmark = pytest.mark.slow

LIMIT = 20
PER_WORKER = 6
#: A database of its own on the shared Redis, emptied of counters before each run.
REDIS = "redis://127.0.0.1:6379/15"
STRONG_SECRET = "q8Vd2LrX0s9pKf3N7bYtZc6WmH1jAeRu4GxTiOvS5lQ"


def _login(base: str, password: str) -> int:
    request = urllib.request.Request(base + "/api/v1/auth/login", method="POST",
                                     data=json.dumps({"username": "alice", "password": password}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("store", ["database", "redis"])
def test_the_21st_failed_login_is_refused_whichever_worker_answers(store, world, database_url_for_tests,
                                                                    tmp_path: Path):
    from tests.auth.test_throttle import _redis_running

    if store == "redis" and not _redis_running():
        pytest.skip("no Redis on 127.0.0.1:6379")
    if store == "redis":  # counters of an earlier run would still be there
        storage_from_string(REDIS).reset()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_") and k != "FLASK_RUN_FROM_CLI"}
    env.update({"XUNCHA_ENV": "production", "XUNCHA_SECRET_KEY": STRONG_SECRET,
                "XUNCHA_DATABASE_URL": database_url_for_tests, "XUNCHA_INSTANCE_DIR": str(tmp_path / "instance"),
                "XUNCHA_MEDIA_ROOT": str(tmp_path / "media"),
                "XUNCHA_LOGIN_RATE_LIMIT": f"{LIMIT} per hour",
                "XUNCHA_RATELIMIT_STORAGE_URI": "database" if store == "database" else REDIS,
                **{f"XUNCHA_{k}": str(v) for k, v in FAST_ARGON2.items()}})
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        # The access log names the worker (its pid) that answered each request. Each worker is
        # replaced after a few requests, so the failures are answered by several processes
        # whatever the kernel's choice of worker, and none remembers what its predecessor saw.
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                                   "--timeout", "60", "--max-requests", str(PER_WORKER), "--access-logfile", "-",
                                   "--access-logformat", "worker=%(p)s %(m)s %(U)s %(s)s",
                                   "server:create_app()"], env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(base + "/healthz")
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        with ThreadPoolExecutor(max_workers=2) as pool:
            failures = list(pool.map(lambda n: _login(base, f"wrong-guess-{n}"), range(LIMIT)))
        assert failures == [401] * LIMIT
        assert _login(base, "wrong-guess-21") == 429
        assert _login(base, "correct-horse-9") == 429  # even the right password, until the window moves
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=30)
    assert code == 0, log.read_text()
    answered = re.findall(r"worker=<(\d+)> POST /api/v1/auth/login 401", log.read_text())
    assert len(answered) == LIMIT and len(set(answered)) >= LIMIT // PER_WORKER, log.read_text()
