"""The English list page is light: first load ≤ 50 KB of HTML + CSS + JS."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

BUDGET = 50 * 1024


def first_load_bytes(client: TestClient, url: str) -> tuple[int, dict[str, int]]:
    page = client.get(url)
    assert page.status_code == 200
    sizes = {url: len(page.content)}
    assets = re.findall(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"', page.text)
    assert len(assets) == 2, assets  # one stylesheet, one script: no framework
    for asset in assets:
        r = client.get(asset)
        assert r.status_code == 200
        sizes[asset] = len(r.content)
    # images, fonts and frames would add requests; the pages use none
    assert "<img" not in page.text and "<iframe" not in page.text and "@font-face" not in page.text
    return sum(sizes.values()), sizes


@pytest.mark.parametrize("url", ["/h5/en/medical", "/h5/en/dental", "/h5/en/designated"])
def test_english_list_first_load_is_at_most_50_kb(client: TestClient, url: str) -> None:
    total, sizes = first_load_bytes(client, url)
    assert total <= BUDGET, sizes


def test_static_files_are_cacheable(client: TestClient) -> None:
    page = client.get("/h5/en/medical").text
    css = re.search(r'href="(/h5/static/h5\.css\?v=[0-9a-f]{12})"', page).group(1)  # type: ignore[union-attr]
    r = client.get(css)
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "etag" in r.headers
    unversioned = client.get("/h5/static/h5.js")
    assert unversioned.headers["cache-control"] == "public, max-age=3600"
    assert unversioned.headers["content-type"].startswith(
        ("text/javascript", "application/javascript")
    )
