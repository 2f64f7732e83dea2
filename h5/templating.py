"""Jinja2 environment and the HTML response every H5 page goes out as."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# Only our own files may run or style a page: scripts are files, never inline, and
# nothing is framed. Map links leave the site by navigation, which CSP does not limit.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # search text and coordinates live in our URLs: never hand them to a map site
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=()",
    # pages can carry a location in their URL; keep them out of shared caches
    "Cache-Control": "private, no-cache",
}

env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@cache
def static_version(name: str) -> str:
    """A short content hash, so a changed file gets a new URL and old ones can cache long."""
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def render(name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    html = env.get_template(name).render(context)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


class CachedStatic(StaticFiles):
    """Static files with cache headers: a year when the URL names the content hash."""

    def file_response(
        self, full_path: Any, stat_result: Any, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        query = scope.get("query_string", b"")
        if query.startswith(b"v="):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            response.headers["Cache-Control"] = "public, max-age=3600"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
