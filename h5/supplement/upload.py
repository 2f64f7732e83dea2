"""Files for one requested category: a plain multipart form (no JavaScript) or one file a
request with a JSON answer (supplement.js), read as it streams in by the uploads API's
reader (api/multipart.py). Each file is recorded and committed as soon as it is stored, so what arrived
stays when the connection drops and the next page load shows it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from api.guard import Guarded
from api.multipart import FormError, UploadForm, discard, receive_files
from h5.supplement import present
from h5.supplement import session as sessions
from h5.supplement.web import (
    ERROR_STATUS,
    MAX_FILES,
    Env,
    app_root_of,
    claim_page,
    ended,
    env_of,
    error_message,
    json_error,
    lang_of,
    not_open_page,
    not_open_reason,
    portal_url,
    render_page,
    secure_headers,
    see_other,
    signed_session,
    unavailable,
    wants_json,
)
from server.claims import portal
from server.db import write_first
from server.errors import DomainError
from server.storage.errors import UploadError
from server.storage.uploads import StoredUpload, check_quota


class _Refused(Exception):
    """The upload request is refused before any file is stored."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _upload_target(env: Env, request: Request, category: str) -> tuple[portal.UploadTarget, str]:
    """Where the files of a session that may upload go, and the session's token."""
    with env.db() as db:
        write_first(db)  # the session's idle clock may move
        signed = signed_session(db, env, request)
        if signed is None:
            raise _Refused("SESSION_ENDED")
        if not_open_reason(env, signed) is not None:
            raise _Refused("CLAIM_STATE_CONFLICT")
        try:
            target = portal.upload_target(db, env.cx, signed, category)
        except DomainError as e:
            raise _Refused(e.code) from None
        return target, signed.token


def _attach(
    env: Env, target: portal.UploadTarget, category: str, stored: StoredUpload, app_root: str
) -> dict[str, Any]:
    """Record one stored file on the claim and commit it: files already received stay when
    the connection drops before the rest arrive."""
    with env.db() as db:
        write_first(db)
        _, doc = portal.attach_file(db, env.cx, target, category, stored)
        item = present.document_item(env.cx, app_root, target.session_id, doc)
        return {
            "id": item.id,
            "name": item.name,
            "contentType": item.content_type,
            "size": item.size,
            "url": item.url,
            "thumbnailUrl": item.thumbnail_url,
            "category": category,
        }


async def upload(request: Request) -> Response:
    env = env_of(request)
    if env is None:
        return unavailable(request)
    lang = lang_of(request)
    as_json = wants_json(request)
    category = request.query_params.get("category", "").strip()[:40]
    try:
        target, token = await run_in_threadpool(_upload_target, env, request, category)
    except _Refused as e:
        return await _upload_refused(request, env, lang, e.code, as_json)
    app_root = app_root_of(request)

    def attach(stored: StoredUpload) -> dict[str, Any]:
        return _attach(env, target, category, stored, app_root)

    return await take_files(
        request,
        env,
        lang,
        token=token,
        csrf_purpose="session",
        used_bytes=target.used_bytes,
        cap_bytes=env.cx.claim_cap_bytes,
        attach=attach,
        after_url=portal_url(request, "/claim", lang) + f"#area-{category}",
        error_page=_page_with_errors,
    )


ErrorPage = Callable[[Request, Env, str, list[str], int], Response]


async def take_files(
    request: Request,
    env: Env,
    lang: str,
    *,
    token: str,
    csrf_purpose: str,
    used_bytes: int,
    cap_bytes: int,
    attach: Callable[[StoredUpload], dict[str, Any]],
    after_url: str,
    error_page: ErrorPage,
) -> Response:
    """Receive the files of one upload request of a signed-in page (a claim's supplement or
    a service request's documents): the CSRF token (header or form field, bound to the
    session `token`) before the first file, each file stored as it streams in and recorded
    by `attach` (run in a worker thread, committed at once), the quota kept; the answer as
    JSON (supplement.js) or the page again (`after_url`, or `error_page` with the messages)."""
    secret = env.cx.settings.secret_key
    header_csrf = request.headers.get("x-csrf-token")
    as_json = wants_json(request)

    def before_file(_field: str, fields: Mapping[str, str]) -> None:
        given = header_csrf or fields.get("csrf")
        if not sessions.csrf_ok(secret, csrf_purpose, token, given):
            raise _CsrfRefused("CSRF")

    documents: list[dict[str, Any]] = []
    problems: list[tuple[str, str]] = []  # (code, file name)
    form: UploadForm | None = None
    total = used_bytes
    try:
        form = receive_files(
            request,
            env.cx.storage,
            max_files=MAX_FILES,
            max_bytes=env.cx.max_file_bytes,
            before_file=before_file,
        )
        async with form:
            async for _field, result in form:
                if isinstance(result, UploadError):
                    problems.append((result.code, ""))
                    continue
                try:
                    check_quota(total, result.size, cap_bytes)
                    doc = await run_in_threadpool(attach, result)
                except DomainError as e:
                    await discard(env.cx.storage, [result])
                    problems.append((e.code, result.display_name))
                    continue
                total += result.size
                documents.append(doc)
    except _CsrfRefused:
        problems.append(("CSRF", ""))
    except FormError as e:
        problems.append((e.code, ""))
    except ClientDisconnect:
        # what arrived complete is kept; the member sees it on the next page load
        return secure_headers(Response(status_code=400))
    if not documents and not problems:
        problems.append(("NO_FILE", ""))

    if as_json:
        if problems:
            code = problems[0][0]
            body: dict[str, Any] = {
                "documents": documents,
                "error": {"code": code, "message": error_message(lang, code, env)},
            }
            return secure_headers(JSONResponse(body, status_code=ERROR_STATUS.get(code, 400)))
        return secure_headers(JSONResponse({"documents": documents}, status_code=201))
    if not problems:
        return see_other(after_url)
    status = ERROR_STATUS.get(problems[0][0], 400)
    messages = [error_message(lang, code, env, name) for code, name in problems]
    return await run_in_threadpool(error_page, request, env, lang, messages, status)


class _CsrfRefused(DomainError):
    code = "CSRF"


async def _upload_refused(
    request: Request, env: Env, lang: str, code: str, as_json: bool
) -> Response:
    status = ERROR_STATUS.get(code, 400)
    if as_json:
        return json_error(request, lang, code, status, env)
    if code == "SESSION_ENDED":
        return ended(request, lang)
    messages = [error_message(lang, code, env)]
    return await run_in_threadpool(_page_with_errors, request, env, lang, messages, status)


def _page_with_errors(
    request: Request, env: Env, lang: str, messages: list[str], status: int
) -> Response:
    with env.db() as db:
        signed = signed_session(db, env, request)
        if signed is None:
            return ended(request, lang)
        return not_open_page(request, env, signed, lang) or claim_page(
            request, env, db, signed, lang, status=status, errors=messages
        )


async def upload_failed(request: Request, code: str, status: int) -> Response:
    """The answer when an upload fails unexpectedly (api/guard.py): JSON for supplement.js,
    else the portal's page saying the service is unavailable."""
    lang = lang_of(request)
    if wants_json(request):
        return json_error(request, lang, code, status, env_of(request))
    return render_page(request, "supplement/closed.html", lang, "", status, reason="unavailable")


guarded_upload = Guarded(upload, "/h5/supplement/claim/upload", fallback=upload_failed)
