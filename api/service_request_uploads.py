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
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from api.claim_uploads import SIGNATURE_MAX_BYTES, SIGNATURE_TYPES, error_response
from api.guard import Guarded
from api.uploads import FileLimits, category_param, member_account, take_files
from server.accounts.errors import Unauthenticated
from server.accounts.models import Account
from server.claims import claimant_uploads, details_change
from server.claims.errors import ServiceRequestNotFound, WrongServiceRequestState
from server.errors import DomainError
from server.ids import database_id
from server.services import Services
from server.storage.uploads import IMAGE_TYPES, StoredUpload

_STATUS = {ServiceRequestNotFound.code: 404, WrongServiceRequestState.code: 409}


def _error(e: DomainError) -> JSONResponse:
    response = error_response(e)
    if e.code in _STATUS:
        response.status_code = _STATUS[e.code]
    return response


def _target(services: Services, db: Session, request: Request, pk: int, category: str) -> Account:
    account, _ = member_account(services, db, request, verified=False)
    db.commit()
    assert services.members is not None
    services.members.identity.require_verified(account)
    details_change.check_upload(db, account, pk, category)
    return account


async def upload_file(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        if services.db is None or services.members is None or services.claims is None:
            raise Unauthenticated("Self-service changes are not available on this server.")
        pk = database_id(request.path_params["request_id"], "ServiceRequest")
        if pk is None:
            raise ServiceRequestNotFound("No such request among yours.")
        category = category_param(request, "`?category=ID_FRONT|ID_BACK|ID_HANDHELD|SIGNATURE`")
    except DomainError as e:
        return _error(e)
    cx = services.claims
    signature = category == "SIGNATURE"

    def save(db: Session, account: Account, stored: list[StoredUpload]) -> Response:
        row, replaced = details_change.attach(db, cx, account, pk, category, stored[0])
        if replaced:  # committed: a failure to delete the old image only logs
            claimant_uploads.delete_replaced_signature(cx.storage, replaced)
        body = {
            "category": row.category,
            "contentType": row.content_type,
            "size": row.size,
            "uploadedAt": row.uploaded_at.isoformat(),
        }
        return JSONResponse({"file": body}, status_code=201, headers={"Cache-Control": "no-store"})

    return await take_files(
        request,
        services.db,
        cx.storage,
        target=lambda db: _target(services, db, request, pk, category),
        limits=lambda _: FileLimits(
            1,
            SIGNATURE_MAX_BYTES if signature else cx.max_file_bytes,
            SIGNATURE_TYPES if signature else IMAGE_TYPES,
        ),
        save=save,
        no_file="Attach the image in a part named `file`.",
        error=_error,
    )


def routes() -> list[BaseRoute]:
    return [
        Route(
            "/api/service-requests/{request_id}/files",
            Guarded(upload_file, "/api/service-requests/{request_id}/files"),
            methods=["POST"],
        )
    ]
