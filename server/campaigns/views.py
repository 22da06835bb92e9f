"""Campaigns: an admin creates one; its supervisors change it (office, dates, assessment groups)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from server.api import Blueprint

from server import db
from server.auth.permissions import Permission
from server.auth.scope import campaign_condition
from server.auth.security import current_user, requires
from server.campaigns import services
from server.campaigns.models import Campaign
from server.campaigns.schemas import CampaignSchema, CampaignUpdateSchema
from server.clock import app_clock

blp = Blueprint("campaigns", __name__, url_prefix="/api/v1", description="Campaigns (双创 / 创卫 / 创文)")


@blp.get("/campaigns")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.response(200, CampaignSchema(many=True))
def list_campaigns() -> list[Campaign]:
    """Every campaign for an admin; a supervisor's own."""
    stmt = sa.select(Campaign).where(campaign_condition(current_user(), Campaign.id)).order_by(Campaign.id)
    return list(db.session().scalars(stmt))


@blp.post("/campaigns")
@requires(Permission.CREATE_CAMPAIGNS)
@blp.arguments(CampaignSchema)
@blp.response(201, CampaignSchema)
def create_campaign(values: dict[str, Any]) -> Campaign:
    session = db.session()
    campaign = services.create_campaign(session, app_clock(), current_user(), values)
    session.commit()
    return campaign


@blp.get("/campaigns/<int:campaign_id>")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.response(200, CampaignSchema)
def get_campaign(campaign_id: int) -> Campaign:
    return services.campaign_of(db.session(), current_user(), campaign_id)


@blp.patch("/campaigns/<int:campaign_id>")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.arguments(CampaignUpdateSchema(partial=True))
@blp.response(200, CampaignSchema)
def update_campaign(values: dict[str, Any], campaign_id: int) -> Campaign:
    """Change the fields given; ``groups`` adds the groups not there yet."""
    session = db.session()
    campaign = services.update_campaign(session, app_clock(), current_user(),
                                        services.campaign_of(session, current_user(), campaign_id,
                                                             "campaign.update"), values)
    session.commit()
    return campaign
