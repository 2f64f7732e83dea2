"""HTTP for documents asked for on a service request (advance payment, pre-authorisation):
the app's uploads, streamed to storage (the H5 page of the SMS/e-mail link takes the same
files through h5/supplement/requests.py).

    POST /api/document-requests/{requestId}/documents?category=CODE
        -> 201 {"documents": [{"id", "category", "name", "contentType", "size", "uploadedAt"}]}

`multipart/form-data` with the file(s) in parts named `file` and `Authorization: Bearer
<member token>`; `requestId` is `DocumentRequest.id` (or the integer id). Errors answer
`{"error": {"code", "message", "field"}}`: 401, 404 (not the member's), 409 (answered,
past its deadline or decided), 400 (a category not asked for), 413, 415.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from api.claim_uploads import MAX_FILES, error_response
from api.guard import Guarded
from api.uploads import FileLimits, category_param, member_account, take_files
from server import service_supplements as ss
from server.accounts.errors import Unauthenticated
from server.errors import DomainError
from server.ids import database_id
from server.service_supplements.models import ServiceSupplementDocument
from server.services import Services
from server.storage.uploads import StoredUpload

_STATUS = {ss.SupplementNotFound.code: 404, ss.SupplementClosed.code: 409}


def _error(e: DomainError) -> JSONResponse:
    response = error_response(e)
    if e.code in _STATUS:
        response.status_code = _STATUS[e.code]
    return response


def _check(services: Services, db: Session, request: Request, pk: int, category: str) -> int:
    """Before any byte is stored: the member's open request, asking for this category."""
    assert services.claims is not None
    account, _ = member_account(services, db, request, verified=False)
    db.commit()
    kind, subject, ask = ss.own(db, account, pk)
    ss.check_upload(db, services.claims, kind, subject, ask, category)
    db.rollback()
    return pk


def _saved(docs: list[ServiceSupplementDocument]) -> Response:
    body = [
        {
            "id": d.id,
            "category": d.category,
            "name": d.display_name,
            "contentType": d.content_type,
            "size": d.size,
            "uploadedAt": d.uploaded_at.isoformat(),
        }
        for d in docs
    ]
    return JSONResponse({"documents": body}, status_code=201, headers={"Cache-Control": "no-store"})


async def upload_documents(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        if services.db is None or services.members is None or services.claims is None:
            raise Unauthenticated("Documents cannot be sent on this server.")
        pk = database_id(request.path_params["request_id"], "DocumentRequest")
        if pk is None:
            raise ss.SupplementNotFound("No such request for documents among yours.")
        category = category_param(request)
    except DomainError as e:
        return _error(e)
    cx = services.claims

    def save(db: Session, pk: int, stored: list[StoredUpload]) -> Response:
        """The files of one upload request, all or none, committed."""
        docs = [ss.attach(db, cx, pk, category, s, channel="app") for s in stored]
        db.commit()
        return _saved(docs)

    return await take_files(
        request,
        services.db,
        cx.storage,
        target=lambda db: _check(services, db, request, pk, category),
        limits=lambda _: FileLimits(MAX_FILES, cx.max_file_bytes),
        save=save,
        error=_error,
    )


def routes() -> list[BaseRoute]:
    return [
        Route(
            "/api/document-requests/{request_id}/documents",
            Guarded(upload_documents, "/api/document-requests/{request_id}/documents"),
            methods=["POST"],
        )
    ]
