"""Photo references: naming photos on records, and whether the named photos have arrived."""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

import media
from media import phash_index
from server.attachments.flags import FlagRules, flag_photo, flag_ref
from server.attachments.models import PHASH_SEGMENTS, Photo, PhotoRef, PhotoRole
from server.auth.scope import Reach, photo_named_in_scope
from server.clock import Clock
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
                  timezone: str, device_id: uuid.UUID | None = None, rules: FlagRules | None = None) -> Photo:
    """Check, describe and store an uploaded photo once; the findings naming it stop waiting,
    and its namings are checked for flags (``rules``: the app's settings when not given).

    Raises ``media.MediaError`` with a reason for anything that is not an acceptable photo;
    nothing is stored then.
    """
    photo = media.ingest(data, limits=limits)
    existing = session.get(Photo, photo.sha256)
    # Derivatives first: an original in storage is taken as proof the photo arrived whole.
    storage.put(media.key_for(photo.sha256, media.PREVIEW_SUFFIX), photo.preview.data)
    storage.put(media.key_for(photo.sha256, media.THUMBNAIL_SUFFIX), photo.thumbnail.data)
    storage.put(media.key_for(photo.sha256), data)
    if existing is not None:
        return existing
    captured = photo.exif.captured_at
    if captured is not None and captured.tzinfo is None:
        # Phones without an offset tag write local wall-clock time: the campaign's zone.
        captured = captured.replace(tzinfo=ZoneInfo(timezone))
    camera = " ".join(part for part in (photo.exif.make, photo.exif.model) if part)
    row = Photo(sha256=photo.sha256, size_bytes=photo.size_bytes, content_type=photo.mime_type, width=photo.width,
                height=photo.height, captured_at=captured, latitude=photo.exif.latitude,
                longitude=photo.exif.longitude, camera=camera[:100], phash=photo.phash,
                received_at=clock.now(), uploaded_by_device=device_id)
    for column, segment in zip(PHASH_SEGMENTS, phash_index.segments(photo.phash)):
        setattr(row, column.key, segment)
    session.add(row)
    session.flush()
    # Locked, in the order every writer of findings takes them (server.sync.locks), and read
    # again under the lock: a finding voided meanwhile by a push must not come back complete.
    for finding in session.scalars(sa.select(Finding).where(Finding.id.in_(
            sa.select(PhotoRef.finding_id).where(PhotoRef.sha256 == photo.sha256)))
            .order_by(Finding.id).with_for_update(key_share=True).execution_options(populate_existing=True)):
        refresh_media_status(session, finding)
    flag_photo(session, clock, row, rules or FlagRules.current())
    return row


def visible_photo(session: Session, reach: Reach, sha256: str, device_id: uuid.UUID | None = None) -> Photo | None:
    """The photo if the caller may see it: named by a finding or response the caller may read
    (:mod:`server.auth.scope`), or named by nothing yet and uploaded from the caller's device
    (a phone checking its upload). Otherwise None, as if it did not exist."""
    photo = session.get(Photo, sha256)
    if photo is None:
        return None
    if session.scalar(sa.select(photo_named_in_scope(reach, sha256))):
        return photo
    named = session.scalar(sa.select(sa.exists().where(PhotoRef.sha256 == sha256)))
    if not named and device_id is not None and photo.uploaded_by_device == device_id:
        return photo
    return None
