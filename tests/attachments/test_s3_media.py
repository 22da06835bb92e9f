"""The app on the S3 backend (MEDIA_STORAGE=s3): uploads land in the bucket and are served from it."""

from __future__ import annotations

import base64
import hashlib
import io

import pytest
from PIL import Image

from server import create_app
from server.settings import ConfigError
from tests.attachments.test_photos import fetch, jpeg
from tests.media.moto_s3 import REGION, new_bucket, s3_credentials, s3_endpoint  # noqa: F401 - fixtures
from tests.test_auth import bearer
from tests.world import finding_fields


@pytest.fixture
def app_config(app_config, s3_endpoint, s3_credentials):  # type: ignore[no-untyped-def]  # noqa: F811
    return {**app_config, "MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": new_bucket(s3_endpoint),
            "MEDIA_S3_ENDPOINT_URL": s3_endpoint, "MEDIA_S3_REGION": REGION, "MEDIA_S3_PREFIX": "media"}


def test_an_upload_is_stored_in_the_bucket_and_served_from_it(app, world, phone, client):
    data = jpeg(colour=(90, 30, 160))
    sha = hashlib.sha256(data).hexdigest()
    alice = phone("alice")
    alice.create("finding", finding_fields(world.units[0].id, photos=[sha]))
    alice.push()

    created = client.post("/api/v1/uploads/", data=data, headers={
        **bearer(alice.store.get("token")), "Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)),
        "Upload-Metadata": "sha256 " + base64.b64encode(sha.encode()).decode(),
        "Content-Type": "application/offset+octet-stream"})
    assert created.status_code == 201 and created.headers["Upload-Offset"] == str(len(data))

    storage = app.extensions["xuncha.media"]
    listed = storage.client.list_objects_v2(Bucket=app.config["MEDIA_S3_BUCKET"])["Contents"]
    assert sorted(item["Key"] for item in listed) == [
        f"media/{sha[:2]}/{sha[2:4]}/{sha}{suffix}" for suffix in ("", ".preview.jpg", ".thumb.jpg")]

    liaison = bearer(phone("liaison").store.get("token"))
    original = fetch(client, f"/api/v1/photos/{sha}", liaison)
    assert original.status_code == 200 and original.data == data
    assert original.headers["Content-Length"] == str(len(data))
    part = fetch(client, f"/api/v1/photos/{sha}", {**liaison, "Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == data[100:200]
    thumb = fetch(client, f"/api/v1/photos/{sha}/thumb", liaison)
    assert max(Image.open(io.BytesIO(thumb.data)).size) == 320
    again = fetch(client, f"/api/v1/photos/{sha}/preview", {**liaison, "If-None-Match": f'"{sha}.preview.jpg"'})
    assert again.status_code == 304


def test_s3_needs_a_bucket(app_config):  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="MEDIA_S3_BUCKET"):
        create_app({**app_config, "MEDIA_S3_BUCKET": ""})
