"""The claims office's scans of a paper claim, streamed to storage like a member's files.

    POST /api/office/claims/{claimId}/documents?category=CODE   -> 201 {"documents": [...]}

`multipart/form-data` with the file(s) in parts named `file` and `Authorization: Bearer
<adjuster token>`; `claimId` is the paper claim's global id (enterPaperClaim) or its
integer id; it takes files until it is sent (sendPaperClaim). Answers and errors are
those of api/claim_uploads.py (404 for a claim that is not a paper claim being entered);
what the claim takes is decided by server/claims/offline.py.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from api.claim_uploads import MAX_FILES, documents_json, error_response, parse_claim_id
from api.guard import Guarded
from api.uploads import FileLimits, category_param, take_files
from server.claims import adjusters, offline
from server.claims.core import ClaimContext
from server.claims.errors import AdjusterUnauthenticated
from server.db import write_first
from server.errors import DomainError
from server.services import Services
from server.sessions import bearer_token
from server.storage.uploads import StoredUpload


def _target(
    cx: ClaimContext, db: Session, request: Request, claim_id: int, category: str
) -> offline.UploadTarget:
    try:
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            raise AdjusterUnauthenticated(
                "Sign in as an adjuster: `Authorization: Bearer <token>`."
            )
        write_first(db)  # the session's idle clock may move
        adjuster, session = adjusters.authenticate_session(db, cx, token)
        if adjuster.role != adjusters.ADJUSTER:
            raise AdjusterUnauthenticated("Sign in as a claims adjuster.")
        return offline.documents_target(db, cx, adjuster, session.id, claim_id, category)
    except DomainError:
        db.commit()  # the session's activity counts, refused or not
        raise


async def upload_office_documents(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        if services.db is None or services.claims is None:
            raise AdjusterUnauthenticated("Claims are not available on this server.")
        cx = services.claims
        claim_id = parse_claim_id(request.path_params["claim_id"])
        category = category_param(request)
    except DomainError as e:
        return error_response(e)

    def save(db: Session, target: offline.UploadTarget, stored: list[StoredUpload]) -> Response:
        return documents_json(offline.attach_documents(db, cx, target, category, stored))

    return await take_files(
        request,
        services.db,
        cx.storage,
        target=lambda db: _target(cx, db, request, claim_id, category),
        limits=lambda target: FileLimits(
            MAX_FILES,
            cx.max_file_bytes,
            used_bytes=target.used_bytes,
            cap_bytes=cx.claim_cap_bytes,
        ),
        save=save,
        error=error_response,
    )


def routes() -> list[BaseRoute]:
    path = "/api/office/claims/{claim_id}/documents"
    return [Route(path, Guarded(upload_office_documents, path), methods=["POST"])]
