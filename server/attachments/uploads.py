"""Resumable photo uploads (tus 1.0) kept on disk until the last byte arrives, and answered
for a while after.

An upload is two files under ``<MEDIA_ROOT>/uploads/``: ``<id>.part`` (the bytes so far)
and ``<id>.json`` (length, offset, metadata, device, created and expiry times, replaced
atomically). The JSON offset is the truth: bytes past it in the ``.part`` file (a write cut
off by a crash) are cut away before the next append, and a ``.part`` shorter than it (bytes
a power cut lost) lowers it, so an upload survives a server restart.

A PATCH streams into the ``.part`` file block by block, and the JSON offset follows at least
every second, so a phone losing its signal keeps every byte the server read, a killed worker
keeps all but the last second's, and HEAD tells the progress while the PATCH still runs.

Once the photo is stored the ``.part`` file goes and the JSON stays, marked finished, for
UPLOAD_FINISHED_KEEP_HOURS: a phone that lost the final 204 asks HEAD and learns it is done.
A complete upload whose photo could not be stored (a database error: a 5xx) keeps its bytes,
and an empty PATCH at its final offset tries again, so a retry sends nothing twice.

Nothing is fsynced until the upload is complete, and then the photo is made durable by the
storage backend. A power cut can lose acknowledged chunks of an unfinished upload; the
client asks for the offset whenever it resumes (tus requires it) and sends them again.
Should a cut leave damaged bytes behind, the whole file is hashed before it is stored: the
client is told (460) and uploads again. Never a wrong photo, at worst a resend, for one
fsync less per chunk: on a disk shared with the database, an fsync waits for everything
else written meanwhile (docs/performance.md, "Photos").
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, BinaryIO, Callable

from sqlalchemy.orm import Session

import media
from server.attachments.models import Photo
from server.attachments.services import receive_photo
from server.clock import Clock

UPLOADS_DIR = "uploads"
#: Per-PATCH checksum algorithms of the tus checksum extension.
CHECKSUMS: dict[str, Callable[[bytes], Any]] = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
#: Request bodies are copied to disk in blocks this large: few system calls, bounded memory.
READ_BUFFER = 256 * 1024
#: While a PATCH streams, its offset is saved at most this often (and at its end).
SAVE_EVERY_S = 1.0
_ID = re.compile(r"^[0-9a-f]{32}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class UploadError(Exception):
    """Base of the refusals of this module; the tus view maps each to a status."""


class BadMetadata(UploadError):
    pass


class EmptyUpload(UploadError):
    """Upload-Length 0: refused at creation, which real clients report as their only answer."""


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
    #: When the photo was stored; the bytes are gone, the answers stay until ``expires_at``.
    finished_at: str | None = None

    @property
    def complete(self) -> bool:
        return self.offset >= self.length

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

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


@dataclass
class Checksum:
    """A parsed ``Upload-Checksum: <algorithm> <base64 digest>``, fed the bytes as they arrive."""

    hasher: Any
    expected: bytes

    @classmethod
    def parse(cls, header: str) -> Checksum:
        algorithm, _, digest = header.strip().partition(" ")
        make = CHECKSUMS.get(algorithm.lower())
        if make is None:
            raise UnsupportedChecksum(f"Checksum algorithm {algorithm!r} is not supported; use one of "
                                      f"{', '.join(CHECKSUMS)}.")
        try:
            expected = base64.b64decode(digest.strip(), validate=True)
        except ValueError as exc:
            raise UnsupportedChecksum("Upload-Checksum digest is not base64.") from exc
        return cls(make(), expected)

    def matches(self) -> bool:
        return self.hasher.digest() == self.expected


class UploadStore:
    """The partial uploads of one media root."""

    def __init__(self, media_root: str) -> None:
        self.root = os.path.join(media_root, UPLOADS_DIR)

    def _path(self, upload_id: str, suffix: str) -> str:
        return os.path.join(self.root, f"{upload_id}{suffix}")

    def create(self, *, length: int, metadata: dict[str, str], device_id: uuid.UUID | None,
               user_id: uuid.UUID | int, now: dt.datetime, lifetime: dt.timedelta) -> Upload:
        if length == 0:
            raise EmptyUpload("Upload-Length is 0: an empty file is no photo.")
        sha256 = metadata.get("sha256", "").strip().lower()
        if not _SHA256.match(sha256):
            raise BadMetadata("Upload-Metadata must carry sha256: base64 of the photo's lowercase hex SHA-256.")
        os.makedirs(self.root, exist_ok=True)
        upload = Upload(id=uuid.uuid4().hex, length=length, offset=0, sha256=sha256,
                        device_id=str(device_id) if device_id else None, user_id=str(user_id),
                        created_at=now.isoformat(), expires_at=(now + lifetime).isoformat(), metadata=metadata)
        # An upload lost to a power cut is a 404 on resume, and the client starts over.
        with open(self._path(upload.id, ".part"), "xb"):
            pass
        self._save(upload)
        return upload

    def get(self, upload_id: str) -> Upload | None:
        if not _ID.match(upload_id):
            return None
        try:
            with open(self._path(upload_id, ".json"), encoding="utf-8") as file:
                upload = Upload(**json.load(file))
            if upload.finished:
                return upload
            kept = os.path.getsize(self._path(upload_id, ".part"))
        except (FileNotFoundError, ValueError, TypeError):
            return None
        upload.offset = min(upload.offset, kept)
        return upload

    def _save(self, upload: Upload) -> None:
        final = self._path(upload.id, ".json")
        temporary = final + ".tmp"
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(asdict(upload), file)
        os.replace(temporary, final)  # atomic; durable it need not be (module docstring)

    def append(self, upload_id: str, body: BinaryIO, *, offset: int, declared: int | None = None,
               checksum: str | None = None) -> Upload:
        """Append the bytes read from ``body`` at ``offset`` (which must be the current offset).

        ``declared`` is the request's Content-Length when known, to refuse too much before
        reading. A checksum mismatch, a wrong offset or bytes past the length change nothing.
        A body cut off (the client lost its signal) keeps what arrived when no checksum was
        sent, as tus servers do, so the client resumes from there; with a checksum it cannot
        be verified and is dropped.
        """
        verify = Checksum.parse(checksum) if checksum is not None else None
        with open(self._path(upload_id, ".part"), "r+b") as part:
            fcntl.flock(part.fileno(), fcntl.LOCK_EX)  # one writer per upload; released on close
            upload = self.get(upload_id)
            if upload is None:
                raise FileNotFoundError(upload_id)
            if offset != upload.offset:
                raise OffsetMismatch(f"Upload-Offset {offset} is not the current offset {upload.offset}.")
            room = upload.length - upload.offset
            if declared is not None and declared > room:
                raise TooLong(f"{declared} bytes at offset {upload.offset} pass Upload-Length {upload.length}.")
            part.truncate(upload.offset)  # drop bytes of a write that was never acknowledged
            part.seek(upload.offset)
            received = counted = 0  # bytes of this request written, and counted in the offset
            saved = time.monotonic()
            try:
                while block := body.read(READ_BUFFER):
                    received += len(block)
                    if received > room:
                        raise TooLong(f"More bytes than Upload-Length {upload.length} allows.")
                    part.write(block)
                    if verify is not None:
                        verify.hasher.update(block)
                    elif time.monotonic() - saved >= SAVE_EVERY_S:
                        # A slow phone's bytes are counted as they come: HEAD tells them, and a
                        # killed worker keeps them. Not every block: each save renames a file,
                        # which on ext4 waits for its data (a 3.5 MB photo went from 6 to 30 ms).
                        upload = self._advance(part, upload, received - counted)
                        counted, saved = received, time.monotonic()
                if verify is not None and not verify.matches():
                    raise ChecksumMismatch("The bytes of this request do not match Upload-Checksum.")
            except UploadError:
                part.truncate(upload.offset)  # too long, or a wrong checksum: this request's bytes go
                raise
            except BaseException:
                if verify is not None:
                    part.truncate(upload.offset)  # cut off: unverifiable
                else:
                    self._advance(part, upload, received - counted)  # cut off: keep every byte read
                raise
            return self._advance(part, upload, received - counted)

    def _advance(self, part: BinaryIO, upload: Upload, received: int) -> Upload:
        """Count ``received`` more bytes, written before the offset that reports them."""
        part.flush()
        upload.offset += received
        self._save(upload)
        return upload

    def mark_finished(self, upload: Upload, *, now: dt.datetime, keep: dt.timedelta) -> Upload:
        """The photo is stored: drop the bytes, keep the answers for ``keep``."""
        upload.finished_at = now.isoformat()
        upload.expires_at = (now + keep).isoformat()
        self._save(upload)
        try:
            os.remove(self._path(upload.id, ".part"))
        except FileNotFoundError:
            pass
        return upload

    def read(self, upload: Upload) -> bytes:
        with open(self._path(upload.id, ".part"), "rb") as part:
            return part.read(upload.offset)

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
           limits: media.Limits, timezone: str, keep: dt.timedelta) -> Photo:
    """Turn a complete upload into a photo, and keep the upload answerable for ``keep``.

    Raises ``ChecksumMismatch`` when the bytes are not the declared SHA-256, and
    ``media.MediaError`` when they are not an acceptable photo: the upload is deleted then,
    for the same bytes would get the same answer. Anything else (the database failing, say)
    leaves the complete upload in place for a retry that sends no bytes.
    """
    data = store.read(upload)  # once: a photo is at most MEDIA_MAX_BYTES
    if hashlib.sha256(data).hexdigest() != upload.sha256:
        store.delete(upload.id)
        raise ChecksumMismatch("The uploaded bytes do not hash to the declared sha256.")
    device = uuid.UUID(upload.device_id) if upload.device_id else None
    try:
        photo = receive_photo(session, clock, storage, data, limits=limits, timezone=timezone,
                              device_id=device, user_id=int(upload.user_id))
        session.commit()
    except media.MediaError:
        session.rollback()
        store.delete(upload.id)
        raise
    except BaseException:
        session.rollback()
        raise
    store.mark_finished(upload, now=clock.now(), keep=keep)
    return photo


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
