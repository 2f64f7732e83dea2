"""axe-core in headless Chromium at 360 px: no serious or critical violation on any H5 page
(directory pages, typed places, maps, FAQ, facility page, favourites, landing, supplement
portal), and what a foreign client reads on a phone: the area instead of a km, the
direct-billing explainer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import axe_playwright_python
import pytest

from server.app import create_app
from server.settings import Settings
from tests.h5.browser_helpers import free_port, serving
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
    "/h5/en/designated?place=Jing%27an%20Temple",
    "/h5/zh/dental?place=%E5%BE%90%E5%AE%B6%E6%B1%87%E7%AB%99",
    "/h5/en/medical?place=zzzzqqq",
    "/h5/en/designated/map",
    "/h5/zh/dental/map?place=%E6%B5%A6%E4%B8%9C",
    "/h5/en/faq",
    "/h5/zh/faq",
]


def serious_violations(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(Settings(environment="test", var_dir=tmp_path_factory.mktemp("axe-var")))
    port = free_port()
    with serving(app, port):
        yield f"http://127.0.0.1:{port}"


def on_phone(journey: Any) -> None:
    """Run `journey(page)` on a 360 px page in a Playwright of its own thread (the other
    browser tests keep one on the main thread; the sync API allows one per thread)."""

    def run(browser: Any) -> None:
        ctx = browser.new_context(**PHONE, locale="en-US")
        try:
            journey(ctx.new_page())
        finally:
            ctx.close()

    in_browser(run)


def test_no_serious_axe_violation_on_directory_pages(chromium: None, site: str) -> None:  # noqa: F811
    found: dict[str, list[str]] = {}

    def journey(page: Any) -> None:
        for path in DIRECTORY_PAGES:
            page.goto(f"{site}{path}")
            found[path] = serious_violations(page)

    on_phone(journey)
    assert found == {path: [] for path in DIRECTORY_PAGES}


def test_an_approximate_facility_shows_its_area_not_a_km(chromium: None, site: str) -> None:  # noqa: F811
    def journey(page: Any) -> None:
        page.goto(f"{site}/h5/en/designated?lat=31.2310&lng=121.4520&sort=distance")
        exact = page.locator("#f-des-parkway-ruikang .dist")
        assert exact.inner_text().endswith(" km")
        card = page.locator("#f-des-parkway-ruixin")
        assert (
            card.locator(".dist").inner_text() == "Jing'an District, exact location not confirmed"
        )
        assert " km" not in card.inner_text()
        why = card.locator(".approx-why")
        assert why.is_visible() and "no distance is shown" in why.inner_text()
        # it fits the phone: nothing wider than the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

    on_phone(journey)


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "Book at least 2 working days ahead"), ("zh", "请至少提前 2 个工作日致电预约专线")],
)
def test_the_explainer_and_the_booking_line_on_every_list(
    chromium: None,  # noqa: F811
    site: str,
    lang: str,
    words: str,
) -> None:
    def journey(page: Any) -> None:
        for kind in ("medical", "dental", "designated"):
            page.goto(f"{site}/h5/{lang}/{kind}")
            explainer = page.locator("section.explainer")
            assert explainer.is_visible()
            assert words in explainer.inner_text()
            call = explainer.locator('a[href="tel:+8610108686"]')
            assert call.inner_text() == "1010-8686 (+86 1010 8686)"
            box = call.bounding_box()
            assert box is not None and box["height"] >= 44
            assert explainer.locator('a[href="tel:120"]').is_visible()

    on_phone(journey)


def test_tap_targets_are_at_least_44_px(chromium: None, site: str) -> None:  # noqa: F811
    def journey(page: Any) -> None:
        page.goto(f"{site}/h5/en/facility/med-renji-vip-pudong")
        for selector in ("a.back", "a.lang-switch", "#fav-link", "a.brand"):
            box = page.locator(selector).bounding_box()
            assert box is not None and box["height"] >= 44, selector

    on_phone(journey)


def test_no_serious_axe_violation_on_supplement_pages(chromium: None, live: Live) -> None:  # noqa: F811
    pending = _pending(live, "097")

    def journey(browser: Any) -> None:
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
