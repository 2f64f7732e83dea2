"""What every page of the supplement portal shares: settings, URLs, rendering with the
portal's headers, small forms, the messages for errors, and the one guard of the
signed-in pages (`signed_page`)."""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from h5.i18n import Translator
from h5.supplement import present
from h5.supplement import session as sessions
from h5.templating import PAGE_HEADERS, render, static_version
from server.claims import portal
from server.claims.core import ClaimContext
from server.claims.office import OFFICE
from server.claims.portal import Signed
from server.claims.portal.captchas import AnswerSource, random_answer
from server.crypto import Vault
from server.db import unit_of_work
from server.help import faq
from server.notify.templates import HOTLINE
from server.services import Services

HTML_LANG = {"en": "en", "zh": "zh-CN"}
FORM_MAX_BYTES = 16 * 1024  # the log-in, remove and submit forms are small
MAX_FILES = 10  # per request; more in the next one
NO_STORE = "no-store"
# the seed's address for documents sent by post (000 §4: after a claim is sent)
OFFICE_ADDRESS = f"{OFFICE.address_zh}（邮编 {OFFICE.postcode}）"


@dataclass(frozen=True)
class PortalConfig:
    """Knobs tests turn through `app.state.supplement_portal`."""

    # every log-in answer takes at least this long, so timing does not tell failures apart
    login_floor: float = 0.5
    answers: AnswerSource = random_answer
    # how that time is measured and waited out
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


DEFAULT_CONFIG = PortalConfig()


@dataclass(frozen=True)
class Env:
    services: Services
    cx: ClaimContext
    vault: Vault
    config: PortalConfig

    def db(self) -> AbstractContextManager[Session]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        assert self.services.db is not None
        return unit_of_work(self.services.db)


# --- plumbing ----------------------------------------------------------------------------------


def env_of(request: Request) -> Env | None:
    services: Services = request.app.state.services
    if services.db is None or services.claims is None or services.members is None:
        return None
    config = getattr(request.app.state, "supplement_portal", None) or DEFAULT_CONFIG
    return Env(services, services.claims, services.members.vault, config)


def lang_of(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "zh"


def base_path(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def app_root_of(request: Request) -> str:
    return str(request.scope.get("app_root_path", "")).rstrip("/")


def portal_url(request: Request, path: str, lang: str, **params: str) -> str:
    query = {"lang": "en"} if lang == "en" else {}
    query.update(params)
    suffix = "?" + urllib.parse.urlencode(query) if query else ""
    return f"{base_path(request)}/supplement{path}{suffix}"


def client_address(request: Request) -> str:
    # behind a proxy, uvicorn's --proxy-headers puts the real address here
    return request.client.host if request.client else "unknown"


def secure_headers(response: Response) -> Response:
    for name in ("Referrer-Policy", "X-Content-Type-Options", "X-Frame-Options"):
        response.headers[name] = PAGE_HEADERS[name]
    response.headers["Cache-Control"] = NO_STORE
    return response


def render_page(
    request: Request,
    name: str,
    lang: str,
    here: str,
    status: int = 200,
    **extra: Any,
) -> Response:
    """Render a portal page; `here` is the GET path the language switch leads to."""
    base = base_path(request)
    other = "zh" if lang == "en" else "en"
    context: dict[str, Any] = {
        "t": Translator(lang),
        "lang": lang,
        "html_lang": HTML_LANG[lang],
        "other_html_lang": HTML_LANG[other],
        "other_lang_url": portal_url(request, here, other),
        "base": base,
        "static": lambda n: f"{base}/static/{n}?v={static_version(n)}",
        "hotline": HOTLINE,
        "office_address": OFFICE_ADDRESS,
        "lost_url": portal_url(request, "", lang),
    }
    context.update(extra)
    return secure_headers(render(name, context, status))


def see_other(url: str) -> Response:
    return secure_headers(RedirectResponse(url, status_code=303))


def unavailable(request: Request) -> Response:
    lang = lang_of(request)
    return render_page(request, "supplement/closed.html", lang, "", 503, reason="unavailable")


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def small_form(request: Request) -> dict[str, str] | None:
    """A urlencoded body of at most FORM_MAX_BYTES, or None (never read past the limit)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return None
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > FORM_MAX_BYTES:
                return None
    except ClientDisconnect:
        return None
    try:
        pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return None
    return dict(pairs)


async def pace(config: PortalConfig, started: float) -> None:
    """Answer no earlier than `config.login_floor` seconds after `started` (by `config.clock`),
    whatever was checked."""
    left = config.login_floor - (config.clock() - started)
    if left > 0:
        await config.sleep(left)


def blocked(
    request: Request, lang: str, here: str, retry_after: int, reason: str = "blocked"
) -> Response:
    """HTTP 429: too many failures ("blocked") or too many captchas ("captcha")."""
    minutes = max(1, (retry_after + 59) // 60)
    response = render_page(
        request, "supplement/blocked.html", lang, here, 429, minutes=minutes, reason=reason
    )  # the page words it "1 minute" / "2 minutes" (supplement.minutes_*)
    response.headers["Retry-After"] = str(retry_after)
    return response


def closed(request: Request, lang: str, reason: str, here: str = "") -> Response:
    status = {"UNKNOWN": 404, "ANSWERED": 200, "unavailable": 503}.get(reason, 410)
    return render_page(request, "supplement/closed.html", lang, here, status, reason=reason)


# --- the signed-in claim -------------------------------------------------------------------------


def signed_session(db: Session, env: Env, request: Request) -> Signed | None:
    return portal.signed_in(db, env.cx, sessions.session_token(request))


def ended(request: Request, lang: str) -> Response:
    if wants_json(request):
        return json_error(request, lang, "SESSION_ENDED", 401)
    return render_page(request, "supplement/ended.html", lang, "", 401)


def not_open_reason(env: Env, signed: Signed) -> str | None:
    """Why the signed-in supplement takes no more files, or None while it does."""
    return portal.not_open_reason(env.cx, signed)


def session_csrf(env: Env, signed: Signed) -> str:
    return sessions.csrf_token(env.cx.settings.secret_key, "session", signed.token)


def csrf_valid(env: Env, signed: Signed, given: str | None) -> bool:
    return sessions.csrf_ok(env.cx.settings.secret_key, "session", signed.token, given)


def claim_page(
    request: Request,
    env: Env,
    db: Session,
    signed: Signed,
    lang: str,
    *,
    status: int = 200,
    errors: list[str] | None = None,
    remark: str | None = None,
) -> Response:
    data = present.page_data(
        db,
        env.cx,
        signed.claim,
        signed.supplement,
        lang=lang,
        app_root=app_root_of(request),
        session_id=signed.session.id,
    )
    return render_page(
        request,
        "supplement/page.html",
        lang,
        "/claim",
        status,
        data=data,
        deadline=present.china_date(data.deadline, lang),
        csrf=session_csrf(env, signed),
        upload_url=lambda code: portal_url(request, "/claim/upload", lang, category=code),
        remove_url=portal_url(request, "/claim/remove", lang),
        submit_url=portal_url(request, "/claim/submit", lang),
        logout_url=portal_url(request, "/claim/logout", lang),
        errors=errors or [],
        remark=data.remark if remark is None else remark,
        remark_max=portal.REMARK_MAX,
        max_mb=env.cx.settings.upload_max_mb,
        upload_help=[(e.id, e.question[lang]) for e in faq.for_step("upload")],
        max_files=MAX_FILES,
    )


def not_open_page(request: Request, env: Env, signed: Signed, lang: str) -> Response | None:
    """Where a supplement that takes nothing more sends the claimant: to what was received
    once answered, else to the page saying why it is closed; None while it is open."""
    reason = not_open_reason(env, signed)
    if reason == "ANSWERED":
        return see_other(portal_url(request, "/claim/done", lang))
    if reason is not None:
        return closed(request, lang, reason, "/claim")
    return None


def refused(
    request: Request,
    env: Env,
    db: Session,
    signed: Signed,
    lang: str,
    code: str,
    as_json: bool,
    remark: str | None = None,
) -> Response:
    """A form of the signed-in page refused with `code`: the page again with the message."""
    status = ERROR_STATUS.get(code, 400)
    if as_json:
        return json_error(request, lang, code, status, env)
    return not_open_page(request, env, signed, lang) or claim_page(
        request,
        env,
        db,
        signed,
        lang,
        status=status,
        errors=[error_message(lang, code, env)],
        remark=remark,
    )


Fields = dict[str, str]
SignedView = Callable[[Request, Env, Session, Signed, str, Fields], Response]


def signed_page(
    *, form: bool = False, open_only: bool = False, json_errors: bool = False
) -> Callable[[SignedView], Callable[[Request], Awaitable[Response]]]:
    """The guard of every signed-in page: the view runs (in a worker thread, in one unit of
    work) only for a live portal session, else the answer is given here: 503 without a
    database, the "session ended" page (401). With `form`, the small urlencoded form is read
    and its CSRF token checked (a refusal shows the page again, as JSON with `json_errors`
    when asked for); with `open_only`, a supplement already answered or closed leads to the
    page saying so. The view gets the form's fields ({} without a form)."""

    def decorate(view: SignedView) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            env = env_of(request)
            if env is None:
                return unavailable(request)
            fields = await small_form(request) if form else {}
            lang = lang_of(request)
            return await run_in_threadpool(_guarded, request, env, lang, fields)

        def _guarded(request: Request, env: Env, lang: str, fields: Fields | None) -> Response:
            with env.db() as db:
                signed = signed_session(db, env, request)
                if signed is None:
                    return ended(request, lang)
                if fields is None or (form and not csrf_valid(env, signed, fields.get("csrf"))):
                    as_json = json_errors and wants_json(request)
                    remark = (fields or {}).get("remark")
                    return refused(request, env, db, signed, lang, "CSRF", as_json, remark)
                if open_only and (answer := not_open_page(request, env, signed, lang)):
                    return answer
                return view(request, env, db, signed, lang, fields)

        endpoint.__name__ = endpoint.__qualname__ = view.__name__
        return endpoint

    return decorate


ERROR_KEYS = {
    "FILE_TOO_LARGE": "supplement.error.file_too_large",
    "UNSUPPORTED_FILE_TYPE": "supplement.error.unsupported",
    "CORRUPT_FILE": "supplement.error.corrupt",
    "EMPTY_FILE": "supplement.error.empty",
    "IMAGE_TOO_LARGE": "supplement.error.image_too_large",
    "QUOTA_EXCEEDED": "supplement.error.quota",
    "TOO_MANY_FILES": "supplement.error.too_many_files",
    "REQUEST_TOO_LARGE": "supplement.error.too_many_files",
    "CATEGORY_NOT_ALLOWED": "supplement.error.category",
    "NO_FILE": "supplement.error.no_file",
    "CSRF": "supplement.error.csrf",
    "SESSION_ENDED": "supplement.error.session",
    "CLAIM_STATE_CONFLICT": "supplement.error.state",
    "NOT_FOUND": "supplement.error.not_found",
    "STORAGE_FULL": "supplement.error.storage_full",
    "REQUEST_TIMEOUT": "supplement.error.timeout",
}
ERROR_STATUS = {
    "FILE_TOO_LARGE": 413,
    "IMAGE_TOO_LARGE": 413,
    "QUOTA_EXCEEDED": 413,
    "TOO_MANY_FILES": 413,
    "REQUEST_TOO_LARGE": 413,
    "TOO_MANY_FIELDS": 413,
    "FIELD_TOO_LARGE": 413,
    "UNSUPPORTED_FILE_TYPE": 415,
    "NOT_MULTIPART": 415,
    "CSRF": 403,
    "SESSION_ENDED": 401,
    "CLAIM_STATE_CONFLICT": 409,
    "NOT_FOUND": 404,
    "REQUEST_TIMEOUT": 408,
    "STORAGE_FULL": 507,
    "INTERNAL_ERROR": 500,
}


def error_message(lang: str, code: str, env: Env | None = None, name: str = "") -> str:
    t = Translator(lang)
    key = ERROR_KEYS.get(code, "supplement.error.generic")
    values: dict[str, object] = {}
    if code == "FILE_TOO_LARGE":
        values["mb"] = env.cx.settings.upload_max_mb if env else 10
    if code in ("TOO_MANY_FILES", "REQUEST_TOO_LARGE"):
        values["n"] = MAX_FILES
    text = t(key, **values)
    return f"{name}: {text}" if name else text


def json_error(
    request: Request, lang: str, code: str, status: int, env: Env | None = None
) -> Response:
    body = {"error": {"code": code, "message": error_message(lang, code, env)}}
    return secure_headers(JSONResponse(body, status_code=status))
