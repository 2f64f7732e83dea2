"""The portal's cookies: a browser id before log-in, a one-claim session after it, and the
CSRF tokens derived from them.

The session cookie holds the random token of a portal session (server/claims/portal/
sessions.py keeps only its hash). Both cookies are HttpOnly, SameSite=Strict, limited to
the portal's path and Secure whenever the page came over HTTPS.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import Response

from server.claims.portal.sessions import TOKEN_MAX

SESSION_COOKIE = "sp_session"
BROWSER_COOKIE = "sp_browser"


def _csrf_key(secret: str) -> bytes:
    return hashlib.sha256(b"supplement-csrf:" + secret.encode()).digest()


def csrf_token(secret: str, purpose: str, bound_to: str) -> str:
    """A form token for `purpose` ("login" or "session") tied to the browser or the session."""
    mac = hmac.new(_csrf_key(secret), f"{purpose}:{bound_to}".encode(), hashlib.sha256)
    return mac.hexdigest()[:40]


def csrf_ok(secret: str, purpose: str, bound_to: str | None, given: str | None) -> bool:
    if not bound_to or not given or len(given) > 100:
        return False
    return hmac.compare_digest(csrf_token(secret, purpose, bound_to), given)


def cookie_path(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/") + "/supplement"


def secure(request: Request, base_url: str) -> bool:
    return request.url.scheme == "https" or base_url.startswith("https://")


def set_cookie(response: Response, request: Request, name: str, value: str, base_url: str) -> None:
    response.set_cookie(
        name,
        value,
        path=cookie_path(request),
        httponly=True,
        samesite="strict",
        secure=secure(request, base_url),
    )


def clear_cookie(response: Response, request: Request, name: str, base_url: str) -> None:
    response.delete_cookie(
        name,
        path=cookie_path(request),
        httponly=True,
        samesite="strict",
        secure=secure(request, base_url),
    )


def browser_id(request: Request) -> str | None:
    value = request.cookies.get(BROWSER_COOKIE, "")
    return value if 20 <= len(value) <= TOKEN_MAX else None


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE)
