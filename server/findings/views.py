"""Findings (问题) read by id or listed, within the caller's scope (404 outside it).

An unknown query argument is a 422: a console that misspells a filter must not be shown the
whole list as if it had been applied.
"""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask import current_app
from flask_smorest import Blueprint

from server import db
from server.auth.permissions import Permission
from server.auth.security import current_reach, requires
from server.findings import services
from server.findings.schemas import FindingDetailSchema, FindingPageSchema, FindingQueryArgs

blp = Blueprint("findings", __name__, url_prefix="/api/v1", description="Findings (问题) and their evidence")


def page_limit(asked: int | None) -> int:
    return min(asked or current_app.config["PAGE_SIZE_DEFAULT"], current_app.config["PAGE_SIZE_MAX"])


@blp.get("/findings")
@requires(Permission.READ_ORDERS)
@blp.arguments(FindingQueryArgs, location="query", unknown=ma.RAISE)
@blp.response(200, FindingPageSchema)
def list_findings(args: dict[str, Any]) -> dict[str, Any]:
    """Findings in the caller's scope, newest first."""
    filters = services.FindingFilters(round_id=args["round_id"], unit_id=args["unit_id"], visit_id=args["visit_id"],
                                      inspector_id=args["inspector_id"], categories=tuple(args["category"]),
                                      status=args["status"])
    return services.list_findings(db.session(), current_reach(), filters, limit=page_limit(args["limit"]),
                                  after=args["after"])


@blp.get("/findings/<uuid:finding_id>")
@requires(Permission.READ_ORDERS)
@blp.response(200, FindingDetailSchema)
def get_finding(finding_id: uuid.UUID) -> dict[str, Any]:
    """A finding with its location, reporter, round, before-photos (EXIF time, GPS, flags) and orders."""
    return services.get_finding(db.session(), current_reach(), finding_id)
