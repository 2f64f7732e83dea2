"""Every H5 page renders, in both languages, with what each result must show."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from server.directory.geo import wgs84_to_gcj02
from server.services import Services
from tests.h5.conftest import Fetch

LISTS = [
    f"/h5/{lang}/{kind}" for lang in ("en", "zh") for kind in ("medical", "dental", "designated")
]


@pytest.mark.parametrize("url", LISTS)
def test_every_list_page_renders_with_lang_and_attribution(get: Fetch, url: str) -> None:
    page = get(url)
    assert page.status == 200
    lang = "en" if "/en/" in url else "zh-CN"
    assert f'<html lang="{lang}">' in page.html
    assert "© OpenStreetMap contributors" in page.html
    assert page.result_ids()  # every list holds facilities


def test_list_counts_match_the_directory(get: Fetch, services: Services) -> None:
    # given the curated data
    by_kind: dict[str, int] = {}
    for f in services.directory.directory.facilities:
        by_kind[f.kind.value] = by_kind.get(f.kind.value, 0) + 1
    for kind, n in by_kind.items():
        # when the list page is opened
        page = get(f"/h5/en/{kind}")
        # then it counts and shows every facility of that kind
        assert page.count() == (f"{n} facilities" if n != 1 else "1 facility")
        assert len(page.result_ids()) == n
        zh = get(f"/h5/zh/{kind}")
        assert zh.count() == f"共 {n} 家机构"


def test_security_headers_on_pages(get: Fetch) -> None:
    page = get("/h5/en/medical")
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    # CSP forbids inline code, so the page must carry none
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.html)
    assert " style=" not in page.html and "<style" not in page.html
    assert " onclick=" not in page.html


def test_english_result_shows_names_tags_departments_address(get: Fetch) -> None:
    html = get("/h5/en/medical").html
    card = _card(html, "med-renji-vip-pudong")
    assert "Renji Hospital VIP Department (Pudong Branch)" in card
    assert (
        '<p class="other" lang="zh-CN">上海交通大学医学院附属仁济医院特需部(浦东分院)</p>' in card
    )
    assert "<li>Public</li><li>Grade 3A</li><li>General</li>" in card
    assert "Cardiology · Rheumatic and Rheumatoid Diseases" in card
    assert "3/F, Building 9, No. 33 Beiyuan Road" in card
    assert "上海市浦东新区北园路33号9号楼3楼" in card  # the Chinese address, for drivers and maps
    assert 'href="/h5/en/facility/med-renji-vip-pudong/driver">Show to driver</a>' in card
    assert 'data-fav="med-renji-vip-pudong"' in card


def test_chinese_result_uses_chinese_tags(get: Fetch) -> None:
    html = get("/h5/zh/medical").html
    card = _card(html, "med-shuguang-east-special")
    assert "<li>公立</li><li>三甲</li><li>综合</li>" in card
    assert "传统中医科 · 内分泌科 · 肛肠科 · 肿瘤科" in card
    assert '<p class="other" lang="en">Shuguang Hospital (East Campus) Special Clinic</p>' in card
    dental = _card(get("/h5/zh/dental").html, "den-arrail-biyun")
    assert "<li>非公立</li><li>齿科</li>" in dental


def test_unknown_ownership_shows_no_ownership_tag(get: Fetch) -> None:
    card = _card(get("/h5/en/medical").html, "med-east-hospital-special")
    tags = re.search(r'<ul class="tags">(.*?)</ul>', card).group(1)  # type: ignore[union-attr]
    assert tags == "<li>General</li>"
    assert "Address not given by the source" in card


def test_approximate_location_is_marked_and_map_searches(get: Fetch) -> None:
    html = get("/h5/en/dental").html
    card = _card(html, "den-arrail-biyun")
    assert "Pudong, exact location not confirmed" in card
    assert "Only the area is confirmed, so no distance is shown" in card  # said, not a tooltip
    # a district-centre point must not be pinned as if it were the clinic
    assert "https://uri.amap.com/search?" in card and "Find on map (Amap)" in card


def test_exact_location_map_link_is_gcj02(get: Fetch, services: Services) -> None:
    f = services.directory.get("med-shuguang-east-special")
    assert f is not None
    card = _card(get("/h5/en/medical").html, f.id)
    assert "exact location not confirmed" not in card
    href = re.search(r'href="(https://uri\.amap\.com/marker\?[^"]+)"', card).group(1)  # type: ignore[union-attr]
    query = parse_qs(urlsplit(href.replace("&amp;", "&")).query)
    lng, lat = (float(v) for v in query["position"][0].split(","))
    g_lat, g_lng = wgs84_to_gcj02(f.lat, f.lng)
    assert (round(lat, 6), round(lng, 6)) == (round(g_lat, 6), round(g_lng, 6))
    assert (lat, lng) != (round(f.lat, 6), round(f.lng, 6))  # really converted
    assert query["coordinate"] == ["gaode"]
    assert ">Map (Amap)</a>" in card


def test_phone_is_tap_to_call(get: Fetch) -> None:
    card = _card(get("/h5/en/designated").html, "des-ufh-hospital")
    assert '<a class="btn" href="tel:+862122163999">Call +86 21 2216 3999</a>' in card
    # a facility without a phone gets no call link
    assert "tel:" not in _card(get("/h5/en/designated").html, "des-ufh-quankou")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_designated_list_shows_both_plan_notes(get: Fetch, lang: str) -> None:
    html = get(f"/h5/{lang}/designated").html
    if lang == "zh":
        assert "特定医疗机构赔付比例根据每个客户的计划不同" in html
        assert "以公司APP当时公布的特定医疗机构列表为准" in html
    else:
        assert (
            "Reimbursement ratios at designated facilities depend on each client's plan"
            in html.replace("&#39;", "'")
        )
        assert "the list published in the company's app at that time applies" in html.replace(
            "&#39;", "'"
        )
    assert "特定医疗机构赔付比例" not in get(f"/h5/{lang}/medical").html


def test_language_switch_keeps_the_search(get: Fetch) -> None:
    html = get("/h5/en/medical", q="renji").html
    assert 'href="/h5/zh/medical?q=renji"' in html


def test_index_and_root(get: Fetch) -> None:
    root = get("/h5/")
    assert root.status == 302 and root.headers["location"] == "/h5/en"
    for lang in ("en", "zh"):
        page = get(f"/h5/{lang}")
        assert page.status == 200
        assert f'href="/h5/{lang}/medical"' in page.html


def _card(html: str, facility_id: str) -> str:
    m = re.search(rf'<li class="card" id="f-{re.escape(facility_id)}">(.*?)\n</li>', html, re.S)
    assert m, f"no card for {facility_id}"
    return m.group(1)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(
    "path", ["/medical", "/dental", "/designated", "", "/favourites", "/facility/den-arrail-biyun"]
)
def test_every_directory_page_explains_direct_billing(get: Fetch, lang: str, path: str) -> None:
    html = get(f"/h5/{lang}{path}").html
    # book 2 working days ahead on the booking line, dialable from a foreign phone; 120
    assert 'href="tel:+8610108686"' in html and "1010-8686 (+86 1010 8686)" in html
    assert 'href="tel:120"' in html
    if lang == "en":
        assert "Book at least 2 working days ahead" in html
        assert "Bring your ID (ID card or passport) and your direct-billing card." in html
        assert "you pay only costs your plan does not cover" in html
        assert "CPIC Allianz Health Insurance · list checked 2026-11-" in html
        assert "：" not in html.split("<footer")[0].replace("师傅您好，请送我到这里：", "")
    else:
        assert "请至少提前 2 个工作日致电预约专线" in html
        assert "太保安联健康保险 · 清单核对日期 2026-11-" in html


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_designated_facility_page_shows_the_list_s_two_notes(get: Fetch, lang: str) -> None:
    html = get(f"/h5/{lang}/facility/des-parkway-ruikang").html
    if lang == "en":
        assert "Reimbursement ratios at designated facilities depend on each client" in html
        assert "the list published in the company" in html
    else:
        assert "特定医疗机构赔付比例根据每个客户的计划不同" in html
        assert "以公司APP当时公布的特定医疗机构列表为准" in html


def test_the_site_root_is_a_landing_page_with_the_three_lists_in_both_languages(
    client: TestClient,
) -> None:
    r = client.get("/")
    assert r.status_code == 200
    for lang in ("en", "zh"):
        for kind in ("medical", "dental", "designated"):
            assert f'href="/h5/{lang}/{kind}"' in r.text
    assert "Direct Billing Medical Facility List" in r.text and "直付医疗机构" in r.text


@pytest.mark.parametrize(
    ("header", "lang"),
    [("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("en-GB,en;q=0.9", "en"), ("fr-FR", "en"),
     ("en;q=0.5, zh;q=0.8", "zh"), ("", "en")],
)  # fmt: skip
def test_h5_root_follows_accept_language(client: TestClient, header: str, lang: str) -> None:
    r = client.get("/h5/", headers={"Accept-Language": header}, follow_redirects=False)
    assert r.status_code == 302
    assert r.headers["location"] == f"/h5/{lang}"
    assert "Accept-Language" in r.headers["vary"]


def test_the_language_link_names_what_it_shows(get: Fetch) -> None:
    html = get("/h5/en/medical").html
    link = re.search(r'<a class="lang-switch"[^>]*>(.*?)</a>', html).group(1)  # type: ignore[union-attr]
    assert "aria-label" not in re.search(r'<a class="lang-switch"[^>]*>', html).group(0)  # type: ignore[union-attr]
    assert '<span lang="zh-CN">中文</span>' in link and "Chinese version" in link


def test_favourites_without_javascript_do_not_claim_a_save_button(get: Fetch) -> None:
    html = get("/h5/en/favourites").html
    # the "tap Save" hint only shows once h5.js runs; without it only the noscript note does
    assert '<p id="fav-empty" class="needs-js">' in html
    assert "need JavaScript" in html or "needs JavaScript" in html
