"""The built static site: what it holds, the same bytes twice, the app serving it."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import brotli
import pytest
from starlette.testclient import TestClient

from scripts.build_static import FIRST_ROWS, SHARD_ROWS, build, search_files, static_path
from server.app import create_app
from server.services import Services
from server.settings import Settings


@pytest.fixture(scope="module")
def site(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "out"
    build(settings, out)
    return out


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_urls_map_to_files() -> None:
    assert static_path("/h5/en/medical") == "/h5/en/medical/"
    assert static_path("/h5/en/medical?page=1") == "/h5/en/medical/"
    assert static_path("/h5/en/medical?page=3") == "/h5/en/medical/page/3/"
    assert static_path("/h5/static/h5.css?v=2ec039d20bc0") == "/h5/static/h5.2ec039d20bc0.css"
    assert static_path("/h5/en/qr/medical.svg") == "/h5/en/qr/medical.svg"
    assert static_path("/h5/en/medical?q=renji") is None  # a search: the app's


def test_the_site_holds_every_page_with_its_source_and_date(site: Path, services: Services) -> None:
    directory = services.directory.directory
    for lang in ("en", "zh"):
        for page in (
            "index.html",
            "medical/index.html",
            "dental/index.html",
            "favourites/index.html",
            "faq/index.html",
        ):
            assert (site / "h5" / lang / page).is_file(), (lang, page)
        for f in directory.facilities:
            assert (site / "h5" / lang / "facility" / f.id / "index.html").is_file()
            assert (site / "h5" / lang / "facility" / f.id / "driver" / "index.html").is_file()
    for kind in ("medical", "dental", "designated"):
        assert (site / "h5/en/qr" / f"{kind}.svg").read_bytes().lstrip().startswith(b"<")
        assert (site / "h5/en/qr" / f"{kind}.png").read_bytes().startswith(b"\x89PNG")
    # every page states the data date and the lists' source
    for html in site.rglob("*.html"):
        text = html.read_text()
        assert directory.list_date() in text, html
        assert 'class="attribution"' in text, html  # the source line
        assert "facility lists" in text or "机构清单" in text, html
    page = (site / "h5/en/medical/index.html").read_text()
    # links point at files; assets carry their hash in the name
    assert 'href="/h5/en/dental/"' in page
    assert "?v=" not in page
    assets = sorted(p.name for p in (site / "h5/static").iterdir())
    assert any(n.startswith("h5.") and n.endswith(".css") for n in assets)


def test_compressed_copies_and_manifest(site: Path) -> None:
    page = site / "h5/en/medical/index.html"
    assert gzip.decompress((site / "h5/en/medical/index.html.gz").read_bytes()) == page.read_bytes()
    assert (
        brotli.decompress((site / "h5/en/medical/index.html.br").read_bytes()) == page.read_bytes()
    )
    manifest = json.loads((site / "manifest.json").read_text())
    entry = manifest["files"]["h5/en/medical/index.html"]
    assert entry["bytes"] == len(page.read_bytes())
    assert manifest["data_date"]


def test_two_builds_give_the_same_bytes(site: Path, settings: Settings, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build(settings, again)
    assert _tree(again) == _tree(site)


def test_the_app_serves_the_built_site_and_renders_the_rest(
    site: Path, settings: Settings, services: Services
) -> None:
    app = create_app(settings.with_(static_site_dir=site), services=services)
    built = (site / "h5/en/medical/index.html").read_bytes()
    with TestClient(app) as c:
        # a built page comes from the folder, cacheable by shared caches, with validators
        r = c.get("/h5/en/medical/", headers={"Accept-Encoding": "identity"})
        assert r.status_code == 200
        assert r.content == built
        assert r.headers["cache-control"] == "public, max-age=300"
        assert r.headers["last-modified"]
        again = c.get("/h5/en/medical/", headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304
        asset = next((site / "h5/static").glob("h5.*.css")).name
        css = c.get(f"/h5/static/{asset}", headers={"Accept-Encoding": "br"})
        assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert css.headers["content-encoding"] == "br"
        # a search is the app's
        search = c.get("/h5/en/medical?q=renji")
        assert search.status_code == 200
        assert search.content != built
        assert "private" in search.headers["cache-control"]


def test_a_large_list_is_split_into_a_light_first_file_and_shards() -> None:
    # given 6,000 rows
    rows: list[list[object]] = [[f"f{i}", i] for i in range(6000)]
    # when they are written as a list's index
    files = search_files(rows, "en")
    # then search.json holds the first rows and names the shards, which hold the rest
    head = files["search.json"]
    first = _rows(head)
    assert first == rows[:FIRST_ROWS] and head["total"] == 6000
    assert head["shards"] == [f"search-{i}.json" for i in range(1, 1 + len(head["shards"]))]  # type: ignore[arg-type]
    shards = [_rows(files[name]) for name in head["shards"]]  # type: ignore[attr-defined]
    assert all(len(s) == SHARD_ROWS for s in shards[:-1]) and 0 < len(shards[-1]) <= SHARD_ROWS
    assert [r for part in [first, *shards] for r in part] == rows
    # and a small list is one file
    assert list(search_files(rows[:15], "en")) == ["search.json"]


def _rows(part: dict[str, Any]) -> list[list[object]]:
    return [list(row) for row in zip(*part["cols"], strict=True)]


def test_the_words_file_carries_the_servers_lexicon_and_synonyms(
    site: Path, services: Services
) -> None:
    words = json.loads((site / "h5/search-words.json").read_text())
    engine = services.directory.engine
    # the same Latin terms and counts the server forgives queries with
    assert words["lexicon"] == dict(engine._lexicon._counts)  # type: ignore[attr-defined]
    assert "renji" in words["lexicon"]
    # English words' stems, the synonyms' terms, jieba's words for the directory's Chinese
    assert words["stems"]["cardiology"] == "cardiolog"
    assert "急诊" in words["synonyms"]["emerg"] and "emerg" in words["synonyms"]["急诊"]
    assert words["dict"]["仁济"] > 0 and words["total"] > 0


def test_the_english_list_first_load_is_under_50_kb(site: Path) -> None:
    page = site / "h5/en/medical/index.html"
    html = page.read_text()
    parts = [page, site / "h5/en/medical/search.json", site / "h5/search-words.json"]
    parts += [site / p.lstrip("/") for p in re.findall(r'(?:href|src)="(/h5/static/[^"]+)"', html)]
    assert len(parts) >= 5
    br = sum(len(Path(f"{p}.br").read_bytes()) for p in parts)
    assert br <= 50 * 1024
