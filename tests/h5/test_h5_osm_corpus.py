"""The pages over the public OpenStreetMap corpus: many pages, credit shown, still light."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings

from .test_h5_weight import BUDGET, first_load_bytes


@pytest.fixture(scope="module")
def osm_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    var: Path = tmp_path_factory.mktemp("osm-var")
    app = create_app(Settings(environment="test", var_dir=var, directory_source="osm"))
    with TestClient(app) as c:
        yield c


def test_full_page_of_osm_results_is_within_budget(osm_client: TestClient) -> None:
    total, sizes = first_load_bytes(osm_client, "/h5/en/medical")
    page = osm_client.get("/h5/en/medical").text
    assert page.count('<li class="card"') == 20
    assert total <= BUDGET, sizes


def test_paging_through_the_osm_corpus(osm_client: TestClient) -> None:
    page = osm_client.get("/h5/en/medical", params={"size": "50"}).text
    n = int(re.search(r'id="count">(\d+) facilities<', page).group(1))  # type: ignore[union-attr]
    pages = -(-n // 50)
    assert pages > 2
    assert f"Page 1 of {pages}" in page
    seen: set[str] = set()
    for i in range(1, pages + 1):
        html = osm_client.get("/h5/en/medical", params={"size": "50", "page": str(i)}).text
        ids = re.findall(r'<li class="card" id="f-([^"]+)"', html)
        assert ids and not seen & set(ids)
        seen |= set(ids)
        assert "© OpenStreetMap contributors" in html
    assert len(seen) == n


def test_osm_distance_sort(osm_client: TestClient) -> None:
    html = osm_client.get(
        "/h5/en/medical", params={"lat": "31.23", "lng": "121.47", "sort": "distance"}
    ).text
    km = [float(x) for x in re.findall(r"<strong>([0-9.]+) km</strong>", html)]
    assert len(km) == 20 and km == sorted(km)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_osm_corpus_is_labelled_public_map_data_not_the_insurer_s_network(
    osm_client: TestClient, lang: str
) -> None:
    page = osm_client.get(f"/h5/{lang}/medical").text
    facility = re.search(r'<li class="card" id="f-([^"]+)"', page).group(1)  # type: ignore[union-attr]
    detail = osm_client.get(f"/h5/{lang}/facility/{facility}").text
    for html in (page, detail):
        assert "Direct Billing" not in html and "直付医疗机构清单" not in html
        assert "the insurer&#39;s facility lists" not in html and "保险公司机构清单" not in html
    if lang == "en":
        assert "public map data, not the insurer&#39;s network" in page
        assert "OpenStreetMap public map data (not the insurer&#39;s network)" in detail
    else:
        assert "公开地图数据，并非保险公司的直付网络" in page
        assert "OpenStreetMap 公开地图数据（并非保险公司的直付网络）" in detail


def test_the_osm_corpus_source_line_over_graphql(osm_client: TestClient) -> None:
    body = osm_client.post(
        "/graphql", json={"query": "{ facilities(first: 1) { edges { node { source } } } }"}
    ).json()
    (edge,) = body["data"]["facilities"]["edges"]
    assert edge["node"]["source"].startswith("OpenStreetMap public map data (not the insurer's")
