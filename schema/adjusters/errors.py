"""Typed errors of the back office; they implement the shared `Error` interface."""

from __future__ import annotations

import strawberry

from schema.accounts.errors import Error, error_payload
from server.claims.errors import (
    AdjusterUnauthenticated,
    ClaimNotFound,
    ClaimRuleBroken,
    WrongClaimState,
)
from server.errors import DomainError


@strawberry.type(description="No sent claim has this id (CLAIM_NOT_FOUND).")
class AdjusterClaimNotFoundError(Error):
    pass


@strawberry.type(
    description="The claim's status does not allow this step, e.g. settling a claim that "
    "waits for documents or asking twice for them (CLAIM_STATE_CONFLICT)."
)
class AdjusterClaimStateError(Error):
    pass


@strawberry.type(
    description="A claim rule refuses the step; `code` says which, e.g. CATEGORY_NOT_ALLOWED, "
    "AMOUNTS_INCONSISTENT."
)
class AdjusterClaimRuleError(Error):
    field: str | None = strawberry.field(description="The input field at fault, if one is.")


def claim_error_payload(exc: DomainError, allowed: tuple[type, ...]) -> object:
    """The typed error for a domain error; anything the payload cannot carry is re-raised."""
    if isinstance(exc, AdjusterUnauthenticated):
        raise exc
    out: object
    if isinstance(exc, ClaimNotFound):
        out = AdjusterClaimNotFoundError(message=exc.message, code=exc.code)
    elif isinstance(exc, WrongClaimState):
        out = AdjusterClaimStateError(message=exc.message, code=exc.code)
    elif isinstance(exc, ClaimRuleBroken):
        out = AdjusterClaimRuleError(message=exc.message, code=exc.code, field=exc.field)
    else:
        return error_payload(exc, allowed)
    if not isinstance(out, allowed):
        raise exc
    return out
