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
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from api.claim_uploads import MAX_FILES, error_response
from api.guard import Guarded
from api.multipart import NoFile, UploadForm, discard, receive_files
from server import service_supplements as ss
from server.accounts.errors import Unauthenticated
from server.accounts.models import Account
from server.errors import DomainError, InvalidInput
from server.ids import database_id
from server.service_supplements.models import ServiceSupplementDocument
from server.services import Services
from server.sessions import bearer_token
from server.storage.errors import UploadError
from server.storage.uploads import StoredUpload

_STATUS = {ss.SupplementNotFound.code: 404, ss.SupplementClosed.code: 409}


def _error(e: DomainError) -> JSONResponse:
    response = error_response(e)
    if e.code in _STATUS:
        response.status_code = _STATUS[e.code]
    return response


def _account(services: Services, db: Session, request: Request) -> Account:
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise Unauthenticated("Sign in first: send `Authorization: Bearer <token>`.")
    assert services.members is not None
    account, _ = services.members.accounts.authenticate_session(db, token)
    db.commit()
    return account


def _check(services: Services, db: Session, request: Request, pk: int, category: str) -> None:
    """Before any byte is stored: the member's open request, asking for this category."""
    assert services.claims is not None
    account = _account(services, db, request)
    kind, subject, ask = ss.own(db, account, pk)
    ss.check_upload(db, services.claims, kind, subject, ask, category)
    db.rollback()


def _attach_all(
    services: Services, db: Session, pk: int, category: str, stored: list[StoredUpload]
) -> list[ServiceSupplementDocument]:
    """The files of one upload request, all or none, committed."""
    assert services.claims is not None
    docs = [ss.attach(db, services.claims, pk, category, s, channel="app") for s in stored]
    db.commit()
    return docs


async def upload_documents(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        if services.db is None or services.members is None or services.claims is None:
            raise Unauthenticated("Documents cannot be sent on this server.")
        pk = database_id(request.path_params["request_id"], "DocumentRequest")
        if pk is None:
            raise ss.SupplementNotFound("No such request for documents among yours.")
        category = request.query_params.get("category", "").strip()
        if not category:
            raise InvalidInput(
                "Say which category the files are: `?category=CODE`.", field="category"
            )
    except DomainError as e:
        return _error(e)
    cx = services.claims
    db = services.db()
    form: UploadForm | None = None
    committed = False
    try:
        await run_in_threadpool(_check, services, db, request, pk, category)
        form = receive_files(request, cx.storage, max_files=MAX_FILES, max_bytes=cx.max_file_bytes)
        async with form:
            async for _field, result in form:
                if isinstance(result, UploadError):
                    raise result
        if not form.stored:
            raise NoFile("Attach at least one file in a part named `file`.")
        docs = await run_in_threadpool(_attach_all, services, db, pk, category, form.stored)
        committed = True
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
        return JSONResponse(
            {"documents": body}, status_code=201, headers={"Cache-Control": "no-store"}
        )
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
            "/api/document-requests/{request_id}/documents",
            Guarded(upload_documents, "/api/document-requests/{request_id}/documents"),
            methods=["POST"],
        )
    ]
