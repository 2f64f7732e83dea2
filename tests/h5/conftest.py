from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from starlette.testclient import TestClient

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
