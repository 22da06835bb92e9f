"""Photos as evidence: the stored bytes (by SHA-256) and the records that name them."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UUIDPrimaryKey, str_enum


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
    camera: Mapped[str] = mapped_column(sa.String(100), default="")
    #: Perceptual hash (hex), to flag evidence that looks reused.
    phash: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    received_at: Mapped[dt.datetime]
    uploaded_by_device: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("devices.id", ondelete="SET NULL"))


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
