"""An S3-compatible server for the tests: moto's, on a free port, spoken to over real HTTP."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest

from media import S3Storage

REGION = "cn-north-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_credentials(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Through the standard chain, as in production: the backend takes no credentials itself.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


def new_bucket(endpoint: str) -> str:
    import boto3

    bucket = f"xuncha-test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name=REGION).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    return bucket


def make_s3(endpoint: str, prefix: str = "xuncha/media") -> S3Storage:
    return S3Storage(new_bucket(endpoint), prefix=prefix, endpoint_url=endpoint, region=REGION)
