"""GET /claim-files/<token>: a claim's documents, previews, signature and settlement notice.

The API hands out signed links (server/claims/links.py) so a file opens in a browser or
an image tag without a bearer header. Each request checks the signature and expiry, then
(server/claims/files.py) that the sign-in session the link names is still live and that
its holder may still see the claim: a signed-out session, a member who can no longer see
it, a deactivated adjuster or a supplement session of another claim gets the same 404 as
a forged link, so an answer never tells whether something exists.

Stored files are streamed in chunks; they are served inline under a harmless name, with
nosniff so a browser never runs them as something else, and never cached.
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from collections.abc import Iterator

from sqlalchemy.orm import Session, sessionmaker
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from api.guard import Guarded
from server.claims import links
from server.claims.core import ClaimContext
from server.claims.files import (
    PDF,
    FileMissing,
    NoSettlementNotice,
    RenderedFile,
    StoredFile,
    open_link,
)
from server.db import unit_of_work
from server.errors import NotFound
from server.storage.backend import CHUNK_SIZE, ReadStream
from server.storage.errors import InvalidKey

log = logging.getLogger(__name__)

NO_STORE = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
# the notice page is ours and needs nothing but its inline style
NOTICE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _answer(code: str, message: str) -> Response:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=404, headers=NO_STORE
    )


def _invalid() -> Response:
    return _answer(
        "CLAIM_FILE_LINK_INVALID",
        "链接已失效或无效，请在应用内重新打开。"
        "This link has expired or is not valid; open the file again from the app.",
    )


def _no_notice() -> Response:
    return _answer(
        "NO_SETTLEMENT_NOTICE",
        "该案件没有理赔结案通知书：只有已结案的案件才有。"
        "This claim has no settlement notice: only a settled claim has one.",
    )


async def claim_file(request: Request) -> Response:
    services = request.app.state.services
    cx: ClaimContext | None = services.claims
    factory: sessionmaker[Session] | None = services.db
    if cx is None or factory is None:
        return _invalid()
    link = links.read(cx.settings.secret_key, request.path_params["token"], cx.now())
    if link is None:
        return _invalid()
    try:
        found = await run_in_threadpool(_resolve, factory, cx, link)
        if isinstance(found, RenderedFile):
            return _rendered(found)
        stream = await run_in_threadpool(cx.storage.open, found.key)
    except NoSettlementNotice:
        return _no_notice()
    except (FileMissing, NotFound, InvalidKey):
        return _invalid()
    except Exception:
        # the storage (an S3 bucket) failing is not the link's fault; no personal data logged
        log.exception("claim file %s %s could not be opened", link.kind, link.object_id)
        return JSONResponse(
            {
                "error": {
                    "code": "FILE_UNAVAILABLE",
                    "message": "文件暂时无法读取，请稍后再试。The file cannot be read right now; please try again later.",
                }
            },
            status_code=503,
            headers=NO_STORE,
        )
    headers = {**NO_STORE, "Content-Disposition": content_disposition(found.filename)}
    if found.content_type == PDF:
        # an uploaded PDF may carry scripts or forms: never let it act as our origin
        headers["Content-Security-Policy"] = "sandbox"
    return StreamingResponse(
        _chunks(stream),
        media_type=found.content_type,
        headers=headers,
        # closes the object also when the body is never read (HEAD); closing twice is harmless
        background=BackgroundTask(stream.close),
    )


def _rendered(found: RenderedFile) -> Response:
    headers = {**NO_STORE, "Content-Disposition": content_disposition(found.filename)}
    if isinstance(found.body, str):
        return HTMLResponse(found.body, headers={**headers, "Content-Security-Policy": NOTICE_CSP})
    return Response(found.body, media_type=found.content_type, headers=headers)


def _chunks(stream: ReadStream) -> Iterator[bytes]:
    try:
        while chunk := stream.read(CHUNK_SIZE):
            yield chunk
    finally:
        stream.close()


def _resolve(
    factory: sessionmaker[Session], cx: ClaimContext, link: links.Link
) -> StoredFile | RenderedFile:
    """What the link opens, after checking the viewer may see it now (in a worker thread)."""
    with unit_of_work(factory) as db:
        return open_link(db, cx, link)


_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/;]')
_ASCII_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._ -]*")


def content_disposition(filename: str) -> str:
    """inline, with an ASCII fallback and the UTF-8 name (RFC 6266); no header injection."""
    name = _UNSAFE.sub("_", filename).strip() or "file"
    if _ASCII_SAFE.fullmatch(name):
        fallback = name
    else:
        extension = name.rpartition(".")[2] if "." in name else ""
        ascii_extension = extension if re.fullmatch(r"[A-Za-z0-9]{1,8}", extension) else ""
        fallback = "claim-file" + (f".{ascii_extension}" if ascii_extension else "")
    quoted = urllib.parse.quote(name, safe="")
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quoted}"


def routes() -> list[BaseRoute]:
    return [
        Route("/claim-files/{token}", Guarded(claim_file, "/claim-files/{token}"), methods=["GET"])
    ]
