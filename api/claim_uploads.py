"""HTTP uploads of claim documents and of the claimant's signature, streamed to storage.

    POST /api/claims/{claimId}/documents?category=CODE   -> 201 {"documents": [...]}
    POST /api/claims/{claimId}/signature                 -> 200 {"signature": {...}}

Both take `multipart/form-data` with the file(s) in parts named `file` and
`Authorization: Bearer <member token>`; `claimId` is the Claim's GraphQL global id or its
integer id. GraphQL carries ids, never file bytes. A document's fields are those of the
GraphQL `ClaimDocumentFile`, in camelCase. Errors answer
`{"error": {"code", "message", "field"}}` with 400 (bad input, corrupt file, malformed
form), 401 (no or ended session), 403 (real name not verified), 404 (no such claim among
the member's), 408 (`REQUEST_TIMEOUT`: the body arrived too slowly, see api/guard.py),
409 (the claim's status does not take files), 413 (a file, the request or the claim's
total too large), 415 (a type other than JPEG, PNG, HEIC or PDF, read from the content),
500 (`INTERNAL_ERROR`) or 507 (`STORAGE_FULL`: no space left for uploads). An answer
sent before the body was read to its end carries `Connection: close`.

The body is read as it arrives (api/multipart.py) and never held in memory; a file past
the limit is refused as soon as it passes it. A request is all or nothing: when any file
is refused, or recording the documents fails, the objects already stored for it are
deleted. What the claim takes is decided by server/claims/claimant_uploads.py.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from api.guard import Guarded
from api.multipart import (
    BodyTimeout,
    FieldTooLarge,
    NoFile,
    NotMultipart,
    RequestTooLarge,
    TooManyFields,
    TooManyFiles,
    UploadForm,
    discard,
    receive_files,
)
from server.accounts.errors import RealNameRequired, Unauthenticated
from server.accounts.models import Account
from server.claims import claimant_uploads
from server.claims.core import ClaimContext
from server.claims.errors import ClaimNotFound, WrongClaimState
from server.claims.files import DocumentFile
from server.db import write_first
from server.errors import DomainError, InvalidInput
from server.ids import database_id
from server.services import Services
from server.sessions import LiveSession, bearer_token
from server.storage.errors import QuotaExceeded, StorageFull, UploadError
from server.storage.uploads import JPEG, PNG, check_quota

MAX_FILES = 10  # per request; a claim takes more over several requests
SIGNATURE_MAX_BYTES = 2 * 1024 * 1024
SIGNATURE_TYPES = frozenset({PNG, JPEG})

_STATUS = {
    Unauthenticated.code: 401,
    RealNameRequired.code: 403,
    ClaimNotFound.code: 404,
    WrongClaimState.code: 409,
    "FILE_TOO_LARGE": 413,
    "IMAGE_TOO_LARGE": 413,
    QuotaExceeded.code: 413,
    TooManyFiles.code: 413,
    TooManyFields.code: 413,
    FieldTooLarge.code: 413,
    RequestTooLarge.code: 413,
    "UNSUPPORTED_FILE_TYPE": 415,
    NotMultipart.code: 415,
    BodyTimeout.code: 408,
    StorageFull.code: 507,
}


def http_status(error: DomainError) -> int:
    """The HTTP status for a domain error; anything not listed is the client's input: 400."""
    return _STATUS.get(error.code, 400)


def error_response(error: DomainError) -> JSONResponse:
    status = http_status(error)
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    body = {"error": {"code": error.code, "message": error.message, "field": error.field}}
    return JSONResponse(body, status_code=status, headers=headers)


def parse_claim_id(raw: str) -> int:
    """The claim's database id from a GraphQL global id or an integer; else not found."""
    pk = database_id(raw, "Claim")
    if pk is None:
        raise ClaimNotFound("No such claim among yours.")
    return pk


def _services(request: Request) -> tuple[Services, ClaimContext]:
    services: Services = request.app.state.services
    if services.db is None or services.members is None or services.claims is None:
        raise Unauthenticated("Claims are not available on this server.")
    return services, services.claims


def _account(services: Services, db: Session, request: Request) -> tuple[Account, LiveSession]:
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise Unauthenticated("Sign in first: send `Authorization: Bearer <token>`.")
    assert services.members is not None
    write_first(db)  # the session's idle clock may move
    account, session = services.members.accounts.authenticate_session(db, token)
    db.commit()  # the session's activity counts even when the upload is refused
    services.members.identity.require_verified(account)
    return account, session


def _document_json(f: DocumentFile) -> dict[str, Any]:
    return {
        "id": f.id,
        "category": f.category,
        "contentType": f.content_type,
        "size": f.size,
        "displayName": f.display_name,
        "width": f.width,
        "height": f.height,
        "uploadedAt": f.uploaded_at.isoformat(),
        "channel": f.channel.name,
        "inSupplement": f.in_supplement,
        "url": f.url,
        "thumbnailUrl": f.thumbnail_url,
        "problemReason": f.problem_reason,
    }


# --- documents -------------------------------------------------------------------------------


def _documents_target(
    services: Services,
    cx: ClaimContext,
    db: Session,
    request: Request,
    claim_id: int,
    category: str,
) -> claimant_uploads.UploadTarget:
    account, session = _account(services, db, request)
    return claimant_uploads.documents_target(db, cx, account, session.id, claim_id, category)


async def upload_documents(request: Request) -> Response:
    try:
        services, cx = _services(request)
        claim_id = parse_claim_id(request.path_params["claim_id"])
        category = request.query_params.get("category", "").strip()
        if not category:
            raise InvalidInput(
                "Say which category the files are: `?category=CODE`.", field="category"
            )
    except DomainError as e:
        return error_response(e)
    assert services.db is not None
    db = services.db()
    form: UploadForm | None = None
    committed = False
    try:
        target = await run_in_threadpool(
            _documents_target, services, cx, db, request, claim_id, category
        )
        form = receive_files(request, cx.storage, max_files=MAX_FILES, max_bytes=cx.max_file_bytes)
        total = 0
        async with form:
            async for _field, result in form:
                if isinstance(result, UploadError):
                    raise result
                check_quota(target.used_bytes + total, result.size, cx.claim_cap_bytes)
                total += result.size
        if not form.stored:
            raise NoFile("Attach at least one file in a part named `file`.")
        documents = await run_in_threadpool(
            claimant_uploads.attach_documents, db, cx, target, category, form.stored
        )
        committed = True
        return JSONResponse(
            {"documents": [_document_json(d) for d in documents]},
            status_code=201,
            headers={"Cache-Control": "no-store"},
        )
    except DomainError as e:
        db.rollback()
        return error_response(e)
    except ClientDisconnect:
        db.rollback()
        return Response(status_code=400)
    finally:
        if form is not None and not committed:
            await discard(cx.storage, form.stored)
        db.close()


# --- signature -------------------------------------------------------------------------------


def _signature_target(
    services: Services, db: Session, request: Request, claim_id: int
) -> claimant_uploads.UploadTarget:
    account, session = _account(services, db, request)
    return claimant_uploads.signature_target(db, account, session.id, claim_id)


async def upload_signature(request: Request) -> Response:
    try:
        services, cx = _services(request)
        claim_id = parse_claim_id(request.path_params["claim_id"])
    except DomainError as e:
        return error_response(e)
    assert services.db is not None
    db = services.db()
    form: UploadForm | None = None
    committed = False
    try:
        target = await run_in_threadpool(_signature_target, services, db, request, claim_id)
        form = receive_files(
            request, cx.storage, max_files=1, max_bytes=SIGNATURE_MAX_BYTES, allowed=SIGNATURE_TYPES
        )
        async with form:
            async for _field, result in form:
                if isinstance(result, UploadError):
                    raise result
        if not form.stored:
            raise NoFile("Attach the signature image in a part named `file`.")
        signature, previous = await run_in_threadpool(
            claimant_uploads.save_signature, db, cx, target, form.stored[0]
        )
        committed = True
        if previous:
            await run_in_threadpool(
                claimant_uploads.delete_replaced_signature, cx.storage, previous
            )
        body = {
            "url": signature.url,
            "signedAt": signature.signed_at.isoformat(),
            "contentType": signature.content_type,
            "width": signature.width,
            "height": signature.height,
        }
        return JSONResponse({"signature": body}, headers={"Cache-Control": "no-store"})
    except DomainError as e:
        db.rollback()
        return error_response(e)
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
            "/api/claims/{claim_id}/documents",
            Guarded(upload_documents, "/api/claims/{claim_id}/documents"),
            methods=["POST"],
        ),
        Route(
            "/api/claims/{claim_id}/signature",
            Guarded(upload_signature, "/api/claims/{claim_id}/signature"),
            methods=["POST"],
        ),
    ]
