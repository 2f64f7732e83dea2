"""The signed-in member or coordinator, and the services every billing resolver needs."""

from __future__ import annotations

from sqlalchemy.orm import Session

from schema.accounts.auth import bearer_token
from schema.claims.auth import claim_env, policy_pk
from schema.context import Info
from schema.ids import key_of
from server.accounts.models import Account
from server.billing import desk
from server.billing.errors import AdvanceNotFound, AppointmentNotFound, ReissueNotFound
from server.claims.core import ClaimContext
from server.claims.errors import AdjusterUnauthenticated
from server.claims.models import Adjuster
from server.directory.directory import Directory

__all__ = [
    "advance_pk",
    "appointment_pk",
    "billing_env",
    "current_coordinator",
    "directory",
    "policy_pk",
    "reissue_pk",
]


def billing_env(info: Info) -> tuple[ClaimContext, Session, Account]:
    """The same as the claims' (the services run on the claims' context)."""
    return claim_env(info)


def directory(info: Info) -> Directory:
    return info.context.services.directory.directory


def current_coordinator(info: Info) -> tuple[ClaimContext, Session, Adjuster]:
    """The signed-in coordinator, or a top-level UNAUTHENTICATED error."""
    cx, db = info.context.services.claims, info.context.db
    if cx is None or db is None:
        raise AdjusterUnauthenticated("Direct-billing services are not available on this server.")
    state = info.context.request.state
    known = getattr(state, "coordinator", None)
    if isinstance(known, Adjuster):
        return cx, db, known
    token = bearer_token(info)
    if token is None:
        raise AdjusterUnauthenticated(
            "Sign in as a coordinator first: send `Authorization: Bearer <token>`."
        )
    state.coordinator, state.coordinator_session = desk.authenticate_session(db, cx, token)
    return cx, db, state.coordinator


def appointment_pk(raw: str) -> int:
    return key_of(raw, "Appointment", AppointmentNotFound("No such appointment."))


def reissue_pk(raw: str) -> int:
    return key_of(raw, "CardReissue", ReissueNotFound("No card reissue has this id."))


def advance_pk(raw: str) -> int:
    return key_of(raw, "AdvancePayment", AdvanceNotFound("No such advance payment request."))
