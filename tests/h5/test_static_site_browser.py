"""The built site in Chromium, served by a plain static file server (no app): search,
district filter and driver card, then the same with the network off (service worker)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.build_static import build
from server.directory.models import FacilityKind
from server.directory.service import FacilityQuery
from server.services import Services
from server.settings import Settings
from tests.h5.browser_helpers import free_port, watch_page

WORDS = (
    # the test words: prefix, typo, spaced pinyin, apostrophes, synonyms
    "renj",
    "Rengi",
    "ren ji",
    "Jing'an",
    "jingan",
    "Jingan",
    "静安",
    "emergency",
    "急诊",
    "cardiology",
    "心内科",
    "dentist",
    "teeth",
    "hospitl",
    "ruijin hosp",
    "!!",
    "仁济",
    "renji",
    "dental",
    "arrail",
    "瑞尔",
    "pudong",
    "浦东",
    "特需",
    "齿科",
    "和睦家",
    "ufh",
    "",
)


@pytest.fixture(scope="module")
def site(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "out"
    build(settings, out)
    return out


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    with _serving(site) as url:
        yield url


@pytest.fixture(scope="module")
def sharded(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # the curated lists split as a large list is: 2 rows in search.json, then shards of 3
    out = tmp_path_factory.mktemp("sharded") / "out"
    build(settings, out, first_rows=2, shard_rows=3)
    assert (out / "h5/en/medical/search-1.json").is_file()
    with _serving(out) as url:
        yield url


@contextlib.contextmanager
def _serving(site: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(site),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/manifest.json", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def _server_ids(services: Services, kind: str, text: str, district: str | None = None) -> list[str]:
    page = services.directory.search(
        FacilityQuery(text=text or None, kind=FacilityKind(kind), district=district, limit=100)
    )
    return sorted(r.facility.id for r in page.results)


@pytest.mark.parametrize("built", ["served", "sharded"])
def test_static_search_finds_what_the_server_finds(
    built: str, request: pytest.FixtureRequest, services: Services, browser: Any
) -> None:
    served = request.getfixturevalue(built)
    # the session's shared Chromium (tests/h5/conftest.py): one Playwright per thread
    with contextlib.nullcontext():
        try:
            page = browser.new_page()
            for lang in ("en", "zh"):
                for kind in ("medical", "dental", "designated"):
                    page.goto(f"{served}/h5/{lang}/{kind}/")
                    if built == "sharded":
                        # the first rows answer at once, before the other shards are fetched
                        first = page.evaluate("() => window.staticSearch('', '', true)")
                        everything = _server_ids(services, kind, "")
                        assert len(first) == min(2, len(everything))
                        assert set(first) <= set(everything)
                    for word in WORDS:
                        got = sorted(page.evaluate("w => window.staticSearch(w)", word))
                        assert got == _server_ids(services, kind, word), (lang, kind, word)
                    district = services.directory.directory.facilities[0].district
                    got = sorted(page.evaluate("d => window.staticSearch('', d)", district))
                    assert got == _server_ids(services, kind, "", district), (lang, kind, district)
        finally:
            for context in browser.contexts:
                context.close()


def _search(page: object, word: str) -> list[str]:
    page.fill("#q", word)  # type: ignore[attr-defined]
    page.click("form.search button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_function("() => location.hash.startsWith('#q=')")  # type: ignore[attr-defined]
    return page.locator("ol.results li.card h2 a").all_inner_texts()  # type: ignore[attr-defined]


def test_search_and_driver_card_online_then_offline(served: str, browser: Any) -> None:
    # the session's shared Chromium (tests/h5/conftest.py): one Playwright per thread
    with contextlib.nullcontext():
        try:
            context = browser.new_context()
            page = context.new_page()
            errors = watch_page(page)
            for offline in (False, True):
                context.set_offline(offline)
                page.goto(f"{served}/h5/en/medical/")
                if not offline:
                    # the service worker takes over and keeps the list's driver cards
                    page.wait_for_function(
                        "() => navigator.serviceWorker.controller !== null", timeout=10000
                    )
                    page.reload()
                    page.wait_for_timeout(1500)
                assert any("Renji" in n or "仁济" in n for n in _search(page, "仁济"))
                assert any("Renji" in n or "仁济" in n for n in _search(page, "renji"))
                page.goto(f"{served}/h5/en/dental/")
                dental = _search(page, "dental")
                assert dental
                page.locator("ol.results a.driver").first.click()
                page.wait_for_load_state()
                assert "/driver/" in page.url
                assert page.locator("main").inner_text().strip()
                assert "Offline" not in page.content()
            assert not [
                e for e in errors if "Failed to fetch" not in e and "ERR_INTERNET" not in e
            ], errors
        finally:
            for context in browser.contexts:
                context.close()


def test_favourites_stay_on_the_device_and_show_on_the_static_site(
    served: str, browser: Any
) -> None:
    # the session's shared Chromium (tests/h5/conftest.py): one Playwright per thread
    with contextlib.nullcontext():
        try:
            page = browser.new_page()
            page.goto(f"{served}/h5/en/dental/")
            page.evaluate(
                "() => localStorage.setItem('h5.favourites', JSON.stringify(['den-arrail-biyun']))"
            )
            page.goto(f"{served}/h5/en/favourites/")
            page.wait_for_selector("ol.results li.card")
            cards = page.locator("ol.results li.card").all()
            assert [c.get_attribute("id") for c in cards] == ["f-den-arrail-biyun"]
            assert page.locator("#fav-empty").is_hidden()
        finally:
            for context in browser.contexts:
                context.close()


def test_with_javascript_off_the_lists_and_facility_pages_still_work(
    served: str, browser: Any
) -> None:
    # the session's shared Chromium (tests/h5/conftest.py): one Playwright per thread
    with contextlib.nullcontext():
        try:
            context = browser.new_context(java_script_enabled=False)
            page = context.new_page()
            page.goto(f"{served}/h5/en/dental/")
            cards = page.locator("ol.results li.card")
            assert cards.count() >= 1
            page.locator("ol.results li.card h2 a").first.click()
            page.wait_for_load_state()
            assert "/facility/" in page.url and page.url.endswith("/")
            page.locator("a[href$='/driver/']").first.click()
            page.wait_for_load_state()
            assert page.url.endswith("/driver/")
            assert page.locator("main").inner_text().strip()
        finally:
            for context in browser.contexts:
                context.close()
