"""Photo references: naming photos on records, and whether the named photos have arrived."""

from __future__ import annotations

import dataclasses
import uuid
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

import media
from media import phash_index
from server.attachments.flags import FlagRules, flag_photo, flag_ref, flags_query
from server.attachments.models import PHASH_SEGMENTS, Photo, PhotoFlag, PhotoRef, PhotoRole, PhotoUploader
from server.auth.permissions import Permission, allowed
from server.auth.scope import Reach, photo_named_in_scope
from server.clock import Clock
from server.db import upsert
from server.errors import NotFound
from server.findings.models import Finding, FindingStatus


def attach(session: Session, clock: Clock, sha256s: list[str], *, role: PhotoRole,
           finding_id: uuid.UUID | None = None, response_id: uuid.UUID | None = None,
           device_id: uuid.UUID | None = None, ref_id: uuid.UUID | None = None,
           rules: FlagRules | None = None) -> list[PhotoRef]:
    """Name photos on a finding or a response; a photo already named there is not named twice.

    Photos that have arrived already are checked for flags now (``rules``: the app's settings
    when not given); the others when they arrive.
    """
    owner = PhotoRef.finding_id == finding_id if finding_id else PhotoRef.response_id == response_id
    existing = set(session.scalars(sa.select(PhotoRef.sha256).where(owner)))
    refs = []
    for index, sha256 in enumerate(dict.fromkeys(sha256s)):
        if sha256 in existing:
            continue
        ref = PhotoRef(id=ref_id if ref_id and index == 0 else uuid.uuid4(), sha256=sha256, role=role,
                       finding_id=finding_id, response_id=response_id, device_id=device_id,
                       created_at=clock.now())
        session.add(ref)
        refs.append(ref)
    session.flush()
    present = {photo.sha256: photo for photo in session.scalars(
        sa.select(Photo).where(Photo.sha256.in_([ref.sha256 for ref in refs])))} if refs else {}
    for ref in refs:
        if ref.sha256 in present:
            flag_ref(session, clock, ref, present[ref.sha256], rules or FlagRules.current())
    return refs


def refresh_media_status(session: Session, finding: Finding) -> None:
    """A finding waits in awaiting_media until every photo it names has arrived."""
    if finding.status is FindingStatus.VOIDED:
        return
    missing = session.scalar(
        sa.select(sa.func.count()).select_from(PhotoRef)
        .outerjoin(Photo, Photo.sha256 == PhotoRef.sha256)
        .where(PhotoRef.finding_id == finding.id, Photo.sha256.is_(None)))
    status = FindingStatus.AWAITING_MEDIA if missing else FindingStatus.COMPLETE
    if finding.status is not status:
        finding.status = status


def missing_photos(session: Session, device_id: uuid.UUID, limit: int = 500) -> list[str]:
    """Photos this device named that the server does not have: the device should upload them."""
    return list(session.scalars(
        sa.select(PhotoRef.sha256).outerjoin(Photo, Photo.sha256 == PhotoRef.sha256)
        .where(PhotoRef.device_id == device_id, Photo.sha256.is_(None))
        .group_by(PhotoRef.sha256).order_by(PhotoRef.sha256).limit(limit)))


def receive_photo(session: Session, clock: Clock, storage: media.Storage, data: bytes, *, limits: media.Limits,
                  timezone: str, device_id: uuid.UUID | None = None, user_id: int | None = None,
                  rules: FlagRules | None = None) -> Photo:
    """Check, describe and store an uploaded photo once; the findings naming it stop waiting,
    and its namings are checked for flags (``rules``: the app's settings when not given).
    ``user_id`` (and ``device_id``) sent it: they may read it back (``visible_photo``).

    Idempotent and safe to run twice at once for the same bytes (two phones finishing the same
    photo): one row is made, whoever comes second finds it, and both get it back.

    Raises ``media.MediaError`` with a reason for anything that is not an acceptable photo;
    nothing is stored then.
    """
    photo = media.ingest(data, limits=limits)
    # Derivatives first: an original in storage is taken as proof the photo arrived whole.
    # Concurrent puts of one key are safe (the storage's own contract).
    storage.put(media.key_for(photo.sha256, media.PREVIEW_SUFFIX), photo.preview.data)
    storage.put(media.key_for(photo.sha256, media.THUMBNAIL_SUFFIX), photo.thumbnail.data)
    storage.put(media.key_for(photo.sha256), data)
    # A write as the transaction's first statement: on SQLite it waits its turn for the lock
    # (busy_timeout), where a read first would fail on another's commit (a stale snapshot).
    # On PostgreSQL the second of two racing inserts waits for the first and inserts nothing.
    inserted = session.execute(
        upsert(session, Photo).values(_photo_row(photo, clock, timezone, device_id))
        .on_conflict_do_nothing(index_elements=[Photo.sha256])).rowcount
    row = session.get(Photo, photo.sha256, populate_existing=True)
    assert row is not None  # inserted now, or by a transaction that has committed
    if user_id is not None:
        _note_uploader(session, clock, row.sha256, user_id, device_id)
    if inserted:
        # Locked, in the order every writer of findings takes them (server.sync.locks), and read
        # again under the lock: a finding voided meanwhile by a push must not come back complete.
        for finding in session.scalars(sa.select(Finding).where(Finding.id.in_(
                sa.select(PhotoRef.finding_id).where(PhotoRef.sha256 == photo.sha256)))
                .order_by(Finding.id).with_for_update(key_share=True).execution_options(populate_existing=True)):
            refresh_media_status(session, finding)
        flag_photo(session, clock, row, rules or FlagRules.current())
    return row


def _photo_row(photo: media.IngestedPhoto, clock: Clock, timezone: str,
               device_id: uuid.UUID | None) -> dict[str, object]:
    captured = photo.exif.captured_at
    if captured is not None and captured.tzinfo is None:
        # Phones without an offset tag write local wall-clock time: the campaign's zone.
        captured = captured.replace(tzinfo=ZoneInfo(timezone))
    make, model = (_short(text, 60) for text in (photo.exif.make, photo.exif.model))
    row: dict[str, object] = dict(
        sha256=photo.sha256, size_bytes=photo.size_bytes, content_type=photo.mime_type, width=photo.width,
        height=photo.height, captured_at=captured, latitude=photo.exif.latitude, longitude=photo.exif.longitude,
        altitude=photo.exif.altitude, camera=" ".join(filter(None, (make, model)))[:100], camera_make=make,
        camera_model=model, phash=photo.phash, received_at=clock.now(), uploaded_by_device=device_id)
    for column, segment in zip(PHASH_SEGMENTS, phash_index.segments(photo.phash)):
        row[column.key] = segment
    return row


def _short(text: str | None, length: int) -> str | None:
    return text[:length] if text else None


def _note_uploader(session: Session, clock: Clock, sha256: str, user_id: int, device_id: uuid.UUID | None) -> None:
    if _uploaded_by(session, sha256, user_id, device_id):
        return
    # Without a device the unique key has a NULL and never conflicts: the check above keeps
    # it single but for a race, whose second row says the same thing again.
    session.execute(upsert(session, PhotoUploader).values(
        sha256=sha256, user_id=user_id, device_id=device_id, uploaded_at=clock.now()).on_conflict_do_nothing())


def _uploaded_by(session: Session, sha256: str, user_id: int, device_id: uuid.UUID | None) -> bool:
    device = PhotoUploader.device_id == device_id if device_id is not None else PhotoUploader.device_id.is_(None)
    return bool(session.scalar(sa.select(sa.exists().where(
        PhotoUploader.sha256 == sha256, PhotoUploader.user_id == user_id, device))))


def visible_photo(session: Session, reach: Reach, sha256: str, device_id: uuid.UUID | None = None) -> Photo | None:
    """The photo if the caller may see it: named by a finding or response the caller may read
    (:mod:`server.auth.scope`), or uploaded by this user from this device, whether or not the
    server already had the bytes (a phone checking its upload; it holds the bytes anyway). A
    phone's next owner is another user, so it does not inherit what the previous one sent.
    Otherwise None, as if it did not exist."""
    photo = session.get(Photo, sha256)
    if photo is None:
        return None
    if _uploaded_by(session, sha256, reach.user_id, device_id) or session.scalar(
            sa.select(photo_named_in_scope(reach, sha256))):
        return photo
    return None


@dataclasses.dataclass(frozen=True)
class PhotoMetadata:
    """What the server knows of a photo: its EXIF facts and, for staff, its flags."""

    photo: Photo
    format: str
    #: None when the caller may not read flags (only supervisors and admins may).
    flags: list[PhotoFlag] | None


def photo_metadata(session: Session, reach: Reach, sha256: str, device_id: uuid.UUID | None = None) -> PhotoMetadata:
    """The metadata of a photo the caller may see (``visible_photo``); ``NotFound`` otherwise."""
    photo = visible_photo(session, reach, sha256, device_id)
    if photo is None:
        raise NotFound("No such photo.")
    flags = None
    if allowed(reach.role, Permission.READ_PHOTO_FLAGS):
        flags = list(session.scalars(flags_query(reach).where(PhotoFlag.sha256 == sha256).order_by(PhotoFlag.id)))
    formats = {mime: name for name, mime in media.MIME_TYPES.items()}
    return PhotoMetadata(photo=photo, format=formats.get(photo.content_type, ""), flags=flags)
