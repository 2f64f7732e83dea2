"""HTTP for U享赔: the signature of the member's authorisation (签名授权), streamed to storage.

    POST /api/uxiang/authorisations/{authorisationId}/signature   -> 200 {"authorisation": {...}}

`multipart/form-data` with the image (PNG or JPEG, at most 2 MB) in a part named `file` and
`Authorization: Bearer <member token>`; `authorisationId` is the GraphQL global id of the
`UxiangAuthorisation` authoriseUxiang returned, or its integer id. The answer carries
`id`, `version`, `signedAt` and `live`. Errors answer `{"error": {"code", "message",
"field"}}` as the claim uploads do (api/claim_uploads.py): 401, 403, 404
(UXIANG_AUTHORISATION_NOT_FOUND: not the member's, or withdrawn), 400, 413, 415.
"""

from __future__ import annotations

import contextlib

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry import relay

from api.claim_uploads import SIGNATURE_MAX_BYTES, SIGNATURE_TYPES, error_response
from api.guard import Guarded
from api.multipart import NoFile, UploadForm, discard, receive_files
from server.accounts.errors import Unauthenticated
from server.accounts.models import Account
from server.claims import uxiang
from server.claims.errors import UxiangAuthorisationNotFound
from server.db import write_first
from server.errors import DomainError
from server.ids import database_id
from server.services import Services
from server.sessions import bearer_token
from server.storage.backend import thumbnail_key
from server.storage.errors import UploadError


def _error(e: DomainError) -> JSONResponse:
    response = error_response(e)
    if e.code == UxiangAuthorisationNotFound.code:
        response.status_code = 404
    return response


def _target(services: Services, db: Session, request: Request, pk: int) -> Account:
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise Unauthenticated("Sign in first: send `Authorization: Bearer <token>`.")
    assert services.members is not None
    write_first(db)  # the session's idle clock may move
    try:
        account, _ = services.members.accounts.authenticate_session(db, token)
        services.members.identity.require_verified(account)
        uxiang.signature_target(db, account, pk)  # commits: nothing held while the body streams
    except DomainError:
        db.commit()
        raise
    return account


def _save(
    services: Services, db: Session, account_id: int, pk: int, form: UploadForm
) -> dict[str, object]:
    assert services.claims is not None
    write_first(db)
    account = db.get(Account, account_id)
    if account is None:
        raise UxiangAuthorisationNotFound("No such U享赔 authorisation among yours.")
    row, previous = uxiang.save_signature(db, services.claims, account, pk, form.stored[0])
    if previous:
        for key in (previous, thumbnail_key(previous)):
            with contextlib.suppress(Exception):  # what is left, the clean-up removes later
                services.claims.storage.delete(key)
    return {
        "id": relay.to_base64("UxiangAuthorisation", row.id),
        "version": row.version,
        "signedAt": row.signed_at.isoformat() if row.signed_at else None,
        "live": uxiang.is_live(row),
    }


async def upload_signature(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        if services.db is None or services.members is None or services.claims is None:
            raise Unauthenticated("U享赔 is not available on this server.")
        pk = database_id(request.path_params["authorisation_id"], "UxiangAuthorisation")
        if pk is None:
            raise UxiangAuthorisationNotFound("No such U享赔 authorisation among yours.")
    except DomainError as e:
        return _error(e)
    cx = services.claims
    db = services.db()
    form: UploadForm | None = None
    committed = False
    try:
        account = await run_in_threadpool(_target, services, db, request, pk)
        form = receive_files(
            request, cx.storage, max_files=1, max_bytes=SIGNATURE_MAX_BYTES, allowed=SIGNATURE_TYPES
        )
        async with form:
            async for _field, result in form:
                if isinstance(result, UploadError):
                    raise result
        if not form.stored:
            raise NoFile("Attach the signature image in a part named `file`.")
        body = await run_in_threadpool(_save, services, db, account.id, pk, form)
        committed = True
        return JSONResponse({"authorisation": body}, headers={"Cache-Control": "no-store"})
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
    path = "/api/uxiang/authorisations/{authorisation_id}/signature"
    return [Route(path, Guarded(upload_signature, path), methods=["POST"])]
