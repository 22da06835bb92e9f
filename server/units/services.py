"""Units and zones: which unit answers for a place."""

from __future__ import annotations

import sqlalchemy as sa
from shapely.geometry import Point, shape
from sqlalchemy.orm import Session

from server.units.models import Zone


def unit_for_location(session: Session, campaign_id: int, longitude: float, latitude: float) -> int | None:
    """The unit whose zone contains the point, or None (the finding then goes to triage).

    The bounding boxes narrow it to the few zones that can contain the point before any
    polygon is tested. Where zones overlap, the smallest wins: a 门前四包 frontage inside a
    包抓片区 is the more specific responsibility.
    """
    candidates = session.scalars(sa.select(Zone).where(
        Zone.campaign_id == campaign_id, Zone.min_lon <= longitude, Zone.max_lon >= longitude,
        Zone.min_lat <= latitude, Zone.max_lat >= latitude))
    point = Point(longitude, latitude)
    containing = [(shape(z.geometry).area, z.unit_id) for z in candidates if shape(z.geometry).covers(point)]
    return min(containing)[1] if containing else None
