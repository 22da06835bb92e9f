"""tus 1.0 resumable photo uploads, driven by the real tus client (tuspy) against a live server."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import io
import os
import socket
import threading
import uuid

import pytest
import requests
import sqlalchemy as sa
from tusclient.client import TusClient
from tusclient.exceptions import TusCommunicationError
from werkzeug.serving import make_server

from server.attachments.models import Photo
from server.attachments.uploads import expire_uploads, parse_metadata
from server.scheduling import JOBS
from tests.attachments.test_photos import jpeg
from tests.test_auth import bearer

TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture
def server(served: str) -> str:
    return served


@pytest.fixture
def alice(world, phone):  # type: ignore[no-untyped-def]
    return phone("alice")


@pytest.fixture
def auth(alice) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(alice.store.get("token"))


@pytest.fixture
def photo() -> bytes:
    return jpeg(1200, 900, colour=(60, 140, 90))


def sha_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def uploader(server: str, auth: dict[str, str], data: bytes, *, sha: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
    client = TusClient(f"{server}/api/v1/uploads/", headers=auth)
    return client.uploader(file_stream=io.BytesIO(data), metadata={"sha256": sha or sha_of(data)}, **kwargs)


def call(method: str, url: str, **kwargs) -> requests.Response:  # type: ignore[no-untyped-def]
    with requests.request(method, url, timeout=10, **kwargs) as response:
        response.content  # read, so the connection is released
        return response


def photo_rows(session, sha: str) -> int:  # type: ignore[no-untyped-def]
    session.rollback()
    return session.scalar(sa.select(sa.func.count()).select_from(Photo).where(Photo.sha256 == sha))


def test_options_advertises_the_protocol(server, app):  # type: ignore[no-untyped-def]
    answer = call("OPTIONS", f"{server}/api/v1/uploads/")
    assert answer.status_code == 204
    assert answer.headers["Tus-Version"] == "1.0.0" and answer.headers["Tus-Resumable"] == "1.0.0"
    assert answer.headers["Tus-Extension"] == "creation,creation-with-upload,checksum,termination,expiration"
    assert answer.headers["Tus-Max-Size"] == str(app.config["MEDIA_MAX_BYTES"])
    assert answer.headers["Tus-Checksum-Algorithm"] == "sha1,sha256"


def test_a_whole_upload_becomes_a_photo(server, auth, alice, photo, session, app):  # type: ignore[no-untyped-def]
    sha = sha_of(photo)
    upload = uploader(server, auth, photo, chunk_size=16 * 1024, upload_checksum=True)
    upload.upload()
    assert upload.offset == len(photo)
    row = session.get(Photo, sha)
    assert row is not None and row.width == 1200 and str(row.uploaded_by_device) == alice.device_id
    original = call("GET", f"{server}/api/v1/photos/{sha}", headers=auth)
    assert original.status_code == 200 and original.content == photo
    # The bytes are gone once the photo is stored; the answers stay (see test_field_uploads).
    upload_id = upload.url.rsplit("/", 1)[1]
    assert not os.path.exists(os.path.join(app.config["MEDIA_ROOT"], "uploads", f"{upload_id}.part"))


def test_an_interrupted_upload_resumes_from_the_servers_offset(server, auth, photo, session):  # type: ignore[no-untyped-def]
    chunk = len(photo) // 4 + 1
    first = uploader(server, auth, photo, chunk_size=chunk)
    first.upload_chunk()
    first.upload_chunk()  # then the connection "drops": the app forgets this uploader
    assert first.offset == 2 * chunk
    assert photo_rows(session, sha_of(photo)) == 0

    head = call("HEAD", first.url, headers={**auth, **TUS})
    assert head.status_code == 200 and head.headers["Cache-Control"] == "no-store"
    assert head.headers["Upload-Offset"] == str(2 * chunk) and head.headers["Upload-Length"] == str(len(photo))
    # The creation extension: HEAD MUST give Upload-Metadata back.
    assert parse_metadata(head.headers["Upload-Metadata"]) == {"sha256": sha_of(photo)}

    sent: list[int] = []
    resumed = uploader(server, auth, photo, chunk_size=chunk, url=first.url)
    assert resumed.offset == 2 * chunk  # asked the server where to start
    while resumed.offset < len(photo):
        before = resumed.offset
        resumed.upload_chunk()
        sent.append(resumed.offset - before)
    assert sum(sent) == len(photo) - 2 * chunk
    assert photo_rows(session, sha_of(photo)) == 1


def test_a_wrong_chunk_checksum_is_460_and_the_bytes_are_dropped(server, auth, photo):  # type: ignore[no-untyped-def]
    upload = uploader(server, auth, photo, chunk_size=1000)
    upload.upload_chunk()
    headers = {**auth, **TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "1000"}
    wrong = base64.b64encode(hashlib.sha1(b"something else").digest()).decode()
    answer = call("PATCH", upload.url, data=photo[1000:2000], headers={**headers, "Upload-Checksum": f"sha1 {wrong}"})
    assert answer.status_code == 460
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert upload.get_offset() == 1000

    odd = call("PATCH", upload.url, data=photo[1000:2000], headers={**headers, "Upload-Checksum": "md5 AAAA"})
    assert odd.status_code == 400 and upload.get_offset() == 1000

    right = base64.b64encode(hashlib.sha256(photo[1000:2000]).digest()).decode()
    good = call("PATCH", upload.url, data=photo[1000:2000], headers={**headers, "Upload-Checksum": f"sha256 {right}"})
    assert good.status_code == 204 and good.headers["Upload-Offset"] == "2000"


def test_a_wrong_declared_hash_is_refused_and_nothing_is_stored(server, auth, photo, session):  # type: ignore[no-untyped-def]
    upload = uploader(server, auth, photo, sha=sha_of(b"another photo"))
    upload.set_url(upload.create_url())
    headers = {**auth, **TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
    answer = call("PATCH", upload.url, data=photo, headers=headers)
    assert answer.status_code == 460 and answer.json()["status"] == 460
    assert photo_rows(session, sha_of(photo)) == 0
    assert call("HEAD", upload.url, headers={**auth, **TUS}).status_code == 404  # deleted


def test_bytes_that_are_not_a_photo_are_422_with_the_media_code(server, auth, session):  # type: ignore[no-untyped-def]
    data = b"not a jpeg at all" * 10
    upload = uploader(server, auth, data)
    upload.set_url(upload.create_url())
    headers = {**auth, **TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
    answer = call("PATCH", upload.url, data=data, headers=headers)
    assert answer.status_code == 422 and answer.json()["media_code"]
    assert call("HEAD", upload.url, headers={**auth, **TUS}).status_code == 404


def test_the_same_bytes_twice_make_one_photo(server, auth, photo, session):  # type: ignore[no-untyped-def]
    uploader(server, auth, photo).upload()
    uploader(server, auth, photo).upload()
    assert photo_rows(session, sha_of(photo)) == 1


def test_creation_with_upload_and_creation_refusals(server, auth, photo, session, app):  # type: ignore[no-untyped-def]
    url = f"{server}/api/v1/uploads/"
    metadata = "sha256 " + base64.b64encode(sha_of(photo).encode()).decode()
    created = call("POST", url, data=photo, headers={
        **auth, **TUS, "Upload-Length": str(len(photo)), "Upload-Metadata": metadata,
        "Content-Type": "application/offset+octet-stream"})
    assert created.status_code == 201 and created.headers["Upload-Offset"] == str(len(photo))
    assert created.headers["Location"].startswith(url) and created.headers["Upload-Expires"].endswith("GMT")
    assert photo_rows(session, sha_of(photo)) == 1

    base = {**TUS, "Upload-Length": "10", "Upload-Metadata": metadata}
    assert call("POST", url, headers=base).status_code == 401
    no_sha = call("POST", url, headers={**auth, **base, "Upload-Metadata": "filename YS5qcGc="})
    assert no_sha.status_code == 400 and no_sha.headers["Content-Type"] == "application/problem+json"
    too_big = call("POST", url, headers={**auth, **base, "Upload-Length": str(app.config["MEDIA_MAX_BYTES"] + 1)})
    assert too_big.status_code == 413


def test_protocol_refusals(server, auth, photo, phone):  # type: ignore[no-untyped-def]
    upload = uploader(server, auth, photo, chunk_size=1000)
    upload.upload_chunk()
    octets = {"Content-Type": "application/offset+octet-stream"}

    missing = call("PATCH", upload.url, data=photo[1000:2000], headers={**auth, **octets, "Upload-Offset": "1000"})
    assert missing.status_code == 412 and missing.headers["Tus-Version"] == "1.0.0"
    wrong_offset = call("PATCH", upload.url, data=photo[:1000], headers={**auth, **TUS, **octets, "Upload-Offset": "0"})
    assert wrong_offset.status_code == 409
    wrong_type = call("PATCH", upload.url, data=photo[1000:2000], headers={
        **auth, **TUS, "Content-Type": "application/octet-stream", "Upload-Offset": "1000"})
    assert wrong_type.status_code == 415
    too_long = call("PATCH", upload.url, data=photo[1000:] + b"extra", headers={
        **auth, **TUS, **octets, "Upload-Offset": "1000"})
    assert too_long.status_code == 413
    # Only JSON bodies may come compressed; a photo's bytes are compressed already.
    encoded = call("PATCH", upload.url, data=gzip.compress(photo[1000:2000]), headers={
        **auth, **TUS, **octets, "Upload-Offset": "1000", "Content-Encoding": "gzip"})
    assert encoded.status_code == 415 and encoded.headers["Accept-Encoding"] == "identity"
    assert upload.get_offset() == 1000

    # Another device may not even see the upload.
    other = bearer(phone("liaison").store.get("token"))
    assert call("HEAD", upload.url, headers={**other, **TUS}).status_code == 404
    assert call("DELETE", upload.url, headers={**other, **TUS}).status_code == 404
    assert upload.get_offset() == 1000


def test_termination_removes_the_upload(server, auth, photo, app):  # type: ignore[no-untyped-def]
    upload = uploader(server, auth, photo, chunk_size=1000)
    upload.upload_chunk()
    upload_id = upload.url.rsplit("/", 1)[1]
    folder = os.path.join(app.config["MEDIA_ROOT"], "uploads")
    assert os.path.exists(os.path.join(folder, f"{upload_id}.part"))
    assert call("DELETE", upload.url, headers={**auth, **TUS}).status_code == 204
    assert not any(name.startswith(upload_id) for name in os.listdir(folder))
    with pytest.raises(TusCommunicationError):
        upload.get_offset()


def test_stale_partial_uploads_expire(server, auth, photo, app, clock, session):  # type: ignore[no-untyped-def]
    stale = uploader(server, auth, photo, chunk_size=1000)
    stale.upload_chunk()
    clock.advance(dt.timedelta(hours=app.config["UPLOAD_EXPIRY_HOURS"] - 1))
    fresh = uploader(server, auth, photo, chunk_size=1000)
    fresh.upload_chunk()
    root = app.config["MEDIA_ROOT"]
    assert expire_uploads(root, clock.now()) == 0
    clock.advance(dt.timedelta(hours=2))
    assert expire_uploads(root, clock.now()) == 1
    assert call("HEAD", stale.url, headers={**auth, **TUS}).status_code == 404
    assert fresh.get_offset() == 1000

    job = next(job for job in JOBS if job.id == "uploads.expire_partial")
    clock.advance(dt.timedelta(hours=app.config["UPLOAD_EXPIRY_HOURS"]))
    with app.app_context():
        assert job.func(session, clock) == 1
    assert os.listdir(os.path.join(root, "uploads")) == []


def test_an_upload_survives_a_restart(server, auth, photo, app_config, clock, session):  # type: ignore[no-untyped-def]
    from server import create_app

    upload = uploader(server, auth, photo, chunk_size=len(photo) // 2 + 1)
    upload.upload_chunk()
    restarted = create_app(app_config, clock=clock)  # a new process reading the same media root
    other = make_server("127.0.0.1", 0, restarted, threaded=True)
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    try:
        url = upload.url.replace(server, f"http://127.0.0.1:{other.server_port}")
        resumed = uploader(server, auth, photo, chunk_size=len(photo), url=url)
        assert resumed.offset == len(photo) // 2 + 1
        resumed.upload()
        assert photo_rows(session, sha_of(photo)) == 1
    finally:
        other.shutdown()
        thread.join()
        other.server_close()
        restarted.extensions["xuncha.db"].dispose()


def test_unknown_upload_ids_are_404(server, auth):  # type: ignore[no-untyped-def]
    for upload_id in (uuid.uuid4().hex, "../etc"):
        assert call("HEAD", f"{server}/api/v1/uploads/{upload_id}", headers={**auth, **TUS}).status_code == 404


def _cut_off_patch(url: str, auth: dict[str, str], offset: int, body: bytes, declared: int,
                   checksum: str | None = None) -> None:
    """A PATCH announcing ``declared`` bytes whose connection drops after ``body``."""
    host, _, rest = url.removeprefix("http://").partition("/")
    headers = {**auth, **TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset),
               "Content-Length": str(declared), "Host": host}
    if checksum:
        headers["Upload-Checksum"] = checksum
    address, port = host.split(":")
    with socket.create_connection((address, int(port)), timeout=10) as conn:
        head = f"PATCH /{rest} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        conn.sendall(head.encode() + body)
        conn.shutdown(socket.SHUT_WR)  # the signal is lost: the server reads an early end of the body
        conn.recv(65536)


def test_a_patch_cut_off_midway_keeps_what_arrived(server, auth, session):  # type: ignore[no-untyped-def]
    data = os.urandom(3 * (1 << 20))
    upload = uploader(server, auth, data)
    upload.set_url(upload.create_url())
    sent = len(data) * 3 // 4
    _cut_off_patch(upload.url, auth, 0, data[:sent], declared=len(data))

    kept = upload.get_offset()
    assert 0 < kept <= sent
    resumed = uploader(server, auth, data, url=upload.url)
    assert resumed.offset == kept
    with pytest.raises(TusCommunicationError) as refused:
        resumed.upload()  # the rest goes through; the whole is hashed: not a photo, but the right bytes
    assert refused.value.status_code == 422


def test_a_cut_off_patch_with_a_checksum_is_dropped(server, auth):  # type: ignore[no-untyped-def]
    data = os.urandom(3 * (1 << 20))
    upload = uploader(server, auth, data)
    upload.set_url(upload.create_url())
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    _cut_off_patch(upload.url, auth, 0, data[: len(data) // 2], declared=len(data), checksum=f"sha256 {digest}")

    assert upload.get_offset() == 0


def test_bytes_lost_to_a_power_cut_are_sent_again(server, auth, photo, app, session):  # type: ignore[no-untyped-def]
    upload = uploader(server, auth, photo, chunk_size=len(photo) // 2)
    upload.upload_chunk()
    part = os.path.join(app.config["MEDIA_ROOT"], "uploads", upload.url.rsplit("/", 1)[1] + ".part")
    with open(part, "r+b") as cut:  # acknowledged, but never reached the disk
        cut.truncate(1000)

    resumed = uploader(server, auth, photo, chunk_size=len(photo) // 2, url=upload.url)
    assert resumed.offset == 1000
    resumed.upload()
    assert photo_rows(session, sha_of(photo)) == 1
