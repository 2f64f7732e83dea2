"""Basic accessibility that plain HTML can show: labels, button text, language marks."""

from __future__ import annotations

import re

import pytest

from tests.h5.conftest import Fetch

PAGES = [
    "/h5/en/medical",
    "/h5/zh/dental",
    "/h5/en/designated?lat=31.2&lng=121.4&sort=distance",
    "/h5/en/medical?page=-1",
    "/h5/en/facility/des-ufh-hospital",
    "/h5/zh/facility/des-ufh-hospital/driver",
    "/h5/en/favourites?ids=den-arrail-biyun",
    "/h5/en/nowhere",
    "/h5/en/designated/map?place=Changning",
    "/h5/zh/medical?place=%E6%B5%A6%E4%B8%9C",
]


@pytest.mark.parametrize("url", PAGES)
def test_every_control_has_a_label_and_every_button_text(get: Fetch, url: str) -> None:
    html = get(url).html
    assert re.search(r'<html lang="(en|zh-CN)">', html)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    for tag in re.findall(r"<(?:input|select)\b[^>]*>", html):
        if 'type="hidden"' in tag:
            continue
        control_id = re.search(r'\bid="([^"]+)"', tag)
        assert control_id, tag
        assert f'<label for="{control_id.group(1)}">' in html, tag
    for text in re.findall(r"<button\b[^>]*>(.*?)</button>", html, re.S):
        assert text.strip(), "a button needs visible text"
    for text in re.findall(r"<a\b[^>]*>(.*?)</a>", html, re.S):
        assert re.sub(r"<[^>]+>", "", text).strip(), "a link needs text"
    assert html.count("<h1") == 1


def test_other_language_text_is_marked(get: Fetch) -> None:
    html = get("/h5/en/medical").html
    assert '<p class="other" lang="zh-CN">上海交通大学医学院附属仁济医院特约门诊</p>' in html
    assert (
        'hreflang="zh-CN"><span lang="zh-CN">中文</span><span class="vh"> (Chinese version)</span></a>'
        in html
    )


def test_the_current_list_is_marked_in_the_list_switcher(get: Fetch) -> None:
    html = get("/h5/en/dental").html
    assert '<a href="/h5/en/dental" aria-current="page">Dental</a>' in html


def test_a_real_district_with_no_facility_of_the_kind_stays_selected(get: Fetch) -> None:
    page = get("/h5/en/medical", district="长宁区")
    assert page.status == 200
    assert page.count() == "No facilities found."
    assert '<option value="长宁区" selected>Changning District (0)</option>' in page.html
