"""The H5 page of a request for documents: who may open it, and the session it gets.

The link's token finds the request; the member's name (as registered, the name the SMS
greets) and a captcha are the second factor, under the claims portal's throttles
(server/claims/portal/throttle.py: tries per request number and address, failures per
address, the same policies and counters) and captcha budgets. A log-in opens a session
of kind REQUEST_PORTAL in the one session store (server/sessions.py) whose subject is the
request for documents and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from server import service_supplements
from server.accounts.models import Account
from server.claims.core import ClaimContext
from server.claims.portal import stored_name_matches
from server.crypto import Vault
from server.service_supplements.kinds import Kind
from server.service_supplements.models import ServiceSupplement
from server.sessions import LiveSession, SessionKind, SessionStore

CHANNEL = "h5"


def name_matches(vault: Vault, db: Session, request: ServiceSupplement | None, typed: str) -> bool:
    """Is `typed` the member's name? The same work is done when there is no request."""
    account = db.get(Account, request.account_id) if request is not None else None
    person = account.person if account is not None else None
    return stored_name_matches(vault, person.name_enc if person is not None else None, typed)


def open_session(
    db: Session, store: SessionStore, request: ServiceSupplement, *, replacing: str | None
) -> str:
    """A session for this request for documents; returns the cookie's token."""
    issued = store.start(
        db,
        SessionKind.REQUEST_PORTAL,
        request.id,
        channel=CHANNEL,
        scope_id=request.id,
        replacing=replacing,
    )
    return issued.token


def close(db: Session, store: SessionStore, token: str | None) -> None:
    store.end(db, SessionKind.REQUEST_PORTAL, token)


def load(db: Session, store: SessionStore, token: str | None) -> LiveSession | None:
    return store.authenticate(db, SessionKind.REQUEST_PORTAL, token)


@dataclass
class Signed:
    """A live session with the request for documents it opens and that request's subject."""

    session: LiveSession
    kind: Kind
    subject: Any
    request: ServiceSupplement
    token: str


def signed_in(db: Session, cx: ClaimContext, token: str | None) -> Signed | None:
    row = load(db, cx.sessions, token)
    if row is None or token is None:
        return None
    request = db.get(ServiceSupplement, row.subject_id)
    if request is None:
        return None
    kind = service_supplements.kinds.get(request.subject_kind)
    subject = kind.load(db, request.subject_id) if kind is not None else None
    if kind is None or subject is None:
        return None
    return Signed(row, kind, subject, request, token)


def not_open_reason(cx: ClaimContext, signed: Signed) -> str | None:
    return service_supplements.not_open_reason(cx, signed.kind, signed.subject, signed.request)
