"""Which records a user may see: the scope half of authorization, as SQL conditions.

Every query that lists or fetches unit-bound records filters with these, so a record
outside the scope is indistinguishable from one that does not exist (404, not 403).

- admin: everything;
- supervisor: everything in their campaign;
- inspector: the units assigned to their teams in active rounds, and those rounds;
- liaison: their own unit, and the rounds that visit it, except an unannounced round (暗访)
  whose findings have not been issued yet.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth.models import Role, User
from server.rounds.models import Assignment, Round, RoundMode, RoundStatus, Team, TeamMember
from server.units.models import Unit


def inspector_unit_ids(user_id: int) -> sa.Select[tuple[int]]:
    return (sa.select(Assignment.unit_id)
            .join(TeamMember, TeamMember.team_id == Assignment.team_id)
            .join(Round, Round.id == Assignment.round_id)
            .where(TeamMember.user_id == user_id, Round.status == RoundStatus.ACTIVE))


def units_condition(user: User, unit_id: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    """A condition on any column holding a unit id, true where ``user`` may see that unit."""
    if user.role is Role.ADMIN:
        return sa.true()
    if user.role is Role.SUPERVISOR:
        if unit_id is Unit.id:
            return Unit.campaign_id == user.campaign_id
        return unit_id.in_(sa.select(Unit.id).where(Unit.campaign_id == user.campaign_id))
    if user.role is Role.LIAISON:
        return unit_id == user.unit_id
    return unit_id.in_(inspector_unit_ids(user.id))


def rounds_condition(user: User) -> sa.ColumnElement[bool]:
    if user.role is Role.ADMIN:
        return sa.true()
    if user.role is Role.SUPERVISOR:
        return Round.campaign_id == user.campaign_id
    if user.role is Role.INSPECTOR:
        mine = (sa.select(Team.round_id)
                .join(TeamMember, TeamMember.team_id == Team.id)
                .where(TeamMember.user_id == user.id))
        return sa.and_(Round.status == RoundStatus.ACTIVE, Round.id.in_(mine))
    visiting_my_unit = sa.select(Assignment.round_id).where(Assignment.unit_id == user.unit_id)
    return sa.and_(
        Round.id.in_(visiting_my_unit),
        sa.or_(Round.mode != RoundMode.UNANNOUNCED, Round.findings_issued_at.is_not(None)),
    )



def sees_unit(session: Session, user: User, unit_id: int) -> bool:
    return bool(session.scalar(sa.select(sa.exists().where(units_condition(user, Unit.id), Unit.id == unit_id))))
