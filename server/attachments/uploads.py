"""Resumable photo uploads (tus 1.0) kept on disk until the last byte arrives.

An upload is two files under ``<MEDIA_ROOT>/uploads/``: ``<id>.part`` (the bytes so far,
appended and fsynced) and ``<id>.json`` (length, offset, metadata, device, created and
expiry times, replaced atomically). The JSON offset is the truth: bytes past it in the
``.part`` file (a write cut off by a crash) are cut away before the next append, so an
upload survives a server restart at the last offset that was acknowledged.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator

from sqlalchemy.orm import Session

import media
from server.attachments.models import Photo
from server.attachments.services import receive_photo
from server.clock import Clock

UPLOADS_DIR = "uploads"
#: Per-PATCH checksum algorithms of the tus checksum extension.
CHECKSUMS: dict[str, Callable[[bytes], Any]] = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
_ID = re.compile(r"^[0-9a-f]{32}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class UploadError(Exception):
    """Base of the refusals of this module; the tus view maps each to a status."""


class BadMetadata(UploadError):
    pass


class ChecksumMismatch(UploadError):
    """The bytes do not hash to what the client declared."""


class UnsupportedChecksum(UploadError):
    pass


class OffsetMismatch(UploadError):
    pass


class TooLong(UploadError):
    """More bytes than the declared Upload-Length."""


@dataclass
class Upload:
    id: str
    length: int
    offset: int
    sha256: str
    device_id: str | None
    user_id: str
    created_at: str
    expires_at: str
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.offset >= self.length

    @property
    def expires(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.expires_at)


def parse_metadata(header: str) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs (the value may be absent)."""
    result: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _, value = pair.partition(" ")
        try:
            result[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8") if value else ""
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadMetadata(f"Upload-Metadata value of {key!r} is not base64 of UTF-8 text.") from exc
    return result


def verify_checksum(header: str, data: bytes) -> None:
    """``Upload-Checksum: <algorithm> <base64 digest>`` of exactly these bytes."""
    algorithm, _, digest = header.strip().partition(" ")
    hasher = CHECKSUMS.get(algorithm.lower())
    if hasher is None:
        raise UnsupportedChecksum(f"Checksum algorithm {algorithm!r} is not supported; use one of "
                                  f"{', '.join(CHECKSUMS)}.")
    try:
        expected = base64.b64decode(digest.strip(), validate=True)
    except ValueError as exc:
        raise UnsupportedChecksum("Upload-Checksum digest is not base64.") from exc
    if hasher(data).digest() != expected:
        raise ChecksumMismatch("The bytes of this request do not match Upload-Checksum.")


class UploadStore:
    """The partial uploads of one media root."""

    def __init__(self, media_root: str) -> None:
        self.root = os.path.join(media_root, UPLOADS_DIR)

    def _path(self, upload_id: str, suffix: str) -> str:
        return os.path.join(self.root, f"{upload_id}{suffix}")

    def create(self, *, length: int, metadata: dict[str, str], device_id: uuid.UUID | None,
               user_id: uuid.UUID | int, now: dt.datetime, lifetime: dt.timedelta) -> Upload:
        sha256 = metadata.get("sha256", "").strip().lower()
        if not _SHA256.match(sha256):
            raise BadMetadata("Upload-Metadata must carry sha256: base64 of the photo's lowercase hex SHA-256.")
        os.makedirs(self.root, exist_ok=True)
        upload = Upload(id=uuid.uuid4().hex, length=length, offset=0, sha256=sha256,
                        device_id=str(device_id) if device_id else None, user_id=str(user_id),
                        created_at=now.isoformat(), expires_at=(now + lifetime).isoformat(), metadata=metadata)
        with open(self._path(upload.id, ".part"), "xb") as part:
            os.fsync(part.fileno())
        self._save(upload)
        return upload

    def get(self, upload_id: str) -> Upload | None:
        if not _ID.match(upload_id):
            return None
        try:
            with open(self._path(upload_id, ".json"), encoding="utf-8") as file:
                return Upload(**json.load(file))
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def _save(self, upload: Upload) -> None:
        final = self._path(upload.id, ".json")
        temporary = final + ".tmp"
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(asdict(upload), file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, final)
        directory = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def append(self, upload_id: str, data: bytes, *, offset: int, checksum: str | None = None) -> Upload:
        """Append ``data`` at ``offset`` (which must be the current offset), durably.

        A checksum mismatch, a wrong offset or bytes past the length change nothing.
        """
        with open(self._path(upload_id, ".part"), "r+b") as part:
            fcntl.flock(part.fileno(), fcntl.LOCK_EX)  # one writer per upload; released on close
            upload = self.get(upload_id)
            if upload is None:
                raise FileNotFoundError(upload_id)
            if offset != upload.offset:
                raise OffsetMismatch(f"Upload-Offset {offset} is not the current offset {upload.offset}.")
            if upload.offset + len(data) > upload.length:
                raise TooLong(f"{len(data)} bytes at offset {upload.offset} pass Upload-Length {upload.length}.")
            if checksum is not None:
                verify_checksum(checksum, data)
            part.truncate(upload.offset)  # drop bytes of a write that was never acknowledged
            part.seek(upload.offset)
            part.write(data)
            part.flush()
            os.fsync(part.fileno())
            upload.offset += len(data)
            self._save(upload)
            return upload

    def chunks(self, upload: Upload, size: int = 1 << 20) -> Iterator[bytes]:
        with open(self._path(upload.id, ".part"), "rb") as part:
            remaining = upload.offset
            while remaining > 0:
                block = part.read(min(size, remaining))
                if not block:
                    break
                remaining -= len(block)
                yield block

    def read(self, upload: Upload) -> bytes:
        return b"".join(self.chunks(upload))

    def delete(self, upload_id: str) -> None:
        for suffix in (".json", ".part", ".json.tmp"):
            try:
                os.remove(self._path(upload_id, suffix))
            except FileNotFoundError:
                pass

    def age(self, upload_id: str, now: dt.datetime) -> dt.timedelta:
        try:
            modified = os.path.getmtime(self._path(upload_id, ".part"))
        except FileNotFoundError:
            return dt.timedelta.max
        return now - dt.datetime.fromtimestamp(modified, dt.timezone.utc)

    def ids(self) -> set[str]:
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return set()
        return {name.split(".", 1)[0] for name in names if _ID.match(name.split(".", 1)[0])}


def finish(session: Session, clock: Clock, storage: media.Storage, store: UploadStore, upload: Upload, *,
           limits: media.Limits, timezone: str) -> Photo:
    """Turn a complete upload into a photo; the partial files are removed whatever happens.

    Raises ``ChecksumMismatch`` when the bytes are not the declared SHA-256, and
    ``media.MediaError`` when they are not an acceptable photo.
    """
    try:
        hasher = hashlib.sha256()
        for block in store.chunks(upload):
            hasher.update(block)
        if hasher.hexdigest() != upload.sha256:
            raise ChecksumMismatch("The uploaded bytes do not hash to the declared sha256.")
        device = uuid.UUID(upload.device_id) if upload.device_id else None
        photo = receive_photo(session, clock, storage, store.read(upload), limits=limits, timezone=timezone,
                              device_id=device)
        session.commit()
        return photo
    except BaseException:
        session.rollback()
        raise
    finally:
        store.delete(upload.id)


ORPHAN_GRACE = dt.timedelta(hours=1)


def expire_uploads(media_root: str, now: dt.datetime) -> int:
    """Delete the partial uploads whose expiry has passed (and files left without metadata)."""
    store = UploadStore(media_root)
    removed = 0
    for upload_id in store.ids():
        upload = store.get(upload_id)
        # Bytes without metadata are a creation cut off between its two writes, or one under way
        # this very moment: only the old ones are debris.
        orphan = upload is None and store.age(upload_id, now) > ORPHAN_GRACE
        if orphan or (upload is not None and upload.expires <= now):
            store.delete(upload_id)
            removed += 1
    return removed
