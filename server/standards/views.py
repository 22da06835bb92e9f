"""Standards (考核细则): imported from the office's spreadsheet, listed, published and exported."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Response, send_file
from server.api import Blueprint, file_response

from server import db
from server.auth.permissions import Permission
from server.auth.security import current_user, requires
from server.campaigns.services import campaign_of, require
from server.clock import app_clock
from server.imports import standards as standard_file
from server.imports.base import ImportReport
from server.imports.schemas import ExportArgsSchema, ImportReportSchema
from server.imports.uploads import import_upload
from server.imports.writers import MIMETYPES
from server.standards import services
from server.standards.models import Standard
from server.standards.schemas import (StandardDetailSchema, StandardImportFormSchema, StandardListArgsSchema,
                                      StandardSchema)

blp = Blueprint("standards", __name__, url_prefix="/api/v1", description="Standards (考核细则) and their versions")


def _standard(standard_id: int) -> Standard:
    return services.standard_of(db.session(), current_user(), standard_id)


@blp.get("/standards")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.arguments(StandardListArgsSchema, location="query")
@blp.response(200, StandardSchema(many=True))
def list_standards(args: dict[str, Any]) -> list[Standard]:
    """Every version of the campaign's standards, by code and version."""
    campaign = campaign_of(db.session(), current_user(), args["campaign_id"])
    return list(db.session().scalars(sa.select(Standard).where(Standard.campaign_id == campaign.id)
                                     .order_by(Standard.code, Standard.version)))


@blp.post("/standards/import")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.arguments(StandardImportFormSchema, location="form")
@blp.response(200, ImportReportSchema)
def import_standard(form: dict[str, Any]) -> ImportReport:
    """Import a standard's items from a spreadsheet (multipart field ``file``): replaces the newest
    version while it is a draft, or makes the next version once that one is published."""
    campaign = campaign_of(db.session(), current_user(), form["campaign_id"], "standard.import")
    target = standard_file.StandardTarget(code=form["code"], name=form["name"],
                                          full_score=form["full_score"] or Decimal(100),
                                          scoring_model=form["scoring_model"])
    return import_upload(standard_file.SPEC, campaign=campaign, target=target, dry_run=form["dry_run"])


@blp.get("/standards/<int:standard_id>")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.response(200, StandardDetailSchema)
def get_standard(standard_id: int) -> Standard:
    return _standard(standard_id)


@blp.post("/standards/<int:standard_id>/publish")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.response(200, StandardSchema)
def publish_standard(standard_id: int) -> Standard:
    session = db.session()
    standard = _standard(standard_id)
    require(current_user(), "standard.publish", standard.campaign_id)
    standard = services.publish(session, app_clock(), current_user(), standard)
    session.commit()
    return standard


@blp.get("/standards/<int:standard_id>/export")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.arguments(ExportArgsSchema, location="query")
@blp.doc(**file_response(MIMETYPES.values(), "The spreadsheet, as its import reads it back"))
def export_standard(args: dict[str, Any], standard_id: int) -> Response:
    """The standard as a spreadsheet its import reads back (XLSX, or CSV UTF-8)."""
    standard = _standard(standard_id)
    fmt = args["format"]
    return send_file(io.BytesIO(services.export(standard, fmt)), mimetype=MIMETYPES[fmt], as_attachment=True,
                     download_name=f"standard-{standard.code}-v{standard.version}.{fmt}")
