"""The streaming multipart/form-data reader for file uploads: the app's claim uploads
(api/claim_uploads.py) and the H5 supplement portal (h5/supplement/upload.py) both use it.

The body is never held in memory: `request.stream()` feeds a push multipart parser and
each file part's bytes go straight to the storage's receiver (a temporary file that is
counted, hashed and sniffed as it grows), so a file past the limit is refused as soon as
it passes it.

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
UploadError; the caller may stop there (the app's API does) or go on (the H5 form does),
and the rest of that part is skipped. Problems with the request as a whole (not
multipart, malformed, too many parts, too large) raise a `FormError` (its `code` says
which). An empty file input (`filename=""` and no bytes) is skipped, as browsers send
one for each input left empty. A client that goes away raises Starlette's
`ClientDisconnect`. Stored uploads are the caller's until recorded: on any failure,
`await discard(storage, form.stored)`.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from server.errors import DomainError
from server.storage.backend import Storage
from server.storage.errors import UploadError
from server.storage.uploads import (
    ALL_TYPES,
    DEFAULT_MAX_BYTES,
    StoredUpload,
    delete_uploads,
    store_upload_async,
)

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

MAX_FILES = 10  # per request, unless the caller says otherwise
MAX_FIELDS = 20
MAX_FIELD_BYTES = 8 * 1024
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


class BodyTimeout(FormError):
    """The body did not arrive in time (api/guard.py enforces the limits as it is read)."""

    code = "REQUEST_TIMEOUT"


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


async def discard(storage: Storage, uploads: Collection[StoredUpload]) -> None:
    """Delete stored uploads (and their thumbnails) no record will refer to."""
    if uploads:
        await run_in_threadpool(delete_uploads, storage, list(uploads))
