"""The portal's cookies: a browser id before log-in, a one-claim session after it, and the
CSRF tokens derived from them.

The session cookie holds a random token; the database keeps its hash, the claim and the
supplement it opens, so the cookie cannot be widened to another claim and any server
can check it. It ends after IDLE without a request, LONGEST after log-in, or on
sign-out; the supplement's deadline closes the page (not the session) on its own. Both cookies are HttpOnly, SameSite=Strict, limited to the portal's path and
Secure whenever the page came over HTTPS.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from server.claims.models import Claim, SupplementRequest
from server.claims.portal_models import PortalSession
from server.crypto import token_hash

SESSION_COOKIE = "sp_session"
BROWSER_COOKIE = "sp_browser"
IDLE = datetime.timedelta(minutes=30)
LONGEST = datetime.timedelta(hours=12)
# last_seen_at is written at most this often, so each page view does not cost a write
TOUCH_EVERY = datetime.timedelta(seconds=30)
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
    db: Session, *, claim: Claim, supplement: SupplementRequest, now: datetime.datetime
) -> str:
    """Start a session for this claim's supplement; returns the cookie's token."""
    token = new_token()
    db.add(
        PortalSession(
            token_hash=token_hash(token),
            claim_id=claim.id,
            supplement_id=supplement.id,
            created_at=now,
            last_seen_at=now,
            # the supplement's own deadline is checked on every request: past it the
            # page says so instead of asking to sign in again
            expires_at=now + LONGEST,
        )
    )
    db.flush()
    return token


def load(db: Session, token: str | None, now: datetime.datetime) -> PortalSession | None:
    """The live session of this token (its idle clock restarted), or None."""
    if not token or len(token) > _TOKEN_MAX:
        return None
    row = db.scalar(select(PortalSession).where(PortalSession.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None:
        return None
    if now >= row.expires_at or now - row.last_seen_at >= IDLE:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return row


def close(db: Session, token: str | None, now: datetime.datetime) -> None:
    if not token or len(token) > _TOKEN_MAX:
        return
    row = db.scalar(select(PortalSession).where(PortalSession.token_hash == token_hash(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now


def purge(db: Session, now: datetime.datetime) -> int:
    """Delete sessions past their longest life (a day's grace, for the record)."""
    old = now - LONGEST - datetime.timedelta(days=1)
    result = db.execute(delete(PortalSession).where(PortalSession.created_at < old))
    return int(getattr(result, "rowcount", 0) or 0)
