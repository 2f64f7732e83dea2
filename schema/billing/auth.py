"""The signed-in member or coordinator, and the services every billing resolver needs."""

from __future__ import annotations

from sqlalchemy.orm import Session

from schema.accounts.auth import bearer_token, current_account
from schema.context import Info
from schema.ids import database_id
from server.accounts.errors import PolicyNotFound, Unauthenticated
from server.accounts.models import Account
from server.billing import desk
from server.billing.errors import AdvanceNotFound, AppointmentNotFound, ReissueNotFound
from server.claims.core import ClaimContext
from server.claims.errors import AdjusterUnauthenticated
from server.claims.models import Adjuster
from server.directory.directory import Directory


def billing_env(info: Info) -> tuple[ClaimContext, Session, Account]:
    account = current_account(info)
    cx, db = info.context.services.claims, info.context.db
    if cx is None or db is None:
        raise Unauthenticated("Direct-billing services are not available on this server.")
    return cx, db, account


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
    pk = database_id(raw, "Appointment")
    if pk is None:
        raise AppointmentNotFound("No such appointment.")
    return pk


def policy_pk(raw: str) -> int:
    pk = database_id(raw, "Policy")
    if pk is None:
        raise PolicyNotFound("No such policy among yours.")
    return pk


def reissue_pk(raw: str) -> int:
    pk = database_id(raw, "CardReissue")
    if pk is None:
        raise ReissueNotFound("No card reissue has this id.")
    return pk


def advance_pk(raw: str) -> int:
    pk = database_id(raw, "AdvancePayment")
    if pk is None:
        raise AdvanceNotFound("No such advance payment request.")
    return pk
