"""The light map and the "open in a map app" links.

The map is an SVG drawn on the server: Shanghai's district outlines
(``map_data/shanghai_districts.json``, from ``scripts/build_map.py``) in Web Mercator
pixels at zoom 12, the page's facilities as numbered pins linking to their cards, and
the visitor's point. It needs no script and no tile server; with ``MAP_TILE_URL`` set,
tiles of that server are laid under the outlines (the same projection).

Map apps take their own datums: AMap and Apple Maps (which shows mainland China on
AutoNavi's map) GCJ-02, Baidu BD-09; the stored points are WGS-84.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from server.directory.geo import wgs84_to_bd09, wgs84_to_gcj02
from server.directory.models import CoordinatePrecision, Facility

OUTLINES = Path(__file__).with_name("map_data") / "shanghai_districts.json"
ZOOM = 12  # the outlines' pixel frame
MIN_SPAN = 160.0  # pixels at ZOOM: about 5 km, the closest the map zooms
PAD = 0.12  # room around the pins, a share of the span
MAX_TILES = 16


@dataclass(frozen=True, slots=True)
class Pin:
    n: int  # the number on the pin and on the card
    id: str
    label: str
    x: float
    y: float
    approximate: bool


@dataclass(frozen=True, slots=True)
class Tile:
    url: str
    x: float
    y: float
    size: float


@dataclass(frozen=True, slots=True)
class MapView:
    view_box: str
    districts: list[tuple[str, str]]  # (name, SVG path)
    pins: list[Pin]
    me: tuple[float, float] | None  # the visitor's point, when the page has one
    tiles: list[Tile]
    tile_origin: str  # the tile server's origin, for the page's image policy
    stroke: float  # a line width that looks the same at every zoom


@functools.cache
def _outlines() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(OUTLINES.read_text(encoding="utf-8"))
    for d in data["districts"]:
        boxes = []
        for ring in d["rings"]:
            xs, ys = ring[0::2], ring[1::2]
            boxes.append((min(xs), min(ys), max(xs), max(ys)))
        d["boxes"] = boxes
    return data


def project(lat: float, lng: float, zoom: int = ZOOM) -> tuple[float, float]:
    """Web Mercator pixels at ``zoom``, as tile servers number them."""
    size = 256 * 2**zoom
    s = math.sin(math.radians(max(-85.0, min(85.0, lat))))
    return (lng + 180.0) / 360.0 * size, (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * size


def map_view(
    facilities: list[Facility],
    labels: list[str],
    me: tuple[float, float] | None,
    lang: str,
    tile_url: str = "",
) -> MapView:
    data = _outlines()
    ox, oy = data["origin"]
    pins = []
    for n, (f, label) in enumerate(zip(facilities, labels, strict=True), start=1):
        x, y = project(f.lat, f.lng)
        pins.append(
            Pin(
                n,
                f.id,
                label,
                round(x - ox, 1),
                round(y - oy, 1),
                f.coordinate_precision is CoordinatePrecision.APPROXIMATE,
            )
        )
    me_xy = None
    if me is not None:
        mx, my = project(*me)
        me_xy = (round(mx - ox, 1), round(my - oy, 1))
    points = [(p.x, p.y) for p in pins] + ([me_xy] if me_xy else [])
    if points:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
        span = max(MIN_SPAN, max(xs) - min(xs), (max(ys) - min(ys)) / 1.2)
        span *= 1 + 2 * PAD
    else:  # nothing to show: the whole city
        w, h = data["size"]
        cx, cy, span = w / 2, h / 2, float(max(w, h / 1.2))
    width = span
    # pins of one building stand side by side; the view then grows to hold them
    pins = _apart(pins, 24 * width / 360)
    if pins:
        right = max(p.x for p in pins) + 16 * width / 360
        if right > cx + width / 2:
            width = 2 * (right - cx)
    height = width * 1.2  # a little taller than wide, as a phone is
    x0, y0 = cx - width / 2, cy - height / 2
    box = (x0, y0, x0 + width, y0 + height)
    districts = []
    for d in data["districts"]:
        rings = [
            r
            for r, b in zip(d["rings"], d["boxes"], strict=True)
            if b[0] <= box[2] and b[2] >= box[0] and b[1] <= box[3] and b[3] >= box[1]
        ]
        if rings:
            path = " ".join(
                "M" + " ".join(f"{r[i]} {r[i + 1]}" for i in range(0, len(r), 2)) + "Z"
                for r in rings
            )
            districts.append((d["zh"] if lang == "zh" else d["en"], path))
    stroke = width / 360  # one screen pixel on a 360 px wide map
    tiles = _tiles(tile_url, box, (ox, oy)) if tile_url else []
    return MapView(
        view_box=f"{x0:.1f} {y0:.1f} {width:.1f} {height:.1f}",
        districts=districts,
        pins=pins,
        me=me_xy,
        tiles=tiles,
        tile_origin=_origin(tile_url) if tile_url else "",
        stroke=round(stroke, 3),
    )


def _apart(pins: list[Pin], gap: float) -> list[Pin]:
    """Pins of one building side by side, so each can be tapped."""
    placed: list[Pin] = []
    for p in pins:
        x = p.x
        while any(abs(q.x - x) < gap and abs(q.y - p.y) < gap for q in placed):
            x += gap
        placed.append(Pin(p.n, p.id, p.label, round(x, 1), p.y, p.approximate))
    return placed


def _tiles(
    template: str, box: tuple[float, float, float, float], origin: tuple[float, float]
) -> list[Tile]:
    """Tiles covering the box, at the zoom that gives about 1.5 tile pixels a screen pixel."""
    width = box[2] - box[0]
    zoom = max(8, min(18, ZOOM + round(math.log2(540 / width))))
    while True:
        scale = 2 ** (ZOOM - zoom)  # outline pixels per tile pixel
        size = 256 * scale
        ox, oy = origin
        tx0, ty0 = math.floor((box[0] + ox) / size), math.floor((box[1] + oy) / size)
        tx1, ty1 = math.floor((box[2] + ox) / size), math.floor((box[3] + oy) / size)
        if (tx1 - tx0 + 1) * (ty1 - ty0 + 1) <= MAX_TILES or zoom <= 8:
            break
        zoom -= 1
    return [
        Tile(
            template.replace("{z}", str(zoom)).replace("{x}", str(tx)).replace("{y}", str(ty)),
            round(tx * size - ox, 1),
            round(ty * size - oy, 1),
            size,
        )
        for ty in range(ty0, ty1 + 1)
        for tx in range(tx0, tx1 + 1)
    ]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# --- "open in a map app" ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MapLink:
    app: str  # amap, baidu, apple
    url: str


def map_links(f: Facility) -> list[MapLink]:
    """AMap (GCJ-02), Baidu (BD-09) and Apple Maps (GCJ-02 in mainland China) links.

    An approximate point may be a district centre, so for those each app searches
    for the address (or name) instead of planting a pin at the point.
    """
    g_lat, g_lng = wgs84_to_gcj02(f.lat, f.lng)
    b_lat, b_lng = wgs84_to_bd09(f.lat, f.lng)
    name = f.name_zh or f.name_en
    words = f.address_zh or name
    approximate = f.coordinate_precision is CoordinatePrecision.APPROXIMATE
    if approximate:
        amap = "https://uri.amap.com/search?" + urlencode(
            {
                "keyword": words,
                "center": f"{g_lng:.6f},{g_lat:.6f}",
                "view": "map",
                "coordinate": "gaode",
                "callnative": "1",
            }
        )
        baidu = "https://api.map.baidu.com/place/search?" + urlencode(
            {
                "query": words,
                "location": f"{b_lat:.6f},{b_lng:.6f}",
                "radius": "5000",
                "region": f.city,
                "coord_type": "bd09ll",
                "output": "html",
                "src": "h5.directory",
            }
        )
        apple = "https://maps.apple.com/?" + urlencode(
            {"q": words, "sll": f"{g_lat:.6f},{g_lng:.6f}"}
        )
    else:
        amap = "https://uri.amap.com/marker?" + urlencode(
            {
                "position": f"{g_lng:.6f},{g_lat:.6f}",
                "name": name,
                "coordinate": "gaode",
                "callnative": "1",
            }
        )
        baidu = "https://api.map.baidu.com/marker?" + urlencode(
            {
                "location": f"{b_lat:.6f},{b_lng:.6f}",
                "title": name,
                "content": f.address_zh,
                "coord_type": "bd09ll",
                "output": "html",
                "src": "h5.directory",
            }
        )
        apple = "https://maps.apple.com/?" + urlencode(
            {"ll": f"{g_lat:.6f},{g_lng:.6f}", "q": name}
        )
    return [MapLink("amap", amap), MapLink("baidu", baidu), MapLink("apple", apple)]
