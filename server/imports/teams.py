"""A round's teams (检查组 with 组长 and 组员) and assignments (which team inspects which unit),
from the lists a clerk keeps: one row per team, and one row per unit.

Both are keyed on names as the clerk writes them: a team by its name in the round, a unit by
its code or its name, a person by username or, if unambiguous, their name (姓名).
"""

from __future__ import annotations

from collections import Counter, defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from server.auth.models import Role, User
from server.imports.base import Column, Context, Outcome, Problem, Record, Spec, assign, names
from server.imports.messages import say
from server.messages import Said
from server.imports.references import UnitCodes
from server.rounds.models import Assignment, Round, Team, TeamMember
from server.units.models import Unit

#: Who may be on a team: inspectors, and supervisors who go along.
TEAM_ROLES = (Role.INSPECTOR, Role.SUPERVISOR)

TEAM_COLUMNS = (
    Column("team", ("检查组", "组别名称", "组名"), required=True, max_length=100),
    Column("leader", ("组长",), max_length=100),
    Column("members", ("组员", "成员"), parse=names),
)

ASSIGNMENT_COLUMNS = (
    Column("unit", ("单位名称", "单位", "单位编码", "被检查单位"), required=True, max_length=200),
    Column("team", ("检查组",), required=True, max_length=100),
)


class People:
    """The campaign's inspectors and supervisors by username and by name."""

    def __init__(self, context: Context) -> None:
        users = context.session.scalars(sa.select(User).where(
            User.campaign_id == context.campaign.id, User.role.in_(TEAM_ROLES), User.active.is_(True))).all()
        self.by_username = {u.username: u.id for u in users}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        for user in users:
            self.by_name[user.display_name].append(user.id)

    def find(self, text: str) -> tuple[int | None, Said | None]:
        if text in self.by_username:
            return self.by_username[text], None
        found = self.by_name.get(text, [])
        if len(found) == 1:
            return found[0], None
        if found:
            return None, say("ambiguous_person", count=len(found), name=text)
        return None, say("unknown_person", name=text)


def check_teams(context: Context, records: list[Record]) -> list[Problem]:
    people = People(context)
    problems = []
    for rec in records:
        if rec.values.get("leader"):
            rec.refs["leader_id"], message = people.find(rec.values["leader"])
            if message:
                problems.append(rec.problem("leader", message))
        member_ids = []
        for name in rec.values.get("members") or ():
            user_id, message = people.find(name)
            if message:
                problems.append(rec.problem("members", message))
            elif user_id not in member_ids:
                member_ids.append(user_id)
        rec.refs["member_ids"] = member_ids
    return problems


def apply_teams(context: Context, records: list[Record]) -> list[Outcome]:
    round_: Round = context.target
    teams = {team.name: team for team in context.session.scalars(
        sa.select(Team).where(Team.round_id == round_.id).options(selectinload(Team.members)))}
    outcomes = []
    for position, rec in enumerate(records):
        values = rec.values
        fields = {"position": position}
        if "leader" in values:
            fields["leader_id"] = rec.refs.get("leader_id")
        team = teams.get(values["team"])
        if team is None:
            team = teams[values["team"]] = Team(round_id=round_.id, name=values["team"], **fields)
            context.session.add(team)
            outcome = Outcome.CREATED
        else:
            outcome = Outcome.UPDATED if assign(team, fields) else Outcome.UNCHANGED
        if "members" in values:
            # The leader is a member too: they see the team's units on their phone.
            wanted = {*rec.refs["member_ids"], *([fields["leader_id"]] if fields.get("leader_id") else [])}
            if {m.user_id for m in team.members} != wanted:
                team.members[:] = [m for m in team.members if m.user_id in wanted]
                kept = {m.user_id for m in team.members}
                team.members.extend(TeamMember(user_id=user_id) for user_id in sorted(wanted - kept))
                outcome = Outcome.CREATED if outcome is Outcome.CREATED else Outcome.UPDATED
        outcomes.append(outcome)
    return outcomes


def check_assignments(context: Context, records: list[Record]) -> list[Problem]:
    round_: Round = context.target
    units = UnitCodes(context)
    teams = dict(context.session.execute(sa.select(Team.name, Team.id).where(Team.round_id == round_.id)).all())
    problems = []
    for rec in records:
        if rec.values.get("unit"):
            rec.refs["unit_id"] = units.find(rec.values["unit"])
            if rec.refs["unit_id"] is None:
                problems.append(rec.problem("unit", say("unknown_unit_text", unit=rec.values["unit"],
                                                        campaign=context.campaign.name)))
        if rec.values.get("team"):
            rec.refs["team_id"] = teams.get(rec.values["team"])
            if rec.refs["team_id"] is None:
                problems.append(rec.problem("team", say("unknown_team", team=rec.values["team"], round=round_.name,
                                                        teams="、".join(teams)) if teams else
                                            say("no_teams_yet", team=rec.values["team"], round=round_.name)))
    # The same unit by its code on one line and its name on another is still a duplicate
    # (the same text twice is reported by the engine).
    first: dict[int, Record] = {}
    for rec in records:
        unit_id = rec.refs.get("unit_id")
        if unit_id is None:
            continue
        earlier = first.setdefault(unit_id, rec)
        if earlier is not rec and earlier.values["unit"] != rec.values["unit"]:
            problems.append(rec.problem("unit", say("same_unit", line=earlier.line, unit=earlier.values["unit"])))
    return problems


def apply_assignments(context: Context, records: list[Record]) -> list[Outcome]:
    round_: Round = context.target
    current = {a.unit_id: a for a in context.session.scalars(
        sa.select(Assignment).where(Assignment.round_id == round_.id))}
    outcomes = []
    for rec in records:
        assignment = current.get(rec.refs["unit_id"])
        if assignment is None:
            context.session.add(Assignment(round_id=round_.id, unit_id=rec.refs["unit_id"],
                                           team_id=rec.refs["team_id"]))
            outcomes.append(Outcome.CREATED)
        else:
            outcomes.append(Outcome.UPDATED if assign(assignment, {"team_id": rec.refs["team_id"]})
                            else Outcome.UNCHANGED)
    return outcomes


def _person_names(session: Session, campaign_id: int) -> dict[int, str]:
    """How an export names each person: their 姓名, or their username where others share it."""
    users = session.scalars(sa.select(User).where(User.campaign_id == campaign_id)).all()
    shared = Counter(u.display_name for u in users)
    return {u.id: u.display_name if shared[u.display_name] == 1 else u.username for u in users}


def team_rows(session: Session, round_: Round) -> list[list[object]]:
    """The round's teams as the rows of a teams file, header first."""
    names = _person_names(session, round_.campaign_id)
    rows: list[list[object]] = [["检查组", "组长", "组员"]]
    for team in session.scalars(sa.select(Team).where(Team.round_id == round_.id).order_by(Team.position, Team.id)
                                .options(selectinload(Team.members))):
        members = [names.get(m.user_id, "") for m in team.members if m.user_id != team.leader_id]
        rows.append([team.name, names.get(team.leader_id, "") if team.leader_id else "", "、".join(sorted(members))])
    return rows


def assignment_rows(session: Session, round_: Round) -> list[list[object]]:
    """The round's assignments as the rows of an assignments file, header first, team by team."""
    rows: list[list[object]] = [["检查组", "单位名称"]]
    rows += [list(row) for row in session.execute(
        sa.select(Team.name, Unit.name).join(Assignment, Assignment.team_id == Team.id)
        .join(Unit, Unit.id == Assignment.unit_id).where(Assignment.round_id == round_.id)
        .order_by(Team.position, Team.id, Unit.code))]
    return rows


TEAMS = Spec(kind="teams", columns=TEAM_COLUMNS, unique=("team",), check=check_teams, apply=apply_teams)
ASSIGNMENTS = Spec(kind="assignments", columns=ASSIGNMENT_COLUMNS, unique=("unit",), check=check_assignments,
                   apply=apply_assignments)
