"""The H5 page of documents asked for on a service request (advance payment,
pre-authorisation, ...: server/service_supplements), on the supplement portal's parts.

    GET/POST /supplement/r/{token}       log in: the request number is shown, the member's
                                         name and a captcha are typed (the claims portal's
                                         captchas, throttles and pacing)
    GET  /supplement/request             what is asked, the files sent so far
    POST /supplement/request/upload      files for one category (api/multipart.py through
                                         upload.take_files, behind api/guard.py)
    POST /supplement/request/remove      take a file back before sending
    POST /supplement/request/submit      send the documents
    GET  /supplement/request/done        what was received
    POST /supplement/request/logout      end the session

The session (its own cookie, REQUEST_PORTAL in server/sessions.py) opens its one request
for documents only; the pages are the claims portal's templates worded for a request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

import server.billing.advance
import server.claims.preauth  # noqa: F401  (the kinds of request register themselves)
from api.guard import Guarded
from h5.i18n import Translator
from h5.supplement import present
from h5.supplement import session as sessions
from h5.supplement.login import LoginForm, _browser, _issue_challenge, _login_response
from h5.supplement.upload import take_files
from h5.supplement.web import (
    ERROR_STATUS,
    MAX_FILES,
    Env,
    app_root_of,
    blocked,
    client_address,
    ended,
    env_of,
    error_message,
    json_error,
    lang_of,
    pace,
    portal_url,
    render_page,
    secure_headers,
    see_other,
    small_form,
    unavailable,
    wants_json,
)
from server import service_supplements as ss
from server.claims import links
from server.claims.errors import SupplementLinkInvalid
from server.claims.portal import captchas, throttle
from server.db import write_first
from server.errors import DomainError, ValidationFailed
from server.help import faq
from server.notify.templates import HOTLINE
from server.service_supplements import portal as rportal
from server.service_supplements.models import ServiceSupplement, ServiceSupplementDocument
from server.storage.uploads import StoredUpload

COOKIE = "sp_request"
CSRF = "request"  # the purpose of the signed-in pages' CSRF tokens


def _labels(lang: str, *, login: bool = False) -> dict[str, Any]:
    t = Translator(lang)
    words: dict[str, Any] = {
        "site": t("supplement.request.site"),
        "number_label": t("supplement.request.number"),
        "done_intro": t("supplement.request.done_intro"),
    }
    if login:
        words.update(
            title=t("supplement.request.login_title"),
            name_label=t("supplement.request.name"),
            name_hint=t("supplement.request.name_hint"),
            intro=t("supplement.request.login_intro"),
            no_lost_link=True,
        )
    return words


def _closed(request: Request, lang: str, reason: str, here: str = "") -> Response:
    status = {"UNKNOWN": 404, "ANSWERED": 200, "unavailable": 503}.get(reason, 410)
    return render_page(
        request,
        "supplement/closed.html",
        lang,
        here,
        status,
        reason=reason,
        service=True,
        site=Translator(lang)("supplement.request.site"),
    )


def _token(request: Request) -> str | None:
    return request.cookies.get(COOKIE)


# --- log-in ----------------------------------------------------------------------------------


async def token_login(request: Request) -> Response:
    env = env_of(request)
    if env is None:
        return unavailable(request)
    token = request.path_params["token"]
    lang = lang_of(request)
    here = f"/r/{token}"
    if request.method == "GET":
        return await run_in_threadpool(_login_get, request, env, lang, here, token)
    started = env.config.clock()
    fields = await small_form(request)
    answer = await run_in_threadpool(_login_post, request, env, lang, here, token, fields)
    await pace(env.config, started)
    return answer()


def _login_get(request: Request, env: Env, lang: str, here: str, token: str) -> Response:
    with env.db() as db:
        try:
            kind, _, ask = ss.for_token(db, env.cx, token)
        except SupplementLinkInvalid as e:
            return _closed(request, lang, e.reason, here)
        current = rportal.load(db, env.cx.sessions, _token(request))
        if current is not None and current.subject_id == ask.id:
            return see_other(portal_url(request, "/request", lang))
        reference = kind.reference(ask.subject_id)
        browser, set_browser = _browser(request)
        kind_ = captchas.AUDIO if request.query_params.get("captcha") == "audio" else captchas.IMAGE
        try:
            challenge = _issue_challenge(env, db, request, browser, kind_)
        except captchas.TooManyChallenges as e:
            return blocked(request, lang, here, e.retry_after, "captcha")
    form = LoginForm(challenge=challenge, claim_no=reference)
    return _login_response(
        request,
        env,
        lang,
        here,
        form,
        browser,
        set_browser,
        lost=False,
        labels=_labels(lang, login=True),
    )


def _login_post(
    request: Request,
    env: Env,
    lang: str,
    here: str,
    token: str,
    fields: dict[str, str] | None,
) -> Callable[[], Response]:
    """Check a log-in; returns how to answer (built after the pacing sleep). The tries are
    counted as the claims portal's, keyed by the request number instead of a claim's."""
    browser, set_browser = _browser(request)
    secret = env.cx.settings.secret_key
    kind_ = (
        captchas.AUDIO if (fields or {}).get("captcha_kind") == captchas.AUDIO else captchas.IMAGE
    )
    t = Translator(lang)

    def again(error: str, shown: str, status: int) -> Callable[[], Response]:
        """The log-in page again with a new captcha, issued in a transaction of its own
        (the tries' transaction holds SQLite's write lock only while it counts)."""
        try:
            with env.db() as db:
                challenge = _issue_challenge(env, db, request, browser, kind_)
        except captchas.TooManyChallenges as e:
            wait = e.retry_after
            return lambda: blocked(request, lang, here, wait, "captcha")
        form = LoginForm(challenge, error, shown, "")
        words = _labels(lang, login=True)
        return lambda: _login_response(
            request,
            env,
            lang,
            here,
            form,
            browser,
            set_browser,
            lost=False,
            status=status,
            labels=words,
        )

    retry: tuple[str, str, int] | None = None
    with env.db() as db:
        write_first(db)  # the tries are counted: one writer at a time on SQLite
        try:
            kind, _, ask = ss.for_token(db, env.cx, token)
        except SupplementLinkInvalid as e:
            reason = e.reason
            return lambda: _closed(request, lang, reason, here)
        reference = kind.reference(ask.subject_id)
        if fields is None or not sessions.csrf_ok(
            secret, "login", sessions.browser_id(request), fields.get("csrf")
        ):
            retry = (t("supplement.login.expired_form"), reference, 403)
        else:
            retry = _check_log_in(env, db, request, fields, browser, ask, reference, t)
        if retry is None:
            cookie = rportal.open_session(db, env.cx.sessions, ask, replacing=_token(request))
    if retry is not None:
        error, shown, status = retry
        if status == 429:
            wait = int(shown)
            return lambda: blocked(request, lang, here, wait)
        return again(error, shown, status)

    def signed_in() -> Response:
        response = see_other(portal_url(request, "/request", lang))
        sessions.set_cookie(response, request, COOKIE, cookie, env.cx.settings.base_url)
        return response

    return signed_in


def _check_log_in(
    env: Env,
    db: Session,
    request: Request,
    fields: dict[str, str],
    browser: str,
    ask: ServiceSupplement,
    reference: str,
    t: Translator,
) -> tuple[str, str, int] | None:
    """Count the try and check the captcha and the name: None when right, else (message,
    shown number, status), or ("", seconds, 429) for a blocked address."""
    client_key = throttle.client_key(env.vault, client_address(request))
    tried = throttle.try_key(env.vault, throttle.claim_key(env.vault, reference), client_key)
    verdict = throttle.check(env.cx.limiter, db, tried=tried, client=client_key)
    if verdict.blocked:
        return "", str(verdict.retry_after), 429
    if not verdict.allowed:
        return t("supplement.login.wait", seconds=verdict.retry_after), reference, 400
    solved = captchas.verify(
        db,
        env.vault,
        public_id=fields.get("captcha_id", ""),
        answer=fields.get("captcha", ""),
        browser=browser,
        now=env.cx.now(),
        challenges=env.services.challenges,
    )
    named = rportal.name_matches(env.vault, db, ask, fields.get("name", ""))
    if not (solved and named):
        throttle.fail(env.cx.limiter, db, client=client_key)
        return t("supplement.login.failed"), reference, 400
    throttle.succeed(env.cx.limiter, db, tried=tried)
    return None


# --- the signed-in pages ---------------------------------------------------------------------

Fields = dict[str, str]
View = Callable[[Request, Env, Session, rportal.Signed, str, Fields], Response]


def _csrf(env: Env, signed: rportal.Signed) -> str:
    return sessions.csrf_token(env.cx.settings.secret_key, CSRF, signed.token)


def signed_page(
    *, form: bool = False, open_only: bool = False
) -> Callable[[View], Callable[[Request], Awaitable[Response]]]:
    """The guard of the signed-in pages (as web.signed_page for a claim's): a live session,
    the form's CSRF token, and with `open_only` a request still taking files."""

    def decorate(view: View) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            env = env_of(request)
            if env is None:
                return unavailable(request)
            fields = await small_form(request) if form else {}
            return await run_in_threadpool(_guarded, request, env, lang_of(request), fields)

        def _guarded(request: Request, env: Env, lang: str, fields: Fields | None) -> Response:
            with env.db() as db:
                signed = rportal.signed_in(db, env.cx, _token(request))
                if signed is None:
                    return ended(request, lang)
                if fields is None or (
                    form
                    and not sessions.csrf_ok(
                        env.cx.settings.secret_key, CSRF, signed.token, fields.get("csrf")
                    )
                ):
                    if wants_json(request):
                        return json_error(request, lang, "CSRF", 403, env)
                    return _page(request, env, db, signed, lang, 403, [error_message(lang, "CSRF")])
                if open_only and (answer := _not_open(request, env, signed, lang)):
                    return answer
                return view(request, env, db, signed, lang, fields)

        endpoint.__name__ = endpoint.__qualname__ = view.__name__
        return endpoint

    return decorate


def _not_open(request: Request, env: Env, signed: rportal.Signed, lang: str) -> Response | None:
    reason = rportal.not_open_reason(env.cx, signed)
    if reason == "ANSWERED":
        return see_other(portal_url(request, "/request/done", lang))
    if reason is not None:
        return _closed(request, lang, reason, "/request")
    return None


def _document(
    env: Env, app_root: str, session_id: int, doc: ServiceSupplementDocument
) -> present.Document:
    def url(kind: str) -> str:
        link = links.Link(kind, doc.id, session_id)
        return (
            f"{app_root}/claim-files/{links.sign(env.cx.settings.secret_key, link, env.cx.now())}"
        )

    return present.Document(
        id=doc.id,
        name=doc.display_name,
        content_type=doc.content_type,
        size=doc.size,
        url=url("request-doc"),
        thumbnail_url=url("request-thumb") if doc.thumbnail_key else None,
    )


def page_data(
    db: Session, env: Env, signed: rportal.Signed, lang: str, app_root: str
) -> present.PageData:
    ask = signed.request
    areas = [
        present.Area(code, ss.category_name(signed.kind, code, lang), "")
        for code in ss.categories_of(ask)
    ]
    by_code = {a.code: a for a in areas}
    for doc in ss.documents(db, ask):
        if doc.category in by_code:
            by_code[doc.category].documents.append(_document(env, app_root, signed.session.id, doc))
    return present.PageData(
        claim_no=signed.kind.reference(ask.subject_id),
        instructions=ask.instructions,
        deadline=ask.deadline,
        areas=areas,
        fulfilled_at=ask.fulfilled_at,
        remark=ask.remark or "",
    )


def _page(
    request: Request,
    env: Env,
    db: Session,
    signed: rportal.Signed,
    lang: str,
    status: int = 200,
    errors: list[str] | None = None,
    remark: str | None = None,
) -> Response:
    data = page_data(db, env, signed, lang, app_root_of(request))
    return render_page(
        request,
        "supplement/page.html",
        lang,
        "/request",
        status,
        data=data,
        deadline=present.china_date(data.deadline, lang),
        csrf=_csrf(env, signed),
        upload_url=lambda code: portal_url(request, "/request/upload", lang, category=code),
        remove_url=portal_url(request, "/request/remove", lang),
        submit_url=portal_url(request, "/request/submit", lang),
        logout_url=portal_url(request, "/request/logout", lang),
        errors=errors or [],
        remark=data.remark if remark is None else remark,
        remark_max=ss.REMARK_MAX,
        max_mb=env.cx.settings.upload_max_mb,
        upload_help=[(e.id, e.question[lang]) for e in faq.for_step("upload")],
        max_files=MAX_FILES,
        **_labels(lang),
    )


@signed_page(open_only=True)
def request_page(
    request: Request, env: Env, db: Session, signed: rportal.Signed, lang: str, fields: Fields
) -> Response:
    return _page(request, env, db, signed, lang)


@signed_page()
def done_page(
    request: Request, env: Env, db: Session, signed: rportal.Signed, lang: str, fields: Fields
) -> Response:
    if signed.request.fulfilled_at is None:
        return see_other(portal_url(request, "/request", lang))
    data = page_data(db, env, signed, lang, app_root_of(request))
    assert data.fulfilled_at is not None
    t = Translator(lang)
    return render_page(
        request,
        "supplement/done.html",
        lang,
        "/request/done",
        data=data,
        received_at=present.china_time(data.fulfilled_at, lang),
        logout_url=portal_url(request, "/request/logout", lang),
        csrf=_csrf(env, signed),
        done_next=t("supplement.request.done_next", hotline=HOTLINE),
        **_labels(lang),
    )


@signed_page(form=True)
def remove(
    request: Request, env: Env, db: Session, signed: rportal.Signed, lang: str, fields: Fields
) -> Response:
    raw = fields.get("document", "")
    doc_id = int(raw) if raw.isdigit() and len(raw) < 12 else 0
    doc = ss.remove(db, env.cx, signed.request, doc_id)
    if doc is None:
        if wants_json(request):
            return json_error(request, lang, "NOT_FOUND", 404, env)
        return _not_open(request, env, signed, lang) or _page(
            request, env, db, signed, lang, 404, [error_message(lang, "NOT_FOUND")]
        )
    if wants_json(request):
        return secure_headers(JSONResponse({"removed": doc_id}))
    return see_other(portal_url(request, "/request", lang) + f"#area-{doc.category}")


@signed_page(form=True, open_only=True)
def submit(
    request: Request, env: Env, db: Session, signed: rportal.Signed, lang: str, fields: Fields
) -> Response:
    t = Translator(lang)
    remark = fields.get("remark", "").replace("\r\n", "\n")
    too_long = t("supplement.error.remark_too_long", max=ss.REMARK_MAX)
    if len(remark.strip()) > ss.REMARK_MAX:
        return _page(request, env, db, signed, lang, 400, [too_long], remark)
    try:
        ss.fulfil(db, env.cx, signed.request.id, remark=remark, channel="h5")
    except ss.SupplementDocumentsMissing as e:
        db.rollback()
        sep = "; " if lang == "en" else "；"
        names = sep.join(ss.category_name(signed.kind, c, lang) for c in e.missing)
        message = t("supplement.error.missing", names=names)
        return _page(request, env, db, signed, lang, 400, [message], remark)
    except ValidationFailed:
        db.rollback()
        return _page(request, env, db, signed, lang, 400, [too_long], remark)
    except ss.SupplementClosed:
        db.rollback()
        return _closed(request, lang, "CLOSED", "/request")
    return see_other(portal_url(request, "/request/done", lang))


@signed_page(form=True)
def logout(
    request: Request, env: Env, db: Session, signed: rportal.Signed, lang: str, fields: Fields
) -> Response:
    rportal.close(db, env.cx.sessions, signed.token)
    response = see_other(portal_url(request, "/request", lang))
    sessions.clear_cookie(response, request, COOKIE, env.cx.settings.base_url)
    return response


# --- uploads ---------------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _target(env: Env, request: Request, category: str) -> tuple[int, str, int, int]:
    """The open request's id, the session's token and id, and the bytes sent so far; _Refused
    (its code says why) before any byte is stored."""
    with env.db() as db:
        write_first(db)  # the session's idle clock may move
        signed = rportal.signed_in(db, env.cx, _token(request))
        if signed is None:
            raise _Refused("SESSION_ENDED")
        try:
            ss.check_upload(db, env.cx, signed.kind, signed.subject, signed.request, category)
        except ss.SupplementClosed:
            raise _Refused("CLAIM_STATE_CONFLICT") from None
        except ValidationFailed as e:
            raise _Refused(e.problems[0].code) from None
        used = sum(d.size for d in ss.documents(db, signed.request))
        return signed.request.id, signed.token, signed.session.id, used


def _attach(
    env: Env, ask_id: int, session_id: int, category: str, stored: StoredUpload, app_root: str
) -> dict[str, Any]:
    with env.db() as db:
        write_first(db)
        try:
            doc = ss.attach(db, env.cx, ask_id, category, stored, channel="h5")
        except ValidationFailed as e:
            raise _Problem(e.problems[0].code) from None
        except ss.SupplementClosed:
            raise _Problem("CLAIM_STATE_CONFLICT") from None
        item = _document(env, app_root, session_id, doc)
        return {
            "id": item.id,
            "name": item.name,
            "contentType": item.content_type,
            "size": item.size,
            "url": item.url,
            "thumbnailUrl": item.thumbnail_url,
            "category": category,
        }


class _Problem(DomainError):
    """A file refused after it was stored (the request closed meanwhile, too many files)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _errors_page(
    request: Request, env: Env, lang: str, messages: list[str], status: int
) -> Response:
    with env.db() as db:
        signed = rportal.signed_in(db, env.cx, _token(request))
        if signed is None:
            return ended(request, lang)
        return _not_open(request, env, signed, lang) or _page(
            request, env, db, signed, lang, status, messages
        )


async def upload(request: Request) -> Response:
    env = env_of(request)
    if env is None:
        return unavailable(request)
    lang = lang_of(request)
    category = request.query_params.get("category", "").strip()[:40]
    try:
        ask_id, token, session_id, used = await run_in_threadpool(_target, env, request, category)
    except _Refused as e:
        if wants_json(request):
            return json_error(request, lang, e.code, ERROR_STATUS.get(e.code, 400), env)
        if e.code == "SESSION_ENDED":
            return ended(request, lang)
        messages = [error_message(lang, e.code, env)]
        status = ERROR_STATUS.get(e.code, 400)
        return await run_in_threadpool(_errors_page, request, env, lang, messages, status)
    app_root = app_root_of(request)

    def attach(stored: StoredUpload) -> dict[str, Any]:
        return _attach(env, ask_id, session_id, category, stored, app_root)

    return await take_files(
        request,
        env,
        lang,
        token=token,
        csrf_purpose=CSRF,
        used_bytes=used,
        cap_bytes=env.cx.claim_cap_bytes,
        attach=attach,
        after_url=portal_url(request, "/request", lang) + f"#area-{category}",
        error_page=_errors_page,
    )


async def _upload_failed(request: Request, code: str, status: int) -> Response:
    lang = lang_of(request)
    if wants_json(request):
        return json_error(request, lang, code, status, env_of(request))
    return _closed(request, lang, "unavailable")


guarded_upload = Guarded(upload, "/h5/supplement/request/upload", fallback=_upload_failed)
