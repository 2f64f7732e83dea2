"""The list pages without JavaScript: GET form search, district, sort, paging, bad input."""

from __future__ import annotations

import pytest

from server.services import Services
from tests.h5.conftest import Fetch

PUDONG = "浦东新区"
CHANGNING = "长宁区"


def test_search_english_and_pinyin(get: Fetch) -> None:
    for q in ("Renji", "renji"):
        page = get("/h5/en/medical", q=q)
        assert page.status == 200
        assert set(page.result_ids()) == {"med-renji-special-outpatient", "med-renji-vip-pudong"}
        assert f'value="{q}"' in page.html  # the box keeps what was typed


def test_search_chinese(get: Fetch) -> None:
    page = get("/h5/zh/designated", q="和睦家")
    assert page.result_ids() and all(i.startswith("des-ufh-") for i in page.result_ids())


def test_search_without_matches_says_so(get: Fetch) -> None:
    page = get("/h5/en/dental", q="zzzzqqq")
    assert page.status == 200
    assert page.count() == "No facilities found."
    assert page.result_ids() == []


def test_district_select_lists_the_kind_districts_and_filters(get: Fetch) -> None:
    page = get("/h5/en/designated")
    assert f'<option value="{CHANGNING}">Changning District (2)</option>' in page.html
    filtered = get("/h5/en/designated", district=CHANGNING)
    assert set(filtered.result_ids()) == {"des-ufh-hospital", "des-ufh-quankou"}
    assert f'<option value="{CHANGNING}" selected>' in filtered.html
    # the English name works in a hand-written link too
    assert get("/h5/en/designated", district="Changning").result_ids() == filtered.result_ids()


def test_distance_sort_orders_by_distance_and_shows_km(get: Fetch, services: Services) -> None:
    # given a point next to United Family's Xianxia Road hospital (Changning)
    page = get("/h5/en/designated", lat="31.2085", lng="121.3602", sort="distance")
    assert page.status == 200
    ids = page.result_ids()
    assert ids[0] == "des-ufh-hospital"
    km = [float(x) for x in __import__("re").findall(r"<strong>([0-9.]+) km</strong>", page.html)]
    exact = [i for i in ids if not services.directory.get(i).approximate]  # type: ignore[union-attr]
    assert km == sorted(km) and len(km) == len(exact)
    assert page.html.count("exact location not confirmed") == len(ids) - len(exact)
    assert '<option value="distance" selected>Nearest first</option>' in page.html
    assert '<input type="hidden" name="lat" value="31.209">' in page.html  # rounded to ~100 m


def test_nearest_option_only_with_a_location(get: Fetch) -> None:
    assert 'value="distance"' not in get("/h5/en/medical").html
    assert 'value="distance"' in get("/h5/en/medical", lat="31.2", lng="121.5").html


def test_paging_with_small_pages_keeps_the_search(get: Fetch) -> None:
    first = get("/h5/en/designated", size="2", district="", q="")
    assert first.status == 200
    assert first.count() == "6 facilities"
    assert len(first.result_ids()) == 2
    assert "Page 1 of 3" in first.html
    assert first.links("prev") == []
    (next_url,) = first.links("next")
    assert next_url == "/h5/en/designated?page=2&size=2"
    second = get(next_url)
    assert "Page 2 of 3" in second.html
    third = get(second.links("next")[0])
    assert third.links("next") == []
    seen = first.result_ids() + second.result_ids() + third.result_ids()
    assert len(seen) == len(set(seen)) == 6
    # the size choice is carried by the form too
    assert '<input type="hidden" name="size" value="2">' in second.html


def test_paging_keeps_location_and_sort(get: Fetch) -> None:
    page = get("/h5/en/designated", size="2", lat="31.2", lng="121.4", sort="distance")
    (next_url,) = page.links("next")
    assert next_url == "/h5/en/designated?sort=distance&lat=31.200&lng=121.400&page=2&size=2"


def test_page_past_the_end_says_so_and_links_to_the_last_page(get: Fetch) -> None:
    page = get("/h5/en/medical", page="9", size="2")
    assert page.status == 404
    assert "There is no page 9: this list has 2 page(s)." in page.html
    assert "Page 9 of 2" not in page.html
    assert 'href="/h5/en/medical?page=2&amp;size=2"' in page.html
    zh = get("/h5/zh/medical", page="9")
    assert zh.status == 404 and "没有第 9 页：本清单共 1 页。" in zh.html


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"lat": "91", "lng": "121"},
            "lat",
            "The latitude (lat) must be a number between -90 and 90.",
        ),
        (
            {"lat": "31", "lng": "190"},
            "lng",
            "The longitude (lng) must be a number between -180 and 180.",
        ),
        (
            {"lat": "nan", "lng": "121"},
            "lat",
            "The latitude (lat) must be a number between -90 and 90.",
        ),
        (
            {"lat": "abc", "lng": "121"},
            "lat",
            "The latitude (lat) must be a number between -90 and 90.",
        ),
        ({"lat": "31.2"}, "lng", "A location needs both a latitude (lat) and a longitude (lng)."),
        ({"lat": "51.5", "lng": "-0.12"}, "lat", "Your location is outside mainland China"),
        ({"page": "-1"}, "page", "The page number must be a whole number from 1."),
        ({"page": "0"}, "page", "The page number must be a whole number from 1."),
        ({"page": "1.5"}, "page", "The page number must be a whole number from 1."),
        (
            {"page": "99999999999999999999"},
            "page",
            "The page number must be a whole number from 1.",
        ),
        ({"size": "51"}, "size", "The page size must be a whole number from 1 to 50."),
        ({"q": "x" * 5000}, "q", "The search text is too long: use at most 100 characters."),
        ({"district": "Atlantis"}, "district", "That district is not in the list."),
        ({"sort": "distance"}, "sort", "“Nearest first” needs your location."),
        ({"sort": "price"}, "sort", "Choose “Best match” or “Nearest first”."),
    ],
)
def test_bad_input_is_a_400_page_saying_what_to_fix(
    get: Fetch, params: dict[str, str], field: str, message: str
) -> None:
    page = get("/h5/en/medical", **params)
    assert page.status == 400
    errors = page.errors()
    assert field in errors
    assert errors[field].replace("&#39;", "'").startswith(message)
    assert "Please check your search" in page.html
    # the page stays usable: the form is there to fix it, and no results are guessed
    assert '<form class="search"' in page.html
    assert page.result_ids() == []
    assert "x" * 101 not in page.html  # a huge query is not echoed back


def test_bad_input_message_in_chinese(get: Fetch) -> None:
    page = get("/h5/zh/medical", page="-1")
    assert page.status == 400
    assert page.errors()["page"] == "页码必须是从 1 开始的整数。"
    assert "请检查您的搜索条件" in page.html


def test_invalid_field_is_marked_for_screen_readers(get: Fetch) -> None:
    page = get("/h5/en/medical", q="x" * 101)
    assert 'name="q" type="search" value="' + "x" * 100 + '"' in page.html
    assert 'aria-invalid="true" aria-describedby="form-errors"' in page.html
