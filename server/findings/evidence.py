"""The evidence of a case as a reader sees it: each photo named, with what its EXIF told (capture
time, GPS, camera, read once on arrival into the photos table) and the flags it earned.

A photo named but not arrived yet is listed with ``present`` false: the record is not wrong,
the phone has not uploaded it yet.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.attachments.models import Photo, PhotoFlag, PhotoRef


def photos_named(session: Session, *, finding_ids: Iterable[uuid.UUID] = (),
                 response_ids: Iterable[uuid.UUID] = ()) -> list[dict[str, Any]]:
    """Every naming of a photo by the findings or responses, oldest first, in two queries."""
    finding_ids, response_ids = list(finding_ids), list(response_ids)
    owners = []
    if finding_ids:
        owners.append(PhotoRef.finding_id.in_(finding_ids))
    if response_ids:
        owners.append(PhotoRef.response_id.in_(response_ids))
    if not owners:
        return []
    rows = session.execute(sa.select(PhotoRef, Photo).outerjoin(Photo, Photo.sha256 == PhotoRef.sha256)
                           .where(sa.or_(*owners)).order_by(PhotoRef.created_at, PhotoRef.id)).all()
    flags: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    if rows:
        for flag in session.scalars(sa.select(PhotoFlag).where(PhotoFlag.ref_id.in_([ref.id for ref, _ in rows]))
                                    .order_by(PhotoFlag.id)):
            flags[flag.ref_id].append({"kind": flag.kind.value, "details": flag.details})
    return [{"sha256": ref.sha256, "role": ref.role.value, "finding_id": ref.finding_id,
             "response_id": ref.response_id, "named_at": ref.created_at, "present": photo is not None,
             "captured_at": photo.captured_at if photo else None, "latitude": photo.latitude if photo else None,
             "longitude": photo.longitude if photo else None, "camera": photo.camera if photo else "",
             "width": photo.width if photo else None, "height": photo.height if photo else None,
             "flags": flags.get(ref.id, [])} for ref, photo in rows]
