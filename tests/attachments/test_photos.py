"""Photos arriving for findings, and reading them back within scope."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import uuid

import pytest
import sqlalchemy as sa
from PIL import Image

import media
from server.attachments.models import Photo
from server.attachments.services import receive_photo
from server.auth.models import Device
from server.findings.models import Finding, FindingStatus
from tests.world import finding_fields
from tests.test_auth import bearer


def jpeg(width: int = 1600, height: int = 1200, colour: tuple[int, int, int] = (180, 40, 40)) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    for x in range(0, width, 80):
        image.paste((20, 20, 20), (x, 0, x + 10, height))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def fetch(client, path, headers, method="GET"):  # type: ignore[no-untyped-def]
    """The answer, read and closed (a file response left open is a leaked descriptor)."""
    response = client.open(path, method=method, headers=headers)
    response.get_data()
    response.close()
    return response


@pytest.fixture
def store(app, session, clock):  # type: ignore[no-untyped-def]
    def receive(data: bytes, device_id=None):  # type: ignore[no-untyped-def]
        """As a finished upload from this device (and the user on it) stores it."""
        user_id = session.get(Device, device_id).user_id if device_id else None
        photo = receive_photo(session, clock, app.extensions["xuncha.media"], data, limits=media.Limits(),
                              timezone="Asia/Shanghai", device_id=device_id, user_id=user_id)
        session.commit()
        return photo

    return receive


def test_a_finding_waits_for_its_photo_and_the_unit_can_see_it(world, phone, store, session, client):
    data = jpeg()
    sha = hashlib.sha256(data).hexdigest()
    alice = phone("alice")
    finding_id = alice.create("finding", finding_fields(world.units[0].id, photos=[sha]))
    alice.push()
    session.rollback()
    assert session.get(Finding, uuid.UUID(finding_id)).status is FindingStatus.AWAITING_MEDIA

    store(data, uuid.UUID(alice.device_id))
    session.rollback()
    assert session.get(Finding, uuid.UUID(finding_id)).status is FindingStatus.COMPLETE
    assert session.get(Photo, sha).width == 1600

    liaison = bearer(phone("liaison").store.get("token"))
    original = fetch(client, f"/api/v1/photos/{sha}", liaison)
    assert original.status_code == 200 and original.data == data
    assert original.headers["ETag"] == f'"{sha}"' and "private" in original.headers["Cache-Control"]
    thumb = fetch(client, f"/api/v1/photos/{sha}/thumb", liaison)
    assert thumb.content_type == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.data)).size) == 320
    preview = fetch(client, f"/api/v1/photos/{sha}/preview", liaison)
    assert max(Image.open(io.BytesIO(preview.data)).size) == 1280

    again = fetch(client, f"/api/v1/photos/{sha}", {**liaison, "If-None-Match": f'"{sha}"'})
    assert again.status_code == 304 and again.data == b""
    part = fetch(client, f"/api/v1/photos/{sha}", {**liaison, "Range": "bytes=0-99"})
    assert part.status_code == 206 and part.data == data[:100]


def test_another_units_photo_is_404_even_with_its_hash(world, phone, store, client):
    data = jpeg(colour=(30, 90, 200))
    sha = hashlib.sha256(data).hexdigest()
    alice = phone("alice")
    alice.create("finding", finding_fields(world.units[0].id, photos=[sha]))
    alice.push()
    store(data)
    other = bearer(phone("liaison2").store.get("token"))
    for path in (f"/api/v1/photos/{sha}", f"/api/v1/photos/{sha}/thumb"):
        response = fetch(client, path, other)
        assert response.status_code == 404 and response.get_json()["code"] == "not_found"
    assert fetch(client, f"/api/v1/photos/{sha}", other, "HEAD").status_code == 404


def test_head_tells_the_uploading_phone_the_photo_is_already_there(world, phone, store, client):
    data = jpeg(colour=(10, 160, 60))
    sha = hashlib.sha256(data).hexdigest()
    alice = phone("alice")
    token = bearer(alice.store.get("token"))
    assert fetch(client, f"/api/v1/photos/{sha}", token, "HEAD").status_code == 404
    store(data, uuid.UUID(alice.device_id))
    response = fetch(client, f"/api/v1/photos/{sha}", token, "HEAD")
    assert response.status_code == 200 and response.headers["X-Photo-Width"] == "1600"


def test_the_same_photo_twice_is_stored_once(world, store, session, app):
    data = jpeg(colour=(200, 200, 10))
    first, second = store(data), store(data)
    assert first.sha256 == second.sha256
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 1


@pytest.mark.parametrize("bad", [b"", b"not a photo at all", jpeg()[:5000]])
def test_a_bad_upload_is_refused_and_leaves_nothing(world, store, session, app, bad):
    with pytest.raises(media.MediaError):
        store(bad)
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 0
    root = app.extensions["xuncha.media"].root
    assert not [p for p in root.rglob("*") if p.is_file()]


def test_the_scheduler_sweeps_debris_of_cut_off_writes(app, session, clock, store):
    from server.scheduling import JOBS

    data = jpeg(colour=(5, 5, 200))
    store(data)
    storage = app.extensions["xuncha.media"]
    sha = hashlib.sha256(data).hexdigest()
    debris = storage.path(sha).parent / ".tmp-crashed.part"
    debris.write_bytes(b"half a photo")
    written = clock.now().timestamp()
    os.utime(debris, (written, written))
    job = next(job for job in JOBS if job.id == "media.sweep_temporary")

    with app.app_context():
        assert job.func(session, clock) == 0  # may still be a write under way
        clock.advance(dt.timedelta(hours=2))
        assert job.func(session, clock) == 1
    assert not debris.exists() and storage.exists(sha)


def test_a_range_past_the_end_is_416(world, phone, store, client):
    data = jpeg(colour=(120, 120, 0))
    sha = hashlib.sha256(data).hexdigest()
    alice = phone("alice")
    store(data, uuid.UUID(alice.device_id))
    token = bearer(alice.store.get("token"))

    response = fetch(client, f"/api/v1/photos/{sha}", {**token, "Range": f"bytes={len(data) + 10}-"})

    assert response.status_code == 416
    head = fetch(client, f"/api/v1/photos/{sha}", token, "HEAD")
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(data))
