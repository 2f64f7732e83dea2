"""HTTP uploads of a change of personal details (客户信息变更): the ID card's front and back,
the photo holding it, and the signature, streamed to storage.

    POST /api/service-requests/{requestId}/files?category=ID_FRONT|ID_BACK|ID_HANDHELD|SIGNATURE
        -> 201 {"file": {"category", "contentType", "size", "uploadedAt"}}

`multipart/form-data` with one image (JPEG, PNG or HEIC; the signature PNG or JPEG) in a
part named `file` and `Authorization: Bearer <member token>`; `requestId` is the
ServiceRequest's GraphQL global id or its integer id. A new file of a category replaces the
earlier one. Errors answer `{"error": {"code", "message", "field"}}` as the claim uploads do
(api/claim_uploads.py): 400, 401, 403, 404 (not the member's), 409 (sent already), 413, 415.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from api.claim_uploads import SIGNATURE_MAX_BYTES, SIGNATURE_TYPES, error_response
from api.guard import Guarded
from api.multipart import NoFile, UploadForm, discard, receive_files
from server.accounts.errors import Unauthenticated
from server.accounts.models import Account
from server.claims import claimant_uploads, details_change
from server.claims.errors import ServiceRequestNotFound, WrongServiceRequestState
from server.db import write_first
from server.errors import DomainError, InvalidInput
from server.ids import database_id
from server.services import Services
from server.sessions import bearer_token
from server.storage.errors import UploadError
from server.storage.uploads import IMAGE_TYPES

_STATUS = {ServiceRequestNotFound.code: 404, WrongServiceRequestState.code: 409}


def _error(e: DomainError) -> JSONResponse:
    response = error_response(e)
    if e.code in _STATUS:
        response.status_code = _STATUS[e.code]
    return response


def _target(services: Services, db: Session, request: Request, pk: int, category: str) -> Account:
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise Unauthenticated("Sign in first: send `Authorization: Bearer <token>`.")
    assert services.members is not None
    write_first(db)  # the session's idle clock may move
    try:
        account, _ = services.members.accounts.authenticate_session(db, token)
        db.commit()
        services.members.identity.require_verified(account)
        details_change.check_upload(db, account, pk, category)
    except DomainError:
        db.commit()  # the sign-in session's activity counts, refused or not
        raise
    return account


async def upload_file(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        if services.db is None or services.members is None or services.claims is None:
            raise Unauthenticated("Self-service changes are not available on this server.")
        pk = database_id(request.path_params["request_id"], "ServiceRequest")
        if pk is None:
            raise ServiceRequestNotFound("No such request among yours.")
        category = request.query_params.get("category", "").strip()
        if not category:
            raise InvalidInput(
                "Say which file this is: `?category=ID_FRONT|ID_BACK|ID_HANDHELD|SIGNATURE`.",
                field="category",
            )
    except DomainError as e:
        return _error(e)
    cx = services.claims
    db = services.db()
    form: UploadForm | None = None
    committed = False
    try:
        account = await run_in_threadpool(_target, services, db, request, pk, category)
        signature = category == "SIGNATURE"
        form = receive_files(
            request,
            cx.storage,
            max_files=1,
            max_bytes=SIGNATURE_MAX_BYTES if signature else cx.max_file_bytes,
            allowed=SIGNATURE_TYPES if signature else IMAGE_TYPES,
        )
        async with form:
            async for _field, result in form:
                if isinstance(result, UploadError):
                    raise result
        if not form.stored:
            raise NoFile("Attach the image in a part named `file`.")
        row, replaced = await run_in_threadpool(
            details_change.attach, db, cx, account, pk, category, form.stored[0]
        )
        committed = True
        if replaced:
            await run_in_threadpool(
                claimant_uploads.delete_replaced_signature, cx.storage, replaced
            )
        body = {
            "category": row.category,
            "contentType": row.content_type,
            "size": row.size,
            "uploadedAt": row.uploaded_at.isoformat(),
        }
        return JSONResponse({"file": body}, status_code=201, headers={"Cache-Control": "no-store"})
    except DomainError as e:
        db.rollback()
        return _error(e)
    except ClientDisconnect:
        db.rollback()
        return Response(status_code=400)
    finally:
        if form is not None and not committed:
            await discard(cx.storage, form.stored)
        db.close()


def routes() -> list[BaseRoute]:
    return [
        Route(
            "/api/service-requests/{request_id}/files",
            Guarded(upload_file, "/api/service-requests/{request_id}/files"),
            methods=["POST"],
        )
    ]
