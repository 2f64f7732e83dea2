"""The H5 pages in a real headless Chromium: search, filter, paging, location, favourites."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from server.app import create_app
from server.settings import Settings
from tests.h5.browser_helpers import (
    free_port,
    serving,
    unavailable,
    watch_page,
)

pytestmark = pytest.mark.browser

# next to United Family's Xianxia Road hospital, Changning
NEAR_UFH = {"latitude": 31.2085, "longitude": 121.3602}


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(Settings(environment="test", var_dir=tmp_path_factory.mktemp("h5-var")))
    port = free_port()
    with serving(app, port):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Iterator[Any]:
    p = context.new_page()
    errors = watch_page(p)
    yield p
    assert errors == []


def ids(page: Any) -> list[str]:
    return [
        i.removeprefix("f-")
        for i in page.locator("li.card").evaluate_all("els => els.map(e => e.id)")
    ]


def test_search(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/h5/en/medical")
    page.get_by_label("Search by name, department or address").fill("renji")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**/h5/en/medical?q=renji*")
    assert sorted(ids(page)) == ["med-renji-special-outpatient", "med-renji-vip-pudong"]
    assert page.locator("#count").inner_text() == "2 facilities"


def test_district_filter(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/h5/en/designated")
    page.get_by_label("District").select_option("长宁区")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**district=*")
    assert sorted(ids(page)) == ["des-ufh-hospital", "des-ufh-quankou"]


def test_paging(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/h5/en/designated?size=2")
    seen = ids(page)
    assert page.locator(".paging .status").inner_text() == "Page 1 of 3"
    page.get_by_role("link", name="Next ›").click()
    page.wait_for_url("**page=2*")
    assert page.locator(".paging .status").inner_text() == "Page 2 of 3"
    seen += ids(page)
    page.get_by_role("link", name="Next ›").click()
    page.wait_for_url("**page=3*")
    seen += ids(page)
    assert page.get_by_role("link", name="Next ›").count() == 0
    assert len(seen) == len(set(seen)) == 6
    page.get_by_role("link", name="‹ Previous").click()
    page.wait_for_url("**page=2*")


def test_nearest_with_location_granted(browser: Any, live_server: str) -> None:
    ctx = browser.new_context(
        viewport={"width": 360, "height": 740}, geolocation=NEAR_UFH, permissions=["geolocation"]
    )
    try:
        page = ctx.new_page()
        page.goto(f"{live_server}/h5/en/designated")
        page.get_by_role("button", name="Nearest to me").click()
        page.wait_for_url("**sort=distance*")
        assert "lat=31.209" in page.url and "lng=121.360" in page.url
        assert ids(page)[0] == "des-ufh-hospital"
        assert page.locator("#geo-msg").inner_text() == "Sorted by distance from your location."
        assert page.get_by_label("Sort").input_value() == "distance"
        km = [
            float(t.split()[0]) for t in page.locator(".dist:not(.area) strong").all_inner_texts()
        ]
        assert km == sorted(km) and km[0] < 0.5
        # the rest only know their area: they say so instead of a km
        areas = page.locator(".dist.area strong").all_inner_texts()
        assert areas and all(a.endswith(", exact location not confirmed") for a in areas)
    finally:
        ctx.close()


def test_nearest_with_location_refused_offers_districts(page: Any, live_server: str) -> None:
    # the context grants no permission: the browser refuses the location
    page.goto(f"{live_server}/h5/en/designated")
    page.get_by_role("button", name="Nearest to me").click()
    msg = page.locator("#geo-msg")
    msg.get_by_text("Location is switched off or was refused").wait_for()
    assert "Choose your district instead." in msg.inner_text()
    assert page.evaluate("document.activeElement.id") == "district"
    assert "sort=distance" not in page.url
    # and the district choice then works
    page.get_by_label("District").select_option("闵行区")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**district=*")
    assert ids(page) == ["des-ufh-fengshang"]


def test_driver_card(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/h5/en/medical?q=renji")
    page.locator("#f-med-renji-vip-pudong").get_by_role("link", name="Show to driver").click()
    page.wait_for_url("**/facility/med-renji-vip-pudong/driver")
    name = page.locator(".driver-name")
    assert name.inner_text() == "上海交通大学医学院附属仁济医院特需部(浦东分院)"
    assert page.locator(".driver-addr").inner_text() == "上海市浦东新区北园路33号9号楼3楼"
    size = float(name.evaluate("e => getComputedStyle(e).fontSize").removesuffix("px"))
    addr = float(
        page.locator(".driver-addr")
        .evaluate("e => getComputedStyle(e).fontSize")
        .removesuffix("px")
    )
    assert size >= 36 and addr >= 28  # readable from the driver's seat
    assert _no_horizontal_scroll(page)


def test_favourites_persist_across_reload(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/h5/en/dental")
    star = page.locator("#f-den-arrail-biyun button.star")
    assert star.inner_text() == "☆ Save"
    star.click()
    assert star.get_attribute("aria-pressed") == "true"
    assert star.inner_text() == "★ Saved"
    page.reload()
    star = page.locator("#f-den-arrail-biyun button.star")
    assert star.get_attribute("aria-pressed") == "true"
    assert page.locator("#f-den-arrail-shidai button.star").get_attribute("aria-pressed") == "false"
    # the favourites view lists it, also after a reload and from another list
    page.goto(f"{live_server}/h5/en/designated")
    page.get_by_role("link", name="★ My favourites").click()
    page.wait_for_url("**/favourites?ids=*")
    assert ids(page) == ["den-arrail-biyun"]
    page.goto(f"{live_server}/h5/en/favourites")
    page.wait_for_url("**/favourites?ids=*")
    assert ids(page) == ["den-arrail-biyun"]
    # unsaving removes it for good
    page.locator("#f-den-arrail-biyun button.star").click()
    page.reload()
    page.wait_for_load_state()
    assert ids(page) == []
    assert page.locator("#fav-empty").is_visible()


@pytest.mark.parametrize(
    "path",
    [
        "/h5/en/medical",
        "/h5/en/dental",
        "/h5/en/designated?size=2",
        "/h5/zh/designated",
        "/h5/en/facility/des-parkway-ruikang",
        "/h5/en/medical?page=-1&q=" + "w" * 120,
    ],
)
def test_360px_viewport_has_no_horizontal_scroll(page: Any, live_server: str, path: str) -> None:
    page.goto(live_server + path)
    assert page.viewport_size["width"] == 360
    assert _no_horizontal_scroll(page)


def test_without_javascript_the_form_still_works(browser: Any, live_server: str) -> None:
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto(f"{live_server}/h5/en/dental")
        # the JavaScript-only controls stay out of the way
        assert not page.get_by_role("button", name="Nearest to me").is_visible()
        assert page.locator("button.star").first.is_hidden()
        page.get_by_label("Search by name, department or address").fill("Biyun")
        page.get_by_role("button", name="Search", exact=True).click()
        page.wait_for_url("**q=Biyun*")
        assert ids(page) == ["den-arrail-biyun"]
    finally:
        ctx.close()


def _no_horizontal_scroll(page: Any) -> bool:
    width = page.evaluate("document.documentElement.scrollWidth")
    client = page.evaluate("document.documentElement.clientWidth")
    return bool(width <= client <= 360)


def test_missing_browser_fails_when_required_and_skips_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="browser tests are required"):
        unavailable("no chromium")
    monkeypatch.delenv("REQUIRE_BROWSER")
    with pytest.raises(pytest.skip.Exception):
        unavailable("no chromium")


# WCAG 2 contrast of every element's own text against the first opaque background behind it.
CONTRAST_JS = """
() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = c => {
    const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const bg = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c;
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const st = getComputedStyle(el);
    if (st.visibility === "hidden") continue;
    const a = lum(rgb(st.color)), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(st.fontSize), bold = Number(st.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) out.push(`${el.tagName}.${el.className}: ${ratio.toFixed(2)} < ${need} "${el.textContent.trim().slice(0, 30)}"`);
  }
  return out;
}
"""


@pytest.mark.parametrize(
    "path",
    [
        "/h5/en/medical",
        "/h5/zh/designated?size=2",
        "/h5/en/medical?page=-1",
        "/h5/en/facility/des-ufh-hospital",
        "/h5/en/facility/des-ufh-hospital/driver",
    ],
)
def test_text_contrast_is_sufficient(page: Any, live_server: str, path: str) -> None:
    page.goto(live_server + path)
    # include the pressed favourite state
    stars = page.locator("button.star")
    if stars.count():
        stars.first.click()
    assert page.evaluate(CONTRAST_JS) == []


def test_contrast_check_catches_pale_text(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/h5/en/medical")
    page.evaluate("document.querySelector('h1').style.color = '#bbbbbb'")
    problems = page.evaluate(CONTRAST_JS)
    assert len(problems) == 1 and problems[0].startswith("H1.")


def test_nearest_without_geolocation_support_offers_districts(
    browser: Any, live_server: str
) -> None:
    ctx = browser.new_context(viewport={"width": 360, "height": 740})
    # a browser without the Geolocation API (or with it blocked by policy)
    ctx.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'geolocation', {get: () => undefined}); delete Navigator.prototype.geolocation;"
    )
    try:
        page = ctx.new_page()
        page.goto(f"{live_server}/h5/zh/medical")
        page.get_by_role("button", name="离我最近").click()
        page.locator("#geo-msg").get_by_text("暂时无法获取您的位置").wait_for()
        assert page.evaluate("document.activeElement.id") == "district"
    finally:
        ctx.close()
