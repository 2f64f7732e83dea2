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
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from api.claim_uploads import MAX_FILES, _document_json, error_response, parse_claim_id
from api.guard import Guarded
from api.multipart import NoFile, UploadForm, discard, receive_files
from server.claims import adjusters, offline
from server.claims.core import ClaimContext
from server.claims.errors import AdjusterUnauthenticated
from server.db import write_first
from server.errors import DomainError, InvalidInput
from server.services import Services
from server.sessions import bearer_token
from server.storage.errors import UploadError
from server.storage.uploads import check_quota


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
        category = request.query_params.get("category", "").strip()
        if not category:
            raise InvalidInput(
                "Say which category the files are: `?category=CODE`.", field="category"
            )
    except DomainError as e:
        return error_response(e)
    db = services.db()
    form: UploadForm | None = None
    committed = False
    try:
        target = await run_in_threadpool(_target, cx, db, request, claim_id, category)
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
            offline.attach_documents, db, cx, target, category, form.stored
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


def routes() -> list[BaseRoute]:
    path = "/api/office/claims/{claim_id}/documents"
    return [Route(path, Guarded(upload_office_documents, path), methods=["POST"])]
