"""The built static site (scripts/build_static.py) served under /h5/, the app behind it.

A GET or HEAD without a query string whose file the build wrote is answered from the
folder (ETag, Last-Modified and 304s as for any static file); anything else (a search, a
page the build did not write, a form) goes to the app's own pages.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

_FINGERPRINTED = re.compile(r"\.[0-9a-f]{12}\.[a-z0-9]+$")
HTML_MAX_AGE = 300  # the built pages hold no location or search: shared caches may keep them


class BuiltFiles(StaticFiles):
    def file_response(
        self, full_path: Any, stat_result: Any, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        name = str(full_path)
        if _FINGERPRINTED.search(name):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        elif name.endswith(".html"):
            response.headers["Cache-Control"] = f"public, max-age={HTML_MAX_AGE}"
        else:
            response.headers["Cache-Control"] = "public, max-age=3600"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


class BuiltSite:
    def __init__(self, folder: Path, app: ASGIApp) -> None:
        self.files = BuiltFiles(directory=folder, html=True)
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and not scope.get("query_string")
            and await self._has(scope)
        ):
            await self.files(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _has(self, scope: Scope) -> bool:
        path = self.files.get_path(scope)  # normalised: no trailing slash
        if scope["path"].endswith("/"):
            path = str(Path(path) / "index.html")
        elif not Path(path).suffix:
            return False  # a page is written as <path>/index.html: the app answers <path>
        _, stat = await anyio.to_thread.run_sync(self.files.lookup_path, path)
        return stat is not None
