"""Who is calling the back office: the bearer token checked against adjuster sessions.

Adjuster and member sessions are of different kinds (server/sessions.py), so a member's
token is UNAUTHENTICATED here and an adjuster's token is UNAUTHENTICATED on member
operations.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from schema.accounts.auth import bearer_token
from schema.context import Info
from server.claims import adjusters
from server.claims.core import ClaimContext
from server.claims.errors import AdjusterUnauthenticated
from server.claims.models import Adjuster
from server.sessions import LiveSession


def claims(info: Info) -> tuple[ClaimContext, Session]:
    services = info.context.services
    if services.claims is None or info.context.db is None:
        raise AdjusterUnauthenticated("Claims are not available on this server.")
    return services.claims, info.context.db


def current_adjuster(info: Info) -> Adjuster:
    """The signed-in adjuster, or a top-level UNAUTHENTICATED error."""
    state = info.context.request.state
    known = getattr(state, "adjuster", None)
    if isinstance(known, Adjuster):
        return known
    cx, db = claims(info)
    token = bearer_token(info)
    if token is None:
        raise AdjusterUnauthenticated(
            "Sign in as an adjuster first: send `Authorization: Bearer <token>`."
        )
    adjuster, session = adjusters.authenticate_session(db, cx, token)
    if adjuster.role != adjusters.ADJUSTER:
        raise AdjusterUnauthenticated("Sign in as a claims adjuster.")
    state.adjuster, state.adjuster_session = adjuster, session
    return adjuster


def current_adjuster_session(info: Info) -> LiveSession:
    """The signed-in adjuster's session (signed links are bound to it)."""
    current_adjuster(info)
    session: LiveSession = info.context.request.state.adjuster_session
    return session
