"""The signed-in member and the claim services, for every claimant resolver."""

from __future__ import annotations

from sqlalchemy.orm import Session

from schema.accounts.auth import current_account
from schema.context import Info
from schema.ids import key_of
from server.accounts.errors import PolicyNotFound, Unauthenticated
from server.accounts.models import Account
from server.claims.core import ClaimContext
from server.claims.errors import ClaimNotFound, PayeeNotFound


def claim_env(info: Info) -> tuple[ClaimContext, Session, Account]:
    """Claim services, the request's session and the account (UNAUTHENTICATED otherwise)."""
    account = current_account(info)
    cx = info.context.services.claims
    db = info.context.db
    if cx is None or db is None:
        raise Unauthenticated("Claims are not available on this server.")
    return cx, db, account


def claim_pk(raw: str) -> int:
    return key_of(raw, "Claim", ClaimNotFound("No such claim among yours."))


def document_pk(raw: str) -> int:
    return key_of(raw, "ClaimDocument", ClaimNotFound("No such document among your claims."))


def policy_pk(raw: str) -> int:
    return key_of(raw, "Policy", PolicyNotFound("No such policy among yours."))


def payee_pk(raw: str) -> int:
    return key_of(raw, "Payee", PayeeNotFound("No such payee among yours.", field="payeeId"))
