"""Findings (问题): something wrong, seen on a visit or on patrol, with photos."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, Mergeable, Timestamps, UUIDPrimaryKey, str_enum


class Severity(enum.Enum):
    MINOR = "minor"
    NORMAL = "normal"
    SERIOUS = "serious"
    URGENT = "urgent"  # e.g. exposed rubbish on a main road: hours, not days


class FindingStatus(enum.Enum):
    #: Recorded, but a photo it names has not arrived and been verified yet.
    AWAITING_MEDIA = "awaiting_media"
    COMPLETE = "complete"
    VOIDED = "voided"


class Finding(UUIDPrimaryKey, Mergeable, Timestamps, Base):
    __tablename__ = "findings"

    #: Empty for a patrol finding outside any visit.
    visit_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("visits.id", ondelete="SET NULL"), index=True)
    round_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rounds.id", ondelete="SET NULL"), index=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    #: The responsible unit: the unit visited, or the unit whose zone contains the location;
    #: empty while it waits in the supervisors' triage queue.
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id", ondelete="SET NULL"), index=True)
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("standard_items.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(sa.String(64))
    #: Written as circulars cite it: "办公楼西侧杂物堆积墙边".
    description: Mapped[str] = mapped_column(sa.Text)
    severity: Mapped[Severity] = mapped_column(str_enum(Severity), default=Severity.NORMAL)
    status: Mapped[FindingStatus] = mapped_column(
        str_enum(FindingStatus), default=FindingStatus.AWAITING_MEDIA)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    location_text: Mapped[str] = mapped_column(sa.String(300), default="")
    reported_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    device_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("devices.id", ondelete="SET NULL"))
    #: When the inspector saw it, as the device reported; evidence, not an ordering key.
    observed_at: Mapped[dt.datetime]
