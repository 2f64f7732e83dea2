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

from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from api.guard import Guarded
from api.multipart import (
    BodyTimeout,
    FieldTooLarge,
    NotMultipart,
    RequestTooLarge,
    TooManyFields,
    TooManyFiles,
)
from api.uploads import FileLimits, before_streaming, category_param, member_account, take_files
from server.accounts.errors import RealNameRequired, Unauthenticated
from server.claims import claimant_uploads
from server.claims.core import ClaimContext
from server.claims.errors import ClaimNotFound, WrongClaimState
from server.claims.files import DocumentFile
from server.errors import DomainError
from server.ids import database_id
from server.services import Services
from server.storage.errors import QuotaExceeded, StorageFull
from server.storage.uploads import JPEG, PNG, StoredUpload

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


def _services(request: Request) -> tuple[Services, ClaimContext, sessionmaker[Session]]:
    services: Services = request.app.state.services
    if services.db is None or services.members is None or services.claims is None:
        raise Unauthenticated("Claims are not available on this server.")
    return services, services.claims, services.db


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


def documents_json(documents: list[DocumentFile]) -> JSONResponse:
    return JSONResponse(
        {"documents": [_document_json(d) for d in documents]},
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


# --- documents -------------------------------------------------------------------------------


def _documents_target(
    services: Services,
    cx: ClaimContext,
    db: Session,
    request: Request,
    claim_id: int,
    category: str,
) -> claimant_uploads.UploadTarget:
    def check() -> claimant_uploads.UploadTarget:
        account, session = member_account(services, db, request)
        return claimant_uploads.documents_target(db, cx, account, session.id, claim_id, category)

    return before_streaming(db, check)


async def upload_documents(request: Request) -> Response:
    try:
        services, cx, make_db = _services(request)
        claim_id = parse_claim_id(request.path_params["claim_id"])
        category = category_param(request)
    except DomainError as e:
        return error_response(e)

    def save(
        db: Session, target: claimant_uploads.UploadTarget, stored: list[StoredUpload]
    ) -> Response:
        return documents_json(claimant_uploads.attach_documents(db, cx, target, category, stored))

    return await take_files(
        request,
        make_db,
        cx.storage,
        target=lambda db: _documents_target(services, cx, db, request, claim_id, category),
        limits=lambda target: FileLimits(
            MAX_FILES,
            cx.max_file_bytes,
            used_bytes=target.used_bytes,
            cap_bytes=cx.claim_cap_bytes,
        ),
        save=save,
        error=error_response,
    )


# --- signature -------------------------------------------------------------------------------


def _signature_target(
    services: Services, db: Session, request: Request, claim_id: int
) -> claimant_uploads.UploadTarget:
    def check() -> claimant_uploads.UploadTarget:
        account, session = member_account(services, db, request)
        return claimant_uploads.signature_target(db, account, session.id, claim_id)

    return before_streaming(db, check)


async def upload_signature(request: Request) -> Response:
    try:
        services, cx, make_db = _services(request)
        claim_id = parse_claim_id(request.path_params["claim_id"])
    except DomainError as e:
        return error_response(e)

    def save(
        db: Session, target: claimant_uploads.UploadTarget, stored: list[StoredUpload]
    ) -> Response:
        signature, previous = claimant_uploads.save_signature(db, cx, target, stored[0])
        if previous:  # committed: a failure to delete the old image only logs
            claimant_uploads.delete_replaced_signature(cx.storage, previous)
        body = {
            "url": signature.url,
            "signedAt": signature.signed_at.isoformat(),
            "contentType": signature.content_type,
            "width": signature.width,
            "height": signature.height,
        }
        return JSONResponse({"signature": body}, headers={"Cache-Control": "no-store"})

    return await take_files(
        request,
        make_db,
        cx.storage,
        target=lambda db: _signature_target(services, db, request, claim_id),
        limits=lambda _: FileLimits(1, SIGNATURE_MAX_BYTES, SIGNATURE_TYPES),
        save=save,
        no_file="Attach the signature image in a part named `file`.",
        error=error_response,
    )


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
