"""Facility detail, the driver card, favourites and friendly 404 pages."""

from __future__ import annotations

import pytest

from tests.h5.conftest import Fetch


def test_facility_detail_shows_source_verified_date_and_plans(get: Fetch) -> None:
    page = get("/h5/en/facility/med-renji-vip-pudong")
    assert page.status == 200
    assert '<h1 class="name">' in page.html
    assert "Insurer&#39;s list, checked against OpenStreetMap, 2026-11" in page.html
    assert (
        "§9.7" not in page.html and "way/164024938" not in page.html
    )  # curation stays in the data
    assert "Group Comprehensive Medical Plan" in page.html
    assert "Pudong" in page.html
    assert 'href="geo:31.' in page.html  # for map apps outside the mainland ecosystem
    assert 'href="/h5/en/medical">‹ Back to the list</a>' in page.html
    assert "© OpenStreetMap contributors" in page.html
    zh = get("/h5/zh/facility/med-renji-vip-pudong")
    assert (
        "保险公司清单，已与OpenStreetMap核对，2026-11" in zh.html
        and "团体综合医疗保障计划" in zh.html
    )
    assert '<html lang="zh-CN">' in zh.html


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_driver_card_has_chinese_name_and_address_in_large_type(get: Fetch, lang: str) -> None:
    page = get(f"/h5/{lang}/facility/med-renji-vip-pudong/driver")
    assert page.status == 200
    assert '<section class="driver" lang="zh-CN"' in page.html
    assert (
        '<h1 class="driver-name">上海交通大学医学院附属仁济医院特需部(浦东分院)</h1>' in page.html
    )
    assert '<p class="driver-addr">上海市浦东新区北园路33号9号楼3楼</p>' in page.html
    assert "师傅您好，请送我到这里：" in page.html
    if lang == "en":
        assert "Show this screen to your taxi driver." in page.html


def test_driver_card_without_address_says_to_go_by_name(get: Fetch) -> None:
    page = get("/h5/en/facility/med-east-hospital-special/driver")
    assert "同济大学附属东方医院特诊部" in page.html
    assert "来源未提供地址，请按名称导航。" in page.html


def test_driver_card_phone_is_tap_to_call(get: Fetch) -> None:
    page = get("/h5/en/facility/des-ufh-hospital/driver")
    assert '<a href="tel:+862122163999">+86 21 2216 3999</a>' in page.html


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("/h5/en/facility/no-such-place", "No facility has the id “no-such-place”."),
        ("/h5/zh/facility/no-such-place", "没有编号为“no-such-place”的机构"),
        ("/h5/en/facility/no-such-place/driver", "No facility has the id"),
        ("/h5/en/hospitals", "We could not find this page."),
        ("/h5/fr/medical", "We could not find this page."),
        ("/h5/zh/a/b/c/d", "找不到该页面。"),
        ("/h5/en/qr/medical.gif", "We could not find this page."),
    ],
)
def test_unknown_pages_are_friendly_404s(get: Fetch, url: str, text: str) -> None:
    page = get(url)
    assert page.status == 404
    assert text in page.html
    assert 'href="/h5/' in page.html  # a way back to the lists
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


def test_a_long_unknown_id_is_not_echoed_in_full(get: Fetch) -> None:
    page = get("/h5/en/facility/" + "a" * 3000)
    assert page.status == 404
    assert "a" * 101 not in page.html


def test_favourites_page_renders_the_ids_it_is_given(get: Fetch) -> None:
    page = get("/h5/en/favourites", ids="des-ufh-hospital,den-arrail-biyun,gone-away,<bad>")
    assert page.status == 200
    assert page.result_ids() == ["des-ufh-hospital", "den-arrail-biyun"]
    assert "1 saved facilities are no longer listed." in page.html
    assert "<bad>" not in page.html
    assert (
        'href="/h5/zh/favourites?ids=des-ufh-hospital%2Cden-arrail-biyun%2Cgone-away"' in page.html
    )


def test_favourites_page_without_ids_explains(get: Fetch) -> None:
    page = get("/h5/zh/favourites")
    assert page.status == 200
    assert "您还没有收藏机构" in page.html
    assert (
        '<noscript><p class="errors">收藏保存在本设备上，需要启用 JavaScript。</p></noscript>'
        in page.html
    )
    assert page.result_ids() == []
