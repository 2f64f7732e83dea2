"""The portal's cookies: a browser id before log-in, a one-claim session after it, and the
CSRF tokens derived from them.

The session cookie holds a random token of a portal session (server/sessions.py): the
database keeps its hash, the claim (its subject) and the supplement (its scope), so the
cookie cannot be widened to another claim and any server can check it. It ends after the
idle time without a request, at its absolute limit, or on sign-out; the supplement's
deadline closes the page (not the session) on its own. Both cookies are HttpOnly,
SameSite=Strict, limited to the portal's path and Secure whenever the page came over HTTPS.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from server.claims.models import Claim, SupplementRequest
from server.sessions import LiveSession, SessionKind, SessionStore

SESSION_COOKIE = "sp_session"
BROWSER_COOKIE = "sp_browser"
CHANNEL = "h5"
_TOKEN_MAX = 100


def new_token() -> str:
    return secrets.token_urlsafe(32)


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
    return value if 20 <= len(value) <= _TOKEN_MAX else None


def open_session(
    db: Session,
    store: SessionStore,
    *,
    claim: Claim,
    supplement: SupplementRequest,
    replacing: str | None,
) -> str:
    """Start a session for this claim's supplement; returns the cookie's token. The
    session the browser held so far (`replacing`) ends: a log-in always gets a new token.

    The supplement's own deadline is checked on every request: past it the page says so
    instead of asking to sign in again."""
    issued = store.start(
        db,
        SessionKind.PORTAL,
        claim.id,
        channel=CHANNEL,
        scope_id=supplement.id,
        replacing=replacing,
    )
    return issued.token


def load(db: Session, store: SessionStore, token: str | None) -> LiveSession | None:
    """The live portal session of this token (subject: the claim id; scope: the
    supplement id), or None."""
    if not token or len(token) > _TOKEN_MAX:
        return None
    return store.authenticate(db, SessionKind.PORTAL, token)


def close(db: Session, store: SessionStore, token: str | None) -> None:
    store.end(db, SessionKind.PORTAL, token)
