"""A visit of a team to a unit during a round, and the checklist answers given there."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, Mergeable, Timestamps, UUIDPrimaryKey, str_enum
from server.standards.models import Score


class VisitStatus(enum.Enum):
    OPEN = "open"
    SUBMITTED = "submitted"


class Visit(UUIDPrimaryKey, Mergeable, Timestamps, Base):
    __tablename__ = "visits"

    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id", ondelete="RESTRICT"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id", ondelete="SET NULL"))
    inspector_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    device_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("devices.id", ondelete="SET NULL"))
    status: Mapped[VisitStatus] = mapped_column(str_enum(VisitStatus), default=VisitStatus.OPEN)
    #: Device-reported times, kept as evidence; never used to order changes.
    started_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    #: 实地查看 / 座谈汇报 / 查阅资料 / 暗访询问, as free text the circular's 基本情况 can cite.
    methods: Mapped[str] = mapped_column(sa.String(200), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")


class AnswerResult(enum.Enum):
    PASS = "pass"  # 符合
    FAIL = "fail"  # 不符合
    NOT_APPLICABLE = "na"  # 不适用


class Answer(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "answers"

    visit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("standard_items.id", ondelete="RESTRICT"))
    result: Mapped[AnswerResult] = mapped_column(str_enum(AnswerResult))
    #: Points deducted for this item (deduction model) or points given (weighted model).
    score: Mapped[Decimal | None] = mapped_column(Score)
    #: Instances found, for "每处扣0.5分" rules.
    instances: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    answered_by: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    answered_at: Mapped[dt.datetime]
