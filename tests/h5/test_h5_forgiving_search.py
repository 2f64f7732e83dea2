"""The list pages forgive how a foreign client types, and point to the right list."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from tests.h5.conftest import Fetch

RENJI = {"med-renji-special-outpatient", "med-renji-vip-pudong"}


@pytest.mark.parametrize("q", ["renj", "Rengi", "ren ji", "RENJI"])
def test_renji_half_typed_mistyped_or_spaced(get: Fetch, q: str) -> None:
    page = get("/h5/en/medical", q=q)
    assert page.status == 200
    assert set(page.result_ids()) == RENJI


@pytest.fixture(scope="module")
def osm_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    # the public corpus has hospitals in every district, Jing'an's among them
    var: Path = tmp_path_factory.mktemp("osm-var")
    app = create_app(Settings(environment="test", var_dir=var, directory_source="osm"))
    with TestClient(app) as c:
        yield c


def _ids(client: TestClient, url: str, q: str) -> list[str]:
    html = client.get(url, params={"q": q, "size": "50"}).text
    return re.findall(r'<li class="card" id="f-([^"]+)"', html)


@pytest.mark.parametrize("q", ["Jing'an", "Jing’an", "jingan", "Jingan", "jing an"])
def test_jingan_spelled_any_way_finds_what_the_chinese_finds(
    osm_client: TestClient, q: str
) -> None:
    expected = _ids(osm_client, "/h5/zh/medical", "静安")
    assert len(expected) >= 5
    assert _ids(osm_client, "/h5/en/medical", q) == expected


@pytest.mark.parametrize(("en", "zh"), [("dental", "齿科"), ("emergency", "急诊")])
def test_tag_words_in_either_language(get: Fetch, en: str, zh: str) -> None:
    for kind in ("dental", "designated"):
        assert set(get(f"/h5/en/{kind}", q=en).result_ids()) == set(
            get(f"/h5/zh/{kind}", q=zh).result_ids()
        )


def test_a_word_of_another_list_points_to_it_with_its_count(get: Fetch) -> None:
    # given: "dental" typed on the medical list
    dental = get("/h5/en/dental", q="dental")
    n = len(dental.result_ids())
    assert n > 0
    # when
    page = get("/h5/en/medical", q="dental")
    # then
    m = re.search(r'<p class="other-lists" id="other-lists">(.*?)</p>', page.html, re.S)
    assert m, page.html
    assert f'href="/h5/en/dental?q=dental">Dental: {n}</a>' in m.group(1)
    zh = get("/h5/zh/medical", q="齿科")
    assert f'href="/h5/zh/dental?q=%E9%BD%BF%E7%A7%91">齿科：{n} 家</a>' in zh.html


def test_no_pointer_without_words(get: Fetch) -> None:
    assert 'id="other-lists"' not in get("/h5/en/medical").html
