"""Portal sessions: a log-in opens one claim's open supplement and nothing else.

The browser holds a random token (h5/supplement/session.py sets the cookie) of a portal
session in the one session store (server/sessions.py): the database keeps its hash, the
claim (its subject) and the supplement (its scope), so it cannot be widened to another
claim and any server can check it. A session ends after the idle time without a request,
at its absolute limit, or on sign-out; the supplement's deadline closes the page (not the
session) on its own.
"""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from server.claims.models import Claim, SupplementRequest
from server.sessions import TOKEN_MAX, LiveSession, SessionKind, SessionStore

CHANNEL = "h5"
__all__ = ["TOKEN_MAX", "close", "load", "new_token", "open_session"]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def open_session(
    db: Session,
    store: SessionStore,
    *,
    claim: Claim,
    supplement: SupplementRequest,
    replacing: str | None,
) -> str:
    """Start a session for this claim's supplement; returns the cookie's token. The session
    the browser held so far (`replacing`) ends: a log-in always gets a new token."""
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
    """The live portal session of this token (subject: the claim id; scope: the supplement
    id), or None."""
    return store.authenticate(db, SessionKind.PORTAL, token)


def close(db: Session, store: SessionStore, token: str | None) -> None:
    store.end(db, SessionKind.PORTAL, token)
