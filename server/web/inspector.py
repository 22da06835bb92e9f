"""An inspector's own page: the rounds and units of their teams, each of their phones' sync state
as the phones last told it (DeviceSyncState, and the telemetry of the latest DevicePush), and the
findings they reported, wherever the server routed them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth.models import Device
from server.auth.scope import Reach, visible_orders
from server.findings.models import Finding
from server.orders.models import Order
from server.rounds.models import Assignment, Round, Team, TeamMember
from server.sync.models import DevicePush, DeviceSyncState
from server.units.models import Unit


#: How many of their latest findings the page lists.
REPORTED_SHOWN = 50


@dataclass(frozen=True)
class TeamRound:
    round: Round
    team: str
    units: list[str]


def rounds_of(session: Session, user_id: int) -> list[TeamRound]:
    """The user's teams, newest round first, each with the units assigned to it."""
    teams = session.execute(sa.select(Round, Team).join(Team, Team.round_id == Round.id)
                            .join(TeamMember, TeamMember.team_id == Team.id).where(TeamMember.user_id == user_id)
                            .order_by(Round.starts_on.desc(), Team.position)).all()
    units: dict[int, list[str]] = {}
    for team_id, name in session.execute(sa.select(Assignment.team_id, Unit.name).join(Unit, Unit.id == Assignment.unit_id)
                                         .where(Assignment.team_id.in_([t.id for _, t in teams]))
                                         .order_by(Unit.name)):
        units.setdefault(team_id, []).append(name)
    return [TeamRound(r, t.name, units.get(t.id, [])) for r, t in teams]


def devices_of(session: Session, user_id: int) -> list[dict[str, Any]]:
    """The user's phones (not the console's browser logins), each with its sync state."""
    devices = session.execute(sa.select(Device, DeviceSyncState).outerjoin(
        DeviceSyncState, DeviceSyncState.device_id == Device.id)
        .where(Device.user_id == user_id, Device.platform != "web").order_by(Device.last_seen_at.desc())).all()
    latest = _latest_pushes(session, [d.id for d, _ in devices])
    return [{"device": device, "state": state, "push": latest.get(device.id)} for device, state in devices]


def _latest_pushes(session: Session, device_ids: list[uuid.UUID]) -> dict[uuid.UUID, DevicePush]:
    if not device_ids:
        return {}
    newest = (sa.select(DevicePush.device_id, sa.func.max(DevicePush.received_at).label("at"))
              .where(DevicePush.device_id.in_(device_ids)).group_by(DevicePush.device_id).subquery())
    pushes = session.scalars(sa.select(DevicePush).join(newest, sa.and_(newest.c.device_id == DevicePush.device_id,
                                                                      newest.c.at == DevicePush.received_at)))
    return {p.device_id: p for p in pushes}


@dataclass(frozen=True)
class Reported:
    finding: Finding
    #: None: left to triage (待分派).
    unit: str | None
    #: The finding's latest order the viewer may open, if any.
    order: Order | None


def reported_by(session: Session, reach: Reach) -> list[Reported]:
    """The latest findings the caller reported, newest first, each with its unit and its latest
    order among those the order page shows them: a patrol finding routed to another team's unit,
    or to triage, no longer reaches their phone, and is followed here."""
    rows = session.execute(sa.select(Finding, Unit.name).outerjoin(Unit, Unit.id == Finding.unit_id)
                           .where(Finding.reported_by == reach.user_id)
                           .order_by(Finding.observed_at.desc(), Finding.id.desc()).limit(REPORTED_SHOWN)).all()
    latest: dict[uuid.UUID, Order] = {}
    if rows:
        orders = session.scalars(visible_orders(reach).where(Order.finding_id.in_([f.id for f, _ in rows]))
                                 .order_by(Order.issued_at))
        latest = {o.finding_id: o for o in orders}
    return [Reported(finding, unit, latest.get(finding.id)) for finding, unit in rows]
