"""The map view and the map-app links, without a browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from h5.maps import map_links, map_view, project
from server.app import create_app
from server.directory.geo import wgs84_to_bd09, wgs84_to_gcj02
from server.directory.models import CoordinatePrecision
from server.services import Services
from server.settings import Settings
from tests.h5.conftest import Fetch

TILES = "https://tiles.example.com/{z}/{x}/{y}.png"


def pins(html: str) -> list[str]:
    return re.findall(r'<a class="pin[^"]*" href="#f-([^"]+)"', html)


def test_the_map_shows_a_pin_for_each_card_of_the_page(get: Fetch) -> None:
    page = get("/h5/en/designated/map")
    assert page.status == 200
    assert pins(page.html) == page.result_ids() and pins(page.html)
    assert page.html.count("<path d=") >= 1  # district outlines
    assert "<img" not in page.html and "<image" not in page.html  # no tile server
    assert page.headers["content-security-policy"].count("img-src 'self' data:;") == 1


def test_the_list_page_links_to_the_map_but_does_not_carry_it(get: Fetch) -> None:
    page = get("/h5/en/dental", q="dental", place="Pudong")
    assert "<svg" not in page.html and "map.css" not in page.html
    link = re.search(r'id="map-link" href="([^"]+)"', page.html)
    assert link
    href = link.group(1).replace("&amp;", "&")
    assert href.startswith("/h5/en/dental/map?") and "q=dental" in href and "place=Pudong" in href


def test_the_map_keeps_the_search_and_marks_the_visitor(get: Fetch) -> None:
    page = get("/h5/zh/dental/map", place="浦东")
    assert page.status == 200
    assert 'class="me"' in page.html
    assert "离此最近：浦东新区" in page.html


def test_the_map_points_to_other_lists_too(get: Fetch) -> None:
    page = get("/h5/en/medical/map", q="dental")
    assert 'id="other-lists"' in page.html and 'href="/h5/en/dental?q=dental"' in page.html


def test_bad_input_on_the_map_says_what_to_fix(get: Fetch) -> None:
    page = get("/h5/en/medical/map", place="zzzzqqq")
    assert page.status == 400
    assert "place" in page.errors()
    assert get("/h5/en/nowhere/map").status == 404


@pytest.fixture(scope="module")
def tiled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    var: Path = tmp_path_factory.mktemp("tiles-var")
    settings = Settings(
        environment="test", var_dir=var, map_tile_url=TILES, map_tile_attribution="© Example"
    )
    with TestClient(create_app(settings)) as c:
        yield c


def test_a_configured_tile_layer_goes_under_the_outlines(tiled: TestClient) -> None:
    r = tiled.get("/h5/en/designated/map")
    images = re.findall(
        r'<image href="(https://tiles\.example\.com/(\d+)/(\d+)/(\d+)\.png)"', r.text
    )
    assert 1 <= len(images) <= 16
    assert r.text.index("<image") < r.text.index('class="districts"')
    assert "© Example" in r.text
    # that page lets the tile server's images in; the list page does not
    assert "img-src 'self' data: https://tiles.example.com;" in r.headers["content-security-policy"]
    listed = tiled.get("/h5/en/designated")
    assert "tiles.example.com" not in listed.headers["content-security-policy"]


def test_the_view_fits_every_pin(services: Services) -> None:
    facilities = [f for f in services.directory.directory.facilities if f.city == "上海"][:6]
    view = map_view(facilities, [f.name_en for f in facilities], None, "en")
    x0, y0, w, h = (float(v) for v in view.view_box.split())
    assert len(view.pins) == len(facilities)
    for p in view.pins:
        assert x0 <= p.x <= x0 + w and y0 <= p.y <= y0 + h
    whole = map_view([], [], None, "en")
    assert len(whole.districts) == 16


def test_pins_of_one_building_stand_apart(services: Services) -> None:
    f = services.directory.directory.facilities[0]
    view = map_view([f, replace(f, id="twin")], ["a", "b"], None, "en")
    a, b = view.pins
    assert a.y == b.y and b.x - a.x >= 20 * view.stroke


def test_projection_is_web_mercator() -> None:
    # zoom 0: the world is one 256 px tile; the equator and the prime meridian cross mid-tile
    assert project(0.0, 0.0, 0) == pytest.approx((128.0, 128.0))
    x, y = project(31.2317, 121.4726, 12)
    assert (int(x // 256), int(y // 256)) == (3430, 1673)  # the OSM tile of People's Square


def test_map_app_links_use_each_apps_datum(services: Services) -> None:
    f = replace(
        services.directory.directory.facilities[0],
        coordinate_precision=CoordinatePrecision.EXACT,
    )
    amap, baidu, apple = map_links(f)
    g_lat, g_lng = wgs84_to_gcj02(f.lat, f.lng)
    b_lat, b_lng = wgs84_to_bd09(f.lat, f.lng)
    assert parse_qs(urlsplit(amap.url).query)["position"] == [f"{g_lng:.6f},{g_lat:.6f}"]
    q = parse_qs(urlsplit(baidu.url).query)
    assert q["location"] == [f"{b_lat:.6f},{b_lng:.6f}"] and q["coord_type"] == ["bd09ll"]
    assert parse_qs(urlsplit(apple.url).query)["ll"] == [f"{g_lat:.6f},{g_lng:.6f}"]


def test_an_approximate_point_is_searched_for_not_pinned(services: Services) -> None:
    f = replace(
        services.directory.directory.facilities[0],
        coordinate_precision=CoordinatePrecision.APPROXIMATE,
    )
    amap, baidu, apple = map_links(f)
    assert "/search?" in amap.url and "/place/search?" in baidu.url
    assert parse_qs(urlsplit(apple.url).query)["q"] == [f.address_zh or f.name_zh]


def test_the_facility_page_offers_the_map_apps_and_the_chinese_address(get: Fetch) -> None:
    page = get("/h5/en/facility/des-ufh-hospital")
    assert re.findall(r'data-app="(\w+)"', page.html) == ["amap", "baidu", "apple"]
    assert 'id="addr-zh" lang="zh-CN"' in page.html
    assert 'data-copy="addr-zh"' in page.html


def test_the_outlines_are_what_the_build_makes_and_say_their_source(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    from h5.maps import OUTLINES
    from server.settings import ROOT

    out = tmp_path / "outlines.json"
    subprocess.run(
        [sys.executable, "-m", "scripts.build_map", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == OUTLINES.read_bytes()
    data = json.loads(out.read_text(encoding="utf-8"))
    assert "OpenStreetMap" in data["source"] and "ODbL" in data["licence"]
    assert len(data["districts"]) == 16
    assert OUTLINES.stat().st_size < 50_000
