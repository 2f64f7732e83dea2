"""The electronic direct-billing card: GraphQL fields, the signed page, and the page in a
real headless Chromium at 360 px (front, flipped to the back, and without JavaScript)."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.accounts.wiring import member_services
from server.app import create_app
from server.claims.core import claim_context
from server.db import make_engine, make_sessionmaker, migrate
from server.policies.demo import load_demo
from server.services import Services
from tests.db import Api, FakeClock
from tests.h5.browser_helpers import (
    free_port,
    launch_chromium,
    require_chromium,
    serving,
    watch_page,
)
from tests.h5.test_h5_axe import serious_violations

LOG_IN = """mutation($mobile: String!) { logIn(input: {mobile: $mobile, password: "Demo2026!"}) {
  __typename ... on SignInSuccess { token } } }"""
POLICIES = """{ directBillingPolicies { __typename ... on DirectBillingPolicies {
  policies { id policyNo } } } }"""
CARD = """query($id: ID!) { directBillingCard(policyId: $id) { __typename
  ... on DirectBillingCard { memberNameMasked idNumberMasked cardNumber cardNumberNote plan validFrom validTo
    network bookingLine showAtHospital paymentNote pageUrl }
  ... on HighEndRequiredError { code bookingLine } ... on Error { code } } }"""
LOG_OUT = "mutation { logOut { __typename } }"


def _card(api: Api, token: str, policy_id: str) -> dict[str, Any]:
    body = api(CARD, token=token, id=policy_id)
    assert "errors" not in body, body
    card: dict[str, Any] = body["data"]["directBillingCard"]
    return card


def _sign_in(api: Api, mobile: str) -> str:
    token: str = api(LOG_IN, mobile=mobile)["data"]["logIn"]["token"]
    return token


def test_the_card_as_fields_and_as_a_signed_page(api: Api, demo: Any) -> None:
    token = _sign_in(api, demo.people["main"].phone)
    policies = api(POLICIES, token=token)["data"]["directBillingPolicies"]["policies"]
    high_end = next(p["id"] for p in policies if p["policyNo"] == "DEMO-I-8001")
    card = _card(api, token, high_end)
    assert card["__typename"] == "DirectBillingCard"
    assert card["memberNameMasked"] == "张*" and "*" in card["idNumberMasked"]
    assert card["cardNumber"] == "DBDE MOI8 001"
    # the number is formed from the policy number, and the card says so
    assert "保单号" in card["cardNumberNote"] and "可能与实体直付卡" in card["cardNumberNote"]
    assert card["bookingLine"] == "1010-8686"
    assert "实体卡" in card["paymentNote"]
    page = api.client.get(re.sub(r"^https?://[^/]+", "", card["pageUrl"]))
    assert page.status_code == 200
    assert "DBDE MOI8 001" in page.text and "张*" in page.text and "实体卡" in page.text
    assert "此卡号由保单号生成" in page.text
    assert "张伟" not in page.text and demo.people["main"].id_number not in page.text
    assert page.headers["Cache-Control"] == "private, no-store"
    # a forged or altered link shows the page that says to open it again
    forged = api.client.get("/h5/e-card/" + card["pageUrl"].rsplit("/", 1)[1][:-2] + "xx")
    assert forged.status_code == 404 and "链接已失效" in forged.text
    # signing out ends the link
    api(LOG_OUT, token=token)
    gone = api.client.get(re.sub(r"^https?://[^/]+", "", card["pageUrl"]))
    assert gone.status_code == 404


def test_the_payment_note_follows_its_setting(
    services: Services,
    member_settings: Any,
    db_factory: Any,
    members: Any,
    claims: Any,
    demo: Any,
) -> None:
    # given ECARD_PAYMENT_NOTE off (the insurer takes e-card payment)
    settings = services.settings.with_(
        secret_key=member_settings.secret_key, ecard_payment_note=False
    )
    cx = dataclasses.replace(claims, settings=claims.settings.with_(ecard_payment_note=False))
    wired = dataclasses.replace(
        services, settings=settings, db=db_factory, members=members, claims=cx
    )
    with TestClient(create_app(settings, services=wired)) as client:
        api = Api(client)
        token = _sign_in(api, demo.people["main"].phone)
        policies = api(POLICIES, token=token)["data"]["directBillingPolicies"]["policies"]
        high_end = next(p["id"] for p in policies if p["policyNo"] == "DEMO-I-8001")
        # when
        card = _card(api, token, high_end)
        page = client.get(re.sub(r"^https?://[^/]+", "", card["pageUrl"]))
    # then neither the fields nor the page carry the note; the rest stays
    assert card["paymentNote"] is None and card["bookingLine"] == "1010-8686"
    assert page.status_code == 200 and "DBDE MOI8 001" in page.text
    assert "暂未开通电子卡直付功能" not in page.text and 'class="ec-note"' not in page.text


def test_no_card_for_a_member_without_a_high_end_policy(api: Api, demo: Any) -> None:
    token = _sign_in(api, demo.people["staff"].phone)
    from server.ids import global_id

    card = _card(api, token, global_id("Policy", demo.policy_ids["staff"]))
    assert (card["__typename"], card["code"], card["bookingLine"]) == (
        "HighEndRequiredError",
        "HIGH_END_REQUIRED",
        "1010-8686",
    )


@dataclasses.dataclass
class Live:
    url: str


@pytest.fixture(scope="module")
def live(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("ecard-live")
    port = free_port()
    settings = services.settings.with_(
        base_url=f"http://127.0.0.1:{port}",
        secret_key="live-ecard-test-secret",
        database_url=f"sqlite:///{folder / 'live.sqlite3'}",
    )
    engine = make_engine(settings.database_url)
    migrate(engine)
    factory = make_sessionmaker(engine)
    clock = FakeClock()
    members = member_services(settings, clock=clock)
    with factory() as s:
        load_demo(s, members.vault, today=clock.now.date())
        s.commit()
    cx = claim_context(settings, members.vault, members.accounts.codes, clock)
    app = create_app(
        settings,
        services=dataclasses.replace(
            services, settings=settings, db=factory, members=members, claims=cx
        ),
    )
    with serving(app, port):
        yield Live(settings.base_url)
    engine.dispose()


def _post(url: str, query: str, token: str = "", **variables: Any) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(f"{url}/graphql", data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read())


def _page_url(live: Live) -> str:
    token = _post(live.url, LOG_IN, mobile="13800000001")["data"]["logIn"]["token"]
    policies = _post(live.url, POLICIES, token)["data"]["directBillingPolicies"]["policies"]
    high_end = next(p["id"] for p in policies if p["policyNo"] == "DEMO-I-8001")
    url: str = _post(live.url, CARD, token, id=high_end)["data"]["directBillingCard"]["pageUrl"]
    return url


def in_browser(journey: Callable[[Any], None]) -> None:
    """`journey(browser)` with a Playwright of its own, on a thread of its own."""
    from playwright.sync_api import sync_playwright

    failure: list[BaseException] = []

    def run() -> None:
        try:
            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                try:
                    journey(browser)
                finally:
                    browser.close()
        except BaseException as e:
            failure.append(e)

    worker = threading.Thread(target=run, name="ecard-browser")
    worker.start()
    worker.join(timeout=120)
    if worker.is_alive():
        pytest.fail("the browser did not finish within 2 minutes")
    if failure:
        raise failure[0]


@pytest.mark.browser
def test_the_card_flips_at_360_px_and_shows_both_faces_without_js(live: Live) -> None:
    require_chromium()
    url = _page_url(live)

    def journey(browser: Any) -> None:
        page = browser.new_page(viewport={"width": 360, "height": 740})
        errors = watch_page(page)
        page.goto(url)
        front, back = page.locator("#ec-front"), page.locator("#ec-back")
        assert front.is_visible() and not back.is_visible()
        assert "DBDE MOI8 001" in front.inner_text()
        assert page.locator(".ec-note").is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, width  # nothing runs off a small phone
        page.locator("#ec-card").click()
        page.wait_for_timeout(700)  # the turn
        assert back.is_visible() and not front.is_visible()
        assert "1010-8686" in back.inner_text()
        page.locator("#ec-flip").press("Enter")  # the button turns it back
        page.wait_for_timeout(700)
        assert front.is_visible() and not back.is_visible()
        assert errors == []

        plain = browser.new_context(
            java_script_enabled=False, viewport={"width": 360, "height": 740}
        )
        still = plain.new_page()
        still.goto(url)
        top = still.locator("#ec-front").bounding_box()
        below = still.locator("#ec-back").bounding_box()
        assert still.locator("#ec-front").is_visible() and still.locator("#ec-back").is_visible()
        assert not still.locator("#ec-flip").is_visible()  # nothing to press without the script
        assert top is not None and below is not None and below["y"] >= top["y"] + top["height"]
        plain.close()

        # axe-core (injected: the page's CSP is bypassed for it), front and back
        checked = browser.new_context(bypass_csp=True, viewport={"width": 360, "height": 740})
        audited = checked.new_page()
        audited.goto(url)
        assert serious_violations(audited) == []
        audited.locator("#ec-card").click()
        audited.wait_for_timeout(700)
        assert serious_violations(audited) == []
        checked.close()

    in_browser(journey)
