"""Logging in to the supplement portal: captcha, name check, one answer for every failure,
the growing wait and the 429 block, the audio captcha, the lost-link form."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from h5.supplement import captcha
from h5.supplement.routes import PortalConfig
from h5.supplement.web import pace
from server.accounts.wiring import MemberServices
from server.claims.models import Claim, ClaimStatus
from server.claims.portal import (
    captchas,
    latin_name_key,
    normalise_claim_no,
    normalise_name,
    throttle,
)
from server.claims.portal_models import PortalCaptcha
from server.sessions import LoginSession
from tests.db import FakeClock
from tests.h5.supplement_helpers import (
    INSURED_NAME,
    AnswerRecorder,
    Pending,
    hidden,
    log_in,
    login_form,
    path_of,
)

LOST = "/h5/supplement"


def _post(client: TestClient, path: str, **data: str) -> Any:
    return client.post(path, data=data, follow_redirects=False)


def _sameness(html: str) -> str:
    """A failure page with what legitimately differs (the new challenge, the typed number)
    taken out."""
    html = re.sub(r'name="captcha_id" value="[^"]*"', "", html)
    html = re.sub(r"/supplement/captcha/[A-Za-z0-9_-]+", "", html)
    return re.sub(r'(id="claim_no" name="claim_no") value="[^"]*"', r"\1", html)


def _failures(
    db_factory: sessionmaker[Session], members: MemberServices, address: str = "testclient"
) -> int:
    """Failed log-ins counted against the address (the test client's, unless given)."""
    key = throttle.client_key(members.vault, address)
    with db_factory() as s:
        return members.limiter.peek(s, throttle.CLIENT_FAILURES, key).count


# --- the link's page ---------------------------------------------------------------------------


def test_the_link_shows_the_claim_number_and_a_captcha(
    portal: TestClient, pending: Pending
) -> None:
    r = portal.get(path_of(pending.link))
    assert r.status_code == 200
    assert f'<strong id="claim-no">{pending.claim_no}</strong>' in r.text
    assert '<label for="name">被保险人姓名</label>' in r.text
    src = re.search(r'<img class="captcha" id="captcha-image" src="([^"]+)"', r.text)
    assert src is not None
    image = portal.get(src.group(1))
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert image.headers["referrer-policy"] == "no-referrer"
    assert image.headers["cache-control"] == "no-store"
    # the browser cookie that binds the captcha and the log-in form
    cookie = r.headers["set-cookie"]
    assert "sp_browser=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/h5/supplement" in cookie and "Secure" not in cookie  # plain HTTP here
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "<script>" not in r.text and " style=" not in r.text


def test_the_session_cookie_is_secure_under_https(
    portal_app: Starlette, pending: Pending, answers: AnswerRecorder
) -> None:
    with TestClient(portal_app, base_url="https://testserver") as c:
        r = log_in(c, pending, answers)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("sp_session=")
    for flag in ("HttpOnly", "SameSite=strict", "Secure", "Path=/h5/supplement"):
        assert flag in cookie, flag


def test_the_right_name_and_characters_open_the_claim(
    portal: TestClient, pending: Pending, answers: AnswerRecorder, db_factory: sessionmaker[Session]
) -> None:
    r = log_in(portal, pending, answers, name=f"  {INSURED_NAME[0]} {INSURED_NAME[1]} ")
    assert r.status_code == 303
    assert r.headers["location"] == "/h5/supplement/claim"
    assert r.headers["referrer-policy"] == "no-referrer"
    # the session is stored hashed, for this claim only
    with db_factory() as s:
        row = s.scalar(select(LoginSession))
        assert row is not None and (row.kind, row.subject_id) == ("portal", pending.claim_id)
        assert row.scope_id == pending.supplement_id
        token = r.cookies.get("sp_session") or ""
        assert token and token not in row.token_hash
    # the link again, while signed in: straight to the page
    again = portal.get(path_of(pending.link), follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/h5/supplement/claim"


def test_a_full_width_or_lower_case_answer_counts(
    portal: TestClient, pending: Pending, answers: AnswerRecorder
) -> None:
    path = path_of(pending.link)
    csrf, challenge = login_form(portal, path)
    typed = "".join(chr(ord(ch) + 0xFEE0) for ch in answers.last.lower())  # ＡＢＣ from an IME
    r = _post(portal, path, csrf=csrf, captcha_id=challenge, captcha=typed, name=INSURED_NAME)
    assert r.status_code == 303


# --- one answer for every failure -------------------------------------------------------------


def test_wrong_name_and_wrong_captcha_answer_alike(
    portal: TestClient,
    pending: Pending,
    answers: AnswerRecorder,
    db_factory: sessionmaker[Session],
    members: MemberServices,
) -> None:
    path = path_of(pending.link)
    csrf, challenge = login_form(portal, path)
    wrong_name = _post(
        portal, path, csrf=csrf, captcha_id=challenge, captcha=answers.last, name="王芳"
    )
    csrf, challenge = hidden(wrong_name.text, "csrf"), hidden(wrong_name.text, "captcha_id")
    wrong_captcha = _post(
        portal, path, csrf=csrf, captcha_id=challenge, captcha="XXXXX", name=INSURED_NAME
    )
    assert wrong_name.status_code == wrong_captcha.status_code == 400
    assert _sameness(wrong_name.text) == _sameness(wrong_captcha.text)
    assert "信息不正确" in wrong_name.text
    assert "sp_session" not in wrong_name.headers.get("set-cookie", "")
    # every failure shows a fresh image
    assert hidden(wrong_name.text, "captcha_id") != hidden(wrong_captcha.text, "captcha_id")
    assert _failures(db_factory, members) == 2


def test_an_unknown_claim_answers_like_a_wrong_name_or_captcha(
    portal: TestClient, pending: Pending, answers: AnswerRecorder
) -> None:
    csrf, challenge = login_form(portal, LOST)
    unknown = _post(
        portal,
        LOST,
        csrf=csrf,
        captcha_id=challenge,
        captcha=answers.last,
        claim_no="VSHH26030299999",
        name=INSURED_NAME,
    )
    csrf, challenge = hidden(unknown.text, "csrf"), hidden(unknown.text, "captcha_id")
    wrong_name = _post(
        portal,
        LOST,
        csrf=csrf,
        captcha_id=challenge,
        captcha=answers.last,
        claim_no=pending.claim_no,
        name="王芳",
    )
    csrf, challenge = hidden(wrong_name.text, "csrf"), hidden(wrong_name.text, "captcha_id")
    wrong_captcha = _post(
        portal,
        LOST,
        csrf=csrf,
        captcha_id=challenge,
        captcha="ZZZZZ",
        claim_no=pending.claim_no,
        name=INSURED_NAME,
    )
    assert unknown.status_code == wrong_name.status_code == wrong_captcha.status_code == 400
    assert _sameness(unknown.text) == _sameness(wrong_name.text) == _sameness(wrong_captcha.text)
    assert {k for k in unknown.headers} == {k for k in wrong_name.headers}


class PacingClock:
    """A monotonic clock that stands still except while the portal sleeps, and the sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_every_failure_is_answered_at_the_floor(
    portal_app: Starlette, pending: Pending, answers: AnswerRecorder
) -> None:
    pacing = PacingClock()
    portal_app.state.supplement_portal = PortalConfig(
        login_floor=0.25, answers=answers, clock=pacing, sleep=pacing.sleep
    )
    took: dict[str, float] = {}
    with TestClient(portal_app) as c:
        for case, claim_no, name, right in (
            ("unknown claim", "VSHH26030299999", INSURED_NAME, True),
            ("wrong name", pending.claim_no, "王芳", True),
            ("wrong captcha", pending.claim_no, INSURED_NAME, False),
        ):
            csrf, challenge = login_form(c, LOST)
            started = pacing.now
            r = _post(
                c,
                LOST,
                csrf=csrf,
                captcha_id=challenge,
                captcha=answers.last if right else "AAAAA",
                claim_no=claim_no,
                name=name,
            )
            took[case] = pacing.now - started
            assert r.status_code == 400
    # each answer waited out the floor, measured from when its request came in
    assert took == {"unknown claim": 0.25, "wrong name": 0.25, "wrong captcha": 0.25}
    assert pacing.slept == [0.25, 0.25, 0.25]


def test_pace_waits_only_for_what_is_left_of_the_floor() -> None:
    pacing = PacingClock()
    config = PortalConfig(login_floor=0.5, clock=pacing, sleep=pacing.sleep)

    # on a loop of its own in a thread: the browser tests keep one running in this thread
    with ThreadPoolExecutor(1) as pool:
        pacing.now = 1000.2  # the checks took 0.2 s
        pool.submit(asyncio.run, pace(config, started=1000.0)).result()
        pacing.now = 1001.0  # they took longer than the floor
        pool.submit(asyncio.run, pace(config, started=1000.0)).result()

    assert pacing.slept == [pytest.approx(0.3)]


# --- the captcha -----------------------------------------------------------------------------


def test_a_captcha_answers_once(
    portal: TestClient, pending: Pending, answers: AnswerRecorder
) -> None:
    path = path_of(pending.link)
    csrf, challenge = login_form(portal, path)
    answer = answers.last
    first = _post(portal, path, csrf=csrf, captcha_id=challenge, captcha=answer, name="王芳")
    assert first.status_code == 400
    # the same challenge again, now with the right name: used up
    reused = _post(portal, path, csrf=csrf, captcha_id=challenge, captcha=answer, name=INSURED_NAME)
    assert reused.status_code == 400
    assert "sp_session" not in reused.headers.get("set-cookie", "")
    # and after a success, the challenge that opened the session opens nothing more
    csrf, challenge = login_form(portal, path)
    ok = _post(
        portal, path, csrf=csrf, captcha_id=challenge, captcha=answers.last, name=INSURED_NAME
    )
    assert ok.status_code == 303
    portal.cookies.delete("sp_session")
    again = _post(
        portal, path, csrf=csrf, captcha_id=challenge, captcha=answers.last, name=INSURED_NAME
    )
    assert again.status_code == 400


def test_a_captcha_expires_after_five_minutes(
    portal: TestClient, pending: Pending, answers: AnswerRecorder, clock: FakeClock
) -> None:
    path = path_of(pending.link)
    csrf, challenge = login_form(portal, path)
    image = re.search(r'src="(/h5/supplement/captcha/[^"]+)"', portal.get(path).text)
    clock.advance(minutes=5, seconds=1)
    assert image is not None and portal.get(image.group(1)).status_code == 404
    late = _post(
        portal, path, csrf=csrf, captcha_id=challenge, captcha=answers.answers[0], name=INSURED_NAME
    )
    assert late.status_code == 400


def test_a_captcha_belongs_to_the_browser_it_was_shown_to(
    portal_app: Starlette, pending: Pending, answers: AnswerRecorder
) -> None:
    path = path_of(pending.link)
    with TestClient(portal_app) as mine, TestClient(portal_app) as other:
        page = mine.get(path).text
        challenge = hidden(page, "captcha_id")
        src = re.search(r'src="(/h5/supplement/captcha/[^"]+)"', page)
        assert src is not None
        assert other.get(src.group(1)).status_code == 404
        csrf, _ = login_form(other, path)
        r = _post(
            other,
            path,
            csrf=csrf,
            captcha_id=challenge,
            captcha=answers.answers[0],
            name=INSURED_NAME,
        )
        assert r.status_code == 400


def test_the_answer_is_stored_only_as_a_keyed_hash(
    portal: TestClient, pending: Pending, answers: AnswerRecorder, db_factory: sessionmaker[Session]
) -> None:
    challenge = login_form(portal, path_of(pending.link))[1]
    with db_factory() as s:
        row = s.scalar(select(PortalCaptcha))
        assert row is not None
        assert answers.last not in row.answer_hash and challenge not in row.public_id_hash
        assert row.expires_at - row.created_at == captchas.LIFETIME


def test_the_audio_captcha_speaks_digits(
    portal: TestClient, pending: Pending, answers: AnswerRecorder
) -> None:
    path = path_of(pending.link)
    page = portal.get(path, params={"captcha": "audio"})
    assert page.status_code == 200
    src = re.search(r'<audio id="captcha-audio" controls preload="none" src="([^"]+)">', page.text)
    assert src is not None
    assert answers.last.isdigit() and len(answers.last) == captchas.LENGTH["audio"]
    sound = portal.get(src.group(1))
    assert sound.headers["content-type"] == "audio/wav"
    assert sound.content[:4] == b"RIFF" and sound.content[8:12] == b"WAVE"
    assert len(sound.content) > 20_000
    r = _post(
        portal,
        path,
        csrf=hidden(page.text, "csrf"),
        captcha_id=hidden(page.text, "captcha_id"),
        captcha_kind="audio",
        captcha=answers.last,
        name=INSURED_NAME,
    )
    assert r.status_code == 303
    assert portal.get(src.group(1)).status_code == 404  # used: the sound is gone too


def test_captcha_images_are_rate_limited_per_browser_page_and_per_address(
    portal_app: Starlette, portal: TestClient, pending: Pending, clock: FakeClock
) -> None:
    path = path_of(pending.link)
    # one browser on one claim's page gets PAGE_LIMIT images
    for _ in range(captchas.PAGE_LIMIT):
        assert portal.get(path).status_code == 200
    limited = portal.get(path)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "10108686" in limited.text and 'name="captcha_id"' not in limited.text
    # browsers without a cookie (a script dropping it) meet the address's RATE_LIMIT
    served = captchas.PAGE_LIMIT
    while served < captchas.RATE_LIMIT:
        with TestClient(portal_app) as fresh:
            assert fresh.get(path).status_code == 200
        served += 1
    with TestClient(portal_app) as third:
        assert third.get(path).status_code == 429
        # another address is not concerned
        with TestClient(portal_app, client=("203.0.113.9", 50000)) as elsewhere:
            assert elsewhere.get(path).status_code == 200
        clock.advance(minutes=5, seconds=1)
        assert third.get(path).status_code == 200
    assert portal.get(path).status_code == 200


def test_twenty_claimants_behind_one_carrier_address_all_get_their_captcha(
    portal_app: Starlette, pending: Pending
) -> None:
    # what was refused before: 20 page views from one address gave HTTP 429
    path = path_of(pending.link)
    for _ in range(20):
        with TestClient(portal_app) as claimant:
            assert claimant.get(path).status_code == 200


@pytest.mark.parametrize(("minutes", "words"), [(1, "in 1 minute."), (5, "in 5 minutes.")])
def test_the_wait_is_said_in_good_english(portal_app: Starlette, minutes: int, words: str) -> None:
    from starlette.requests import Request

    from h5.supplement import web

    request = Request({"type": "http", "method": "GET", "path": "/h5/supplement", "headers": [],
                       "query_string": b"", "root_path": "", "app": portal_app})  # fmt: skip
    html = web.blocked(request, "en", "/h5/supplement", minutes * 60, "captcha").body.decode()
    assert words in html and "1 minutes" not in html
    zh = web.blocked(request, "zh", "/h5/supplement", minutes * 60, "captcha").body.decode()
    assert f"请在 {minutes} 分钟后再试" in zh


def test_the_captcha_image_is_drawn_at_twice_its_css_size_with_dark_glyphs() -> None:
    import io

    from PIL import Image

    from h5.supplement import captcha

    png = captcha.render(captchas.IMAGE, "AC3EF")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (400, 140) == (captcha.CSS_SIZE[0] * 2, captcha.CSS_SIZE[1] * 2)

    def luminance(rgb: tuple[int, int, int]) -> float:
        def channel(c: int) -> float:
            v = c / 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(c) for c in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lum = sorted(luminance(p) for p in image.get_flattened_data())  # type: ignore[arg-type]
    glyph, background = lum[len(lum) // 50], lum[-len(lum) // 4]  # darkest 2 %, the paper
    assert (background + 0.05) / (glyph + 0.05) >= 4.5


def test_the_page_shows_the_image_at_half_its_pixels(portal: TestClient, pending: Pending) -> None:
    html = portal.get(path_of(pending.link)).text
    assert 'width="200" height="70"' in html
    assert "SMITH John" in html  # the hint says Latin names may come in either order


def test_the_alphabet_has_no_look_alikes() -> None:
    for ch in "0O1IlDQZSGBVJ":
        assert ch not in captchas.ALPHABET, ch
    for pair in ("0O", "1I", "2Z", "5S", "6G", "8B", "UV"):
        assert not set(pair) <= set(captchas.ALPHABET), pair
    assert set(captchas.AUDIO_ALPHABET) <= set("23456789")
    assert all(f.endswith(".ttf") and "/usr/share/fonts" in f for f in captcha.fonts())


# --- waits and blocks ------------------------------------------------------------------------


def test_after_five_failures_the_claim_waits_longer_each_time(
    portal: TestClient, pending: Pending, answers: AnswerRecorder, clock: FakeClock
) -> None:
    path = path_of(pending.link)
    csrf, challenge = login_form(portal, path)
    for _ in range(throttle.FREE_FAILURES):
        r = _post(portal, path, csrf=csrf, captcha_id=challenge, captcha=answers.last, name="王芳")
        assert r.status_code == 400 and "请等待" not in r.text
        challenge = hidden(r.text, "captcha_id")
    # right inputs, but the claim must wait 30 s now
    r = _post(
        portal, path, csrf=csrf, captcha_id=challenge, captcha=answers.last, name=INSURED_NAME
    )
    assert r.status_code == 400 and "请等待 30 秒" in r.text
    clock.advance(seconds=31)
    challenge = hidden(r.text, "captcha_id")
    r = _post(portal, path, csrf=csrf, captcha_id=challenge, captcha=answers.last, name="王芳")
    assert r.status_code == 400  # a sixth failure: the next wait doubles
    challenge = hidden(r.text, "captcha_id")
    r = _post(
        portal, path, csrf=csrf, captcha_id=challenge, captcha=answers.last, name=INSURED_NAME
    )
    assert "请等待 60 秒" in r.text
    clock.advance(seconds=61)
    challenge = hidden(r.text, "captcha_id")
    ok = _post(
        portal, path, csrf=csrf, captcha_id=challenge, captcha=answers.last, name=INSURED_NAME
    )
    assert ok.status_code == 303
    assert throttle.wait_after(5).seconds == 30 and throttle.wait_after(40) == throttle.MAX_WAIT


def test_thirty_failures_in_fifteen_minutes_block_everything(
    portal_app: Starlette,
    portal: TestClient,
    pending: Pending,
    answers: AnswerRecorder,
    clock: FakeClock,
) -> None:
    with TestClient(portal_app) as other:
        # two browsers of one address take turns (one browser alone runs out of images)
        forms = {b: login_form(b, LOST) for b in (portal, other)}
        for i in range(throttle.BLOCK_FAILURES):
            # other claim numbers each time: the per-claim wait is not what is tested here
            browser = (portal, other)[i % 2]
            csrf, challenge = forms[browser]
            r = _post(
                browser,
                LOST,
                csrf=csrf,
                captcha_id=challenge,
                captcha=answers.last,
                claim_no=f"VSHH260302{i:05d}",
                name="王芳",
            )
            assert r.status_code == 400, (i, r.text[:200])
            forms[browser] = (csrf, hidden(r.text, "captcha_id"))
            clock.advance(seconds=20)
    # now even the right claim, name and characters are refused
    csrf, challenge = forms[portal]
    blocked = _post(
        portal,
        LOST,
        csrf=csrf,
        captcha_id=challenge,
        captcha=answers.last,
        claim_no=pending.claim_no,
        name=INSURED_NAME,
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "sp_session" not in blocked.headers.get("set-cookie", "")
    assert "10108686" in blocked.text
    # the token link is blocked too, from this address
    token_path = path_of(pending.link)
    csrf2, challenge2 = login_form(portal, token_path)
    assert (
        _post(
            portal,
            token_path,
            csrf=csrf2,
            captcha_id=challenge2,
            captcha=answers.last,
            name=INSURED_NAME,
        ).status_code
        == 429
    )
    # once the window has passed, the right answer works again
    clock.advance(minutes=15)
    csrf, challenge = login_form(portal, LOST)
    ok = _post(
        portal,
        LOST,
        csrf=csrf,
        captcha_id=challenge,
        captcha=answers.last,
        claim_no=pending.claim_no,
        name=INSURED_NAME,
    )
    assert ok.status_code == 303


def test_failures_from_other_addresses_never_make_the_claimant_wait(
    portal_app: Starlette, pending: Pending, answers: AnswerRecorder
) -> None:
    path = path_of(pending.link)
    # five addresses fail five times each on the claim
    for i in range(5):
        with TestClient(portal_app, client=(f"203.0.113.{i}", 50000)) as guesser:
            csrf, challenge = login_form(guesser, path)
            for _ in range(throttle.FREE_FAILURES):
                r = _post(
                    guesser, path, csrf=csrf, captcha_id=challenge, captcha="AAAAA", name="王芳"
                )
                assert r.status_code == 400 and "请等待" not in r.text
                challenge = hidden(r.text, "captcha_id")
            # the guesser itself must wait now, even with the right answers
            r = _post(
                guesser,
                path,
                csrf=csrf,
                captcha_id=challenge,
                captcha=answers.last,
                name=INSURED_NAME,
            )
            assert r.status_code == 400 and "请等待 30 秒" in r.text
    # the claimant, from a sixth address, gets in at once
    with TestClient(portal_app, client=("198.51.100.20", 50000)) as claimant:
        assert log_in(claimant, pending, answers).status_code == 303


# --- the lost link ---------------------------------------------------------------------------


def test_the_claim_number_can_be_typed_when_the_link_is_lost(
    portal: TestClient, pending: Pending, answers: AnswerRecorder
) -> None:
    page = portal.get(LOST)
    assert page.status_code == 200 and '<label for="claim_no">赔案号</label>' in page.text
    typed = " " + pending.claim_no.lower()[:6] + " " + pending.claim_no.lower()[6:]
    r = _post(
        portal,
        LOST,
        csrf=hidden(page.text, "csrf"),
        captcha_id=hidden(page.text, "captcha_id"),
        captcha=answers.last,
        claim_no=typed,
        name=INSURED_NAME,
    )
    assert r.status_code == 303 and r.headers["location"] == "/h5/supplement/claim"
    assert pending.claim_no in portal.get("/h5/supplement/claim").text


def test_a_claim_not_waiting_for_documents_says_so_after_a_right_login(
    portal: TestClient, pending: Pending, answers: AnswerRecorder, db_factory: sessionmaker[Session]
) -> None:
    with db_factory() as s:
        claim = s.get(Claim, pending.claim_id)
        assert claim is not None
        claim.status = ClaimStatus.WITHDRAWN
        s.commit()
    csrf, challenge = login_form(portal, LOST)
    r = _post(
        portal,
        LOST,
        csrf=csrf,
        captcha_id=challenge,
        captcha=answers.last,
        claim_no=pending.claim_no,
        name=INSURED_NAME,
    )
    assert r.status_code == 410
    assert "10108686" in r.text and "线下" in r.text
    assert "sp_session" not in r.headers.get("set-cookie", "")


def test_a_login_form_without_its_csrf_token_is_refused(
    portal: TestClient,
    pending: Pending,
    answers: AnswerRecorder,
    db_factory: sessionmaker[Session],
    members: MemberServices,
) -> None:
    path = path_of(pending.link)
    _, challenge = login_form(portal, path)
    r = _post(portal, path, captcha_id=challenge, captcha=answers.last, name=INSURED_NAME)
    assert r.status_code == 403
    assert "页面已过期" in r.text and 'name="captcha_id"' in r.text  # a fresh form to try again
    forged = _post(
        portal, path, csrf="0" * 40, captcha_id=challenge, captcha=answers.last, name=INSURED_NAME
    )
    assert forged.status_code == 403
    # a body that is not a form at all
    raw = portal.post(path, content=b'{"name": "x"}', headers={"content-type": "application/json"})
    assert raw.status_code == 403
    with db_factory() as s:
        assert s.scalar(select(func.count()).select_from(LoginSession)) == 0
    assert _failures(db_factory, members) == 0  # not counted as a guess


def test_names_are_compared_without_spaces_width_or_case() -> None:
    assert normalise_name(" 张 伟 ") == normalise_name("张伟")
    assert normalise_name("ＪＯＨＮ　Smith") == normalise_name("john smith")
    assert normalise_name("阿卜杜・热合曼") == normalise_name("阿卜杜·热合曼")
    assert normalise_name("张伟") != normalise_name("张玮")


def test_latin_names_match_in_either_order() -> None:
    assert latin_name_key("SMITH John") == latin_name_key("John Smith") != ""
    assert latin_name_key("Smith, John") == latin_name_key("john  SMITH")
    assert latin_name_key("Ｊｏｈｎ Ｓｍｉｔｈ") == latin_name_key("Smith John")
    assert latin_name_key("José Álvarez-Núñez") == latin_name_key("ÁLVAREZ-NÚÑEZ José")
    assert latin_name_key("John Smith") != latin_name_key("John Smithson")
    assert latin_name_key("张伟") == "" and latin_name_key("Smith") == ""  # no free order
    assert normalise_claim_no(" vshh 2603 0200001 ") == "VSHH26030200001"


def test_a_latin_name_signs_in_family_name_first_or_last() -> None:
    from types import SimpleNamespace

    from server.claims.portal import name_matches
    from tests.server.claims.test_portal_concurrency import VAULT

    claim = SimpleNamespace(insured=SimpleNamespace(name_enc=VAULT.encrypt("John Smith")))
    for typed in ("John Smith", "SMITH John", "smith, john", "Smith John"):
        assert name_matches(VAULT, claim, typed), typed  # type: ignore[arg-type]
    for typed in ("John", "Jon Smith", "John Smith Jr", ""):
        assert not name_matches(VAULT, claim, typed), typed  # type: ignore[arg-type]
    assert not name_matches(VAULT, None, "John Smith")


def test_english_pages_use_english_punctuation_and_a_tappable_hotline(
    portal: TestClient, pending: Pending
) -> None:
    english = portal.get(path_of(pending.link) + "?lang=en").text
    assert "Claim number: <strong" in english
    assert "：" not in english
    assert '<a class="tel" href="tel:+8610108686">10108686</a>' in english
    chinese = portal.get(path_of(pending.link)).text
    assert "理赔编号：<strong" in chinese or "：<strong" in chinese
