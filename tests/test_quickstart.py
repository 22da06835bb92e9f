"""The first quick-start command, for real: `xuncha dev` in its own process on a free port."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from server.demo import DEMO_CREDENTIALS

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:  # type: ignore[type-arg]
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_dev_server_serves_demo_data_with_the_scheduler_beside_it(tmp_path: Path):
    port = _free_port()
    env = {**os.environ, "XUNCHA_INSTANCE_DIR": str(tmp_path / "instance"), "XUNCHA_ARGON2_TIME_COST": "1",
           "XUNCHA_ARGON2_MEMORY_KIB": "8", "XUNCHA_ARGON2_PARALLELISM": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("XUNCHA_DATABASE_URL", None)
    env.pop("FLASK_RUN_FROM_CLI", None)  # set by CliRunner-based tests earlier in the run
    log = tmp_path / "dev.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "server.cli", "dev", "--port", str(port)],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = _request(base + "/healthz")
                break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert (status, body["status"]) == (200, "ok")

        supervisor = next(c for c in DEMO_CREDENTIALS if c[0] == "supervisor")
        status, body = _request(base + "/api/v1/auth/login", {"username": supervisor[1], "password": supervisor[2]})
        assert status == 200 and body["token"].startswith("xc_")
        # The demo's fortnight: orders in every state, some climbed past the first level.
        status, orders = _request(base + "/api/v1/orders?limit=200", token=body["token"])
        assert status == 200, orders
        assert {o["status"] for o in orders["items"]} == {"triage", "issued", "responded", "closed", "parked",
                                                          "voided"}
        assert len({o["level"] for o in orders["items"]}) >= 3
        status, body = _request(base + "/api/v1/auth/login", {"username": supervisor[1], "password": "wrong-one-1"})
        assert status == 401 and body["code"] == "invalid_credentials"

        while "scheduler running" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        output = log.read_text()
        assert supervisor[1] in output and supervisor[2] in output  # credentials printed at start
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    scheduler_pid = int(re.search(r"scheduler process started \(pid (\d+)\)", log.read_text()).group(1))
    with pytest.raises(ProcessLookupError):
        os.kill(scheduler_pid, 0)  # stopping the server took the scheduler down with it
    assert (tmp_path / "instance" / "xuncha.sqlite3").exists()


def test_make_demo_serves_on_the_port_it_is_given():
    root = Path(__file__).resolve().parents[1]
    # -n: what make would run, with the virtualenv taken as installed. Run from `make test`, the
    # outer make's flags would add "Entering directory" lines: this make is a make of its own.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    plan = subprocess.run(["make", "-n", "-o", ".venv/.installed", "demo", "PORT=8123"], cwd=root, env=env,
                          capture_output=True, text=True, check=True).stdout
    assert plan.strip().endswith("xuncha dev --port 8123")
    default = subprocess.run(["make", "-n", "-o", ".venv/.installed", "demo"], cwd=root, env=env,
                             capture_output=True, text=True, check=True).stdout
    assert default.strip().endswith("xuncha dev --port 5000")
