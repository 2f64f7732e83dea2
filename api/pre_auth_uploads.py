"""HTTP for pre-authorisations: uploads of its files (预先授权申请表, 原始病历资料), streamed
to storage, and the printable approval behind a signed link.

    POST /api/pre-authorisations/{preAuthId}/documents?category=APPLICATION_FORM|MEDICAL_RECORD
        -> 201 {"documents": [{"id", "category", "contentType", "size", "uploadedAt"}]}

`multipart/form-data` with the file(s) in parts named `file` and `Authorization: Bearer
<member token>`; `preAuthId` is the GraphQL global id or the integer id. Errors answer
`{"error": {"code", "message", "field"}}` with 400, 401, 403, 404 (not the member's),
409 (submitted already), 413 or 415, as the claim uploads do (api/claim_uploads.py).

    GET /pre-authorisations/{token}.html   -> the approval to print (`approvalUrl`)
    GET /pre-authorisations/{token}.pdf    -> the same as a PDF (`approvalPdfUrl`)
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from api.claim_uploads import MAX_FILES, error_response
from api.uploads import FileLimits, category_param, member_account, take_files
from server.accounts.errors import Unauthenticated
from server.accounts.models import Account
from server.claims import preauth, preauth_letter
from server.claims.errors import PreAuthNotFound, WrongPreAuthState
from server.db import unit_of_work
from server.errors import DomainError
from server.ids import database_id
from server.policies.models import Policy
from server.services import Services
from server.sessions import SessionKind
from server.storage.uploads import StoredUpload

_STATUS = {PreAuthNotFound.code: 404, WrongPreAuthState.code: 409}


def _error(e: DomainError) -> JSONResponse:
    response = error_response(e)
    if e.code in _STATUS:
        response.status_code = _STATUS[e.code]
    return response


def _target(services: Services, db: Session, request: Request, pk: int, category: str) -> Account:
    account, _ = member_account(services, db, request, verified=False)
    db.commit()
    assert services.members is not None and services.claims is not None
    services.members.identity.require_verified(account)
    preauth.check_upload(db, services.claims, account, pk, category)
    return account


async def upload_documents(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        if services.db is None or services.members is None or services.claims is None:
            raise Unauthenticated("Pre-authorisation is not available on this server.")
        pk = database_id(request.path_params["pre_auth_id"], "PreAuthorisation")
        if pk is None:
            raise PreAuthNotFound("No such pre-authorisation among yours.")
        category = category_param(request)
    except DomainError as e:
        return _error(e)
    cx = services.claims

    def save(db: Session, account: Account, stored: list[StoredUpload]) -> Response:
        docs = preauth.attach_all(db, cx, account, pk, category, stored)
        body = [
            {
                "id": d.id,
                "category": d.category,
                "contentType": d.content_type,
                "size": d.size,
                "uploadedAt": d.uploaded_at.isoformat(),
            }
            for d in docs
        ]
        return JSONResponse(
            {"documents": body}, status_code=201, headers={"Cache-Control": "no-store"}
        )

    return await take_files(
        request,
        services.db,
        cx.storage,
        target=lambda db: _target(services, db, request, pk, category),
        limits=lambda _: FileLimits(MAX_FILES, cx.max_file_bytes),
        save=save,
        error=_error,
    )


# --- the printable approval ------------------------------------------------------------------


def _link_gone() -> Response:
    return JSONResponse(
        {
            "error": {
                "code": "PRE_AUTH_LINK_INVALID",
                "message": "This link has expired or is not valid; open the approval from your "
                "pre-authorisations again.",
            }
        },
        status_code=404,
        headers={"Cache-Control": "no-store"},
    )


async def approval_view(request: Request) -> Response:
    """GET /pre-authorisations/<token>.html: the approval to print (server/claims/preauth_letter.py)."""
    return await _approval(request, pdf=False)


async def approval_pdf(request: Request) -> Response:
    """GET /pre-authorisations/<token>.pdf: the same approval as a PDF (same signed link)."""
    return await _approval(request, pdf=True)


async def _approval(request: Request, *, pdf: bool) -> Response:
    services: Services = request.app.state.services
    if services.db is None or services.members is None or services.claims is None:
        return _link_gone()
    members, cx = services.members, services.claims
    found = preauth_letter.read_link(
        services.settings.secret_key, request.path_params["token"], cx.now()
    )
    if found is None:
        return _link_gone()
    pre_auth_id, session_id = found
    with unit_of_work(services.db) as db:
        session = members.accounts.sessions.find(db, session_id)  # signed out: the link is gone
        account = (
            db.get(Account, session.subject_id)
            if session is not None and session.kind is SessionKind.MEMBER
            else None
        )
        try:
            if account is None:
                raise PreAuthNotFound("gone")
            row = preauth.own(db, account, pre_auth_id)
        except PreAuthNotFound:
            return _link_gone()
        policy = db.get(Policy, row.policy_id)
        shown = preauth_letter.approval(cx.vault, row, policy) if policy is not None else None
        if shown is None:
            return _link_gone()
    headers = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}
    if pdf:
        body = await run_in_threadpool(preauth_letter.render_pdf, shown)
        headers["Content-Disposition"] = (
            f'inline; filename="pre-authorisation-PA{shown.id:08d}.pdf"'
        )
        return Response(body, media_type="application/pdf", headers=headers)
    return HTMLResponse(preauth_letter.render_html(shown), headers=headers)


def routes() -> list[BaseRoute]:
    return [
        Route(
            "/api/pre-authorisations/{pre_auth_id}/documents", upload_documents, methods=["POST"]
        ),
        Route("/pre-authorisations/{token}.html", approval_view, methods=["GET"]),
        Route("/pre-authorisations/{token}.pdf", approval_pdf, methods=["GET"]),
    ]
