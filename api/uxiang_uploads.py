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
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry import relay

from api.claim_uploads import SIGNATURE_MAX_BYTES, SIGNATURE_TYPES, error_response
from api.guard import Guarded
from api.uploads import FileLimits, member_account, take_files
from server.accounts.errors import Unauthenticated
from server.accounts.models import Account
from server.claims import uxiang
from server.claims.errors import UxiangAuthorisationNotFound
from server.db import write_first
from server.errors import DomainError
from server.ids import database_id
from server.services import Services
from server.storage.backend import thumbnail_key
from server.storage.uploads import StoredUpload


def _error(e: DomainError) -> JSONResponse:
    response = error_response(e)
    if e.code == UxiangAuthorisationNotFound.code:
        response.status_code = 404
    return response


def _target(services: Services, db: Session, request: Request, pk: int) -> Account:
    account, _ = member_account(services, db, request)
    uxiang.signature_target(db, account, pk)  # commits: nothing held while the body streams
    return account


def _save(
    services: Services, db: Session, account_id: int, pk: int, stored: list[StoredUpload]
) -> dict[str, object]:
    assert services.claims is not None
    write_first(db)
    account = db.get(Account, account_id)
    if account is None:
        raise UxiangAuthorisationNotFound("No such U享赔 authorisation among yours.")
    row, previous = uxiang.save_signature(db, services.claims, account, pk, stored[0])
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

    def save(db: Session, account: Account, stored: list[StoredUpload]) -> Response:
        body = _save(services, db, account.id, pk, stored)
        return JSONResponse({"authorisation": body}, headers={"Cache-Control": "no-store"})

    return await take_files(
        request,
        services.db,
        services.claims.storage,
        target=lambda db: _target(services, db, request, pk),
        limits=lambda _: FileLimits(1, SIGNATURE_MAX_BYTES, SIGNATURE_TYPES),
        save=save,
        no_file="Attach the signature image in a part named `file`.",
        error=_error,
    )


def routes() -> list[BaseRoute]:
    path = "/api/uxiang/authorisations/{authorisation_id}/signature"
    return [Route(path, Guarded(upload_signature, path), methods=["POST"])]
