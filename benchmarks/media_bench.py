#!/usr/bin/env python
"""The photo pipeline and photo uploads, each measured against a plain way of doing the same work.

    python benchmarks/media_bench.py --quick       # CI: small sizes, well under a minute
    python benchmarks/media_bench.py               # full: a few minutes on 2 cores

Photos: 12-megapixel (4000x3000) JPEGs made here, at quality 90 (about 4 MB, like a phone's):
a scene of blurred shapes and a horizon with sensor noise on top, so the entropy coder has as
much to do as with a real photo; EXIF with orientation 6, GPS, capture time and camera. Every
photo has bytes of its own (its EXIF differs), so nothing is deduplicated along the way.

Measured:

- ingest: ``media.ingest`` (SHA-256, EXIF, one draft-decoded image giving preview, thumbnail and
  perceptual hash) against a naive pipeline doing the same work the textbook way (full decode,
  ``ImageOps.exif_transpose``, ``thumbnail()`` for both sizes, ``imagehash.phash`` of the upright
  photo, SHA-256, EXIF). The two alternate photo by photo in one process pinned to one CPU, so a
  busy machine slows both alike: ``ingest_ratio`` = ingest / naive. For information, the
  ingest rate with two threads (no pinning) is printed as well;
- uploads: the app served by a threaded werkzeug server in a subprocess, on a temporary SQLite
  database built by the migrations. ``tus_upload_mb_per_s``: photos uploaded with tuspy (the
  tus client the tests use) in 2 MiB chunks through ``/api/v1/uploads/``; ``plain_put_mb_per_s``:
  other photos of the same size, each in one ``PUT`` with ``requests`` (the library tuspy uses)
  to an endpoint only this benchmark's server has, which reads the body into a file, fsyncs it,
  checks the SHA-256 and stores the photo with ``receive_photo`` as the end of a tus upload does.
  Both therefore include ingesting and storing; the difference is what resumability costs.
  The same pair is measured again with payloads that are not images (refused with 422 after the
  hash check), which isolates the transfer: ``tus_transport_mb_per_s``, ``plain_transport_mb_per_s``;
- field: the app under gunicorn as docs/operations.md runs it (threaded workers). Eight phones
  send whole photos in one PATCH each at 200 KB/s (paced by the client, on a raw socket) and two
  at full speed, while another phone pushes one finding at a time: ``field_photos_per_s``
  (photos stored per second, all phones), ``field_last_patch_ms`` (the fast phones' last PATCH,
  1 MiB with the ingest inside it: what ingesting inside the PATCH adds to a phone's wait), and
  the push p95 during the uploads (``sync_p95_ms_during_uploads``) beside the push p95 of the
  same phone with no upload running (``sync_p95_ms_no_uploads``).

The last line printed is one JSON object. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.sync_bench import FAST_ARGON2, PASSWORD, _free_port, _load, _revision, say  # noqa: E402

GOALS = {"ingest_ratio": 4.0, "tus_vs_plain": 0.8}
FULL = {"scenes": 4, "ingest": 24, "uploads": 50, "transport": 50, "field_s": 60, "idle_pushes": 60}
QUICK = {"scenes": 2, "ingest": 6, "uploads": 10, "transport": 10, "field_s": 20, "idle_pushes": 20}
SIZE = (4000, 3000)
#: tus PATCH size: a 12 MP photo goes in two. A PATCH cut off midway keeps what arrived, so a
#: chunk is not what a lost signal costs; each one costs a request (--chunk-mib 1 measures it).
CHUNK = 2 << 20
#: Request bodies are copied in blocks of this size, as uploads.READ_BUFFER.
BUFFER = 1 << 20
PUT_PATH = "/bench/put/"


# -- photos -------------------------------------------------------------------------------------

def scene(seed: int) -> bytes:
    """A 12 MP JPEG without metadata: shapes, a horizon, soft edges and sensor noise."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(seed)
    small = Image.new("RGB", (200, 150), tuple(int(c) for c in rng.integers(60, 200, 3)))
    draw = ImageDraw.Draw(small)
    draw.rectangle((0, int(rng.integers(40, 110)), 200, 150), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    for _ in range(40):
        x, y = (int(v) for v in rng.integers(-20, 200, 2))
        w, h = (int(v) for v in rng.integers(4, 70, 2))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x, y, x + w, y + h), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    big = small.filter(ImageFilter.GaussianBlur(0.8)).resize(SIZE, Image.Resampling.BICUBIC)
    # A brightness gradient across the frame, as the sky and shade give a real photo.
    gradient = np.linspace(-25, 25, SIZE[0], dtype=np.float32)[None, :, None]
    noise = rng.normal(0, 7, (SIZE[1], SIZE[0], 1)).astype(np.float32)
    pixels = np.clip(np.asarray(big, dtype=np.float32) + gradient + noise, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90)
    return out.getvalue()


def with_exif(jpeg: bytes, serial: int) -> bytes:
    """``jpeg`` with a phone's EXIF in an APP1 segment; ``serial`` makes the bytes unique."""
    from PIL import ExifTags, Image

    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "HUAWEI"
    exif[ExifTags.Base.Model] = "ELS-AN00"
    exif[ExifTags.Base.ImageDescription] = f"bench {serial}"
    exif[ExifTags.IFD.Exif] = {ExifTags.Base.DateTimeOriginal: "2026:10:23 09:15:30",
                               ExifTags.Base.OffsetTimeOriginal: "+08:00"}
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (32.0, 41.0, 24.0 + serial % 60 / 100),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (109.0, 1.0, 30.0),
    }
    payload = exif.tobytes()  # starts with b"Exif\0\0", as an APP1 segment must
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


class Photos:
    """``count`` photos of ``scenes`` different scenes, made on demand and cached per scene."""

    def __init__(self, scenes: int) -> None:
        started = time.perf_counter()
        self.scenes = [scene(seed) for seed in range(scenes)]
        self.made_s = time.perf_counter() - started
        self.serial = 0

    def take(self, count: int) -> list[bytes]:
        photos = []
        for _ in range(count):
            self.serial += 1
            photos.append(with_exif(self.scenes[self.serial % len(self.scenes)], self.serial))
        return photos


# -- ingest -------------------------------------------------------------------------------------

def naive_ingest(data: bytes) -> tuple[str, str, bytes, bytes]:
    """The same outputs as media.ingest, done as most code does it: decode everything, then shrink."""
    import imagehash
    from PIL import Image, ImageOps

    from media.exif import read_exif

    digest = hashlib.sha256(data).hexdigest()
    img = Image.open(io.BytesIO(data))
    read_exif(img)
    upright = ImageOps.exif_transpose(img)
    preview = upright.copy()
    preview.thumbnail((1280, 1280))
    thumbnail = preview.copy()
    thumbnail.thumbnail((320, 320))
    phash = str(imagehash.phash(upright))
    encoded = []
    for derivative in (preview, thumbnail):
        out = io.BytesIO()
        derivative.save(out, "JPEG", quality=82)
        encoded.append(out.getvalue())
    return digest, phash, encoded[0], encoded[1]


@contextlib.contextmanager
def one_cpu() -> Iterator[str]:
    """Pin this process to one CPU for the block (Linux); yields what was done, for the report."""
    if not hasattr(os, "sched_setaffinity"):
        yield "not pinned (no sched_setaffinity here)"
        return
    allowed = os.sched_getaffinity(0)
    cpu = max(allowed)
    os.sched_setaffinity(0, {cpu})
    try:
        yield f"pinned to CPU {cpu}"
    finally:
        os.sched_setaffinity(0, allowed)


def measure_ingest(photos: list[bytes]) -> dict[str, Any]:
    import media

    media.ingest(photos[0])  # warm up: imports, codec tables
    naive_ingest(photos[0])
    fast: list[float] = []
    slow: list[float] = []
    with one_cpu() as pinning:
        for index, data in enumerate(photos):
            pair: list[tuple[list[float], Callable[[bytes], Any]]] = [(fast, media.ingest), (slow, naive_ingest)]
            # Alternate which runs first, so neither always finds the caches warm.
            for times, run in pair if index % 2 == 0 else reversed(pair):
                started = time.perf_counter()
                run(data)
                times.append(time.perf_counter() - started)
    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(media.ingest, photos))
    threaded = len(photos) / (time.perf_counter() - started)
    return {"pinning": pinning, "fast": fast, "slow": slow, "threaded": threaded}


# -- the server ---------------------------------------------------------------------------------

def bench_app():  # type: ignore[no-untyped-def]
    """The app from XUNCHA_* variables, plus the plain one-request upload endpoint (gunicorn
    serves ``benchmarks.media_bench:bench_app()`` for the field scenario)."""
    from flask import Response, current_app, request

    import media
    from server import create_app, db
    from server.attachments.services import receive_photo
    from server.auth.security import authenticate_request
    from server.clock import app_clock

    app = create_app()
    inbox = Path(app.config["MEDIA_ROOT"]) / "bench-put"
    inbox.mkdir(parents=True, exist_ok=True)

    @app.put(PUT_PATH + "<sha256>")
    def plain_put(sha256: str) -> Response:
        # What a non-resumable upload must do at least: take the body to disk durably, check
        # it, and store the photo as the end of a tus upload does (uploads.finish).
        authenticate_request()
        path = inbox / f"{os.getpid()}-{threading.get_ident()}.part"
        hasher = hashlib.sha256()
        with open(path, "wb") as out:
            while block := request.stream.read(BUFFER):
                hasher.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        try:
            if hasher.hexdigest() != sha256:
                return Response("wrong sha256", status=460)
            config = current_app.config
            session = db.session()
            try:
                receive_photo(session, app_clock(), current_app.extensions["xuncha.media"], path.read_bytes(),
                              limits=media.Limits(max_bytes=config["MEDIA_MAX_BYTES"],
                                                  max_pixels=config["MEDIA_MAX_PIXELS"]),
                              timezone=config["TIMEZONE"])
                session.commit()
            except media.MediaError as exc:
                session.rollback()
                return Response(exc.message, status=422)
            return Response(status=201)
        finally:
            path.unlink()

    if os.environ.get("BENCH_INGEST") == "deferred":
        defer_ingest(app)
    return app


def defer_ingest(app):  # type: ignore[no-untyped-def]
    """Measurement only (``--compare-deferred``): the last PATCH answers 204 once its bytes are
    in, and a thread of the worker stores the photo afterwards, as ingest after the final 204
    would. Failures are not retried here: this is the figure, not the feature."""
    from server.attachments import tus

    inline = tus._complete
    pool = ThreadPoolExecutor(2)

    def run(store, upload) -> None:  # type: ignore[no-untyped-def]
        with app.app_context():
            inline(store, upload)

    tus._complete = lambda store, upload: pool.submit(run, store, upload) and None


def serve_main(port: int) -> None:
    """``--_serve``: ``bench_app`` on threaded werkzeug."""
    import logging

    from werkzeug.serving import WSGIRequestHandler, make_server

    app = bench_app()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    class Handler(WSGIRequestHandler):
        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=Handler)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server.serve_forever()


#: docs/operations.md's production command, with two workers as tests/test_production_server.py.
GUNICORN_ARGS = ["--workers", "2", "--threads", "16", "--timeout", "60"]


class Server:
    """``bench_app`` in its own process: threaded werkzeug, or gunicorn as production runs it."""

    def __init__(self, settings: dict[str, Any], *, gunicorn: bool = False, ingest: str = "inline") -> None:
        import requests

        env = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_")}
        env["BENCH_INGEST"] = ingest
        env.update({f"XUNCHA_{k}": str(v) for k, v in settings.items()})
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = ([sys.executable, "-m", "gunicorn", *GUNICORN_ARGS, "--bind", f"127.0.0.1:{self.port}",
                    "--log-level", "warning", "benchmarks.media_bench:bench_app()"] if gunicorn
                   else [sys.executable, __file__, "--_serve", str(self.port)])
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited at start (code {self.proc.returncode})")
            # A worker still importing under load may accept and not answer for a while.
            with contextlib.suppress(requests.ConnectionError, requests.Timeout):
                if requests.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the server did not answer /healthz within 60 s")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def inspector_token(settings: dict[str, Any], server: Server) -> str:
    """An inspector made with the test factories, logged in over HTTP from a device."""
    import requests

    from server import create_app
    from server.auth.models import Role
    from tests import factories

    app = create_app(settings)
    with app.extensions["xuncha.db"].session() as session:
        campaign = factories.campaign(session)
        factories.user(session, app.extensions["xuncha.hasher"], Role.INSPECTOR, campaign=campaign,
                       username="alice")
        session.commit()
    app.extensions["xuncha.db"].dispose()
    answer = requests.post(f"{server.url}/api/v1/auth/login", timeout=30, json={
        "username": "alice", "password": PASSWORD, "device": {"name": "bench phone", "platform": "android"}})
    answer.raise_for_status()
    return answer.json()["token"]


# -- uploads ------------------------------------------------------------------------------------

def tus_upload(server: Server, auth: dict[str, str], data: bytes, chunk: int) -> bool:
    """One whole upload with tuspy; False if the server refused the completed upload."""
    from tusclient.client import TusClient
    from tusclient.exceptions import TusCommunicationError

    client = TusClient(f"{server.url}/api/v1/uploads/", headers=auth)
    uploader = client.uploader(file_stream=io.BytesIO(data), chunk_size=chunk,
                               metadata={"sha256": hashlib.sha256(data).hexdigest()})
    try:
        uploader.upload()
    except TusCommunicationError as exc:
        if exc.status_code == 422:
            return False
        raise
    return True


def plain_put(server: Server, auth: dict[str, str], data: bytes) -> bool:
    import requests

    answer = requests.put(f"{server.url}{PUT_PATH}{hashlib.sha256(data).hexdigest()}", data=data, headers=auth,
                          timeout=120)
    if answer.status_code not in (201, 422):
        raise RuntimeError(f"plain PUT answered {answer.status_code}: {answer.text[:200]}")
    return answer.status_code == 201


def measure_uploads(server: Server, auth: dict[str, str], first: list[bytes],
                    second: list[bytes], expect_stored: bool, chunk: int) -> dict[str, Any]:
    """tus for ``first``, plain PUT for ``second``, alternating; MB/s over the bytes sent.

    The first pair is a warm-up, not counted: the server's first photo imports scipy (for the
    perceptual hash), which would otherwise be charged to whichever method came first.
    """
    stored = tus_upload(server, auth, first[0], chunk) + plain_put(server, auth, second[0])
    first, second = first[1:], second[1:]
    tus_s = put_s = 0.0
    for index, (a, b) in enumerate(zip(first, second)):
        steps = [("tus", a), ("put", b)]
        for kind, data in steps if index % 2 == 0 else reversed(steps):
            started = time.perf_counter()
            stored += tus_upload(server, auth, data, chunk) if kind == "tus" else plain_put(server, auth, data)
            elapsed = time.perf_counter() - started
            if kind == "tus":
                tus_s += elapsed
            else:
                put_s += elapsed
    expected = 2 * (len(first) + 1) if expect_stored else 0
    if stored != expected:
        raise RuntimeError(f"{stored} uploads stored, expected {expected}")
    mb_first, mb_second = sum(map(len, first)) / 1e6, sum(map(len, second)) / 1e6
    return {"tus": mb_first / tus_s, "put": mb_second / put_s, "tus_ms": 1000 * tus_s / len(first),
            "put_ms": 1000 * put_s / len(second), "mb": mb_first / len(first)}


def not_images(count: int, size: int, seed: int) -> list[bytes]:
    return [hashlib.sha256(f"{seed}-{i}".encode()).digest() * (size // 32) for i in range(count)]


# -- field photos: slow phones through the production serving model -----------------------------

#: Phones on a weak link, each sending whole photos one after another in one PATCH each
#: (tus-js-client's default), beside phones on Wi-Fi sending as fast as they can.
SLOW_CLIENTS, FAST_CLIENTS, SLOW_BYTES_PER_S = 8, 2, 200_000
#: The fast phones send a photo in two PATCHes: everything but this much, then this much, so
#: the last PATCH's time shows what ingest inside it adds to a phone's wait.
LAST_PATCH = 1 << 20


def field_unit(settings: dict[str, Any]) -> int:
    """A unit in a team of alice's, so the syncing phone's findings are in scope."""
    import sqlalchemy as sa

    from server import create_app
    from server.auth.models import User
    from server.campaigns.models import Campaign
    from tests import factories

    app = create_app(settings)
    with app.extensions["xuncha.db"].session() as session:
        alice = session.scalars(sa.select(User).where(User.username == "alice")).one()
        campaign = session.get(Campaign, alice.campaign_id)
        unit = factories.unit(session, campaign, name="江北大道片区")
        rnd = factories.round_(session, campaign, factories.standard(session, campaign))
        factories.team(session, rnd, members=[alice], units=[unit], name="field")
        session.commit()
        unit_id = unit.id
    app.extensions["xuncha.db"].dispose()
    return unit_id


def phone_token(server: Server) -> str:
    from sample_client import Device, HttpTransport

    device = Device(HttpTransport(server.url, timeout=120))
    device.login("alice", PASSWORD)
    return device.store.get("token")


def create_upload(server: Server, auth: dict[str, str], data: bytes) -> str:
    import base64

    import requests

    metadata = "sha256 " + base64.b64encode(hashlib.sha256(data).hexdigest().encode()).decode()
    answer = requests.post(f"{server.url}/api/v1/uploads/", timeout=120, headers={
        **auth, "Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)), "Upload-Metadata": metadata})
    answer.raise_for_status()
    return answer.headers["Location"]


def throttled_patch(url: str, auth: dict[str, str], data: bytes, rate: int) -> int:
    """The whole photo in one PATCH over a raw socket, paced to ``rate`` bytes/s by the client."""
    host, _, path = url.removeprefix("http://").partition("/")
    address, port = host.split(":")
    headers = {**auth, "Host": host, "Tus-Resumable": "1.0.0", "Upload-Offset": "0",
               "Content-Type": "application/offset+octet-stream", "Content-Length": str(len(data))}
    head = f"PATCH /{path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    piece = rate // 20
    with socket.create_connection((address, int(port)), timeout=120) as conn:
        conn.sendall(head.encode())
        started = time.monotonic()
        for sent in range(0, len(data), piece):
            time.sleep(max(0.0, started + sent / rate - time.monotonic()))
            conn.sendall(data[sent:sent + piece])
        return int(conn.recv(4096).split(b" ", 2)[1])


def fast_upload(server: Server, auth: dict[str, str], data: bytes) -> float:
    """One photo in two PATCHes at full speed; the seconds the last one took."""
    import requests

    url = create_upload(server, auth, data)
    headers = {**auth, "Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}
    cut = len(data) - LAST_PATCH
    first = requests.patch(url, data=data[:cut], headers={**headers, "Upload-Offset": "0"}, timeout=120)
    started = time.perf_counter()
    last = requests.patch(url, data=data[cut:], headers={**headers, "Upload-Offset": str(cut)}, timeout=120)
    elapsed = time.perf_counter() - started
    if (first.status_code, last.status_code) != (204, 204):
        raise RuntimeError(f"fast upload answered {first.status_code}, {last.status_code}")
    return elapsed


def timed_pushes(device: Any, unit_id: int, keep_going: Callable[[int], bool]) -> list[float]:
    """Push one finding at a time while ``keep_going(pushes so far)``; each push's seconds."""
    times: list[float] = []
    while keep_going(len(times)):
        device.create("finding", {"unit_id": unit_id, "category": "市容环境",
                                  "description": f"占道经营 {len(times)}"})
        started = time.perf_counter()
        results = device.push()
        times.append(time.perf_counter() - started)
        if [r["outcome"] for r in results] != ["applied"]:
            raise RuntimeError(f"a push was not applied: {results}")
    return times


def p95(times: list[float]) -> float:
    return 1000 * statistics.quantiles(times, n=20, method="inclusive")[-1]


def stored_photos(url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text("SELECT count(*) FROM photos"))
    finally:
        engine.dispose()


def measure_field(server: Server, unit_id: int, photos: Photos, seconds: float, idle_pushes: int,
                  database_url: str) -> dict[str, Any]:
    from sample_client import Device, HttpTransport

    syncer = Device(HttpTransport(server.url, timeout=120), batch_size=10)
    syncer.login("alice", PASSWORD)
    tokens = [{"Authorization": f"Bearer {phone_token(server)}"} for _ in range(SLOW_CLIENTS + FAST_CLIENTS)]
    timed_pushes(syncer, unit_id, lambda done: done < 3)  # warm-up
    idle = timed_pushes(syncer, unit_id, lambda done: done < idle_pushes)
    fast_upload(server, tokens[0], photos.take(1)[0])  # warm-up: the first ingest imports scipy

    before = stored_photos(database_url)
    lock = threading.Lock()
    slow_done: list[int] = []
    fast_done: list[float] = []
    started = time.monotonic()
    deadline = started + seconds

    def next_photo() -> bytes:
        with lock:
            return photos.take(1)[0]

    def slow(auth: dict[str, str]) -> None:
        while True:
            data = next_photo()
            if time.monotonic() + len(data) / SLOW_BYTES_PER_S > deadline:
                return  # would not arrive in time: a photo started is a photo finished
            status = throttled_patch(create_upload(server, auth, data), auth, data, SLOW_BYTES_PER_S)
            if status != 204:
                raise RuntimeError(f"a slow upload answered {status}")
            slow_done.append(len(data))

    def fast(auth: dict[str, str]) -> None:
        while time.monotonic() < deadline:
            fast_done.append(fast_upload(server, auth, next_photo()))

    with ThreadPoolExecutor(SLOW_CLIENTS + FAST_CLIENTS) as pool:
        futures = [pool.submit(slow, auth) for auth in tokens[:SLOW_CLIENTS]]
        futures += [pool.submit(fast, auth) for auth in tokens[SLOW_CLIENTS:]]
        during = timed_pushes(syncer, unit_id, lambda _done: not all(f.done() for f in futures))
        for future in futures:
            future.result()
    answered = time.monotonic() - started
    # With ingest after the 204, photos answered are not yet photos stored: wait for them.
    expected = before + len(slow_done) + len(fast_done)
    while stored_photos(database_url) < expected and time.monotonic() - started < answered + 300:
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    return {"seconds": elapsed, "answered_s": answered, "slow": len(slow_done), "fast": len(fast_done),
            "stored": stored_photos(database_url) - before,
            "photos_per_s": (len(slow_done) + len(fast_done)) / elapsed,
            "last_patch_ms": 1000 * statistics.median(fast_done), "idle": idle, "during": during}


# -- run ----------------------------------------------------------------------------------------

def run(sizes: dict[str, int], workdir: Path, chunk: int, compare_deferred: bool = False) -> dict[str, Any]:
    from server.cli import upgrade_database

    photos = Photos(sizes["scenes"])
    sample = photos.take(1)[0]
    say(f"made {sizes['scenes']} scenes of {SIZE[0]}x{SIZE[1]} in {photos.made_s:.1f} s; "
        f"a photo is {len(sample) / 1e6:.2f} MB (JPEG quality 90, EXIF with orientation 6 and GPS)")

    say(f"\n[1/4] ingest of {sizes['ingest']} photos, media.ingest and the naive pipeline alternating")
    ingest = measure_ingest(photos.take(sizes["ingest"]))
    fast_ms, slow_ms = (1000 * statistics.mean(ingest[k]) for k in ("fast", "slow"))
    say(f"  {ingest['pinning']}; media.ingest mean {fast_ms:.1f} ms (median "
        f"{1000 * statistics.median(ingest['fast']):.1f}), naive mean {slow_ms:.1f} ms (median "
        f"{1000 * statistics.median(ingest['slow']):.1f})")
    say(f"  two threads, not pinned: {ingest['threaded']:.1f} photos/s")

    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    upgrade_database(url)
    settings = {"DATABASE_URL": url, "INSTANCE_DIR": str(workdir / "instance"), "SECRET_KEY": "bench-" + "k" * 40,
                "LOG_LEVEL": "WARNING", **FAST_ARGON2}
    server = Server(settings)
    try:
        auth = {"Authorization": f"Bearer {inspector_token(settings, server)}"}
        say(f"\nserver: werkzeug, threaded, on {server.url} (pid {server.proc.pid}); "
            f"clients: tuspy {chunk / (1 << 20):g} MiB chunks, requests PUT; a new connection per request for both")
        n = sizes["uploads"]
        say(f"\n[2/4] {n} photos by tus and {n} others by one plain PUT each, alternating")
        uploads = measure_uploads(server, auth, photos.take(n + 1), photos.take(n + 1), expect_stored=True,
                                  chunk=chunk)
        say(f"  tus {uploads['tus']:.1f} MB/s ({uploads['tus_ms']:.0f} ms a photo), plain PUT {uploads['put']:.1f} "
            f"MB/s ({uploads['put_ms']:.0f} ms a photo); photos of {uploads['mb']:.2f} MB on average")
        n = sizes["transport"]
        say(f"\n[3/4] transfer alone: {n}+{n} payloads of {len(sample) / 1e6:.2f} MB that are not images "
            f"(hashed, then refused with 422)")
        transport = measure_uploads(server, auth, not_images(n + 1, len(sample), 1),
                                    not_images(n + 1, len(sample), 2), expect_stored=False, chunk=chunk)
        say(f"  tus {transport['tus']:.1f} MB/s ({transport['tus_ms']:.0f} ms each), plain PUT "
            f"{transport['put']:.1f} MB/s ({transport['put_ms']:.0f} ms each)")
    finally:
        server.stop()

    settings["LOGIN_RATE_LIMIT"] = "1000 per minute"  # a dozen phones log in at once
    unit_id = field_unit(settings)
    say(f"\n[4/4] field: gunicorn {' '.join(GUNICORN_ARGS)} (docs/operations.md); {SLOW_CLIENTS} phones at "
        f"{SLOW_BYTES_PER_S // 1000} KB/s sending whole photos in one PATCH each and {FAST_CLIENTS} at full "
        f"speed, for {sizes['field_s']} s, while another phone pushes one finding at a time")
    fields = {}
    for ingest_mode in ("inline", "deferred") if compare_deferred else ("inline",):
        server = Server(settings, gunicorn=True, ingest=ingest_mode)
        try:
            field = fields[ingest_mode] = measure_field(server, unit_id, photos, sizes["field_s"],
                                                        sizes["idle_pushes"], url)
        finally:
            server.stop()
        where = "inside the last PATCH" if ingest_mode == "inline" else "after the final 204 (measurement only)"
        say(f"  ingest {where}: {field['slow']} slow + {field['fast']} fast photos answered in "
            f"{field['answered_s']:.0f} s, {field['stored']} stored after {field['seconds']:.0f} s: "
            f"{field['photos_per_s']:.2f} photos/s; the fast phones' last PATCH ({LAST_PATCH >> 20} MiB) took "
            f"{field['last_patch_ms']:.0f} ms (median)")
        say(f"    push p95 {p95(field['idle']):.0f} ms with no uploads ({len(field['idle'])} pushes), "
            f"{p95(field['during']):.0f} ms during them ({len(field['during'])} pushes)")
    return {"ingest": ingest, "uploads": uploads, "transport": transport, "field": fields["inline"],
            "deferred": fields.get("deferred")}


def report(r: dict[str, Any]) -> dict[str, Any]:
    ingest, uploads, transport, field = r["ingest"], r["uploads"], r["transport"], r["field"]
    fast = len(ingest["fast"]) / sum(ingest["fast"])
    slow = len(ingest["slow"]) / sum(ingest["slow"])
    ratio = fast / slow
    tus_ratio = uploads["tus"] / uploads["put"]
    transport_ratio = transport["tus"] / transport["put"]
    say("\n== summary (no timing is asserted)")
    say(f"ingest    {fast:8.2f} photos/s on one CPU; naive {slow:.2f}/s → ratio {ratio:.2f} "
        f"(goal ≥ {GOALS['ingest_ratio']}); two threads {ingest['threaded']:.2f}/s")
    say(f"uploads   tus {uploads['tus']:.1f} MB/s, plain PUT {uploads['put']:.1f} MB/s → {tus_ratio:.2f}× "
        f"(goal ≥ {GOALS['tus_vs_plain']}×), both ingesting and storing every photo")
    say(f"transfer  tus {transport['tus']:.1f} MB/s, plain PUT {transport['put']:.1f} MB/s → {transport_ratio:.2f}×")
    say(f"field     {field['photos_per_s']:.2f} photos/s ({SLOW_CLIENTS} phones at {SLOW_BYTES_PER_S // 1000} KB/s, "
        f"{FAST_CLIENTS} at full speed); push p95 {p95(field['during']):.0f} ms during, "
        f"{p95(field['idle']):.0f} ms without uploads")
    return {
        "ingest_photos_per_s": round(fast, 2),
        "naive_photos_per_s": round(slow, 2),
        "ingest_ratio": round(ratio, 2),
        "ingest_photos_per_s_2_threads": round(ingest["threaded"], 2),
        "tus_upload_mb_per_s": round(uploads["tus"], 1),
        "plain_put_mb_per_s": round(uploads["put"], 1),
        "tus_vs_plain": round(tus_ratio, 3),
        "tus_transport_mb_per_s": round(transport["tus"], 1),
        "plain_transport_mb_per_s": round(transport["put"], 1),
        "tus_transport_vs_plain": round(transport_ratio, 3),
        "field_photos_per_s": round(field["photos_per_s"], 2),
        "field_last_patch_ms": round(field["last_patch_ms"]),
        "sync_p95_ms_no_uploads": round(p95(field["idle"])),
        "sync_p95_ms_during_uploads": round(p95(field["during"])),
        **({} if r["deferred"] is None else {
            "deferred_field_photos_per_s": round(r["deferred"]["photos_per_s"], 2),
            "deferred_field_last_patch_ms": round(r["deferred"]["last_patch_ms"]),
            "deferred_sync_p95_ms_during_uploads": round(p95(r["deferred"]["during"]))}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI): well under a minute")
    parser.add_argument("--uploads", type=int, help="photos per upload method (default 50)")
    parser.add_argument("--ingest", type=int, help="photos through each ingest pipeline")
    parser.add_argument("--chunk-mib", type=float, default=CHUNK / (1 << 20), help="tus PATCH size in MiB (default 2)")
    parser.add_argument("--compare-deferred", action="store_true",
                        help="run the field scenario again with ingest after the final 204 (measurement only)")
    parser.add_argument("--_serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._serve:
        serve_main(args._serve)
        return 0
    sizes = dict(QUICK if args.quick else FULL)
    for key in ("uploads", "ingest"):
        if getattr(args, key):
            sizes[key] = getattr(args, key)

    def terminate(*_: Any) -> None:
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, terminate)
    say(f"media benchmark ({'quick' if args.quick else 'full'}): ingest {sizes['ingest']} photos, "
        f"uploads {sizes['uploads']} photos per method; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    say(f"code: {_revision()}; load average {_load()} (other work on the machine skews every figure)")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="xuncha_media_bench_") as tmp:
        results = run(sizes, Path(tmp), int(args.chunk_mib * (1 << 20)), args.compare_deferred)
    summary = report(results)
    say(f"total time {time.perf_counter() - started:.0f} s; load average now {_load()}")
    say(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
