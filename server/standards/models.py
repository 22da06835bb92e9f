"""Standards (考核细则 / 测评体系): versioned checklist templates with sections and items."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, IntPrimaryKey, Timestamps, str_enum

Score = sa.Numeric(8, 2)


class ScoringModel(enum.Enum):
    #: Start from the full score and deduct per failed item, up to the item's maximum (扣分制).
    DEDUCTION = "deduction"
    #: Each item scores up to its weight; the unit's score is the weighted sum (加权).
    WEIGHTED = "weighted"


class Standard(IntPrimaryKey, Timestamps, Base):
    """One version of a standard. A published version never changes; edits make a new version,
    so a round keeps scoring against the version it started with."""

    __tablename__ = "standards"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "code", "version"),)

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(sa.String(200))
    scoring_model: Mapped[ScoringModel] = mapped_column(
        str_enum(ScoringModel), default=ScoringModel.DEDUCTION)
    full_score: Mapped[Decimal] = mapped_column(Score, default=Decimal(100))
    published_at: Mapped[dt.datetime | None]

    sections: Mapped[list[StandardSection]] = relationship(
        back_populates="standard", cascade="all, delete-orphan", order_by="StandardSection.position")
    items: Mapped[list[StandardItem]] = relationship(
        back_populates="standard", cascade="all, delete-orphan", order_by="StandardItem.position",
        overlaps="section,items")


class StandardSection(IntPrimaryKey, Base):
    __tablename__ = "standard_sections"
    __table_args__ = (sa.UniqueConstraint("standard_id", "code"),)

    standard_id: Mapped[int] = mapped_column(sa.ForeignKey("standards.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(default=0)
    max_score: Mapped[Decimal] = mapped_column(Score)

    standard: Mapped[Standard] = relationship(back_populates="sections")
    items: Mapped[list[StandardItem]] = relationship(
        back_populates="section", order_by="StandardItem.position", overlaps="items,standard")


class StandardItem(IntPrimaryKey, Base):
    """One checklist line, e.g. "机关院内无杂物乱堆乱放", in category 环境卫生, up to 5 points."""

    __tablename__ = "standard_items"
    __table_args__ = (sa.UniqueConstraint("standard_id", "code"),)

    standard_id: Mapped[int] = mapped_column(sa.ForeignKey("standards.id", ondelete="CASCADE"))
    section_id: Mapped[int] = mapped_column(
        sa.ForeignKey("standard_sections.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    text: Mapped[str] = mapped_column(sa.Text)
    #: The problem category findings against this item are grouped under in circulars.
    category: Mapped[str] = mapped_column(sa.String(64))
    max_score: Mapped[Decimal] = mapped_column(Score)
    #: Points deducted per instance found (deduction model); capped at max_score.
    deduction_per_instance: Mapped[Decimal] = mapped_column(Score, default=Decimal(0))
    #: The rule as the standard words it, e.g. "发现一处扣0.5分，扣完为止".
    deduction_rule: Mapped[str] = mapped_column(sa.Text, default="")
    #: Weight in the weighted model.
    weight: Mapped[Decimal] = mapped_column(Score, default=Decimal(1))
    photo_required: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)

    standard: Mapped[Standard] = relationship(back_populates="items", overlaps="items")
    section: Mapped[StandardSection] = relationship(back_populates="items", overlaps="items,standard")
