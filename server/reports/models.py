"""Bulletins (快报) as issued: each issued period gets the campaign's next number (第N期)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, IntPrimaryKey


class BulletinIssue(IntPrimaryKey, Base):
    __tablename__ = "bulletin_issues"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "number"),
                      sa.UniqueConstraint("campaign_id", "starts_on", "ends_on"))

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    #: 第N期, counting on per campaign from 1.
    number: Mapped[int]
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date]
    issued_at: Mapped[dt.datetime]
    issued_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
