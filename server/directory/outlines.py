"""District outlines (OpenStreetMap admin boundaries) and the point-in-district test.

The validator uses them to refuse a facility whose point lies outside the district its
row names. Outlines are GeoJSON polygons in WGS-84, keyed by the OpenStreetMap relation
id that ``districts.csv`` records for each district.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

OUTLINES_FILE = Path("sources") / "osm_shanghai" / "shanghai_districts_osm.geojson"

Ring = list[tuple[float, float]]  # (lng, lat) vertices


@dataclass(frozen=True, slots=True)
class Outline:
    osm_id: str
    polygons: tuple[tuple[Ring, ...], ...]  # each polygon: outer ring, then holes

    def contains(self, lat: float, lng: float) -> bool:
        for rings in self.polygons:
            if (
                rings
                and _in_ring(lng, lat, rings[0])
                and not any(_in_ring(lng, lat, hole) for hole in rings[1:])
            ):
                return True
        return False


def _in_ring(x: float, y: float, ring: Ring) -> bool:
    # even-odd ray casting; the outlines are small enough (hundreds of vertices) to scan
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _rings(coords: list[list[list[float]]]) -> tuple[Ring, ...]:
    return tuple([(float(p[0]), float(p[1])) for p in ring] for ring in coords)


def read_outlines(path: Path) -> dict[str, Outline]:
    """Outlines by OpenStreetMap id (e.g. ``relation/398348``); empty if the file is absent."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, Outline] = {}
    for feature in data.get("features", []):
        osm_id = str(feature.get("id") or feature.get("properties", {}).get("@id", ""))
        geometry = feature.get("geometry") or {}
        kind, coords = geometry.get("type"), geometry.get("coordinates") or []
        polygons: tuple[tuple[Ring, ...], ...]
        if kind == "Polygon":
            polygons = (_rings(coords),)
        elif kind == "MultiPolygon":
            polygons = tuple(_rings(p) for p in coords)
        else:
            continue
        if osm_id:
            out[osm_id] = Outline(osm_id, polygons)
    return out
