"""Creating and changing campaigns, and finding the one a caller works in."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit.services import record
from server.auth import scope
from server.auth.models import Role, User
from server.campaigns.models import AssessmentGroup, Campaign
from server.clock import Clock
from server.errors import Conflict, Forbidden, NotFound, ValidationFailed

FIELDS = ("name", "office", "timezone", "starts_on", "ends_on")


def campaign_of(session: Session, user: User, campaign_id: int | None, action: str | None = None) -> Campaign:
    """The campaign ``user`` sets up: the one named, else their own (for an admin the only one).
    With ``action`` (one of the office's in :data:`server.auth.scope.WRITES`), one they may take
    it in. A campaign out of their scope is answered as if it did not exist."""
    if campaign_id is None and user.role is Role.ADMIN:
        ids = session.scalars(sa.select(Campaign.id).limit(2)).all()
        if len(ids) != 1:
            raise ValidationFailed("Name the campaign.", errors=[{"field": "campaign_id",
                                                                  "message": "required with several campaigns"}])
        campaign_id = ids[0]
    elif campaign_id is None:
        campaign_id = user.campaign_id
    found = session.scalar(sa.select(Campaign).where(Campaign.id == campaign_id,
                                                     scope.campaign_condition(user, Campaign.id)))
    if found is None:
        raise NotFound(f"No campaign {campaign_id}.")
    if action is not None:
        require(user, action, found.id)
    return found


def require(user: User, action: str, campaign_id: int) -> None:
    """Refuse an office action the caller may not take in a campaign whose setup it sees."""
    if not scope.manages(user, action, campaign_id):
        raise Forbidden(f"Your role may not take the action {action} here.")


def _check(session: Session, values: dict[str, Any], campaign: Campaign | None) -> None:
    starts, ends = (values.get(name, getattr(campaign, name, None)) for name in ("starts_on", "ends_on"))
    if starts and ends and ends < starts:
        raise ValidationFailed("The campaign ends before it starts.",
                               errors=[{"field": "ends_on", "message": "before starts_on"}])
    name = values.get("name")
    if name is not None:
        taken = session.scalar(sa.select(Campaign.id).where(Campaign.name == name))
        if taken is not None and (campaign is None or taken != campaign.id):
            raise Conflict(f"A campaign named {name} exists already.")


def create_campaign(session: Session, clock: Clock, user: User | None, values: dict[str, Any]) -> Campaign:
    """Create a campaign with its assessment groups (``groups``: names, in order). Does not commit."""
    _check(session, values, None)
    campaign = Campaign(**{name: values[name] for name in FIELDS if values.get(name) is not None})
    campaign.groups = [AssessmentGroup(name=name, position=i) for i, name in enumerate(values.get("groups") or [])]
    session.add(campaign)
    session.flush()
    record(session, clock, "campaign.created", actor_id=user.id if user else None, entity="campaign",
           entity_id=campaign.id, data={"name": campaign.name})
    return campaign


def update_campaign(session: Session, clock: Clock, user: User | None, campaign: Campaign,
                    values: dict[str, Any]) -> Campaign:
    """Change the fields given; ``groups`` adds the groups not there yet, in order. Does not commit."""
    _check(session, values, campaign)
    for name in FIELDS:
        if name in values:
            setattr(campaign, name, values[name])
    existing = {group.name for group in campaign.groups}
    for name in values.get("groups") or []:
        if name not in existing:
            campaign.groups.append(AssessmentGroup(name=name, position=len(campaign.groups)))
            existing.add(name)
    session.flush()
    record(session, clock, "campaign.updated", actor_id=user.id if user else None, entity="campaign",
           entity_id=campaign.id, data={"fields": sorted(values)})
    return campaign
