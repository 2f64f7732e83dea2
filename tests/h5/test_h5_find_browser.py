"""Finding the right door in Chromium at 360 px: forgiving search, a typed place, the map."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.app import create_app
from server.settings import Settings
from tests.h5.browser_helpers import (
    free_port,
    serving,
    watch_page,
)

pytestmark = pytest.mark.browser


def _serve(settings: Settings) -> Iterator[str]:
    port = free_port()
    with serving(create_app(settings), port):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _serve(Settings(environment="test", var_dir=tmp_path_factory.mktemp("find-var")))


@pytest.fixture(scope="module")
def osm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # the public corpus: hospitals in every district, Jing'an's among them
    var: Path = tmp_path_factory.mktemp("find-osm-var")
    yield from _serve(Settings(environment="test", var_dir=var, directory_source="osm"))


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    p = ctx.new_page()
    errors = watch_page(p)
    yield p
    ctx.close()
    assert errors == []


def ids(page: Any) -> list[str]:
    return [
        i.removeprefix("f-")
        for i in page.locator("ol.results li.card").evaluate_all("els => els.map(e => e.id)")
    ]


def search(page: Any, url: str, words: str) -> list[str]:
    page.goto(url)
    page.get_by_label("Search by name").fill(words)
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    return ids(page)


def test_renj_finds_renji(page: Any, live_server: str) -> None:
    url = f"{live_server}/h5/en/medical"
    renji = search(page, url, "Renji")
    assert renji
    for typed in ("renj", "Rengi", "ren ji"):
        assert search(page, url, typed) == renji, typed


def test_jingan_finds_what_the_chinese_finds(page: Any, osm_server: str) -> None:
    url = f"{osm_server}/h5/en/medical?size=50"
    page.goto(f"{osm_server}/h5/zh/medical?size=50&q=%E9%9D%99%E5%AE%89")  # 静安
    expected = ids(page)
    assert len(expected) >= 5
    page.goto(url)
    page.get_by_label("Search by name").fill("Jing'an")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**q=Jing*")
    assert ids(page) == expected


def test_a_word_of_another_list_points_there(page: Any, live_server: str) -> None:
    search(page, f"{live_server}/h5/en/medical", "dental")
    link = page.locator("#other-lists a")
    assert link.count() == 1 and link.inner_text().startswith("Dental: ")
    link.click()
    page.wait_for_url("**/h5/en/dental?q=dental")
    assert ids(page)


def test_typed_place_gives_the_nearest_list(page: Any, live_server: str) -> None:
    # given: no GPS, a district typed
    page.goto(f"{live_server}/h5/en/designated")
    page.get_by_label("Or type where you are").fill("Changning")
    # when
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**place=Changning*")
    # then: nearest first, from Changning's centre
    assert page.locator("#place-found").inner_text().startswith("Nearest to: Changning District")
    assert page.get_by_label("Sort").input_value() == "distance"
    # exact points in order of distance; an estimated point shows its area, not a km
    shown = page.locator(".dist strong").all_inner_texts()
    km = [float(t.split()[0]) for t in shown if t.endswith(" km")]
    assert km and km == sorted(km)
    assert "lat=" not in page.url


def test_nearest_keeps_the_district_and_the_words(browser: Any, live_server: str) -> None:
    ctx = browser.new_context(
        viewport={"width": 360, "height": 740},
        geolocation={"latitude": 31.20851, "longitude": 121.36024},
        permissions=["geolocation"],
    )
    try:
        page = ctx.new_page()
        page.goto(f"{live_server}/h5/en/designated?district=%E9%95%BF%E5%AE%81%E5%8C%BA&q=clinic")
        page.get_by_role("button", name="Nearest to me").click()
        page.wait_for_url("**sort=distance*")
        assert "district=%E9%95%BF%E5%AE%81%E5%8C%BA" in page.url and "q=clinic" in page.url
        # rounded to 3 decimals (~100 m) before it left the browser
        assert "lat=31.209&" in page.url and "lng=121.360" in page.url
    finally:
        ctx.close()


def test_map_view_with_pins_opens_a_card(page: Any, live_server: str) -> None:
    # given: the list, whose first load has no map in it
    page.goto(f"{live_server}/h5/en/designated?place=Changning")
    assert page.locator("svg#map").count() == 0
    listed = ids(page)
    # when: the map is asked for
    page.get_by_role("link", name="Map", exact=True).click()
    page.wait_for_url("**/designated/map?*")
    # then: district outlines, one pin per facility of the page, and the visitor's point
    svg = page.locator("svg#map")
    assert svg.is_visible()
    box = svg.bounding_box()
    assert box["width"] <= 360
    assert page.locator("svg#map .districts path").count() >= 1
    pins = page.locator("svg#map a.pin")
    assert pins.count() == len(listed)
    assert page.locator("svg#map .me").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # a pin opens its facility's card (pins of one building stand side by side)
    first = pins.nth(pins.count() - 1)
    target = first.get_attribute("href")
    first.click()
    page.wait_for_url(f"**{target}")
    card = page.locator(f"li.card{target}")
    assert card.is_visible()
    assert page.evaluate("location.hash") == target
    assert ids(page) == listed


def test_open_in_map_apps(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/h5/en/facility/des-ufh-hospital")
    apps = page.locator(".map-apps a")
    hrefs = apps.evaluate_all("els => els.map(e => e.href)")
    assert [h.split("/")[2] for h in hrefs] == [
        "uri.amap.com",
        "api.map.baidu.com",
        "maps.apple.com",
    ]
    assert "coord_type=bd09ll" in hrefs[1]
    assert page.locator("#addr-zh").inner_text().startswith("上海市")


@pytest.mark.parametrize(
    "path",
    [
        "/h5/en/designated/map?place=Changning",
        "/h5/zh/dental/map?q=%E9%BD%BF%E7%A7%91",
        "/h5/en/medical?place=Pudong&q=renj",
        "/h5/en/medical?q=dental",
        "/h5/en/facility/des-ufh-hospital",
    ],
)
def test_no_serious_accessibility_violation(page: Any, live_server: str, path: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    page.goto(f"{live_server}{path}")
    results = Axe().run(page)
    serious = [
        (v["id"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []


def test_copy_the_chinese_address(browser: Any, live_server: str) -> None:
    ctx = browser.new_context(
        viewport={"width": 360, "height": 740}, permissions=["clipboard-read", "clipboard-write"]
    )
    try:
        page = ctx.new_page()
        page.goto(f"{live_server}/h5/en/facility/des-ufh-hospital")
        button = page.get_by_role("button", name="Copy Chinese address")
        button.click()
        page.wait_for_function("document.querySelector('[data-copy]').textContent === 'Copied'")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == page.locator("#addr-zh").inner_text()
        assert copied.startswith("上海市")
    finally:
        ctx.close()
