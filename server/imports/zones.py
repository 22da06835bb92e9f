"""Zones file: 责任区 (门前四包, 包抓片区, 路段, 家属院) with their GeoJSON outline."""

from __future__ import annotations

import sqlalchemy as sa

from server.imports.base import Column, Context, Outcome, Problem, Record, Spec, assign, choice, code
from server.imports.geometry import parse_area
from server.imports.references import UnitCodes
from server.units.models import Zone, ZoneKind

KINDS = {**{kind.value: kind for kind in ZoneKind},
         "门前四包": ZoneKind.FRONTAGE, "门前三包": ZoneKind.FRONTAGE, "包抓片区": ZoneKind.PATROL_AREA,
         "路段": ZoneKind.ROAD, "包抓路段": ZoneKind.ROAD, "家属院": ZoneKind.COMPOUND, "其他": ZoneKind.OTHER}

COLUMNS = (
    Column("code", ("编码", "责任区编码"), required=True, max_length=64, parse=code),
    Column("name", ("名称", "责任区名称"), required=True, max_length=200),
    Column("unit", ("单位", "单位编码", "责任单位"), required=True, max_length=64, parse=code),
    Column("kind", ("类型", "责任区类型"), required=True, parse=choice(KINDS)),
    Column("geometry", ("范围", "geojson"), required=True, parse=parse_area),
)


def check(context: Context, records: list[Record]) -> list[Problem]:
    units = UnitCodes(context)
    problems = []
    for rec in records:
        unit_code = rec.values.get("unit")
        if not unit_code:
            continue
        rec.refs["unit_id"] = units.ids.get(unit_code)
        if rec.refs["unit_id"] is None:
            problems.append(rec.problem("unit", units.unknown(unit_code)))
    return problems


def apply(context: Context, records: list[Record]) -> list[Outcome]:
    zones = {zone.code: zone for zone in context.session.scalars(
        sa.select(Zone).where(Zone.campaign_id == context.campaign.id))}
    outcomes = []
    for rec in records:
        area = rec.values["geometry"]
        min_lon, min_lat, max_lon, max_lat = area.bounds
        fields = {"name": rec.values["name"], "unit_id": rec.refs["unit_id"], "kind": rec.values["kind"],
                  "geometry": area.geojson, "min_lon": min_lon, "min_lat": min_lat,
                  "max_lon": max_lon, "max_lat": max_lat}
        zone = zones.get(rec.values["code"])
        if zone is None:
            context.session.add(Zone(campaign_id=context.campaign.id, code=rec.values["code"], **fields))
            outcomes.append(Outcome.CREATED)
        else:
            outcomes.append(Outcome.UPDATED if assign(zone, fields) else Outcome.UNCHANGED)
    return outcomes


SPEC = Spec(kind="zones", columns=COLUMNS, unique=("code",), check=check, apply=apply)
