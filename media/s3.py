"""Originals and derivatives in an S3-compatible bucket (AWS S3, MinIO, Ceph, OSS, COS...).

The same keys and fan-out as the filesystem backend under an optional prefix, so a media
folder can be copied into a bucket as it is. Credentials come from boto3's usual chain
(environment, ``~/.aws``, instance role): none are configuration of Xuncha.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from typing import IO, Any, BinaryIO

from .errors import DigestMismatch, NotFound
from .storage import Source, parse_key

#: Sources up to this size are hashed in memory; larger ones are spooled to a temporary file.
_SPOOL_BYTES = 8 * 1024 * 1024
_CHUNK = 1024 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Storage:
    """A ``media.Storage`` on one bucket. ``client`` is a boto3 S3 client (made if not given)."""

    def __init__(self, bucket: str, *, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None, client: Any = None) -> None:
        if client is None:
            import boto3  # an optional dependency: pip install xuncha[s3]

            client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def name(self, key: str) -> str:
        """The object name of a key: ``<prefix>ab/cd/<key>``."""
        digest = parse_key(key)["sha256"]
        return f"{self.prefix}{digest[:2]}/{digest[2:4]}/{key}"

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.name(key)}"

    def exists(self, key: str) -> bool:
        name = self.name(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=name)
        except self.client.exceptions.ClientError as exc:
            if _missing(exc):
                return False
            raise
        return True

    def size(self, key: str) -> int:
        name = self.name(key)
        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=name)["ContentLength"])
        except self.client.exceptions.ClientError as exc:
            if _missing(exc):
                raise NotFound(f"no stored object {key}") from None
            raise

    def open(self, key: str) -> BinaryIO:
        """The object's body, streamed from the bucket as it is read."""
        name = self.name(key)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=name)["Body"]
        except self.client.exceptions.ClientError as exc:
            if _missing(exc):
                raise NotFound(f"no stored object {key}") from None
            raise

    def delete(self, key: str) -> bool:
        # S3 answers a delete of a missing object with success, so ask first.
        if not self.exists(key):
            return False
        self.client.delete_object(Bucket=self.bucket, Key=self.name(key))
        return True

    def put(self, key: str, data: Source) -> bool:
        match = parse_key(key)
        name = self.name(key)
        if self.exists(key):
            return False
        with _spooled(data) as (body, digest):
            if match["suffix"] is None and digest.hexdigest() != match["sha256"]:
                raise DigestMismatch(f"the data hashes to {digest.hexdigest()}, not to {key}")
            try:
                # An object appears whole or not at all, so there is no temporary name to clean
                # up. If-None-Match makes a concurrent put of the same key a no-op; the checksum
                # has the bucket refuse bytes damaged on the way.
                self.client.put_object(Bucket=self.bucket, Key=name, Body=body, IfNoneMatch="*",
                                       ChecksumSHA256=base64.b64encode(digest.digest()).decode(),
                                       ContentType="image/jpeg" if match["suffix"] else "application/octet-stream")
            except self.client.exceptions.ClientError as exc:
                if _code(exc) in {"PreconditionFailed", "412", "ConditionalRequestConflict"}:
                    return False  # the same key, hence the same bytes, written meanwhile
                raise
        return True


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _missing(exc: Any) -> bool:
    return _code(exc) in _MISSING


@contextlib.contextmanager
def _spooled(data: Source) -> Iterator[tuple[IO[bytes] | bytes, Any]]:
    """``data`` as bytes or a seekable file, with its SHA-256, read once."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        yield raw, hashlib.sha256(raw)
        return
    digest = hashlib.sha256()
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
        with contextlib.ExitStack() as stack:
            source = stack.enter_context(open(data, "rb")) if isinstance(data, os.PathLike) else data
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                spool.write(chunk)
        spool.seek(0)
        yield spool, digest
