"""The last line of the upload and file endpoints, around each as an ASGI app:

- every error is an answer with a code: an exception the endpoint did not turn into one
  becomes `{"error": {"code", "message", "field"}}` (500 `INTERNAL_ERROR`, or 507
  `STORAGE_FULL` when a disk or the database is full; the H5 portal's page when the
  client asked for HTML), never Starlette's plain-text 500 and a dropped connection;
- the request body has a time limit: UPLOAD_BODY_TIMEOUT seconds in all, and after
  UPLOAD_RATE_GRACE seconds an average of UPLOAD_MIN_RATE bytes a second; a body past
  either raises `BodyTimeout` (408 `REQUEST_TIMEOUT`) where the endpoint reads it;
- any answer sent before the body was read to its end says `Connection: close`, so a
  keep-alive client knows to open a new connection (the server closes this one);
- a body cut off, or a client gone mid-body, is logged as one line naming the route and
  the reason, without a traceback.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import request_response
from starlette.types import Message, Receive, Scope, Send

from api.multipart import BodyTimeout
from server.db import UNAVAILABLE_CODE, UNAVAILABLE_MESSAGE, disk_full, unavailable
from server.settings import Settings

log = logging.getLogger("api.guard")

INTERNAL_ERROR = "INTERNAL_ERROR"
STORAGE_FULL = "STORAGE_FULL"
SERVICE_UNAVAILABLE = UNAVAILABLE_CODE
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# what SQLite and PostgreSQL (SQLSTATE 53100 disk_full) say when their disk is full

Endpoint = Callable[[Request], Awaitable[Response]]
Fallback = Callable[[Request, str, int], Awaitable[Response]]


def error_json(code: str, message: str, status: int, field: str | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "field": field}},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


MESSAGES = {
    INTERNAL_ERROR: "Something went wrong on our side; please try again.",
    STORAGE_FULL: "The server cannot store files right now; please try again later.",
    SERVICE_UNAVAILABLE: UNAVAILABLE_MESSAGE,
}


async def json_fallback(_request: Request, code: str, status: int) -> Response:
    return error_json(code, MESSAGES.get(code, MESSAGES[INTERNAL_ERROR]), status)


def is_full(exc: BaseException) -> bool:
    """A disk that is full, under the uploads or under the database."""
    if isinstance(exc, OSError):
        return exc.errno in FULL_ERRNOS
    return isinstance(exc, DBAPIError) and disk_full(exc)


class Guarded:
    """`endpoint` (a Starlette request handler) as an ASGI app with the guard above."""

    def __init__(self, endpoint: Endpoint, route: str, *, fallback: Fallback = json_fallback):
        self.__name__ = endpoint.__name__  # the route's name
        self._app = request_response(endpoint)
        self._route = route
        self._fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = _Exchange(scope, self._route)
        try:
            await self._app(scope, state.wrap_receive(receive), state.wrap_send(send))
        except Exception as exc:
            if state.started:
                raise  # half an answer is out: only closing the connection is left
            if isinstance(exc, BodyTimeout):
                code, status = exc.code, 408
            elif unavailable(exc):  # dropped or busy: worth a retry in a moment
                log.warning("%s %s: database unavailable", state.method, self._route)
                code, status = SERVICE_UNAVAILABLE, 503
            elif is_full(exc):
                log.error(
                    "%s %s: no space left (%s)", state.method, self._route, type(exc).__name__
                )
                code, status = STORAGE_FULL, 507
            else:
                log.exception("%s %s failed", state.method, self._route)
                code, status = INTERNAL_ERROR, 500
            response = await self._fallback(Request(scope), code, status)
            if status == 503:
                response.headers["Retry-After"] = "1"
            await response(scope, receive, state.wrap_send(send))


class _Exchange:
    """One request's body reading (with its time limits) and the answer's first line."""

    def __init__(self, scope: Scope, route: str) -> None:
        self.method = str(scope.get("method", ""))
        self.route = route
        self.started = False
        self.received = 0
        self.body_done = not _has_body(scope)
        app = scope.get("app")
        self.settings: Settings | None = getattr(getattr(app, "state", None), "settings", None)
        self.loop = asyncio.get_running_loop()
        self.begun = self.loop.time()

    def _deadline(self) -> tuple[float, str]:
        """When the body must be complete (loop time), as things stand, and why."""
        s = self.settings
        total = s.upload_body_timeout if s is not None else 600.0
        deadline, reason = self.begun + total, f"not complete within {total:g} s"
        if s is not None and s.upload_min_rate > 0:
            rate = self.begun + max(s.upload_rate_grace, self.received / s.upload_min_rate)
            if rate < deadline:
                deadline = rate
                reason = f"slower than {s.upload_min_rate} bytes/s"
        return deadline, reason

    def wrap_receive(self, receive: Receive) -> Receive:
        async def guarded() -> Message:
            if self.body_done:
                return await receive()
            deadline, reason = self._deadline()
            try:
                message = await asyncio.wait_for(receive(), max(deadline - self.loop.time(), 0))
            except TimeoutError:
                log.warning(
                    "%s %s: request body cut off after %d bytes: %s",
                    self.method,
                    self.route,
                    self.received,
                    reason,
                )
                raise BodyTimeout(
                    "The upload arrived too slowly and was stopped; please try again."
                ) from None
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if not message.get("more_body", False):
                    self.body_done = True
            elif message["type"] == "http.disconnect":
                self.body_done = True
                log.warning(
                    "%s %s: the client went away after %d bytes of the body",
                    self.method,
                    self.route,
                    self.received,
                )
            return message

        return guarded

    def wrap_send(self, send: Send) -> Send:
        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.started = True
                if not self.body_done:
                    headers: list[Any] = [
                        (k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"
                    ]
                    headers.append((b"connection", b"close"))
                    message = {**message, "headers": headers}
            await send(message)

        return guarded


def _has_body(scope: Scope) -> bool:
    headers = dict(scope.get("headers", []))
    if b"transfer-encoding" in headers:
        return True
    length = headers.get(b"content-length", b"0")
    return length.strip() not in (b"", b"0")
