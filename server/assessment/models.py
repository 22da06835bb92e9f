"""What a round's assessment is configured with (tiers, quotas, exclusions, 工作要求), and the
circulars (通报) generated from it, drafts and frozen published versions."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, IntPrimaryKey, Timestamps, str_enum


class TierMethod(enum.Enum):
    #: A unit's tier is the first whose minimum score it reaches (e.g. 好 ≥ 90).
    THRESHOLDS = "thresholds"
    #: Each tier takes at most a share of the ranked units (e.g. at most 20% 优秀).
    QUOTAS = "quotas"


class RoundAssessment(Timestamps, Base):
    """How one round is scored into a ranking; a round without a row uses the defaults of
    :mod:`server.assessment.config`."""

    __tablename__ = "round_assessments"

    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    tier_method: Mapped[TierMethod] = mapped_column(str_enum(TierMethod), default=TierMethod.THRESHOLDS)
    #: Best first: ``{"name": "好", "label": "好的部门、单位", "min_score": "90"}`` or ``{"quota": "0.2"}``.
    tiers: Mapped[list[Any]] = mapped_column(default=list)
    #: Seed 000 ranks each assessment group apart; seed 002 ranks the whole round as one list.
    rank_by_group: Mapped[bool] = mapped_column(default=True)
    #: Groups placed in tiers of their own (seed 000: each group its share of 优秀):
    #: ``[{"name": "片区创建组", "tier_method": "quotas", "tiers": [...]}]``; other groups use ``tiers``.
    group_tiers: Mapped[list[Any]] = mapped_column(default=list)
    #: The rounds this one's result combines, with their weights (an annual result from the
    #: year's 平时检查, 专项督办, 暗访 and 季度考核): ``[{"round_id": 3, "weight": "0.4"}]``.
    sources: Mapped[list[Any]] = mapped_column(default=list)
    #: Points per overdue order, per escalation step, per rejection at 复查, and their cap.
    order_deductions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: 工作要求: the circular's last section, as the supervisor words it; paragraphs split by newlines.
    requirements: Mapped[str] = mapped_column(sa.Text, default="")
    #: The line after the sections, e.g. 本次检查结果作为部门、单位年终考评依据之一。
    closing: Mapped[str] = mapped_column(sa.Text, default="")
    updated_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class RankingExclusion(Base):
    """A unit left out of the ranking with its reason (暂未排序), e.g. 因体制问题未解决."""

    __tablename__ = "assessment_exclusions"

    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    position: Mapped[int] = mapped_column(default=0)


class EnteredResult(Base):
    """A unit's result as the office enters it without phones: a score from a score sheet, a tier
    given directly, and a 综合评议 adjustment with its reason. ``position`` is the row's place in
    the sheet as entered, which orders units the clerk ranked by tier alone."""

    __tablename__ = "entered_results"

    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)
    #: None: the score comes from the phones' answers, if any.
    score: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 2))
    #: None: the tier follows from the score and the round's thresholds or quotas.
    tier: Mapped[str | None] = mapped_column(sa.String(20))
    #: Points added (or, negative, taken off) after 综合评议; 0 for none.
    adjustment: Mapped[Decimal] = mapped_column(sa.Numeric(8, 2), default=Decimal(0))
    adjustment_reason: Mapped[str] = mapped_column(sa.Text, default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(default=0)


class CircularStatus(enum.Enum):
    DRAFT = "draft"  # generated, editable
    PUBLISHED = "published"  # frozen with its data snapshot


class Circular(IntPrimaryKey, Timestamps, Base):
    """A round's 通报. The document is the text as edited; the snapshot is the assessment it was
    generated from, so a published circular and its score sheet never move when data does."""

    __tablename__ = "circulars"

    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    status: Mapped[CircularStatus] = mapped_column(str_enum(CircularStatus), default=CircularStatus.DRAFT)
    #: title, opening, sections (heading, paragraphs, subsections), closing, office, dated.
    document: Mapped[dict[str, Any]]
    #: The :class:`server.assessment.results.RoundResult` as JSON.
    snapshot: Mapped[dict[str, Any]]
    generated_at: Mapped[dt.datetime]
    generated_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[dt.datetime | None]
    published_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: Bumped by every edit; an edit names the version it was made on.
    version: Mapped[int] = mapped_column(default=1)
