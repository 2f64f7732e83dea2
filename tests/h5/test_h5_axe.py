"""axe-core in headless Chromium at 360 px: no serious or critical violation on any H5 page
(directory pages, facility page, favourites, landing, supplement portal), and what a
foreign client reads on a phone: the area instead of a km, the direct-billing explainer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import axe_playwright_python
import pytest

from tests.h5.test_h5_browser import browser, live_server  # noqa: F401 (fixtures)
from tests.h5.test_supplement_browser import (  # noqa: F401 (fixtures)
    Live,
    _log_in,
    _pending,
    chromium,
    in_browser,
    live,
)

pytestmark = pytest.mark.browser

AXE = Path(axe_playwright_python.__file__).parent / "axe.min.js"
PHONE = {"viewport": {"width": 360, "height": 740}, "bypass_csp": True}  # CSP: axe is injected

DIRECTORY_PAGES = [
    "/",
    "/h5/en",
    "/h5/zh",
    "/h5/en/medical",
    "/h5/zh/medical",
    "/h5/en/dental?lat=31.23&lng=121.47&sort=distance",
    "/h5/zh/dental?lat=31.23&lng=121.47&sort=distance",
    "/h5/en/designated",
    "/h5/zh/designated?q=和睦家",
    "/h5/en/facility/des-parkway-ruikang",
    "/h5/zh/facility/den-arrail-biyun",
    "/h5/en/facility/med-renji-vip-pudong/driver",
    "/h5/en/favourites",
    "/h5/en/favourites?ids=den-arrail-biyun,des-ufh-hospital",
    "/h5/zh/favourites",
    "/h5/en/medical?page=9",
    "/h5/en/nowhere",
]


def serious_violations(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:  # noqa: F811
    ctx = browser.new_context(**PHONE, locale="en-US")
    yield ctx.new_page()
    ctx.close()


@pytest.mark.parametrize("path", DIRECTORY_PAGES)
def test_no_serious_axe_violation_on_directory_pages(
    phone: Any,
    live_server: str,  # noqa: F811
    path: str,
) -> None:
    phone.goto(f"{live_server}{path}")
    assert serious_violations(phone) == []


def test_an_approximate_facility_shows_its_area_not_a_km(
    phone: Any,
    live_server: str,  # noqa: F811
) -> None:
    phone.goto(f"{live_server}/h5/en/dental?lat=31.2386&lng=121.4936&sort=distance")
    exact = phone.locator("#f-den-arrail-zhengda .dist")
    assert exact.inner_text().endswith(" km")
    card = phone.locator("#f-den-arrail-biyun")
    assert card.locator(".dist").inner_text() == "Pudong, exact location not confirmed"
    assert " km" not in card.inner_text()
    why = card.locator(".approx-why")
    assert why.is_visible() and "no distance is shown" in why.inner_text()
    # it fits the phone: nothing wider than the screen
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.mark.parametrize(
    ("lang", "booking", "words"),
    [
        ("en", "1010-8686 (+86 1010 8686)", "Book at least 2 working days ahead"),
        ("zh", "1010-8686 (+86 1010 8686)", "请至少提前 2 个工作日致电预约专线"),
    ],
)
def test_the_explainer_and_the_booking_line_on_every_list(
    phone: Any,
    live_server: str,  # noqa: F811
    lang: str,
    booking: str,
    words: str,
) -> None:
    for kind in ("medical", "dental", "designated"):
        phone.goto(f"{live_server}/h5/{lang}/{kind}")
        explainer = phone.locator("section.explainer")
        assert explainer.is_visible()
        assert words in explainer.inner_text()
        call = explainer.locator('a[href="tel:+8610108686"]')
        assert call.inner_text() == booking
        box = call.bounding_box()
        assert box is not None and box["height"] >= 44
        assert explainer.locator('a[href="tel:120"]').is_visible()


def test_tap_targets_are_at_least_44_px(phone: Any, live_server: str) -> None:  # noqa: F811
    phone.goto(f"{live_server}/h5/en/facility/med-renji-vip-pudong")
    for selector in ("a.back", "a.lang-switch", "#fav-link", "a.brand"):
        box = phone.locator(selector).bounding_box()
        assert box is not None and box["height"] >= 44, selector


def test_no_serious_axe_violation_on_supplement_pages(chromium: None, live: Live) -> None:  # noqa: F811
    pending = _pending(live, "097")

    def journey(browser: Any) -> None:  # noqa: F811
        ctx = browser.new_context(**PHONE)
        page = ctx.new_page()
        found: dict[str, list[str]] = {}
        page.goto(pending.link)
        found["login zh"] = serious_violations(page)
        for sel in (".captcha-links a", "a.lang-switch"):
            for box in [el.bounding_box() for el in page.locator(sel).all()]:
                assert box is not None and box["height"] >= 44, sel
        page.goto(pending.link + ("&" if "?" in pending.link else "?") + "lang=en")
        found["login en"] = serious_violations(page)
        page.goto(f"{live.url}/h5/supplement")
        found["lost link"] = serious_violations(page)
        _log_in(page, live, pending)
        found["claim page"] = serious_violations(page)
        ctx.close()
        assert found == {k: [] for k in found}

    in_browser(journey)
