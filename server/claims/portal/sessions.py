"""Portal sessions: a log-in opens one claim's open supplement and nothing else.

The browser holds a random token (h5/supplement/session.py sets the cookie); the database
keeps its hash, the claim and the supplement it opens, so it cannot be widened to another
claim and any server can check it. A session ends after IDLE without a request, LONGEST
after log-in, or on sign-out; the supplement's deadline closes the page (not the session)
on its own.
"""

from __future__ import annotations

import datetime
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.claims.models import Claim, SupplementRequest
from server.claims.portal_models import PortalSession
from server.crypto import token_hash

IDLE = datetime.timedelta(minutes=30)
LONGEST = datetime.timedelta(hours=12)
# last_seen_at is written at most this often, so each page view does not cost a write
TOUCH_EVERY = datetime.timedelta(seconds=30)
TOKEN_MAX = 100


def new_token() -> str:
    return secrets.token_urlsafe(32)


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
    if not token or len(token) > TOKEN_MAX:
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
    if not token or len(token) > TOKEN_MAX:
        return
    row = db.scalar(select(PortalSession).where(PortalSession.token_hash == token_hash(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now


def purge(db: Session, now: datetime.datetime) -> int:
    """Delete sessions past their longest life (a day's grace, for the record)."""
    old = now - LONGEST - datetime.timedelta(days=1)
    result = db.execute(delete(PortalSession).where(PortalSession.created_at < old))
    return int(getattr(result, "rowcount", 0) or 0)
