"""Photos as evidence: the stored bytes (by SHA-256) and the records that name them."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, IntPrimaryKey, UUIDPrimaryKey, str_enum


class Photo(Base):
    """One photo's bytes, stored once however many records name it."""

    __tablename__ = "photos"

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    size_bytes: Mapped[int]
    content_type: Mapped[str] = mapped_column(sa.String(40))
    width: Mapped[int]
    height: Mapped[int]
    #: From EXIF: capture time with its offset, GPS, camera.
    captured_at: Mapped[dt.datetime | None]
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    #: Metres above sea level (negative below).
    altitude: Mapped[float | None]
    #: Make and model together, as a person reads them; apart below, as EXIF has them.
    camera: Mapped[str] = mapped_column(sa.String(100), default="")
    camera_make: Mapped[str | None] = mapped_column(sa.String(60))
    camera_model: Mapped[str | None] = mapped_column(sa.String(60))
    #: Perceptual hash (hex), to flag evidence that looks reused.
    phash: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    #: The phash cut into four 16-bit segments, each indexed, so look-alikes are found without
    #: reading every photo of the campaign (multi-index hashing, media.phash_index).
    phash_0: Mapped[int | None] = mapped_column(index=True)
    phash_1: Mapped[int | None] = mapped_column(index=True)
    phash_2: Mapped[int | None] = mapped_column(index=True)
    phash_3: Mapped[int | None] = mapped_column(index=True)
    received_at: Mapped[dt.datetime]
    uploaded_by_device: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("devices.id", ondelete="SET NULL"))


PHASH_SEGMENTS = (Photo.phash_0, Photo.phash_1, Photo.phash_2, Photo.phash_3)


class PhotoUploader(IntPrimaryKey, Base):
    """Who sent a photo's bytes: every user and device that finished an upload of it.

    The phone that took a photo may read it back at once, before any record names it, even
    when another phone's upload of the same bytes got there first (issue 15): its HEAD then
    says 200 and it stops sending them.
    """

    __tablename__ = "photo_uploaders"
    __table_args__ = (
        sa.UniqueConstraint("sha256", "user_id", "device_id"),
    )

    sha256: Mapped[str] = mapped_column(sa.ForeignKey("photos.sha256", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: None for a token without a device (a browser session).
    device_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("devices.id", ondelete="CASCADE"))
    uploaded_at: Mapped[dt.datetime]


class PhotoRole(enum.Enum):
    BEFORE = "before"  # 整改前: evidence of the finding
    AFTER = "after"  # 整改后: evidence of the rectification


class PhotoRef(UUIDPrimaryKey, Base):
    """A record naming a photo by hash; the photo itself may not have arrived yet."""

    __tablename__ = "photo_refs"
    __table_args__ = (
        sa.CheckConstraint("(finding_id IS NULL) <> (response_id IS NULL)", name="one_owner"),
    )

    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    finding_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    response_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    role: Mapped[PhotoRole] = mapped_column(str_enum(PhotoRole))
    device_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("devices.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime]


class FlagKind(enum.Enum):
    #: An after-photo (整改后) that looks like a before-photo of the same finding.
    REUSED_BEFORE_PHOTO = "reused_before_photo"
    #: A photo that looks like one handed in for another finding (of this unit or another).
    REUSED_ELSEWHERE = "reused_elsewhere"
    #: An after-photo whose EXIF capture time is before the order was issued.
    TAKEN_BEFORE_ORDER = "taken_before_order"
    #: A photo whose EXIF GPS lies farther than PHOTO_MAX_DISTANCE_M from the finding.
    FAR_FROM_FINDING = "far_from_finding"


class PhotoFlag(IntPrimaryKey, Base):
    """Something about a photo a supervisor should look at; data, never a rejection.

    One flag per kind per naming of a photo (a PhotoRef): made once, when the photo is both
    named and present, whichever came last.
    """

    __tablename__ = "photo_flags"
    __table_args__ = (
        sa.UniqueConstraint("ref_id", "kind"),
    )

    ref_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("photo_refs.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    #: The finding the photo is evidence for: its own, or the one its response's order is about.
    finding_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    #: Set for an after-photo handed in with a response.
    order_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[FlagKind] = mapped_column(str_enum(FlagKind))
    #: What was found, for a person to judge: the matched photo and its Hamming distance,
    #: the metres, or the two times.
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime]
