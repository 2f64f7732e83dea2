"""Typed errors of the back office; they implement the shared `Error` interface."""

from __future__ import annotations

from typing import Self

import strawberry

from schema.results import Error
from server.claims.errors import ClaimNotFound, ClaimRuleBroken, WrongClaimState
from server.errors import DomainError


@strawberry.type(description="No sent claim has this id (CLAIM_NOT_FOUND).")
class AdjusterClaimNotFoundError(Error):
    represents = (ClaimNotFound,)


@strawberry.type(
    description="The claim's status does not allow this step, e.g. settling a claim that "
    "waits for documents or asking twice for them (CLAIM_STATE_CONFLICT)."
)
class AdjusterClaimStateError(Error):
    represents = (WrongClaimState,)


@strawberry.type(
    description="A claim rule refuses the step; `code` says which, e.g. CATEGORY_NOT_ALLOWED, "
    "AMOUNTS_INCONSISTENT."
)
class AdjusterClaimRuleError(Error):
    field: str | None = strawberry.field(description="The input field at fault, if one is.")

    represents = (ClaimRuleBroken,)

    @classmethod
    def from_domain(cls, exc: DomainError) -> Self:
        return cls(message=exc.message, code=exc.code, field=exc.field)
