"""A zone's GeoJSON cell: parsed, checked with shapely, and its bounding box."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NoReturn

from server.imports.base import Invalid
from server.imports.messages import say

POLYGON_TYPES = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class Area:
    #: Normalised (closed rings, floats), so the same shape always compares equal on re-import.
    geojson: dict[str, Any]
    #: min_lon, min_lat, max_lon, max_lat
    bounds: tuple[float, float, float, float]


def parse_area(raw: str) -> Area:
    from shapely.errors import ShapelyError
    from shapely.geometry import mapping, shape
    from shapely.validation import explain_validity

    try:
        data = json.loads(raw, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise Invalid(say("bad_json", reason=exc.msg, position=exc.pos + 1)) from None
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")  # what geojson.io and QGIS export for a single shape
    if not isinstance(data, dict) or data.get("type") not in POLYGON_TYPES:
        found = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise Invalid(say("not_a_polygon", found=found))
    try:
        geometry = shape({"type": data["type"], "coordinates": data.get("coordinates")})
    except (ShapelyError, ValueError, TypeError, IndexError, KeyError, AttributeError, OverflowError) as exc:
        raise Invalid(say("malformed_coordinates", shape=data["type"], reason=exc)) from None
    if geometry.is_empty:
        raise Invalid(say("no_coordinates", shape=data["type"]))
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise Invalid(say("coordinates_out_of_range"))
    if not geometry.is_valid:
        raise Invalid(say("invalid_polygon", reason=explain_validity(geometry)))
    geojson = json.loads(json.dumps(mapping(geometry)))
    return Area(geojson=geojson, bounds=(min_lon, min_lat, max_lon, max_lat))


def _no_constants(name: str) -> NoReturn:
    raise Invalid(say("not_a_coordinate", name=name))
