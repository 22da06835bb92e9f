"""Photos as phones in the field send them (issue 15): iPhone formats through the whole API,
finished uploads that still answer, two phones finishing at once, failures that keep the bytes.

Real tus clients (tuspy) and real concurrent HTTP requests against a live threaded server.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import requests
import sqlalchemy as sa
from PIL import ExifTags, Image
from tusclient.client import TusClient

from server.attachments.models import Photo, PhotoUploader
from server.attachments.uploads import expire_uploads, parse_metadata
from tests.attachments.test_photos import jpeg
from tests.attachments.test_tus import TUS, call, photo_rows, server, sha_of, uploader  # noqa: F401 (fixture)
from tests.media.conftest import encode, photo_like
from tests.test_auth import bearer
from tests.world import finding_fields

OCTETS = {"Content-Type": "application/offset+octet-stream"}
RED = (255, 0, 0)


@pytest.fixture
def alice(world, phone):  # type: ignore[no-untyped-def]
    return phone("alice")


@pytest.fixture
def auth(alice) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(alice.store.get("token"))


def _send_all_but_the_last_byte(server: str, auth: dict[str, str], data: bytes) -> str:
    upload = uploader(server, auth, data, chunk_size=len(data) - 1)
    upload.set_url(upload.create_url())
    upload.upload_chunk()
    return upload.url


def _last_byte(url: str, auth: dict[str, str], data: bytes) -> requests.Response:
    return call("PATCH", url, data=data[-1:], headers={**auth, **TUS, **OCTETS, "Upload-Offset": str(len(data) - 1)})


def _upright_preview(server: str, auth: dict[str, str], sha: str) -> Image.Image:
    answer = call("GET", f"{server}/api/v1/photos/{sha}/preview", headers=auth)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/jpeg"
    img = Image.open(io.BytesIO(answer.content))
    img.load()
    return img


def _iphone_exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Apple"
    exif[ExifTags.Base.Model] = "iPhone 15 Pro"
    exif[ExifTags.IFD.Exif] = {ExifTags.Base.DateTimeOriginal: "2026:10:23 09:15:30",
                               ExifTags.Base.OffsetTimeOriginal: "+08:00"}
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (32.0, 41.0, 24.0),
                                  ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (109.0, 1.0, 30.0),
                                  ExifTags.GPS.GPSAltitudeRef: b"\x00", ExifTags.GPS.GPSAltitude: 245.5}
    return exif


def _marked_scene() -> Image.Image:
    """Stored sideways (orientation 6): the red corner is top-left here, top-right upright."""
    scene = photo_like(11, (1600, 1200))
    scene.paste(RED, (0, 0, 200, 200))
    return scene


def _iphone_mpo() -> bytes:
    gain_map = Image.new("RGB", (400, 300), (128, 128, 128))
    return encode(_marked_scene(), "MPO", save_all=True, append_images=[gain_map], quality=88,
                  exif=_iphone_exif(6))


def _heic_with_gain_map_like_second_image() -> bytes:
    gain_map = Image.new("RGB", (400, 300), (128, 128, 128))
    return encode(gain_map, "HEIF", save_all=True, append_images=[_marked_scene()], primary_index=1, quality=80,
                  exif=_iphone_exif(6))


def _sixteen_bit_png() -> bytes:
    ramp = Image.new("I;16", (1024, 256))
    ramp.putdata([(x % 1024) * 64 for x in range(1024 * 256)])
    return encode(ramp, "PNG")


def _near(colour, expected, tolerance=45):  # type: ignore[no-untyped-def]
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected))


@pytest.mark.parametrize("make", [_iphone_mpo, _heic_with_gain_map_like_second_image], ids=["mpo", "heic"])
def test_iphone_photos_go_through_the_whole_api_upright(server, auth, session, make):  # type: ignore[no-untyped-def]
    data = make()
    sha = sha_of(data)

    upload = uploader(server, auth, data, chunk_size=64 * 1024)
    upload.upload()

    row = session.get(Photo, sha)
    assert (row.width, row.height) == (1200, 1600)
    assert row.camera == "Apple iPhone 15 Pro" and row.altitude == pytest.approx(245.5)
    original = call("GET", f"{server}/api/v1/photos/{sha}", headers=auth)
    assert original.content == data and original.headers["Content-Type"] == row.content_type
    preview = _upright_preview(server, auth, sha)
    assert preview.size == (960, 1280)
    w, h = preview.size
    assert _near(preview.getpixel((w - 20, 20)), RED) and not _near(preview.getpixel((20, 20)), RED)


def test_a_sixteen_bit_png_preview_is_not_blank(server, auth, session):  # type: ignore[no-untyped-def]
    data = _sixteen_bit_png()
    uploader(server, auth, data).upload()

    for variant in ("preview", "thumb"):
        answer = call("GET", f"{server}/api/v1/photos/{sha_of(data)}/{variant}", headers=auth)
        grey = np.asarray(Image.open(io.BytesIO(answer.content)).convert("L"))
        assert grey.min() < 30 and grey.max() > 225 and 100 < grey.mean() < 156


def test_a_finished_upload_still_answers_until_it_expires(server, auth, app, clock, photo_for_test):  # type: ignore[no-untyped-def]
    data = photo_for_test
    client = TusClient(f"{server}/api/v1/uploads/", headers=auth)
    upload = client.uploader(file_stream=io.BytesIO(data), chunk_size=len(data) // 2 + 1,
                             metadata={"sha256": sha_of(data), "filename": "IMG_0001.JPG"})
    upload.upload()
    head = call("HEAD", upload.url, headers={**auth, **TUS})
    assert head.status_code == 200 and head.headers["Upload-Offset"] == str(len(data))
    assert head.headers["Upload-Length"] == str(len(data))
    assert parse_metadata(head.headers["Upload-Metadata"]) == {"sha256": sha_of(data), "filename": "IMG_0001.JPG"}

    # A phone that lost the final 204 asks with an empty PATCH: done, nothing more to send.
    again = call("PATCH", upload.url, data=b"", headers={**auth, **TUS, **OCTETS, "Upload-Offset": str(len(data))})
    assert again.status_code == 204 and again.headers["Upload-Offset"] == str(len(data))
    early = call("PATCH", upload.url, data=b"", headers={**auth, **TUS, **OCTETS, "Upload-Offset": "0"})
    assert early.status_code == 409
    more = call("PATCH", upload.url, data=b"x", headers={**auth, **TUS, **OCTETS, "Upload-Offset": str(len(data))})
    assert more.status_code == 413

    keep = dt.timedelta(hours=app.config["UPLOAD_FINISHED_KEEP_HOURS"])
    clock.advance(keep - dt.timedelta(minutes=1))
    assert expire_uploads(app.config["MEDIA_ROOT"], clock.now()) == 0
    assert call("HEAD", upload.url, headers={**auth, **TUS}).status_code == 200
    clock.advance(dt.timedelta(minutes=2))
    assert call("HEAD", upload.url, headers={**auth, **TUS}).status_code == 404
    assert expire_uploads(app.config["MEDIA_ROOT"], clock.now()) == 0  # HEAD removed it already
    assert os.listdir(os.path.join(app.config["MEDIA_ROOT"], "uploads")) == []


def test_how_long_a_finished_upload_answers_is_configurable(app_config, clock, world, phone, tmp_path):  # type: ignore[no-untyped-def]
    from server import create_app
    from server.attachments.uploads import UploadStore

    configured = create_app({**app_config, "UPLOAD_FINISHED_KEEP_HOURS": 2}, clock=clock)
    try:
        assert configured.config["UPLOAD_FINISHED_KEEP_HOURS"] == 2
        data = jpeg(640, 480, colour=(1, 2, 3))
        client = configured.test_client()
        token = bearer(phone("alice").store.get("token"))
        metadata = "sha256 " + __import__("base64").b64encode(sha_of(data).encode()).decode()
        created = client.post("/api/v1/uploads/", data=data, headers={
            **token, **TUS, **OCTETS, "Upload-Length": str(len(data)), "Upload-Metadata": metadata})
        assert created.status_code == 201
        upload_id = created.headers["Location"].rsplit("/", 1)[1]
        stored = UploadStore(configured.config["MEDIA_ROOT"]).get(upload_id)
        assert stored is not None and stored.finished and stored.expires == clock.now() + dt.timedelta(hours=2)
    finally:
        configured.extensions["xuncha.db"].dispose()


@pytest.fixture
def photo_for_test() -> bytes:
    return jpeg(1200, 900, colour=(60, 140, 90))


def test_an_empty_file_is_refused_at_creation(server, auth, app):  # type: ignore[no-untyped-def]
    metadata = "sha256 " + __import__("base64").b64encode(sha_of(b"").encode()).decode()
    answer = call("POST", f"{server}/api/v1/uploads/", headers={
        **auth, **TUS, "Upload-Length": "0", "Upload-Metadata": metadata})
    assert answer.status_code == 422 and answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["media_code"] == "empty_file" and answer.json()["errors"][0]["field"] == "Upload-Length"
    assert "Location" not in answer.headers
    assert not list(Path(app.config["MEDIA_ROOT"]).rglob("*.*"))


def test_the_uploader_reads_a_photo_the_server_already_had(server, world, phone, session, photo_for_test):  # type: ignore[no-untyped-def]
    data = photo_for_test
    sha = sha_of(data)
    first, second = (bearer(phone(name).store.get("token")) for name in ("alice", "bob"))
    uploader(server, first, data).upload()
    assert call("HEAD", f"{server}/api/v1/photos/{sha}", headers=second).status_code == 404

    uploader(server, second, data).upload()  # the bytes were there already

    head = call("HEAD", f"{server}/api/v1/photos/{sha}", headers=second)
    assert head.status_code == 200 and head.headers["X-Photo-Width"] == "1200"
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(PhotoUploader)) == 2
    # The same user on another phone did not upload it.
    assert call("HEAD", f"{server}/api/v1/photos/{sha}",
                headers=bearer(phone("bob").store.get("token"))).status_code == 404


def test_photo_answers_are_private_and_immutable(server, auth, photo_for_test):  # type: ignore[no-untyped-def]
    data = photo_for_test
    uploader(server, auth, data).upload()
    for path in ("", "/preview", "/thumb"):
        for method in ("GET", "HEAD"):
            answer = call(method, f"{server}/api/v1/photos/{sha_of(data)}{path}", headers=auth)
            assert answer.headers["Cache-Control"] == "private, max-age=31536000, immutable", (path, method)


def test_a_failure_storing_the_photo_keeps_every_byte(server, auth, app, session, photo_for_test):  # type: ignore[no-untyped-def]
    data = photo_for_test
    sha = sha_of(data)
    # A file where the storage wants a folder: every put of this photo fails with an OSError.
    blocker = Path(app.extensions["xuncha.media"].root) / sha[:2]
    blocker.write_bytes(b"")
    url = _send_all_but_the_last_byte(server, auth, data)

    failed = _last_byte(url, auth, data)

    assert failed.status_code == 503 and failed.headers["Content-Type"] == "application/problem+json"
    assert failed.headers["Retry-After"] and failed.json()["code"] == "service_unavailable"
    assert photo_rows(session, sha) == 0
    head = call("HEAD", url, headers={**auth, **TUS})  # tries again, fails again, keeps the bytes
    assert head.status_code == 503 and head.headers["Upload-Offset"] == str(len(data))

    blocker.unlink()
    retried = call("PATCH", url, data=b"", headers={**auth, **TUS, **OCTETS, "Upload-Offset": str(len(data))})
    assert retried.status_code == 204 and retried.headers["Upload-Offset"] == str(len(data))
    assert photo_rows(session, sha) == 1
    assert call("GET", f"{server}/api/v1/photos/{sha}", headers=auth).content == data


def test_a_client_that_only_asks_head_after_a_failure_gets_its_photo_stored(server, auth, app, session,
                                                                           photo_for_test):  # type: ignore[no-untyped-def]
    # tus-js-client, retrying after a 5xx, asks HEAD and takes "offset = length" as done.
    data = photo_for_test
    sha = sha_of(data)
    blocker = Path(app.extensions["xuncha.media"].root) / sha[:2]
    blocker.write_bytes(b"")
    url = _send_all_but_the_last_byte(server, auth, data)
    assert _last_byte(url, auth, data).status_code == 503

    blocker.unlink()
    head = call("HEAD", url, headers={**auth, **TUS})

    assert head.status_code == 200 and head.headers["Upload-Offset"] == str(len(data))
    assert photo_rows(session, sha) == 1


def test_two_phones_finishing_the_same_photo_at_once(server, world, phone, session):  # type: ignore[no-untyped-def]
    devices = [bearer(phone(name).store.get("token")) for name in ("alice", "bob")]
    statuses: list[int] = []
    for round_ in range(20):
        data = jpeg(640, 480, colour=(round_ * 12, 90, 200 - round_ * 9))
        urls = [_send_all_but_the_last_byte(server, auth, data) for auth in devices]
        start = threading.Barrier(2)

        def finish(index: int) -> int:
            start.wait()
            return _last_byte(urls[index], devices[index], data).status_code

        with ThreadPoolExecutor(2) as pool:
            statuses += pool.map(finish, range(2))
        assert photo_rows(session, sha_of(data)) == 1
        for auth in devices:
            assert call("HEAD", f"{server}/api/v1/photos/{sha_of(data)}", headers=auth).status_code == 200
    assert statuses == [204] * 40
    assert session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 20


def test_two_different_photos_finishing_at_once_are_both_stored(server, world, phone, session):  # type: ignore[no-untyped-def]
    devices = [bearer(phone(name).store.get("token")) for name in ("alice", "bob")]
    statuses: list[int] = []
    for round_ in range(5):
        photos = [jpeg(640, 480, colour=(round_ * 40, index * 100, 60)) for index in range(2)]
        urls = [_send_all_but_the_last_byte(server, auth, data) for auth, data in zip(devices, photos)]
        start = threading.Barrier(2)

        def finish(index: int) -> int:
            start.wait()
            return _last_byte(urls[index], devices[index], photos[index]).status_code

        with ThreadPoolExecutor(2) as pool:
            statuses += pool.map(finish, range(2))
        assert [photo_rows(session, sha_of(data)) for data in photos] == [1, 1]
    assert statuses == [204] * 10


def test_photo_metadata_within_scope(server, world, phone, session):  # type: ignore[no-untyped-def]
    data = _iphone_mpo()
    sha = sha_of(data)
    alice = phone("alice")
    # The finding is placed far from where the photo says it was taken: a flag for supervisors.
    alice.create("finding", finding_fields(world.units[0].id, photos=[sha], latitude=30.0, longitude=120.0))
    alice.push()
    uploader(server, bearer(alice.store.get("token")), data).upload()
    url = f"{server}/api/v1/photos/{sha}/metadata"

    liaison = call("GET", url, headers=bearer(phone("liaison").store.get("token")))
    assert liaison.status_code == 200
    body = liaison.json()
    assert {k: body[k] for k in ("sha256", "size_bytes", "content_type", "format", "width", "height")} == {
        "sha256": sha, "size_bytes": len(data), "content_type": "image/jpeg", "format": "JPEG",
        "width": 1200, "height": 1600}
    assert dt.datetime.fromisoformat(body["captured_at"]) == dt.datetime(2026, 10, 23, 1, 15, 30, tzinfo=dt.timezone.utc)
    assert body["gps"] == {"latitude": pytest.approx(32 + 41 / 60 + 24 / 3600),
                           "longitude": pytest.approx(109 + 1 / 60 + 30 / 3600), "altitude": pytest.approx(245.5)}
    assert body["camera"] == {"make": "Apple", "model": "iPhone 15 Pro"}
    assert body["flags"] is None  # liaisons may not read flags

    supervisor = call("GET", url, headers=bearer(phone("sup").store.get("token"))).json()
    assert [flag["kind"] for flag in supervisor["flags"]] == ["far_from_finding"]

    stranger = call("GET", url, headers=bearer(phone("liaison2").store.get("token")))
    assert stranger.status_code == 404 and stranger.json()["code"] == "not_found"
    assert call("GET", f"{server}/api/v1/photos/{'0' * 64}/metadata",
                headers=bearer(alice.store.get("token"))).status_code == 404


def test_photo_metadata_without_exif_says_so(server, auth, photo_for_test):  # type: ignore[no-untyped-def]
    uploader(server, auth, photo_for_test).upload()
    body = call("GET", f"{server}/api/v1/photos/{sha_of(photo_for_test)}/metadata", headers=auth).json()
    assert (body["captured_at"], body["gps"], body["camera"]) == (None, None, {"make": None, "model": None})
