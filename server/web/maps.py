"""Small maps drawn as inline SVG from the app's own zone GeoJSON: no tiles, no outside server.

Longitude and latitude are projected onto the box of what is drawn (equirectangular, with the
longitude scaled by the cosine of the latitude so a city block keeps its shape); at the scale of
a city the error is far below a pixel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.units.models import Zone

WIDTH, HEIGHT, MARGIN = 320.0, 220.0, 12.0


@dataclass
class SvgMap:
    """Paths and points ready for the template: ``outlines`` are SVG path data, ``points``
    (x, y, payload) in the same box."""

    width: float = WIDTH
    height: float = HEIGHT
    outlines: list[tuple[str, str]] = field(default_factory=list)
    points: list[tuple[float, float, Any]] = field(default_factory=list)


def _rings(geometry: dict[str, Any]) -> Iterable[list[list[float]]]:
    polygons = [geometry["coordinates"]] if geometry.get("type") == "Polygon" else geometry.get("coordinates", [])
    for polygon in polygons:
        yield from polygon


def draw(zones: list[Zone], points: list[tuple[float, float, Any]], *, width: float = WIDTH,
         height: float = HEIGHT) -> SvgMap | None:
    """The map of ``zones`` and ``points`` (lon, lat, payload), or None when there is nothing to place."""
    coords = [(c[0], c[1]) for z in zones for ring in _rings(z.geometry) for c in ring]
    coords += [(lon, lat) for lon, lat, _ in points]
    if not coords:
        return None
    lons, lats = [c[0] for c in coords], [c[1] for c in coords]
    mid_lon, mid_lat = (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2
    shrink = math.cos(math.radians(mid_lat))
    # A lone point (or a tiny zone) gets ~100 m of room around it rather than a division by zero.
    span_x = max((max(lons) - min(lons)) * shrink, 1e-3)
    span_y = max(max(lats) - min(lats), 1e-3)
    scale = min((width - 2 * MARGIN) / span_x, (height - 2 * MARGIN) / span_y)

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return (round(width / 2 + (lon - mid_lon) * shrink * scale, 1),
                round(height / 2 - (lat - mid_lat) * scale, 1))

    result = SvgMap(width=width, height=height)
    for zone in zones:
        path = " ".join("M" + " L".join("%s,%s" % xy(c[0], c[1]) for c in ring) + " Z"
                        for ring in _rings(zone.geometry))
        result.outlines.append((zone.name, path))
    result.points = [(*xy(lon, lat), payload) for lon, lat, payload in points]
    return result


def point_map(session: Session, finding: dict[str, Any]) -> SvgMap | None:
    """Where a finding was recorded, over the outlines of its unit's zones."""
    if finding.get("longitude") is None or finding.get("latitude") is None:
        return None
    zones = list(session.scalars(sa.select(Zone).where(Zone.unit_id == finding["unit_id"]))) \
        if finding.get("unit_id") else []
    return draw(zones, [(finding["longitude"], finding["latitude"], finding)])
