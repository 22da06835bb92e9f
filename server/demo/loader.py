"""Writing the demo data into a session: creates what is missing, never changes what exists."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import Counter
from typing import Iterable, TypeVar
from zoneinfo import ZoneInfo

import click
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

import media

from server.audit.models import ActorKind
from server.audit.services import record
from server.auth.models import Role, User
from server.auth.services import create_user
from server.campaigns.models import AssessmentGroup, Campaign
from server.clock import Clock
from server.demo import data
from server.findings.models import Finding
from server.rounds.models import Assignment, Round, Team, TeamMember
from server.standards.models import Standard, StandardItem, StandardSection
from server.units.models import ContactRole, Unit, UnitContact, Zone

T = TypeVar("T")


def load_demo(session: Session, clock: Clock, hasher: PasswordHasher) -> dict[str, int]:
    """Add the demo campaign built from the seed circulars; returns how many rows of each kind
    it created. Does not commit.

    Rows are matched by their natural keys (campaign name, group name, unit code or name,
    standard code and version, round name, team name, username, zone code). A row that exists
    is left exactly as it is, even where it differs from the demo files: ``xuncha dev`` loads
    the demo on every start, and must not undo what someone did while trying the app (a round
    closed, a password changed), nor edit a published standard.
    """
    created: Counter[str] = Counter()
    campaign = _campaign(session, created)
    groups = _groups(session, campaign, created)
    units = _units(session, campaign, groups, created)
    _zones(session, campaign, units, created)
    standard = _standard(session, campaign, created)
    round_ = _round(session, campaign, standard, created)
    users = _users(session, clock, hasher, campaign, units, created)
    _teams(session, round_, users, units, created)
    _liaison_contacts(session, users, created)
    if created:
        record(session, clock, "demo.loaded", actor_kind=ActorKind.SYSTEM, entity="campaign",
               entity_id=campaign.id, data=dict(sorted(created.items())))
    session.flush()
    return dict(created)


def load_demo_work(session: Session, now: dt.datetime, storage: media.Storage,
                   limits: media.Limits) -> dict[str, int]:
    """Add a fortnight of patrol work ending at ``now`` in a round of its own (see
    :mod:`server.demo.fortnight`), once: nothing while the demo campaign has findings. Run after
    :func:`load_demo` has committed. Commits."""
    from server.demo.fortnight import DAYS, load_fortnight

    campaign = session.scalar(sa.select(Campaign).where(Campaign.name == data.CAMPAIGN["name"]))
    if campaign is None or session.scalar(sa.select(sa.func.count()).select_from(Finding)
                                          .where(Finding.campaign_id == campaign.id)):
        return {}
    created: Counter[str] = Counter()
    today = now.astimezone(ZoneInfo(campaign.timezone)).date()
    standard = _standard(session, campaign, created)
    round_, = _add(session, created, "rounds", [Round(campaign_id=campaign.id, standard_id=standard.id,
                                                      **data.patrol_round(today, DAYS))])
    users = {u.username: u for u in session.scalars(
        sa.select(User).where(User.username.in_([u.username for u in data.DEMO_USERS])))}
    units = _units(session, campaign, _groups(session, campaign, created), created)
    _teams(session, round_, users, units, created)
    session.commit()
    made = load_fortnight(session, now, campaign, round_, users, storage, limits)
    return dict(created + Counter(made))


def _add(session: Session, created: Counter[str], kind: str, new: Iterable[T]) -> list[T]:
    rows = list(new)
    if rows:
        session.add_all(rows)
        session.flush()
        created[kind] += len(rows)
    return rows


def _campaign(session: Session, created: Counter[str]) -> Campaign:
    campaign = session.scalar(sa.select(Campaign).where(Campaign.name == data.CAMPAIGN["name"]))
    if campaign is None:
        campaign, = _add(session, created, "campaigns", [Campaign(**data.CAMPAIGN)])
    return campaign


def _groups(session: Session, campaign: Campaign, created: Counter[str]) -> dict[str, AssessmentGroup]:
    groups = {g.name: g for g in session.scalars(
        sa.select(AssessmentGroup).where(AssessmentGroup.campaign_id == campaign.id))}
    _add(session, created, "groups", [
        AssessmentGroup(campaign_id=campaign.id, name=name, position=position)
        for position, name in enumerate(data.GROUPS, start=1) if name not in groups])
    return {g.name: g for g in session.scalars(
        sa.select(AssessmentGroup).where(AssessmentGroup.campaign_id == campaign.id))}


def _units(session: Session, campaign: Campaign, groups: dict[str, AssessmentGroup],
           created: Counter[str]) -> dict[str, Unit]:
    """The demo units by their code in units.csv."""
    existing = list(session.scalars(sa.select(Unit).where(Unit.campaign_id == campaign.id)))
    by_code = {u.code: u for u in existing}
    by_name = {u.name: u for u in existing}
    found: dict[str, Unit] = {}
    missing = []
    for row in data.units():
        # A unit an administrator imported under another code is the same unit: names are unique.
        unit = by_code.get(row.code) or by_name.get(row.name)
        if unit is None:
            unit = Unit(campaign_id=campaign.id, code=row.code, name=row.name, group_id=groups[row.group].id)
            missing.append(unit)
        found[row.code] = unit
    _add(session, created, "units", missing)
    return found


def _zones(session: Session, campaign: Campaign, units: dict[str, Unit], created: Counter[str]) -> None:
    existing = set(session.scalars(sa.select(Zone.code).where(Zone.campaign_id == campaign.id)))
    missing = []
    for row in data.zones():
        if row.code in existing:
            continue
        min_lon, min_lat, max_lon, max_lat = data.bbox(row.geometry)
        missing.append(Zone(campaign_id=campaign.id, unit_id=units[row.unit_code].id, code=row.code,
                            name=row.name, kind=row.kind, geometry=row.geometry,
                            min_lon=min_lon, min_lat=min_lat, max_lon=max_lon, max_lat=max_lat))
    _add(session, created, "zones", missing)


def _standard(session: Session, campaign: Campaign, created: Counter[str]) -> Standard:
    spec = data.STANDARD
    standard = session.scalar(sa.select(Standard).where(
        Standard.campaign_id == campaign.id, Standard.code == spec["code"], Standard.version == spec["version"]))
    if standard is not None:
        return standard
    standard, = _add(session, created, "standards", [Standard(campaign_id=campaign.id, **spec)])
    sections = _add(session, created, "standard_sections", [
        StandardSection(standard_id=standard.id, code=s.code, title=s.title, position=position,
                        max_score=s.max_score)
        for position, s in enumerate(data.standard_sections(), start=1)])
    section_ids = {s.code: s.id for s in sections}
    _add(session, created, "standard_items", [
        StandardItem(standard_id=standard.id, section_id=section_ids[i.section], code=i.code, text=i.text,
                     category=i.category, max_score=i.max_score,
                     deduction_per_instance=i.deduction_per_instance, deduction_rule=i.deduction_rule,
                     photo_required=i.photo_required, position=position)
        for position, i in enumerate(data.standard_items(), start=1)])
    return standard


def _round(session: Session, campaign: Campaign, standard: Standard, created: Counter[str]) -> Round:
    round_ = session.scalar(sa.select(Round).where(Round.campaign_id == campaign.id,
                                                   Round.name == data.ROUND["name"]))
    if round_ is None:
        round_, = _add(session, created, "rounds",
                       [Round(campaign_id=campaign.id, standard_id=standard.id, **data.ROUND)])
    return round_


def _users(session: Session, clock: Clock, hasher: PasswordHasher, campaign: Campaign,
           units: dict[str, Unit], created: Counter[str]) -> dict[str, User]:
    usernames = [u.username for u in data.DEMO_USERS]
    users = {u.username: u for u in session.scalars(sa.select(User).where(User.username.in_(usernames)))}
    for spec in data.DEMO_USERS:
        if spec.username in users:
            continue
        users[spec.username] = create_user(
            session, clock, hasher, username=spec.username, password=spec.password,
            display_name=spec.display_name, role=spec.role,
            campaign_id=None if spec.role is Role.ADMIN else campaign.id,
            unit_id=units[spec.unit_code].id if spec.unit_code else None, email=spec.email)
        created["users"] += 1
    return users


def _teams(session: Session, round_: Round, users: dict[str, User], units: dict[str, Unit],
           created: Counter[str]) -> None:
    teams = {t.name: t for t in session.scalars(sa.select(Team).where(Team.round_id == round_.id))}
    leaders = {u.team: users[u.username].id for u in data.DEMO_USERS if u.leads_team}
    _add(session, created, "teams", [
        Team(round_id=round_.id, name=name, position=position, leader_id=leaders.get(name))
        for position, name in enumerate(data.TEAMS, start=1) if name not in teams])
    teams = {t.name: t for t in session.scalars(sa.select(Team).where(Team.round_id == round_.id))}

    team_ids = [t.id for t in teams.values()]
    members = {(team_id, user_id) for team_id, user_id in session.execute(
        sa.select(TeamMember.team_id, TeamMember.user_id).where(TeamMember.team_id.in_(team_ids)))}
    _add(session, created, "team_members", [
        TeamMember(team_id=teams[u.team].id, user_id=users[u.username].id)
        for u in data.DEMO_USERS
        if u.team and (teams[u.team].id, users[u.username].id) not in members])

    # A unit already assigned to some team in this round keeps that team: one team per unit.
    assigned = set(session.scalars(sa.select(Assignment.unit_id).where(Assignment.round_id == round_.id)))
    _add(session, created, "assignments", [
        Assignment(round_id=round_.id, team_id=teams[a.team].id, unit_id=units[a.unit_code].id)
        for a in data.round_assignments() if units[a.unit_code].id not in assigned])


def _liaison_contacts(session: Session, users: dict[str, User], created: Counter[str]) -> None:
    liaisons = [users[u.username] for u in data.DEMO_USERS if u.role is Role.LIAISON]
    linked = set(session.scalars(sa.select(UnitContact.user_id).where(
        UnitContact.user_id.in_([u.id for u in liaisons]))))
    _add(session, created, "unit_contacts", [
        UnitContact(unit_id=user.unit_id, role=ContactRole.LIAISON, name=user.display_name,
                    email=user.email, user_id=user.id)
        for user in liaisons if user.id not in linked and user.unit_id is not None])


# -- printing -----------------------------------------------------------------------------------

def _width(text: str) -> int:
    # Chinese characters take two columns in a terminal.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def credentials_table() -> str:
    header = ("role", "username", "password", "description")
    rows = [header, *data.DEMO_CREDENTIALS]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(header) - 1)]
    rule = "  ".join("-" * w for w in widths) + "  " + "-" * max(_width(r[-1]) for r in rows)
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(_pad(cell, w) for cell, w in zip(row, widths)) + "  " + row[-1])
        if index == 0:
            lines.append(rule)
    return "\n".join(lines)


def print_credentials() -> None:
    click.echo(f"Demo accounts of {data.CAMPAIGN['name']} (演示账号; for trying the app only):")
    click.echo(credentials_table())
