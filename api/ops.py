"""Operations endpoints: /readyz (can this instance serve?) and /metrics (Prometheus), and
the middleware that counts requests by route template."""

from __future__ import annotations

import hmac
import time
from typing import Any

from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.metrics import CONTENT_TYPE, observe_request, scrape
from server.notify.outbox import Notification, Status
from server.readiness import failing, readiness
from server.services import Services
from server.sessions import bearer_token

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
UNMATCHED = "<unmatched>"


async def readyz(request: Request) -> Response:
    services: Services = request.app.state.services
    storage = services.claims.storage if services.claims is not None else None
    checks = await run_in_threadpool(readiness, services.db, services.settings.redis_url, storage)
    down = failing(checks)
    if down:
        return JSONResponse(
            {"status": "unavailable", "failing": down, "checks": checks}, status_code=503
        )
    return JSONResponse({"status": "ready", "checks": checks})


def _allowed(request: Request) -> bool:
    client = request.client
    if client is not None and client.host in LOOPBACK:
        return True
    expected = request.app.state.settings.metrics_token
    given = bearer_token(request.headers.get("authorization"))
    return bool(expected) and given is not None and hmac.compare_digest(given, expected)


async def metrics(request: Request) -> Response:
    if not _allowed(request):
        return JSONResponse(
            {
                "code": "FORBIDDEN",
                "message": "Metrics are served to loopback, or with `Authorization: Bearer <METRICS_TOKEN>`.",
            },
            status_code=403,
        )
    services: Services = request.app.state.services
    db = services.db

    def backlog() -> dict[str, int]:
        assert db is not None
        with db() as session:
            rows = session.execute(
                select(Notification.channel, func.count())
                .where(Notification.status == Status.PENDING)
                .group_by(Notification.channel)
            ).all()
        return {str(getattr(channel, "value", channel)): int(n) for channel, n in rows}

    body = await run_in_threadpool(scrape, backlog if db is not None else None)
    return Response(body, media_type=CONTENT_TYPE)


def routes() -> list[BaseRoute]:
    return [Route("/readyz", readyz), Route("/metrics", metrics)]


def route_template(routes: list[BaseRoute], scope: Scope) -> str:
    """The template of the route that matches (mounts joined), never the raw path."""
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Mount):
            inner = route.routes
            if inner:
                sub = route_template(list(inner), {**scope, **child})
                if sub != UNMATCHED:
                    return route.path + sub
            return route.path or "/"
        if isinstance(route, Route):
            return route.path
        return UNMATCHED
    return UNMATCHED


class RequestMetrics:
    """Counts and times every HTTP request by method, route template and status."""

    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.app = app
        self.routes = routes
        # (method, path) -> template, for paths that are their own template (no parameters)
        self._fixed: dict[tuple[str, str], str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = self._template(scope)
            observe_request(scope["method"], route, status, time.perf_counter() - start)

    def _template(self, scope: Scope) -> str:
        fixed = (scope["method"], scope["path"])
        route = self._fixed.get(fixed)
        if route is None:
            route = route_template(self.routes, _plain(scope))
            # a template with parameters (or none matched) would make a key per path
            if route == scope["path"] and len(self._fixed) < _FIXED_MAX:
                self._fixed[fixed] = route
        return route


_FIXED_MAX = 256


def _plain(scope: Scope) -> Scope:
    # the scope as the router first saw it (mounts change root_path and path_params)
    keep: dict[str, Any] = {k: scope[k] for k in ("type", "method", "path") if k in scope}
    keep["root_path"] = ""
    return keep
