"""Logging in to the supplement portal: from the link (the claim number shown) or with the
claim number typed; the captcha's image or sound.

Every failure (wrong name, wrong characters, unknown claim) gives the same page after the
same time (`pace`); the throttle counts the try against the claim number from that address,
and a failure against the address."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from h5.i18n import Translator
from h5.supplement import captcha
from h5.supplement import session as sessions
from h5.supplement.web import (
    Env,
    blocked,
    client_address,
    closed,
    env_of,
    lang_of,
    pace,
    portal_url,
    render_page,
    secure_headers,
    see_other,
    small_form,
    unavailable,
)
from server.claims import portal, supplements
from server.claims.errors import SupplementLinkInvalid
from server.claims.models import Claim, SupplementRequest
from server.claims.portal import captchas, throttle
from server.claims.portal import sessions as portal_sessions
from server.db import write_first

# --- log-in --------------------------------------------------------------------------------------


@dataclass
class LoginForm:
    """What a log-in page shows besides the fields: the challenge and the messages."""

    challenge: captchas.Challenge | None = None
    error: str = ""
    claim_no: str = ""  # shown (from the link) or typed (lost link)
    typed_no: str = ""


def _browser(request: Request) -> tuple[str, bool]:
    """The browser id cookie's value, and whether it must be set on this response."""
    value = sessions.browser_id(request)
    return (value, False) if value else (portal_sessions.new_token(), True)


def _issue_challenge(
    env: Env, db: Session, request: Request, browser: str, kind: str
) -> captchas.Challenge:
    return captchas.issue(
        db,
        env.vault,
        env.cx.limiter,
        kind=kind,
        browser=browser,
        client=throttle.client_key(env.vault, client_address(request)),
        page=captchas.page_key(env.vault, browser, request.url.path),
        now=env.cx.now(),
        answers=env.config.answers,
        render=captcha.render,
        challenges=env.services.challenges,
    )


def _login_response(
    request: Request,
    env: Env,
    lang: str,
    here: str,
    form: LoginForm,
    browser: str,
    set_browser: bool,
    *,
    lost: bool,
    status: int = 200,
    labels: dict[str, str] | None = None,
) -> Response:
    """The log-in page; `labels` (title, number_label, name_label, name_hint, intro,
    no_lost_link) word it for another kind of link than a claim's."""
    t = Translator(lang)
    words = dict(labels or {})
    kind = form.challenge.kind if form.challenge else captchas.IMAGE
    other_kind = {"captcha": "image"} if kind == captchas.AUDIO else {"captcha": "audio"}
    response = render_page(
        request,
        "supplement/login.html",
        lang,
        here,
        status,
        lost=lost,
        form=form,
        action=portal_url(request, here, lang),
        csrf=sessions.csrf_token(env.cx.settings.secret_key, "login", browser),
        captcha_url=(
            portal_url(request, f"/captcha/{form.challenge.public_id}", "zh")
            if form.challenge
            else ""
        ),
        new_captcha_url=portal_url(
            request, here, lang, **({"captcha": "audio"} if kind == captchas.AUDIO else {})
        ),
        switch_captcha_url=portal_url(request, here, lang, **other_kind),
        audio=kind == captchas.AUDIO,
        answer_length=captchas.LENGTH[kind],
        title=words.pop("title", "")
        or t("supplement.lost.title" if lost else "supplement.login.title"),
        **words,
    )
    if set_browser:
        sessions.set_cookie(
            response, request, sessions.BROWSER_COOKIE, browser, env.cx.settings.base_url
        )
    return response


def _login_get(
    request: Request,
    env: Env,
    lang: str,
    here: str,
    claim_no: str,
    *,
    lost: bool,
    labels: dict[str, str] | None = None,
) -> Response:
    browser, set_browser = _browser(request)
    kind = captchas.AUDIO if request.query_params.get("captcha") == "audio" else captchas.IMAGE
    with env.db() as db:
        write_first(db)  # the rate counted and the challenge stored: one short write
        try:
            challenge = _issue_challenge(env, db, request, browser, kind)
        except captchas.TooManyChallenges as e:
            return blocked(request, lang, here, e.retry_after, "captcha")
    form = LoginForm(challenge=challenge, claim_no=claim_no)
    return _login_response(
        request, env, lang, here, form, browser, set_browser, lost=lost, labels=labels
    )


@dataclass(frozen=True)
class _Again:
    """The log-in page once more (a failure, a wait), with a new challenge."""

    error: str
    shown_no: str
    typed_no: str
    status: int


def _login_post(
    request: Request,
    env: Env,
    lang: str,
    here: str,
    fields: dict[str, str] | None,
    *,
    token: str | None,
) -> Callable[[], Response]:
    """Check a log-in; returns how to answer (built after the pacing sleep)."""
    browser, set_browser = _browser(request)
    outcome = _check_login(request, env, lang, here, fields, token=token, browser=browser)
    if not isinstance(outcome, _Again):
        return outcome
    kind = (
        captchas.AUDIO if (fields or {}).get("captcha_kind") == captchas.AUDIO else captchas.IMAGE
    )
    # the next challenge in a short transaction of its own, after the check's has ended:
    # the write lock is not held while the image is drawn
    with env.db() as db:
        write_first(db)
        try:
            challenge = _issue_challenge(env, db, request, browser, kind)
        except captchas.TooManyChallenges as e:
            wait = e.retry_after
            return lambda: blocked(request, lang, here, wait, "captcha")
    form = LoginForm(challenge, outcome.error, outcome.shown_no, outcome.typed_no)
    return lambda: _login_response(
        request,
        env,
        lang,
        here,
        form,
        browser,
        set_browser,
        lost=token is None,
        status=outcome.status,
    )


def _check_login(
    request: Request,
    env: Env,
    lang: str,
    here: str,
    fields: dict[str, str] | None,
    *,
    token: str | None,
    browser: str,
) -> Callable[[], Response] | _Again:
    """The log-in's one transaction. It reads (the link, the throttle) before it writes
    (the try counted, the captcha used, the session opened), so on SQLite it takes the
    write lock as it begins and waits for it rather than failing when another log-in
    commits in between."""
    lost = token is None
    secret = env.cx.settings.secret_key
    now = env.cx.now()
    t = Translator(lang)

    with env.db() as db:
        write_first(db)
        link: tuple[Claim, SupplementRequest] | None = None
        shown_no = ""
        if token is not None:
            try:
                link = supplements.claim_for_token(db, env.cx, token)
            except SupplementLinkInvalid as e:
                reason = e.reason
                return lambda: closed(request, lang, reason, here)
            shown_no = link[0].claim_no or ""
        if fields is None or not sessions.csrf_ok(
            secret, "login", sessions.browser_id(request), fields.get("csrf")
        ):
            return _Again(t("supplement.login.expired_form"), shown_no, "", 403)

        typed_no = portal.normalise_claim_no(fields.get("claim_no", "")) if lost else ""
        claim_no = shown_no if token is not None else typed_no
        client_key = throttle.client_key(env.vault, client_address(request))
        tried = throttle.try_key(env.vault, throttle.claim_key(env.vault, claim_no), client_key)
        verdict = throttle.check(env.cx.limiter, db, tried=tried, client=client_key)
        if verdict.blocked:
            wait = verdict.retry_after
            return lambda: blocked(request, lang, here, wait)
        if not verdict.allowed:
            message = t("supplement.login.wait", seconds=verdict.retry_after)
            return _Again(message, shown_no, typed_no, 400)

        solved = captchas.verify(
            db,
            env.vault,
            public_id=fields.get("captcha_id", ""),
            answer=fields.get("captcha", ""),
            browser=browser,
            now=now,
            challenges=env.services.challenges,
        )
        claim = link[0] if link is not None else portal.claim_by_number(db, typed_no)
        named = portal.name_matches(env.vault, claim, fields.get("name", ""))
        if not (solved and named and claim is not None):
            throttle.fail(env.cx.limiter, db, client=client_key)
            return _Again(t("supplement.login.failed"), shown_no, typed_no, 400)

        throttle.succeed(env.cx.limiter, db, tried=tried)
        if link is None:
            link = supplements.claim_for_number(db, env.cx, typed_no)
            if link is None:
                # the right name for a claim with nothing (more) to send: say so plainly
                return lambda: closed(request, lang, "NOT_PENDING", here)
        claim, supplement = link
        cookie = portal_sessions.open_session(
            db,
            env.cx.sessions,
            claim=claim,
            supplement=supplement,
            replacing=sessions.session_token(request),
        )

    def signed_in() -> Response:
        response = see_other(portal_url(request, "/claim", lang))
        sessions.set_cookie(
            response, request, sessions.SESSION_COOKIE, cookie, env.cx.settings.base_url
        )
        return response

    return signed_in


async def token_login(request: Request) -> Response:
    env = env_of(request)
    if env is None:
        return unavailable(request)
    token = request.path_params["token"]
    lang = lang_of(request)
    here = f"/{token}"
    if request.method == "GET":
        return await run_in_threadpool(_token_get, request, env, lang, here, token)
    started = env.config.clock()
    fields = await small_form(request)
    answer = await run_in_threadpool(_login_post, request, env, lang, here, fields, token=token)
    await pace(env.config, started)
    return answer()


def _token_get(request: Request, env: Env, lang: str, here: str, token: str) -> Response:
    with env.db() as db:
        try:
            claim, supplement = supplements.claim_for_token(db, env.cx, token)
        except SupplementLinkInvalid as e:
            return closed(request, lang, e.reason, here)
        current = portal_sessions.load(db, env.cx.sessions, sessions.session_token(request))
        if current is not None and current.scope_id == supplement.id:
            return see_other(portal_url(request, "/claim", lang))
        claim_no = claim.claim_no or ""
    return _login_get(request, env, lang, here, claim_no, lost=False)


async def lost_link(request: Request) -> Response:
    env = env_of(request)
    if env is None:
        return unavailable(request)
    lang = lang_of(request)
    if request.method == "GET":
        return await run_in_threadpool(_login_get, request, env, lang, "", "", lost=True)
    started = env.config.clock()
    fields = await small_form(request)
    answer = await run_in_threadpool(_login_post, request, env, lang, "", fields, token=None)
    await pace(env.config, started)
    return answer()


async def captcha_media(request: Request) -> Response:
    env = env_of(request)
    if env is None:
        return secure_headers(Response(status_code=404))
    public_id = request.path_params["challenge"]
    browser = sessions.browser_id(request) or ""
    found = await run_in_threadpool(_captcha_media, env, public_id, browser)
    if found is None:
        return secure_headers(Response(status_code=404))
    body, media_type = found
    response = Response(body, media_type=media_type)
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return secure_headers(response)


def _captcha_media(env: Env, public_id: str, browser: str) -> tuple[bytes, str] | None:
    with env.db() as db:
        return captchas.media(
            db, public_id, browser, env.cx.now(), challenges=env.services.challenges
        )
