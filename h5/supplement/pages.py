"""The signed-in supplement: the page with what is missing, the confirmation, removing a
file before sending, sending, signing out. Each view runs behind `signed_page`."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from h5.i18n import Translator
from h5.supplement import present
from h5.supplement import session as sessions
from h5.supplement.web import (
    Env,
    Fields,
    app_root_of,
    claim_page,
    closed,
    portal_url,
    refused,
    render_page,
    secure_headers,
    see_other,
    session_csrf,
    signed_page,
    wants_json,
)
from server.claims import portal, supplements
from server.claims.errors import ClaimRuleBroken, WrongClaimState
from server.claims.models import Claim
from server.claims.portal import Signed
from server.claims.portal import sessions as portal_sessions
from server.errors import ValidationFailed


@signed_page(open_only=True)
def supplement_page(
    request: Request, env: Env, db: Session, signed: Signed, lang: str, fields: Fields
) -> Response:
    return claim_page(request, env, db, signed, lang)


@signed_page()
def done_page(
    request: Request, env: Env, db: Session, signed: Signed, lang: str, fields: Fields
) -> Response:
    if signed.supplement.fulfilled_at is None:
        return see_other(portal_url(request, "/claim", lang))
    data = present.page_data(
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
        received_at=present.china_time(data.fulfilled_at, lang),
        logout_url=portal_url(request, "/claim/logout", lang),
        csrf=session_csrf(env, signed),
    )


# --- remove, submit, log out ---------------------------------------------------------------------


@signed_page(form=True, json_errors=True)
def remove(
    request: Request, env: Env, db: Session, signed: Signed, lang: str, fields: Fields
) -> Response:
    raw = fields.get("document", "")
    doc_id = int(raw) if raw.isdigit() and len(raw) < 12 else 0
    doc = portal.remove_document(db, env.cx, signed.claim, signed.supplement, doc_id)
    if doc is None:
        return refused(request, env, db, signed, lang, "NOT_FOUND", wants_json(request))
    if wants_json(request):
        return secure_headers(JSONResponse({"removed": doc_id}))
    return see_other(portal_url(request, "/claim", lang) + f"#area-{doc.category}")


@signed_page(form=True, open_only=True)
def submit(
    request: Request, env: Env, db: Session, signed: Signed, lang: str, fields: Fields
) -> Response:
    t = Translator(lang)
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


@signed_page(form=True)
def logout(
    request: Request, env: Env, db: Session, signed: Signed, lang: str, fields: Fields
) -> Response:
    portal_sessions.close(db, env.cx.sessions, signed.token)
    response = see_other(portal_url(request, "", lang))
    sessions.clear_cookie(response, request, sessions.SESSION_COOKIE, env.cx.settings.base_url)
    return response
