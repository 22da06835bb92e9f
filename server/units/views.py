from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from server import db
from server.api import Blueprint
from server.auth.permissions import Permission
from server.auth.scope import units_condition
from server.auth.security import current_reach, requires
from server.errors import NotFound
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


def _visible_unit(unit_id: int) -> Unit:
    """The unit, or 404 whether it does not exist or is outside the caller's scope."""
    unit = db.session().scalar(
        sa.select(Unit).where(Unit.id == unit_id, units_condition(current_reach(), Unit.id)))
    if unit is None:
        raise NotFound(f"No unit {unit_id}.")
    return unit
