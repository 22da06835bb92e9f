"""The production command of docs/operations.md, for real: gunicorn with threaded (gthread)
workers serving ``server:create_app()`` from XUNCHA_* variables alone, in production mode."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
from tusclient.client import TusClient

from sample_client import Device, HttpTransport
from tests.conftest import FAST_ARGON2
from tests.factories import PASSWORD
from tests.world import finding_fields

pytestmark = pytest.mark.slow

#: The production command of docs/operations.md, with two workers instead of four. Threads,
#: not processes, wait on slow phones: an upload at 20 KB/s holds one thread of sixteen.
WORKER_ARGS = ["--workers", "2", "--threads", "16", "--timeout", "60"]


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


@contextlib.contextmanager
def production_server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """gunicorn as docs/operations.md runs it; yields its base URL, stops it with SIGTERM."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_") and k != "FLASK_RUN_FROM_CLI"}
    env.update({"XUNCHA_ENV": "production", "XUNCHA_SECRET_KEY": "q8Vd2LrX0s9pKf3N7bYtZc6WmH1jAeRu4GxTiOvS5lQ",
                "XUNCHA_DATABASE_URL": database_url, "XUNCHA_INSTANCE_DIR": str(tmp_path / "instance"),
                "XUNCHA_MEDIA_ROOT": str(tmp_path / "media"),
                **{f"XUNCHA_{k}": str(v) for k, v in FAST_ARGON2.items()}})
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", *WORKER_ARGS, "--bind", f"127.0.0.1:{port}",
                                   "server:create_app()"], env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _type, body = _get(base + "/healthz")
                break
            except OSError:  # refused, or accepted by a worker still importing the app (a time-out)
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert status == 200 and json.loads(body)["status"] == "ok"
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
    assert code == 0, log.read_text()  # a graceful stop: workers finish and exit
    assert "Traceback" not in log.read_text()
    assert "WORKER TIMEOUT" not in log.read_text()


def test_gunicorn_workers_serve_the_app_in_production_mode(world, database_url_for_tests, tmp_path: Path):
    with production_server(database_url_for_tests, tmp_path) as base:
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


#: A phone on one bar of signal. The issue's case is a 3.4 MB photo at 20 KB/s (almost three
#: minutes); a 600 KB photo at 60 KB/s holds a thread the same way for a tenth of the time.
SLOW_BYTES_PER_S = 60_000


def _field_photo(seed: int) -> bytes:
    from tests.media.conftest import encode, photo_like

    return encode(photo_like(seed, (1600, 1200)), quality=92)


def _create_upload(base: str, token: dict[str, str], data: bytes) -> str:
    metadata = "sha256 " + base64.b64encode(hashlib.sha256(data).hexdigest().encode()).decode()
    request = urllib.request.Request(f"{base}/api/v1/uploads/", method="POST", headers={
        **token, "Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)), "Upload-Metadata": metadata})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        return response.headers["Location"]


def _upload_offset(url: str, token: dict[str, str]) -> int:
    request = urllib.request.Request(url, method="HEAD", headers={**token, "Tus-Resumable": "1.0.0"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.headers["Upload-Offset"])


def _slow_patch(url: str, token: dict[str, str], data: bytes, *, rate: int, cut: int | None = None) -> int | None:
    """The whole photo in one PATCH (tus-js-client's default) over a raw socket at ``rate``
    bytes/s; with ``cut``, the signal is lost after that many bytes. The status, or None if cut."""
    host, _, path = url.removeprefix("http://").partition("/")
    address, port = host.split(":")
    headers = {**token, "Host": host, "Tus-Resumable": "1.0.0", "Upload-Offset": "0",
               "Content-Type": "application/offset+octet-stream", "Content-Length": str(len(data))}
    head = f"PATCH /{path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    body = data[:cut] if cut is not None else data
    piece = rate // 20
    with socket.create_connection((address, int(port)), timeout=60) as conn:
        conn.sendall(head.encode())
        started = time.monotonic()
        for sent in range(0, len(body), piece):
            time.sleep(max(0.0, started + sent / rate - time.monotonic()))
            conn.sendall(body[sent:sent + piece])
        if cut is not None:
            return None  # closed here: the server reads an early end of the body
        return int(conn.recv(4096).split(b" ", 2)[1])


def test_slow_photo_uploads_hold_up_no_sync(world, database_url_for_tests, tmp_path: Path):
    from tests.test_auth import bearer

    photos = [_field_photo(seed) for seed in (31, 32)]
    with production_server(database_url_for_tests, tmp_path) as base:
        phones = []
        for name in ("alice", "bob"):
            phone = Device(HttpTransport(base, timeout=30))
            phone.login(name, PASSWORD)
            phones.append(bearer(phone.store.get("token")))
        syncer = Device(HttpTransport(base, timeout=120), batch_size=10)
        syncer.login("alice", PASSWORD)
        urls = [_create_upload(base, token, data) for token, data in zip(phones, photos)]

        # Two slow phones, one photo each, at once: as many as the old model had workers.
        statuses: dict[int, int | None] = {}
        finished_at: dict[int, float] = {}

        def send(index: int) -> None:
            statuses[index] = _slow_patch(urls[index], phones[index], photos[index], rate=SLOW_BYTES_PER_S)
            finished_at[index] = time.monotonic()

        uploads = [threading.Thread(target=send, args=(index,)) for index in range(2)]
        for thread in uploads:
            thread.start()
        while min(_upload_offset(url, token) for url, token in zip(urls, phones)) == 0:
            time.sleep(0.1)  # both are streaming: each holds a thread of the server

        pushes: list[tuple[float, float]] = []
        while all(thread.is_alive() for thread in uploads):
            syncer.create("finding", finding_fields(world.units[0].id, description=f"占道经营{len(pushes)}"))
            began = time.monotonic()
            results = syncer.push()
            syncer.pull()
            pushes.append((began, time.monotonic()))
            assert [r["outcome"] for r in results] == ["applied"]
        for thread in uploads:
            thread.join()

        assert statuses == {0: 204, 1: 204}
        # Pushes and pulls went on while both photos were still arriving.
        during = [push for push in pushes if push[1] < min(finished_at.values())]
        assert len(during) >= 3, pushes
        for url, token, data in zip(urls, phones, photos):
            assert _upload_offset(url, token) == len(data)
            sha = hashlib.sha256(data).hexdigest()
            request = urllib.request.Request(f"{base}/api/v1/photos/{sha}", headers=token)
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.read() == data

        # Cut at 60 %: every byte the server read is kept, and the phone sends only the rest.
        data = _field_photo(33)
        url = _create_upload(base, phones[0], data)
        cut = len(data) * 6 // 10
        assert _slow_patch(url, phones[0], data, rate=SLOW_BYTES_PER_S, cut=cut) is None
        deadline = time.monotonic() + 30
        while _upload_offset(url, phones[0]) < cut and time.monotonic() < deadline:
            time.sleep(0.1)  # the server may still be writing the last block it read
        assert _upload_offset(url, phones[0]) == cut
        resumed = TusClient(f"{base}/api/v1/uploads/", headers=phones[0]).uploader(
            file_stream=io.BytesIO(data), url=url, metadata={"sha256": hashlib.sha256(data).hexdigest()})
        assert resumed.offset == cut  # asked the server where to start
        resumed.upload()
        assert resumed.offset == len(data) and resumed.request.status_code == 204
        sha = hashlib.sha256(data).hexdigest()
        request = urllib.request.Request(f"{base}/api/v1/photos/{sha}/metadata", headers=phones[0])
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.loads(response.read())["size_bytes"] == len(data)
