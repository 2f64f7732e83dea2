"""The signed-in supplement: the page with what is missing, the confirmation, removing a
file before sending, sending, signing out."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from h5.i18n import Translator
from h5.supplement import portal
from h5.supplement import session as sessions
from h5.supplement.web import (
    ERROR_STATUS,
    MAX_FILES,
    Env,
    Signed,
    app_root_of,
    closed,
    csrf_valid,
    ended,
    env_of,
    error_message,
    json_error,
    lang_of,
    not_open_reason,
    portal_url,
    render_page,
    secure_headers,
    see_other,
    session_csrf,
    signed_session,
    small_form,
    unavailable,
    wants_json,
)
from server.accounts.errors import ValidationFailed
from server.claims import supplements
from server.claims.errors import ClaimRuleBroken, WrongClaimState
from server.claims.models import Claim, ClaimDocument


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
    data = portal.page_data(
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
        deadline=portal.china_date(data.deadline, lang),
        csrf=session_csrf(env, signed),
        upload_url=lambda code: portal_url(request, "/claim/upload", lang, category=code),
        remove_url=portal_url(request, "/claim/remove", lang),
        submit_url=portal_url(request, "/claim/submit", lang),
        logout_url=portal_url(request, "/claim/logout", lang),
        errors=errors or [],
        remark=data.remark if remark is None else remark,
        remark_max=portal.REMARK_MAX,
        max_mb=env.cx.settings.upload_max_mb,
        max_files=MAX_FILES,
    )


async def supplement_page(request: Request) -> Response:
    env = env_of(request)
    if env is None:
        return unavailable(request)
    return await run_in_threadpool(_supplement_page, request, env, lang_of(request))


def _supplement_page(request: Request, env: Env, lang: str) -> Response:
    with env.db() as db:
        signed = signed_session(db, env, request)
        if signed is None:
            return ended(request, lang)
        reason = not_open_reason(env, signed)
        if reason == "ANSWERED":
            return see_other(portal_url(request, "/claim/done", lang))
        if reason is not None:
            return closed(request, lang, reason, "/claim")
        return claim_page(request, env, db, signed, lang)


async def done_page(request: Request) -> Response:
    env = env_of(request)
    if env is None:
        return unavailable(request)
    return await run_in_threadpool(_done_page, request, env, lang_of(request))


def _done_page(request: Request, env: Env, lang: str) -> Response:
    with env.db() as db:
        signed = signed_session(db, env, request)
        if signed is None:
            return ended(request, lang)
        if signed.supplement.fulfilled_at is None:
            return see_other(portal_url(request, "/claim", lang))
        data = portal.page_data(
            db,
            env.cx,
            signed.claim,
            signed.supplement,
            lang=lang,
            app_root=app_root_of(request),
            session_id=signed.session.id,
        )
        assert data.fulfilled_at is not None
        return render_page(
            request,
            "supplement/done.html",
            lang,
            "/claim/done",
            data=data,
            received_at=portal.china_time(data.fulfilled_at, lang),
            logout_url=portal_url(request, "/claim/logout", lang),
            csrf=session_csrf(env, signed),
        )


# --- remove, submit, log out ---------------------------------------------------------------------


async def remove(request: Request) -> Response:
    env = env_of(request)
    if env is None:
        return unavailable(request)
    fields = await small_form(request)
    return await run_in_threadpool(_remove, request, env, lang_of(request), fields)


def _remove(request: Request, env: Env, lang: str, fields: dict[str, str] | None) -> Response:
    as_json = wants_json(request)
    with env.db() as db:
        signed = signed_session(db, env, request)
        if signed is None:
            return ended(request, lang)
        if fields is None or not csrf_valid(env, signed, fields.get("csrf")):
            return _form_refused(request, env, db, signed, lang, "CSRF", as_json)
        raw = fields.get("document", "")
        doc_id = int(raw) if raw.isdigit() and len(raw) < 12 else 0
        if not portal.remove_document(db, env.cx, signed.claim, signed.supplement, doc_id):
            return _form_refused(request, env, db, signed, lang, "NOT_FOUND", as_json)
        if as_json:
            return secure_headers(JSONResponse({"removed": doc_id}))
        doc = db.get(ClaimDocument, doc_id)
        anchor = f"#area-{doc.category}" if doc is not None else ""
        return see_other(portal_url(request, "/claim", lang) + anchor)


def _form_refused(
    request: Request,
    env: Env,
    db: Session,
    signed: Signed,
    lang: str,
    code: str,
    as_json: bool,
    remark: str | None = None,
) -> Response:
    status = ERROR_STATUS.get(code, 400)
    if as_json:
        return json_error(request, lang, code, status, env)
    if not_open_reason(env, signed) == "ANSWERED":
        return see_other(portal_url(request, "/claim/done", lang))
    if not_open_reason(env, signed) is not None:
        return closed(request, lang, not_open_reason(env, signed) or "CLOSED", "/claim")
    return claim_page(
        request,
        env,
        db,
        signed,
        lang,
        status=status,
        errors=[error_message(lang, code, env)],
        remark=remark,
    )


async def submit(request: Request) -> Response:
    env = env_of(request)
    if env is None:
        return unavailable(request)
    fields = await small_form(request)
    return await run_in_threadpool(_submit, request, env, lang_of(request), fields)


def _submit(request: Request, env: Env, lang: str, fields: dict[str, str] | None) -> Response:
    t = Translator(lang)
    with env.db() as db:
        signed = signed_session(db, env, request)
        if signed is None:
            return ended(request, lang)
        if fields is None or not csrf_valid(env, signed, fields.get("csrf")):
            remark = (fields or {}).get("remark")
            return _form_refused(request, env, db, signed, lang, "CSRF", False, remark)
        if signed.supplement.fulfilled_at is not None:
            return see_other(portal_url(request, "/claim/done", lang))  # a double submit
        reason = not_open_reason(env, signed)
        if reason is not None:
            return closed(request, lang, reason, "/claim")
        remark = fields.get("remark", "").replace("\r\n", "\n")
        if len(remark.strip()) > portal.REMARK_MAX:
            message = t("supplement.error.remark_too_long", max=portal.REMARK_MAX)
            return claim_page(
                request, env, db, signed, lang, status=400, errors=[message], remark=remark
            )
        try:
            portal.submit(db, env.cx, signed.claim, remark)
        except supplements.DocumentsMissing as e:
            db.rollback()
            names = _category_names(env, signed.claim, e.missing, lang)
            message = t("supplement.error.missing", names=names)
            return claim_page(
                request, env, db, signed, lang, status=400, errors=[message], remark=remark
            )
        except ValidationFailed:
            db.rollback()
            message = t("supplement.error.remark_too_long", max=portal.REMARK_MAX)
            return claim_page(
                request, env, db, signed, lang, status=400, errors=[message], remark=remark
            )
        except (WrongClaimState, ClaimRuleBroken):
            db.rollback()
            return closed(request, lang, "CLOSED", "/claim")
    return see_other(portal_url(request, "/claim/done", lang))


def _category_names(env: Env, claim: Claim, codes: list[str], lang: str) -> str:
    rules = env.cx.rules.get(claim.plan_rules)
    names = []
    for code in codes:
        c = rules.category(code)
        names.append(code if c is None else (c.name_en if lang == "en" else c.name))
    return ("; " if lang == "en" else "；").join(names)


async def logout(request: Request) -> Response:
    env = env_of(request)
    if env is None:
        return unavailable(request)
    fields = await small_form(request)
    return await run_in_threadpool(_logout, request, env, lang_of(request), fields)


def _logout(request: Request, env: Env, lang: str, fields: dict[str, str] | None) -> Response:
    with env.db() as db:
        signed = signed_session(db, env, request)
        if signed is None:
            return ended(request, lang)
        if fields is None or not csrf_valid(env, signed, fields.get("csrf")):
            return _form_refused(request, env, db, signed, lang, "CSRF", False)
        sessions.close(db, env.cx.sessions, signed.token)
    response = see_other(portal_url(request, "", lang))
    sessions.clear_cookie(response, request, sessions.SESSION_COOKIE, env.cx.settings.base_url)
    return response
