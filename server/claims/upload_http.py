"""HTTP uploads of claim documents and of the claimant's signature, streamed to storage.

    POST /api/claims/{claimId}/documents?category=CODE   -> 201 {"documents": [...]}
    POST /api/claims/{claimId}/signature                 -> 200 {"signature": {...}}

Both take `multipart/form-data` with the file(s) in parts named `file` and
`Authorization: Bearer <member token>`; `claimId` is the Claim's GraphQL global id or its
integer id. GraphQL carries ids, never file bytes. A document's fields are those of the
GraphQL `ClaimDocumentFile`, in camelCase. Errors answer
`{"error": {"code", "message", "field"}}` with 400 (bad input, corrupt file, malformed
form), 401 (no or ended session), 403 (real name not verified), 404 (no such claim among
the member's), 409 (the claim's status does not take files), 413 (a file, the request or
the claim's total too large) or 415 (a type other than JPEG, PNG, HEIC or PDF, read from
the content).

The body is never held in memory: `request.stream()` feeds a push multipart parser and
each file part's bytes go straight to the storage's receiver (a temporary file that is
counted, hashed and sniffed as it grows), so a file past the limit is refused as soon as
it passes it. A request is all or nothing: when any file is refused, or recording the
documents fails, the objects already stored for it are deleted.

The streaming reader is shared with the H5 supplement form:

    form = receive_files(
        request, storage, *,
        max_files=10, max_bytes=10 * 1024 * 1024, allowed=ALL_TYPES,
        file_fields=("file",), before_file=None, max_fields=20, max_field_bytes=8192,
    )
    async with form:
        async for field, result in form:      # result: StoredUpload | UploadError
            ...
    form.fields    # the small text fields received so far, e.g. csrf, category, remark
    form.stored    # every StoredUpload stored by this form, for `await discard(...)`

Text fields are collected as they arrive; browsers send parts in the form's order, so
fields placed before the file input are known when the first file begins.
`before_file(field, fields)` (sync or async) runs when a file part begins, before any of
its bytes are stored: raise a DomainError there (e.g. a bad CSRF token or category) to
refuse the whole request. A refused file (type, size, damage) is yielded as its
UploadError; the caller may stop there (this API does) or go on, and the rest of that
part is skipped. Problems with the request as a whole (not multipart, malformed, too
many parts, too large) raise a `FormError`. `http_status(error)` maps every error to its
status. An empty file input (`filename=""` and no bytes) is skipped, as browsers send
one for each input left empty. A client that goes away raises Starlette's
`ClientDisconnect`. Stored uploads are the caller's until recorded: on any failure,
`await discard(storage, form.stored)`.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from schema.claims.common import document_file
from schema.ids import database_id
from server.accounts.errors import RealNameRequired, Unauthenticated
from server.accounts.models import Account
from server.claims import core, links
from server.claims.core import ClaimContext
from server.claims.errors import ClaimNotFound, ClaimRuleBroken, WrongClaimState
from server.claims.models import Actor, Channel, Claim, ClaimDocument, ClaimStatus
from server.errors import DomainError, InvalidInput
from server.services import Services
from server.sessions import LiveSession, bearer_token
from server.storage.backend import Storage, thumbnail_key
from server.storage.errors import QuotaExceeded, UploadError
from server.storage.uploads import (
    ALL_TYPES,
    DEFAULT_MAX_BYTES,
    JPEG,
    PNG,
    StoredUpload,
    check_quota,
    store_upload_async,
)

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

log = logging.getLogger("claims.uploads")

MAX_FILES = 10  # per request; a claim takes more over several requests
MAX_FIELDS = 20
MAX_FIELD_BYTES = 8 * 1024
SIGNATURE_MAX_BYTES = 2 * 1024 * 1024
SIGNATURE_TYPES = frozenset({PNG, JPEG})
# Allowance per part for its boundary and headers when bounding a whole request.
PART_OVERHEAD = 8 * 1024
# The parser gets the body in pieces of this size at most, so one huge chunk from the
# server never becomes a second huge copy in memory.
FEED_BYTES = 64 * 1024


# --- errors of the request as a whole -------------------------------------------------------


class FormError(DomainError):
    """The request body is refused as a whole, not one file in it."""


class NotMultipart(FormError):
    code = "NOT_MULTIPART"


class MalformedForm(FormError):
    code = "MALFORMED_MULTIPART"


class TooManyFiles(FormError):
    code = "TOO_MANY_FILES"


class TooManyFields(FormError):
    code = "TOO_MANY_FIELDS"


class FieldTooLarge(FormError):
    code = "FIELD_TOO_LARGE"


class RequestTooLarge(FormError):
    code = "REQUEST_TOO_LARGE"


class NoFile(FormError):
    code = "NO_FILE"


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


# --- the streaming multipart reader ----------------------------------------------------------

BeforeFile = Callable[[str, Mapping[str, str]], Awaitable[None] | None]

_PART, _DATA, _PART_END, _END = "part", "data", "part_end", "end"


@dataclass(frozen=True, slots=True)
class _Part:
    name: str
    filename: str | None  # None: a text field


class UploadForm:
    """One multipart/form-data body, read as it arrives; see the module docstring."""

    def __init__(
        self,
        request: Request,
        storage: Storage,
        *,
        max_files: int,
        max_bytes: int,
        allowed: frozenset[str],
        file_fields: Collection[str],
        before_file: BeforeFile | None,
        max_fields: int,
        max_field_bytes: int,
    ) -> None:
        self.fields: dict[str, str] = {}
        self.stored: list[StoredUpload] = []
        self._request = request
        self._storage = storage
        self._max_files = max_files
        self._max_bytes = max_bytes
        self._allowed = allowed
        self._file_fields = frozenset(file_fields)
        self._before_file = before_file
        self._max_fields = max_fields
        self._max_field_bytes = max_field_bytes
        self._max_body = max_files * (max_bytes + PART_OVERHEAD) + max_fields * (
            max_field_bytes + PART_OVERHEAD
        )
        self._events: deque[tuple[str, Any]] = deque()
        self._body = request.stream()
        self._pending = b""
        self._offset = 0
        self._received = 0
        self._in_part = False
        self._parser: MultipartParser | None = None
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, bytes] = {}
        self._iterator: AsyncGenerator[tuple[str, StoredUpload | UploadError]] | None = None

    # async iteration and closing

    def __aiter__(self) -> AsyncIterator[tuple[str, StoredUpload | UploadError]]:
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop reading; the stored uploads stay (the caller decides with `discard`)."""
        if self._iterator is not None:
            await self._iterator.aclose()
        await self._body.aclose()

    # the parts

    async def _run(self) -> AsyncGenerator[tuple[str, StoredUpload | UploadError]]:
        self._parser = self._start()
        files = fields = 0
        while True:
            kind, value = await self._next()
            if kind == _END:
                return
            if kind != _PART:  # pragma: no cover - the parser emits data only inside a part
                continue
            part: _Part = value
            if part.filename is None:
                fields = self._count_field(fields)
                self.fields[part.name] = await self._read_field(part.name)
                continue
            if part.name not in self._file_fields:
                expected = ", ".join(f"`{f}`" for f in sorted(self._file_fields))
                raise MalformedForm(
                    f"Unexpected file part {part.name!r}; send files as {expected}."
                )
            first = await self._next()
            if first[0] == _PART_END and not part.filename:
                # an empty file input; it counts as a field so parts stay bounded
                self._in_part = False
                fields = self._count_field(fields)
                continue
            files += 1
            if files > self._max_files:
                raise TooManyFiles(
                    f"Send at most {self._max_files} files in one request; send the rest in another."
                )
            if self._before_file is not None:
                outcome = self._before_file(part.name, dict(self.fields))
                if inspect.isawaitable(outcome):
                    await outcome
            result = await self._store(first, part.filename)
            yield part.name, result
            if isinstance(result, UploadError):
                await self._skip_part()

    def _count_field(self, fields: int) -> int:
        if fields >= self._max_fields:
            raise TooManyFields(f"A form takes at most {self._max_fields} text fields.")
        return fields + 1

    async def _store(self, first: tuple[str, Any], filename: str) -> StoredUpload | UploadError:
        chunks = self._part_chunks(first)
        try:
            stored = await store_upload_async(
                self._storage,
                chunks,
                filename=filename,
                allowed=self._allowed,
                max_bytes=self._max_bytes,
            )
        except UploadError as e:
            return e
        finally:
            await chunks.aclose()
        self.stored.append(stored)
        return stored

    async def _part_chunks(self, first: tuple[str, Any]) -> AsyncGenerator[bytes]:
        event = first
        while True:
            kind, value = event
            if kind == _PART_END:
                self._in_part = False
                return
            if kind == _DATA:
                yield value
            event = await self._next()

    async def _read_field(self, name: str) -> str:
        value = bytearray()
        while True:
            kind, data = await self._next()
            if kind == _PART_END:
                self._in_part = False
                break
            if kind == _DATA:
                value += data
                if len(value) > self._max_field_bytes:
                    raise FieldTooLarge(
                        f"The field {name!r} is longer than {self._max_field_bytes} bytes."
                    )
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedForm(f"The field {name!r} is not UTF-8 text.") from None

    async def _skip_part(self) -> None:
        while self._in_part:
            kind, _ = await self._next()
            if kind == _PART_END:
                self._in_part = False

    # the body and the parser

    def _start(self) -> MultipartParser:
        media_type, options = parse_options_header(self._request.headers.get("content-type"))
        if media_type != b"multipart/form-data":
            raise NotMultipart("Send the files as multipart/form-data.")
        boundary = options.get(b"boundary", b"")
        # RFC 2046: 1 to 70 characters; anything else is refused before it reaches the parser.
        if not 1 <= len(boundary) <= 70:
            raise MalformedForm("The multipart/form-data content type needs a valid boundary.")
        length = self._request.headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise MalformedForm("The Content-Length header is not a number.")
            if int(length) > self._max_body:
                raise RequestTooLarge(self._too_large_message())
        callbacks: MultipartCallbacks = {
            "on_part_begin": self._on_part_begin,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_end": self._on_end,
        }
        try:
            return MultipartParser(boundary, callbacks)
        except FormParserError:
            raise MalformedForm(
                "The multipart/form-data content type needs a valid boundary."
            ) from None

    def _too_large_message(self) -> str:
        mb = self._max_bytes / (1024 * 1024)
        return f"Send at most {self._max_files} files of {mb:g} MB each in one request."

    async def _next(self) -> tuple[str, Any]:
        """The next parser event, reading more of the body only when none is waiting."""
        assert self._parser is not None
        while not self._events:
            if self._offset >= len(self._pending):
                try:
                    chunk = await self._body.__anext__()
                except StopAsyncIteration:
                    raise MalformedForm("The form data ends before its closing boundary.") from None
                self._received += len(chunk)
                if self._received > self._max_body:
                    raise RequestTooLarge(self._too_large_message())
                self._pending, self._offset = chunk, 0
                continue
            piece = self._pending[self._offset : self._offset + FEED_BYTES]
            self._offset += len(piece)
            try:
                self._parser.write(piece)
            except FormParserError:
                raise MalformedForm(
                    "The form data is not valid multipart/form-data (check the boundary)."
                ) from None
        event = self._events.popleft()
        if event[0] == _PART:
            self._in_part = True
        return event

    def _on_part_begin(self) -> None:
        self._headers = {}

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[self._header_name.decode("latin-1").lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get("content-disposition"))
        name = options.get(b"name")
        if disposition != b"form-data" or name is None:
            raise MalformedForm("Each part needs `Content-Disposition: form-data; name=...`.")
        filename = options.get(b"filename")
        self._events.append(
            (
                _PART,
                _Part(
                    name=name.decode("utf-8", errors="replace"),
                    # browsers send the name as UTF-8 bytes; it is only ever a display name
                    filename=None
                    if filename is None
                    else filename.decode("utf-8", errors="replace"),
                ),
            )
        )

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._events.append((_DATA, data[start:end]))

    def _on_part_end(self) -> None:
        self._events.append((_PART_END, None))

    def _on_end(self) -> None:
        self._events.append((_END, None))


def receive_files(
    request: Request,
    storage: Storage,
    *,
    max_files: int = MAX_FILES,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allowed: frozenset[str] = ALL_TYPES,
    file_fields: Collection[str] = ("file",),
    before_file: BeforeFile | None = None,
    max_fields: int = MAX_FIELDS,
    max_field_bytes: int = MAX_FIELD_BYTES,
) -> UploadForm:
    """Read `request`'s multipart body as it arrives, storing each file part; see above."""
    return UploadForm(
        request,
        storage,
        max_files=max_files,
        max_bytes=max_bytes,
        allowed=allowed,
        file_fields=file_fields,
        before_file=before_file,
        max_fields=max_fields,
        max_field_bytes=max_field_bytes,
    )


def _delete_stored(storage: Storage, uploads: Collection[StoredUpload]) -> None:
    for upload in uploads:
        for key in (upload.key, upload.thumbnail_key):
            if key is None:
                continue
            try:
                storage.delete(key)
            except Exception:
                # the clean-up script removes what is left once it is old enough
                log.exception("could not delete stored upload %s", key)


async def discard(storage: Storage, uploads: Collection[StoredUpload]) -> None:
    """Delete stored uploads (and their thumbnails) no record will refer to."""
    if uploads:
        await run_in_threadpool(_delete_stored, storage, list(uploads))


# --- the member's claim ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Target:
    account_id: int
    claim_id: int
    used_bytes: int
    session_id: int  # the member's sign-in session: the returned links are bound to it


def parse_claim_id(raw: str) -> int:
    """The claim's database id from a GraphQL global id or an integer; else not found."""
    pk = database_id(raw, "Claim")
    if pk is None:
        raise ClaimNotFound("No such claim among yours.")
    return pk


def check_upload_category(db: Session, cx: ClaimContext, claim: Claim, category: str) -> None:
    """The claim takes files of `category` now: its status, its rules, the supplement asked."""
    core.check_can_add_documents(db, cx, claim, category)
    rules = cx.rules.get(claim.plan_rules)
    claim_type = rules.claim_type(claim.claim_type) if claim.claim_type else None
    if claim_type is not None and category not in claim_type.categories:
        raise ClaimRuleBroken(
            "CATEGORY_NOT_ALLOWED",
            f"A {claim_type.name_en.lower()} claim takes no {category} documents; "
            f"its categories: {', '.join(claim_type.categories)}.",
            field="category",
        )
    if claim.status is ClaimStatus.PENDING_SUPPLEMENT:
        supplement = core.open_supplement(db, claim)
        requested = json.loads(supplement.categories) if supplement is not None else []
        if category not in requested:
            raise ClaimRuleBroken(
                "CATEGORY_NOT_ALLOWED",
                f"The supplement asks for {', '.join(requested) or 'nothing'}, not {category}.",
                field="category",
            )


def _services(request: Request) -> tuple[Services, ClaimContext]:
    services: Services = request.app.state.services
    if services.db is None or services.members is None or services.claims is None:
        raise Unauthenticated("Claims are not available on this server.")
    return services, services.claims


def _account(services: Services, db: Session, request: Request) -> tuple[Account, LiveSession]:
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise Unauthenticated("Sign in first: send `Authorization: Bearer <token>`.")
    assert services.members is not None
    account, session = services.members.accounts.authenticate_session(db, token)
    db.commit()  # the session's activity counts even when the upload is refused
    services.members.identity.require_verified(account)
    return account, session


def _document_json(cx: ClaimContext, doc: ClaimDocument, session_id: int) -> dict[str, Any]:
    f = document_file(cx, doc, session_id)
    return {
        "id": str(f.id),
        "category": f.category,
        "contentType": f.content_type,
        "size": f.size,
        "displayName": f.display_name,
        "width": f.width,
        "height": f.height,
        "uploadedAt": f.uploaded_at.isoformat(),
        "channel": doc.channel.name,
        "inSupplement": f.in_supplement,
        "url": f.url,
        "thumbnailUrl": f.thumbnail_url,
        "problemReason": f.problem_reason,
    }


# --- documents -------------------------------------------------------------------------------


def _documents_target(
    services: Services,
    cx: ClaimContext,
    db: Session,
    request: Request,
    claim_id: int,
    category: str,
) -> _Target:
    account, session = _account(services, db, request)
    claim = core.member_claim(db, account, claim_id)
    check_upload_category(db, cx, claim, category)
    used = core.used_bytes(db, claim)
    if used >= cx.claim_cap_bytes:  # full already: refuse before any byte arrives
        full = QuotaExceeded(used, 0, cx.claim_cap_bytes)
        full.message = (
            f"The files of one claim may total at most {cx.settings.claim_upload_cap_mb} MB, "
            "and this claim's files already do."
        )
        raise full
    target = _Target(account.id, claim.id, used, session.id)
    # ended before the body streams in: no connection is held while the client sends,
    # and nothing may be read from the expired rows after this
    db.rollback()
    return target


def _attach_documents(
    cx: ClaimContext, db: Session, target: _Target, category: str, stored: list[StoredUpload]
) -> list[dict[str, Any]]:
    account = db.get(Account, target.account_id)
    # locked: two uploads to one claim cannot both pass the per-claim cap
    claim = db.get(Claim, target.claim_id, with_for_update=True, populate_existing=True)
    if account is None or claim is None or not core.can_see(account, claim):
        raise ClaimNotFound("No such claim among yours.")
    check_upload_category(db, cx, claim, category)
    docs = [core.attach_document(db, cx, claim, category, s, channel=Channel.APP) for s in stored]
    out = [_document_json(cx, d, target.session_id) for d in docs]
    db.commit()
    return out


async def upload_documents(request: Request) -> Response:
    try:
        services, cx = _services(request)
        claim_id = parse_claim_id(request.path_params["claim_id"])
        category = request.query_params.get("category", "").strip()
        if not category:
            raise InvalidInput(
                "Say which category the files are: `?category=CODE`.", field="category"
            )
    except DomainError as e:
        return error_response(e)
    assert services.db is not None
    db = services.db()
    form: UploadForm | None = None
    committed = False
    try:
        target = await run_in_threadpool(
            _documents_target, services, cx, db, request, claim_id, category
        )
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
            _attach_documents, cx, db, target, category, form.stored
        )
        committed = True
        return JSONResponse(
            {"documents": documents}, status_code=201, headers={"Cache-Control": "no-store"}
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


# --- signature -------------------------------------------------------------------------------


def _signature_target(services: Services, db: Session, request: Request, claim_id: int) -> _Target:
    account, session = _account(services, db, request)
    claim = core.member_claim(db, account, claim_id)
    if claim.account_id != account.id:
        raise ClaimNotFound("No such claim among yours.")  # only its maker signs a claim
    if claim.status is not ClaimStatus.DRAFT:
        raise WrongClaimState("Only a draft is signed; this claim has been sent.")
    target = _Target(account.id, claim.id, 0, session.id)
    db.rollback()  # before the body streams in (see _documents_target)
    return target


def _save_signature(
    cx: ClaimContext, db: Session, target: _Target, stored: StoredUpload
) -> tuple[dict[str, Any], str | None]:
    claim = db.get(Claim, target.claim_id, with_for_update=True, populate_existing=True)
    if claim is None or claim.account_id != target.account_id:
        raise ClaimNotFound("No such claim among yours.")
    if claim.status is not ClaimStatus.DRAFT:
        raise WrongClaimState("Only a draft is signed; this claim has been sent.")
    previous = claim.signature_key
    now = cx.now()
    claim.signature_key = stored.key
    claim.signed_at = now
    core.record(
        db,
        claim,
        "SIGNED",
        actor=Actor.CLAIMANT,
        actor_id=target.account_id,
        now=now,
        channel=Channel.APP,
    )
    db.commit()
    link = links.Link("sig", claim.id, target.session_id)
    body = {
        "url": links.url(cx.settings.base_url, cx.settings.secret_key, link, now),
        "signedAt": now.isoformat(),
        "contentType": stored.content_type,
        "width": stored.width,
        "height": stored.height,
    }
    return body, previous


async def upload_signature(request: Request) -> Response:
    try:
        services, cx = _services(request)
        claim_id = parse_claim_id(request.path_params["claim_id"])
    except DomainError as e:
        return error_response(e)
    assert services.db is not None
    db = services.db()
    form: UploadForm | None = None
    committed = False
    try:
        target = await run_in_threadpool(_signature_target, services, db, request, claim_id)
        form = receive_files(
            request, cx.storage, max_files=1, max_bytes=SIGNATURE_MAX_BYTES, allowed=SIGNATURE_TYPES
        )
        async with form:
            async for _field, result in form:
                if isinstance(result, UploadError):
                    raise result
        if not form.stored:
            raise NoFile("Attach the signature image in a part named `file`.")
        body, previous = await run_in_threadpool(_save_signature, cx, db, target, form.stored[0])
        committed = True
        if previous:
            await run_in_threadpool(_delete_previous_signature, cx.storage, previous)
        return JSONResponse({"signature": body}, headers={"Cache-Control": "no-store"})
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


def _delete_previous_signature(storage: Storage, key: str) -> None:
    for k in (key, thumbnail_key(key)):
        try:
            storage.delete(k)
        except Exception:
            log.exception("could not delete a replaced signature %s", k)


def routes() -> list[BaseRoute]:
    return [
        Route("/api/claims/{claim_id}/documents", upload_documents, methods=["POST"]),
        Route("/api/claims/{claim_id}/signature", upload_signature, methods=["POST"]),
    ]
