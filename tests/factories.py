"""Builders for test data: each makes a valid record with sensible defaults and flushes it."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from server.auth.models import Role, User
from server.campaigns.models import AssessmentGroup, Campaign
from server.rounds.models import Assignment, Round, RoundMode, RoundStatus, Team, TeamMember
from server.standards.models import Standard, StandardItem, StandardSection
from server.units.models import Unit

PASSWORD = "correct-horse-9"
_seq = itertools.count(1)


def _add(session: Session, obj: Any) -> Any:
    session.add(obj)
    session.flush()
    return obj


def campaign(session: Session, **kw: Any) -> Campaign:
    kw.setdefault("name", f"测试双创 {next(_seq)}")
    return _add(session, Campaign(**kw))


def group(session: Session, campaign: Campaign, **kw: Any) -> AssessmentGroup:
    kw.setdefault("name", f"共性任务组{next(_seq)}")
    return _add(session, AssessmentGroup(campaign_id=campaign.id, **kw))


def unit(session: Session, campaign: Campaign, **kw: Any) -> Unit:
    n = next(_seq)
    kw.setdefault("code", f"U{n:04d}")
    kw.setdefault("name", f"市测试局{n}")
    return _add(session, Unit(campaign_id=campaign.id, **kw))


def user(session: Session, hasher: PasswordHasher, role: Role, *, campaign: Campaign | None = None,
         unit: Unit | None = None, password: str = PASSWORD, **kw: Any) -> User:
    n = next(_seq)
    kw.setdefault("username", f"{role.value}{n}")
    kw.setdefault("display_name", f"{role.value} {n}")
    return _add(session, User(role=role, campaign_id=campaign.id if campaign else None,
                              unit_id=unit.id if unit else None, password_hash=hasher.hash(password), **kw))


def standard(session: Session, campaign: Campaign, *, items: int = 3, **kw: Any) -> Standard:
    kw.setdefault("code", f"STD{next(_seq)}")
    kw.setdefault("name", "机关单位双创考核细则")
    std = _add(session, Standard(campaign_id=campaign.id, **kw))
    section = _add(session, StandardSection(standard_id=std.id, code="1", title="环境卫生", max_score=Decimal(30)))
    for i in range(items):
        _add(session, StandardItem(standard_id=std.id, section_id=section.id, code=f"1.{i + 1}",
                                   text=f"检查项{i + 1}", category="环境卫生", max_score=Decimal(5)))
    return std


def round_(session: Session, campaign: Campaign, std: Standard | None = None, **kw: Any) -> Round:
    kw.setdefault("name", f"2008年下半年检查{next(_seq)}")
    kw.setdefault("mode", RoundMode.OPEN)
    kw.setdefault("status", RoundStatus.ACTIVE)
    kw.setdefault("starts_on", dt.date(2026, 10, 23))
    kw.setdefault("ends_on", dt.date(2026, 10, 30))
    std = std or standard(session, campaign)
    return _add(session, Round(campaign_id=campaign.id, standard_id=std.id, **kw))


def team(session: Session, rnd: Round, *, members: list[User] = (), units: list[Unit] = (),  # type: ignore[assignment]
         **kw: Any) -> Team:
    kw.setdefault("name", f"第{next(_seq)}检查组")
    t = _add(session, Team(round_id=rnd.id, **kw))
    for member in members:
        _add(session, TeamMember(team_id=t.id, user_id=member.id))
    for u in units:
        _add(session, Assignment(round_id=rnd.id, team_id=t.id, unit_id=u.id))
    return t
