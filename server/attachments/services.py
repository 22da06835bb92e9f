"""Photo references: naming photos on records, and whether the named photos have arrived."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.attachments.models import Photo, PhotoRef, PhotoRole
from server.clock import Clock
from server.findings.models import Finding, FindingStatus


def attach(session: Session, clock: Clock, sha256s: list[str], *, role: PhotoRole,
           finding_id: uuid.UUID | None = None, response_id: uuid.UUID | None = None,
           device_id: uuid.UUID | None = None, ref_id: uuid.UUID | None = None) -> list[PhotoRef]:
    """Name photos on a finding or a response; a photo already named there is not named twice."""
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
