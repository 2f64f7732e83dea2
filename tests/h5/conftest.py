from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.h5.browser_helpers import launch_chromium, require_chromium, unavailable

# the supplement portal's fixtures live with its helpers; importing them here registers them
from tests.h5.supplement_helpers import (  # noqa: F401
    answers,
    member,
    pending,
    portal,
    portal_app,
)


@dataclass
class Page:
    status: int
    html: str
    headers: dict[str, str]

    def result_ids(self) -> list[str]:
        return re.findall(r'<li class="card" id="f-([^"]+)"', self.html)

    def errors(self) -> dict[str, str]:
        """The form errors shown, by field."""
        return dict(re.findall(r'<li data-field="([a-z]+)">([^<]+)</li>', self.html))

    def count(self) -> str:
        m = re.search(r'<p class="count" id="count">([^<]+)</p>', self.html)
        return m.group(1) if m else ""

    def links(self, rel: str) -> list[str]:
        return [
            h.replace("&amp;", "&") for h in re.findall(rf'rel="{rel}" href="([^"]+)"', self.html)
        ]


Fetch = Callable[..., Page]


@pytest.fixture
def get(client: TestClient) -> Fetch:
    def fetch(url: str, **params: str) -> Page:
        r = client.get(url, params=params or None, follow_redirects=False)
        return Page(r.status_code, r.text, dict(r.headers))

    return fetch


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for every directory browser test: Playwright's synchronous
    API allows one Playwright per thread, so the test modules share it."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        browser = launch_chromium(pw)
    except Exception as e:
        pw.stop()
        unavailable(f"chromium did not start: {e}")
    yield browser
    browser.close()
    pw.stop()
