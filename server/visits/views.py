"""Visits (检查) read by id or listed, within the caller's scope (404 outside it; a unit's
liaison sees none). An unknown query argument is a 422."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint

from server import db
from server.auth.permissions import Permission
from server.auth.security import current_reach, requires
from server.findings.views import page_limit
from server.visits import services
from server.visits.schemas import VisitDetailSchema, VisitPageSchema, VisitQueryArgs

blp = Blueprint("visits", __name__, url_prefix="/api/v1", description="Visits (检查) and their answers")


@blp.get("/visits")
@requires(Permission.READ_ORDERS)
@blp.arguments(VisitQueryArgs, location="query", unknown=ma.RAISE)
@blp.response(200, VisitPageSchema)
def list_visits(args: dict[str, Any]) -> dict[str, Any]:
    """Visits in the caller's scope, newest first."""
    filters = services.VisitFilters(round_id=args["round_id"], unit_id=args["unit_id"],
                                    inspector_id=args["inspector_id"], status=args["status"])
    return services.list_visits(db.session(), current_reach(), filters, limit=page_limit(args["limit"]),
                                after=args["after"])


@blp.get("/visits/<uuid:visit_id>")
@requires(Permission.READ_ORDERS)
@blp.response(200, VisitDetailSchema)
def get_visit(visit_id: uuid.UUID) -> dict[str, Any]:
    """A visit with its answers and findings."""
    return services.get_visit(db.session(), current_reach(), visit_id)
