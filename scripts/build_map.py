"""Build the district outlines the H5 map draws: ``make data`` runs it.

    python -m scripts.build_map

Reads the 16 district boundaries of the OpenStreetMap extract
(``directory_data/sources/osm_shanghai/shanghai_districts_osm.geojson``, WGS-84),
keeps the parts in Shanghai proper (Jing'an also administers a farm in Jiangsu),
projects them to Web Mercator pixels at zoom 12 (about 32 m a pixel in Shanghai,
the frame tiles use too), simplifies each ring (Douglas-Peucker, 1.5 pixels) and
writes ``h5/map_data/shanghai_districts.json``: integers, a few dozen KB, no tile
server needed. The same sources give the same bytes.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from server.settings import ROOT

SOURCE = ROOT / "directory_data" / "sources" / "osm_shanghai" / "shanghai_districts_osm.geojson"
OUT = ROOT / "h5" / "map_data" / "shanghai_districts.json"
ZOOM = 12
TOLERANCE = 1.5  # pixels at ZOOM: about 50 m
SHANGHAI_BOX = (30.6, 31.95, 120.8, 122.3)  # south, north, west, east
# Pudong's boundary runs far into the sea: the frame ends where the land does
FRAME = (30.65, 31.9, 120.85, 122.0)


def world(lat: float, lng: float, zoom: int = ZOOM) -> tuple[float, float]:
    """Web Mercator pixel coordinates (EPSG:3857 at 256 px a tile)."""
    size = 256 * 2**zoom
    x = (lng + 180.0) / 360.0 * size
    s = math.sin(math.radians(lat))
    y = (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * size
    return x, y


def simplify(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas-Peucker, iterative; the ends are kept."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        (x0, y0), (x1, y1) = points[a], points[b]
        dx, dy = x1 - x0, y1 - y0
        norm = math.hypot(dx, dy)
        far, at = 0.0, -1
        for i in range(a + 1, b):
            x, y = points[i]
            d = (
                abs(dy * x - dx * y + x1 * y0 - y1 * x0) / norm
                if norm
                else math.hypot(x - x0, y - y0)
            )
            if d > far:
                far, at = d, i
        if far > tolerance:
            keep[at] = True
            stack += [(a, at), (at, b)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def _polygons(geometry: dict[str, Any]) -> list[list[list[list[float]]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return list(geometry["coordinates"])
    return []


def build() -> dict[str, Any]:
    data = json.loads(SOURCE.read_text(encoding="utf-8"))
    south, north, west, east = SHANGHAI_BOX
    ox, oy = world(FRAME[1], FRAME[2])
    ex, ey = world(FRAME[0], FRAME[3])
    districts = []
    for feature in sorted(data["features"], key=lambda f: f["properties"].get("@id", "")):
        p = feature["properties"]
        if str(p.get("admin_level")) != "6":
            continue
        rings = []
        for polygon in _polygons(feature["geometry"]):
            if not any(west <= x <= east and south <= y <= north for x, y, *_ in polygon[0]):
                continue
            for ring in polygon[:1]:  # outer rings: holes are other districts' land
                pts = [world(lat, lng) for lng, lat, *_ in ring]
                pts = [(x - ox, y - oy) for x, y in pts]
                small = simplify(pts, TOLERANCE)
                flat = [v for x, y in small for v in (round(x), round(y))]
                if len(flat) >= 6:
                    rings.append(flat)
        if rings:
            districts.append({"zh": p["name"], "en": p.get("name:en", p["name"]), "rings": rings})
    return {
        "source": "OpenStreetMap district boundaries (admin_level 6), Overpass export "
        "2026-05-18, via ECNUjohnny/hospital-dataviz; simplified by scripts/build_map.py",
        "licence": "© OpenStreetMap contributors, ODbL 1.0",
        "zoom": ZOOM,
        "origin": [round(ox, 3), round(oy, 3)],
        "size": [round(ex - ox), round(ey - oy)],
        "districts": districts,
    }


def main(argv: list[str] | None = None) -> int:
    out = Path(argv[0]) if argv else OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(build(), ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    print(f"wrote {out} ({out.stat().st_size} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
