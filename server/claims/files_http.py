"""GET /claim-files/<token>: a claim's documents, previews, signature and settlement notice.

The API hands out signed links (server/claims/links.py) so a file opens in a browser or
an image tag without a bearer header. Each request checks the signature and expiry, that
the sign-in session the link was made for is still live, then again that its holder may
still see the claim: a signed-out or expired session, a member who can no longer see the
claim, a deactivated adjuster or a supplement session of another claim gets the same 404
as a forged link, so an answer never tells whether something exists.

Stored files are streamed in chunks; they are served inline under a harmless name, with
nosniff so a browser never runs them as something else, and never cached.
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from server.accounts.models import Account
from server.claims import links, notice
from server.claims.core import ClaimContext, can_see
from server.claims.models import Adjuster, Claim, ClaimDocument, ClaimStatus
from server.db import unit_of_work
from server.errors import NotFound
from server.sessions import LiveSession, SessionKind
from server.storage.backend import CHUNK_SIZE, ReadStream, content_type_of
from server.storage.errors import InvalidKey

log = logging.getLogger("claims.files")

NO_STORE = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
# the notice page is ours and needs nothing but its inline style
NOTICE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
PDF = "application/pdf"


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


@dataclass(frozen=True, slots=True)
class _StoredFile:
    key: str
    content_type: str
    filename: str


@dataclass(frozen=True, slots=True)
class _Rendered:
    body: bytes | str
    content_type: str
    filename: str


class _Missing(Exception):
    """Nothing to serve for this link, for whatever reason; answered as an invalid link."""


class _NoNotice(Exception):
    """The viewer may see the claim, but it is not settled."""


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
        if isinstance(found, _Rendered):
            return _rendered(found)
        stream = await run_in_threadpool(cx.storage.open, found.key)
    except _NoNotice:
        return _no_notice()
    except (_Missing, NotFound, InvalidKey):
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


def _rendered(found: _Rendered) -> Response:
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
) -> _StoredFile | _Rendered:
    """What the link opens, after checking the viewer may see it now (in a worker thread)."""
    with unit_of_work(factory) as db:
        session = cx.sessions.find(db, link.session_id)
        if session is None:
            raise _Missing()  # signed out, or the session ended: so did its links
        if link.kind in ("doc", "thumb"):
            doc = db.get(ClaimDocument, link.object_id)
            if doc is None or doc.removed_at is not None:
                raise _Missing()
            _check_viewer(db, session, doc.claim)
            if link.kind == "doc":
                return _StoredFile(
                    doc.storage_key, doc.content_type, _named(doc.display_name, doc.content_type)
                )
            if doc.thumbnail_key is None:
                raise _Missing()  # a PDF has no preview
            stem = (
                doc.display_name.rsplit(".", 1)[0] if "." in doc.display_name else doc.display_name
            )
            return _StoredFile(doc.thumbnail_key, "image/jpeg", f"{stem}-preview.jpg")
        claim = db.get(Claim, link.object_id)
        if claim is None:
            raise _Missing()
        _check_viewer(db, session, claim)
        if link.kind == "sig":
            if not claim.signature_key:
                raise _Missing()
            kind = content_type_of(claim.signature_key)
            return _StoredFile(
                claim.signature_key,
                kind,
                f"signature-{claim.claim_no or claim.id}.{EXTENSIONS[kind]}",
            )
        if claim.status is not ClaimStatus.SETTLED:
            raise _NoNotice()
        settled = notice.settlement_notice(db, cx, claim)
        if link.kind == "notice-html":
            return _Rendered(
                notice.render_html(settled), "text/html", notice.file_name(settled, "html")
            )
        return _Rendered(notice.render_pdf(settled), PDF, notice.file_name(settled, "pdf"))


def _check_viewer(db: Session, session: LiveSession, claim: Claim) -> None:
    if session.kind is SessionKind.MEMBER:
        account = db.get(Account, session.subject_id)
        if account is None or not can_see(account, claim):
            raise _Missing()
    elif session.kind is SessionKind.ADJUSTER:
        adjuster = db.get(Adjuster, session.subject_id)
        if adjuster is None or not adjuster.active:
            raise _Missing()
    elif session.kind is not SessionKind.PORTAL or session.subject_id != claim.id:
        raise _Missing()


def _named(display_name: str, content_type: str) -> str:
    """The shown name with the extension of what is served (an uploaded HEIC is now a JPEG)."""
    extension = EXTENSIONS.get(content_type, "bin")
    stem, dot, current = display_name.rpartition(".")
    if dot and stem and current.lower() in {extension, "jpeg" if extension == "jpg" else ""}:
        return display_name
    return f"{stem if dot and stem else display_name}.{extension}"


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
    return [Route("/claim-files/{token}", claim_file, methods=["GET"])]
