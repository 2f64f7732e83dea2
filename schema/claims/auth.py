"""The signed-in member and the claim services, for every claimant resolver."""

from __future__ import annotations

from sqlalchemy.orm import Session
from strawberry import relay

from schema.accounts.auth import current_account
from schema.context import Info
from server.accounts.errors import PolicyNotFound, Unauthenticated
from server.accounts.models import Account
from server.claims.core import ClaimContext
from server.claims.errors import ClaimNotFound

VIEWER = "member"  # the signed links' viewer kind
_MAX_PK = 2**31 - 1


def claim_env(info: Info) -> tuple[ClaimContext, Session, Account]:
    """Claim services, the request's session and the account (UNAUTHENTICATED otherwise)."""
    account = current_account(info)
    cx = info.context.services.claims
    db = info.context.db
    if cx is None or db is None:
        raise Unauthenticated("Claims are not available on this server.")
    return cx, db, account


def _pk(raw: str, type_name: str) -> int | None:
    """A global id of `type_name`, or a plain integer id; None for anything else."""
    value = (raw or "").strip()
    if value.isdigit():
        pk = int(value)
    else:
        try:
            gid = relay.GlobalID.from_id(value)
        except (relay.GlobalIDValueError, ValueError):
            return None
        if gid.type_name != type_name or not gid.node_id.isdigit():
            return None
        pk = int(gid.node_id)
    return pk if 0 < pk <= _MAX_PK else None


def claim_pk(raw: str) -> int:
    pk = _pk(raw, "Claim")
    if pk is None:
        raise ClaimNotFound("No such claim among yours.")
    return pk


def document_pk(raw: str) -> int:
    pk = _pk(raw, "ClaimDocument")
    if pk is None:
        raise ClaimNotFound("No such document among your claims.")
    return pk


def policy_pk(raw: str) -> int:
    pk = _pk(raw, "Policy")
    if pk is None:
        raise PolicyNotFound("No such policy among yours.")
    return pk
