"""A campaign (双创 / 创卫 / 创文) and the assessment groups (考核组别) its units are ranked in."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, IntPrimaryKey, Timestamps


class Campaign(IntPrimaryKey, Timestamps, Base):
    __tablename__ = "campaigns"

    #: e.g. 安康市双创工作; unique so imports and the demo can find it by name.
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    #: The issuing office named in circulars, e.g. 市双创办.
    office: Mapped[str] = mapped_column(sa.String(200), default="")
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Asia/Shanghai")
    starts_on: Mapped[dt.date | None]
    ends_on: Mapped[dt.date | None]

    groups: Mapped[list[AssessmentGroup]] = relationship(
        back_populates="campaign", order_by="AssessmentGroup.position")


class AssessmentGroup(IntPrimaryKey, Timestamps, Base):
    """区域创建组 / 片区创建组 / 重点任务组 / 共性任务组: units are ranked within their group."""

    __tablename__ = "assessment_groups"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "name"),)

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(100))
    #: Order of the groups in a circular's 考核结果 section.
    position: Mapped[int] = mapped_column(default=0)

    campaign: Mapped[Campaign] = relationship(back_populates="groups")
