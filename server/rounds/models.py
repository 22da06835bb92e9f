"""Inspection rounds (检查 / 督查), their teams (检查组) and which units each team inspects."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, IntPrimaryKey, Timestamps, str_enum


class RoundMode(enum.Enum):
    OPEN = "open"  # 明查: announced (平时检查)
    UNANNOUNCED = "unannounced"  # 暗访: never shown to inspected units before findings are issued
    RECHECK = "recheck"  # 复查: re-inspection of earlier findings
    QUARTERLY = "quarterly"  # 季度考核
    SPECIAL = "special"  # 专项督办 / 专项检查
    ANNUAL = "annual"  # 年度考核


class RoundStatus(enum.Enum):
    PLANNED = "planned"
    ACTIVE = "active"  # inspectors see their assigned units only while a round is active
    CLOSED = "closed"


class Round(IntPrimaryKey, Timestamps, Base):
    """e.g. "2008年下半年双创目标任务检查", 10月23—30日, 5 teams, 115 units."""

    __tablename__ = "rounds"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "name"),)

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    mode: Mapped[RoundMode] = mapped_column(str_enum(RoundMode))
    status: Mapped[RoundStatus] = mapped_column(str_enum(RoundStatus), default=RoundStatus.PLANNED)
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date]
    #: The exact standard version answers are scored against.
    standard_id: Mapped[int] = mapped_column(sa.ForeignKey("standards.id", ondelete="RESTRICT"))
    #: For 暗访: when findings were issued to units; before that, units see nothing of the round.
    findings_issued_at: Mapped[dt.datetime | None]

    teams: Mapped[list[Team]] = relationship(back_populates="round", order_by="Team.position")


class Team(IntPrimaryKey, Timestamps, Base):
    __tablename__ = "teams"
    __table_args__ = (sa.UniqueConstraint("round_id", "name"),)

    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(100))
    position: Mapped[int] = mapped_column(default=0)
    leader_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    round: Mapped[Round] = relationship(back_populates="teams")
    members: Mapped[list[TeamMember]] = relationship(cascade="all, delete-orphan")
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="team", cascade="all, delete-orphan", overlaps="assignments")


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)


class Assignment(IntPrimaryKey, Timestamps, Base):
    """A unit assigned to a team for a round; a unit has at most one team per round."""

    __tablename__ = "assignments"
    __table_args__ = (sa.UniqueConstraint("round_id", "unit_id"),)

    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"), index=True)

    team: Mapped[Team] = relationship(back_populates="assignments")
