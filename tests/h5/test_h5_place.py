"""A typed place instead of GPS, without JavaScript: the list sorts from it."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from server.services import Services
from tests.h5.conftest import Fetch
from tests.h5.test_h5_weight import BUDGET, first_load_bytes


def test_a_typed_district_sorts_the_list_from_its_centre(get: Fetch, services: Services) -> None:
    # given
    (pudong,) = services.directory.find_places("Pudong", 1)
    # when
    page = get("/h5/en/medical", place="Pudong")
    # then
    assert page.status == 200
    assert 'id="place-found"' in page.html and "Nearest to: Pudong" in page.html
    assert "district centre" in page.html
    assert '<option value="distance" selected>' in page.html
    same = get("/h5/en/medical", lat=f"{pudong.lat:.3f}", lng=f"{pudong.lng:.3f}", sort="distance")
    assert page.result_ids() == same.result_ids()
    kms = [float(k) for k in re.findall(r"<strong>([\d.]+) km", page.html)]
    assert kms and kms == sorted(kms)
    # the form keeps the words typed, not coordinates
    assert 'name="lat"' not in page.html
    assert 'value="Pudong"' in page.html


def test_a_pasted_chinese_address(get: Fetch) -> None:
    page = get("/h5/zh/designated", place="上海市黄浦区山东中路145号")
    assert page.status == 200
    assert "离此最近：山东中路" in page.html


def test_other_matches_are_offered(get: Fetch) -> None:
    page = get("/h5/en/medical", place="huashan")
    assert 'class="place-others"' in page.html


def test_the_place_and_the_query_and_district_survive_paging_and_language(get: Fetch) -> None:
    page = get("/h5/en/medical", place="Pudong", q="clinic", size="1")
    links = re.findall(r'href="(/h5/en/medical\?[^"]+page=2[^"]*)"', page.html)
    assert links, page.html
    link = links[0].replace("&amp;", "&")
    assert "place=Pudong" in link and "q=clinic" in link and "lat=" not in link
    switch = re.search(r'href="(/h5/zh/medical\?[^"]+)"', page.html)
    assert switch and "place=Pudong" in switch.group(1)


def test_an_unknown_place_says_what_to_type(get: Fetch) -> None:
    page = get("/h5/en/medical", place="zzzzqqq")
    assert page.status == 400
    assert page.errors()["place"].startswith("We could not find that place.")
    assert 'aria-invalid="true"' in page.html
    zh = get("/h5/zh/medical", place="zzzzqqq")
    assert zh.errors()["place"].startswith("未找到该位置")


def test_a_long_place_is_refused(get: Fetch) -> None:
    page = get("/h5/en/medical", place="x" * 101)
    assert page.status == 400
    assert "place" in page.errors()


def test_the_footer_says_what_happens_to_a_position(get: Fetch) -> None:
    html = get("/h5/en/medical").html
    assert "rounded to about 100 m before it leaves this browser" in html
    assert "not kept in our logs" in html


def test_a_list_with_a_typed_place_and_other_lists_stays_light(client: TestClient) -> None:
    total, sizes = first_load_bytes(client, "/h5/en/medical?place=Pudong&q=renj")
    assert total <= BUDGET, sizes
    total, sizes = first_load_bytes(client, "/h5/en/medical?q=dental")
    assert total <= BUDGET, sizes


def test_a_typed_metro_station_sorts_the_list_from_it(get: Fetch, services: Services) -> None:
    (station,) = services.directory.find_places("Jing'an Temple", 1)
    page = get("/h5/en/designated", place="Jing'an Temple")
    assert page.status == 200
    assert "Nearest to: 静安寺 (Jingansi) station" in page.html
    same = get(
        "/h5/en/designated", lat=f"{station.lat:.3f}", lng=f"{station.lng:.3f}", sort="distance"
    )
    assert page.result_ids() == same.result_ids()
    assert page.result_ids()[0] == "des-parkway-ruixin"
    zh = get("/h5/zh/designated", place="静安寺站")
    assert "离此最近：静安寺站" in zh.html
