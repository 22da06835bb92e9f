"""Setting up a round: creating it against a standard version, changing its dates and status."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit.services import record
from server.auth.models import User
from server.auth.scope import campaign_condition
from server.campaigns.models import Campaign
from server.campaigns.services import require
from server.clock import Clock
from server.errors import Conflict, NotFound, ValidationFailed
from server.rounds.models import Round, RoundMode, RoundStatus
from server.standards.models import Standard

#: What clerks call the kinds of round, for the command line and files.
MODE_NAMES = {**{mode.value: mode for mode in RoundMode}, "inspection": RoundMode.OPEN,
              "平时检查": RoundMode.OPEN, "检查": RoundMode.OPEN, "明查": RoundMode.OPEN,
              "暗访": RoundMode.UNANNOUNCED, "复查": RoundMode.RECHECK, "季度考核": RoundMode.QUARTERLY,
              "专项": RoundMode.SPECIAL, "专项督办": RoundMode.SPECIAL, "年度考核": RoundMode.ANNUAL}


def managed_round(session: Session, user: User, round_id: int, action: str | None = None) -> Round:
    """A round of a campaign ``user`` sets up (404 otherwise); with ``action`` (of
    :data:`server.auth.scope.WRITES`), one they may take it on (403 otherwise)."""
    found = session.scalar(sa.select(Round).where(Round.id == round_id, campaign_condition(user, Round.campaign_id)))
    if found is None:
        raise NotFound(f"No round {round_id}.")
    if action is not None:
        require(user, action, found.campaign_id)
    return found


def standard_for(session: Session, campaign: Campaign, *, standard_id: int | None = None,
                 code: str | None = None) -> Standard:
    """The standard version a new round scores against: the one given, or the newest of ``code``."""
    stmt = sa.select(Standard).where(Standard.campaign_id == campaign.id)
    if standard_id is not None:
        found = session.scalar(stmt.where(Standard.id == standard_id))
    else:
        found = session.scalar(stmt.where(Standard.code == code).order_by(Standard.version.desc()).limit(1))
    if found is None:
        raise ValidationFailed("No such standard in this campaign.", errors=[
            {"field": "standard_id" if standard_id is not None else "standard",
             "message": f"no standard {standard_id if standard_id is not None else code!r} in {campaign.name}"}])
    return found


def _check_dates(values: dict[str, Any], round_: Round | None) -> None:
    starts = values.get("starts_on", round_.starts_on if round_ else None)
    ends = values.get("ends_on", round_.ends_on if round_ else None)
    if starts and ends and ends < starts:
        raise ValidationFailed("The round ends before it starts.",
                               errors=[{"field": "ends_on", "message": "before starts_on"}])


def _check_name(session: Session, campaign_id: int, name: str | None, round_: Round | None) -> None:
    if name is None:
        return
    taken = session.scalar(sa.select(Round.id).where(Round.campaign_id == campaign_id, Round.name == name))
    if taken is not None and (round_ is None or taken != round_.id):
        raise Conflict(f"The campaign already has a round named {name}.")


def create_round(session: Session, clock: Clock, user: User | None, campaign: Campaign, standard: Standard,
                 values: dict[str, Any]) -> Round:
    """Create a round scoring against ``standard``, which is published if it was a draft: from now
    on its items are what the round's answers and scores refer to. Does not commit."""
    _check_dates(values, None)
    _check_name(session, campaign.id, values["name"], None)
    if standard.published_at is None:
        standard.published_at = clock.now()
    round_ = Round(campaign_id=campaign.id, standard_id=standard.id, name=values["name"], mode=values["mode"],
                   status=values.get("status") or RoundStatus.PLANNED, starts_on=values["starts_on"],
                   ends_on=values["ends_on"])
    session.add(round_)
    session.flush()
    record(session, clock, "round.created", actor_id=user.id if user else None, entity="round",
           entity_id=round_.id, data={"name": round_.name, "standard_id": standard.id})
    return round_


def update_round(session: Session, clock: Clock, user: User | None, round_: Round, values: dict[str, Any]) -> Round:
    """Change the name, mode, dates or status. Does not commit."""
    _check_dates(values, round_)
    _check_name(session, round_.campaign_id, values.get("name"), round_)
    for name in ("name", "mode", "status", "starts_on", "ends_on"):
        if name in values:
            setattr(round_, name, values[name])
    session.flush()
    record(session, clock, "round.updated", actor_id=user.id if user else None, entity="round",
           entity_id=round_.id, data={"fields": sorted(values)})
    return round_
