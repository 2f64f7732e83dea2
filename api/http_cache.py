"""Conditional GETs and content negotiation for every response: pure ASGI middleware.

`Conditional` gives a complete 200 answer to a GET an ETag (a hash of its body)
when it has none, and answers a request whose `If-None-Match` names it with a 304 and no
body. Signed-link endpoints (private files) and answers that set a cookie or say
`no-store` are left alone.

`Compress` sends br or gzip, whichever the client prefers (br on a tie), for text-like
answers of at least `MINIMUM` bytes that arrive whole (one body message): a streamed answer
(a download, a large file) goes out as it comes, uncompressed. A compressed answer's ETag
becomes weak (`W/`), since its bytes differ from the uncompressed one's; the conditional
checks compare weakly. Compressed bodies of answers with a strong ETag (static files, H5
pages) are kept in a small LRU, so an unchanged page is compressed once.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from server.compression import MINIMUM, choose, compress

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# signed links to a member's files and certificates: private, and streamed
PRIVATE_PREFIXES = ("/api/", "/claim-files/", "/certificates/")
COMPRESSIBLE = (
    "text/",
    "application/json",
    "application/javascript",
    "application/manifest+json",
    "application/xml",
    "image/svg+xml",
)
CACHE_ENTRIES = 256


def _headers(message: Message) -> dict[bytes, bytes]:
    return {k.lower(): v for k, v in message.get("headers", [])}


def _set(message: Message, name: bytes, value: bytes | None) -> None:
    kept = [(k, v) for k, v in message.get("headers", []) if k.lower() != name]
    if value is not None:
        kept.append((name, value))
    message["headers"] = kept


def etags(header: str) -> set[str]:
    """The tags of an If-None-Match header, weak marks dropped (weak comparison)."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


class Conditional:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"  # a HEAD answer has no body to tag
            or scope["path"].startswith(PRIVATE_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        wanted = etags(_headers(scope).get(b"if-none-match", b"").decode("latin-1"))
        start: Message | None = None
        passing = False

        async def wrapped(message: Message) -> None:
            nonlocal start, passing
            if passing:
                await send(message)
                return
            if message["type"] == "http.response.start":
                headers = _headers(message)
                cache = headers.get(b"cache-control", b"")
                if (
                    message["status"] != 200
                    or b"etag" in headers
                    or b"set-cookie" in headers
                    or b"no-store" in cache
                ):
                    passing = True  # static files check their own tags
                    await send(message)
                    return
                start = message
                return
            assert start is not None
            if message.get("more_body", False):
                passing = True  # streamed: no tag
                await send(start)
                await send(message)
                return
            body = message.get("body", b"")
            tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            if tag in wanted:
                not_modified: Message = {
                    "type": "http.response.start",
                    "status": 304,
                    "headers": [],
                }
                for name in (b"cache-control", b"vary", b"content-location", b"expires"):
                    if (value := _headers(start).get(name)) is not None:
                        not_modified["headers"].append((name, value))
                not_modified["headers"].append((b"etag", tag.encode()))
                await send(not_modified)
                await send({"type": "http.response.body", "body": b""})
                return
            _set(start, b"etag", tag.encode())
            await send(start)
            await send(message)

        await self.app(scope, receive, wrapped)


class Compress:
    def __init__(self, app: ASGIApp, cache_entries: int = CACHE_ENTRIES) -> None:
        self.app = app
        self.cache_entries = cache_entries
        self._cache: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def _cached(self, key: tuple[str, str], body: bytes) -> bytes:
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        out = compress(body, key[1])
        with self._lock:
            self._cache[key] = out
            while len(self._cache) > self.cache_entries:
                self._cache.popitem(last=False)
        return out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(PRIVATE_PREFIXES):
            await self.app(scope, receive, send)
            return
        coding = choose(_headers(scope).get(b"accept-encoding", b"").decode("latin-1"))
        start: Message | None = None
        passing = False

        async def wrapped(message: Message) -> None:
            nonlocal start, passing
            if passing:
                await send(message)
                return
            if message["type"] == "http.response.start":
                headers = _headers(message)
                kind = headers.get(b"content-type", b"").decode("latin-1").lower()
                if (
                    b"content-encoding" in headers
                    or message["status"] < 200
                    or message["status"] in (204, 206, 304)
                    or not kind.startswith(COMPRESSIBLE)
                ):
                    passing = True
                    await send(message)
                    return
                vary = headers.get(b"vary", b"")
                if b"accept-encoding" not in vary.lower():
                    _set(message, b"vary", (vary + b", " if vary else b"") + b"Accept-Encoding")
                if coding is None:
                    passing = True
                    await send(message)
                    return
                start = message
                return
            assert start is not None
            body = message.get("body", b"")
            if message.get("more_body", False) or len(body) < MINIMUM:
                passing = True  # streamed, or too small to gain
                await send(start)
                await send(message)
                return
            assert coding is not None
            etag = _headers(start).get(b"etag", b"").decode("latin-1")
            if etag and not etag.startswith("W/"):
                out = self._cached((etag, coding), body)
                _set(start, b"etag", f"W/{etag}".encode())
            else:
                out = compress(body, coding)
            _set(start, b"content-encoding", coding.encode())
            _set(start, b"content-length", str(len(out)).encode())
            await send(start)
            await send({"type": "http.response.body", "body": out})

        await self.app(scope, receive, wrapped)
