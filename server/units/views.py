from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response
from sqlalchemy.orm import selectinload

from server import db
from server.api import Blueprint, file_response
from server.auth.permissions import Permission
from server.auth.scope import units_condition
from server.auth.security import current_reach, current_user, requires
from server.campaigns.services import campaign_of
from server.errors import NotFound
from server.imports import units as unit_file
from server.imports import zones as zone_file
from server.imports.base import ImportReport
from server.imports.downloads import table_download
from server.imports.schemas import CampaignExportArgsSchema, CampaignImportFormSchema, ImportReportSchema
from server.imports.uploads import import_upload
from server.imports.writers import MIMETYPES
from server.pagination import PageArgsSchema, page_schema, paginate
from server.units.models import Unit, Zone
from server.units.schemas import UnitSchema, ZoneSchema

blp = Blueprint("units", __name__, url_prefix="/api/v1", description="Units (被考核单位) and their zones")


@blp.get("/units")
@requires(Permission.READ_UNITS)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_schema(UnitSchema))
def list_units(args: dict[str, Any]) -> dict[str, Any]:
    """The units visible to the caller, by id."""
    stmt = (sa.select(Unit).where(units_condition(current_reach(), Unit.id))
            .options(selectinload(Unit.contacts)))
    return paginate(db.session(), stmt, Unit.id, args)


@blp.get("/units/export")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.arguments(CampaignExportArgsSchema, location="query")
@blp.doc(**file_response(MIMETYPES.values(), "The spreadsheet, as its import reads it back"))
def export_units(args: dict[str, Any]) -> Response:
    """The campaign's units as the file the units import reads back (XLSX, or CSV UTF-8): 单位编码,
    单位名称, 考核组别, 上级单位编码, 地址, 联络员, 联系电话, 联络员邮箱; the units GET /units shows."""
    session = db.session()
    campaign = campaign_of(session, current_user(), args["campaign_id"])
    rows = unit_file.unit_rows(session, campaign, units_condition(current_reach(), Unit.id))
    return table_download(rows, args["format"], title="units", name=f"campaign-{campaign.id}-units")


@blp.get("/units/<int:unit_id>")
@requires(Permission.READ_UNITS)
@blp.response(200, UnitSchema)
def get_unit(unit_id: int) -> Unit:
    return _visible_unit(unit_id)


@blp.get("/units/<int:unit_id>/zones")
@requires(Permission.READ_UNITS)
@blp.response(200, ZoneSchema(many=True))
def list_zones(unit_id: int) -> list[Zone]:
    _visible_unit(unit_id)
    return list(db.session().scalars(sa.select(Zone).where(Zone.unit_id == unit_id).order_by(Zone.id)))


@blp.post("/units/import")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.arguments(CampaignImportFormSchema, location="form")
@blp.response(200, ImportReportSchema)
def import_units(form: dict[str, Any]) -> ImportReport:
    """Units (被考核单位) from a spreadsheet (multipart field ``file``): 单位编码, 单位名称, 考核组别,
    上级单位, 地址, 联络员, 联系电话, 联络员邮箱. Matched by code: a unit in the file is created or
    updated, the others are left as they are."""
    campaign = campaign_of(db.session(), current_user(), form["campaign_id"], "unit.import")
    return import_upload(unit_file.SPEC, campaign=campaign, dry_run=form["dry_run"])


@blp.post("/zones/import")
@requires(Permission.MANAGE_ASSESSMENTS)
@blp.arguments(CampaignImportFormSchema, location="form")
@blp.response(200, ImportReportSchema)
def import_zones(form: dict[str, Any]) -> ImportReport:
    """Responsibility zones (责任区) from a spreadsheet (multipart field ``file``): 编码, 名称, 单位编码,
    类型, 范围 (a GeoJSON Polygon or MultiPolygon). Matched by code."""
    campaign = campaign_of(db.session(), current_user(), form["campaign_id"], "zone.import")
    return import_upload(zone_file.SPEC, campaign=campaign, dry_run=form["dry_run"])


def _visible_unit(unit_id: int) -> Unit:
    """The unit, or 404 whether it does not exist or is outside the caller's scope."""
    unit = db.session().scalar(
        sa.select(Unit).where(Unit.id == unit_id, units_condition(current_reach(), Unit.id)))
    if unit is None:
        raise NotFound(f"No unit {unit_id}.")
    return unit
