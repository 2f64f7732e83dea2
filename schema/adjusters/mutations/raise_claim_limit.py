from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from schema.accounts.errors import ValidationError
from schema.adjusters.auth import claims, current_adjuster
from schema.adjusters.errors import AdjusterClaimNotFoundError
from schema.adjusters.inputs import RaiseClaimLimitInput, to_fen
from schema.adjusters.mutations.common import find_claim
from schema.claims.common import money
from schema.context import Info
from schema.results import ResultUnion
from server.claims import review
from server.claims.errors import ClaimNotFound
from server.errors import FieldProblem, ValidationFailed


@strawberry.type(description="The insured person's online claim limit is set.")
class RaiseClaimLimitSuccess:
    limit: Decimal = strawberry.field(description="The limit per claim now, yuan.")
    set_at: datetime.datetime = strawberry.field(description="When it was set (UTC).")


RaiseClaimLimitPayload = ResultUnion(
    "RaiseClaimLimitPayload",
    RaiseClaimLimitSuccess,
    ValidationError,
    AdjusterClaimNotFoundError,
    description="Result of raiseClaimLimit.",
)


def _person(info: Info, input: RaiseClaimLimitInput) -> int:
    _, db = claims(info)
    policy_no = (input.policy_no or "").strip()
    if (input.claim_id is None) == (not policy_no):
        raise ValidationFailed(
            [FieldProblem("claimId", "Give a claim id or a policy number, not both.", "REQUIRED")]
        )
    if input.claim_id is not None:
        return find_claim(db, input.claim_id).insured_id
    person = review.person_for_policy_no(db, policy_no)
    if person is None:
        # the same answer as an unknown claim: the insured person cannot be found
        raise ClaimNotFound("No insured person has this policy number.", field="policyNo")
    return person


@RaiseClaimLimitPayload.resolver
def raise_claim_limit(
    info: Info,
    input: Annotated[
        RaiseClaimLimitInput, strawberry.argument(description="Whose limit, how much, why.")
    ],
) -> RaiseClaimLimitSuccess:
    adjuster = current_adjuster(info)
    cx, db = claims(info)
    limit, problem = to_fen(input.limit, "limit")
    if problem:
        raise ValidationFailed([problem])
    assert limit is not None
    row = review.raise_limit(
        db, cx, adjuster, _person(info, input), limit_fen=limit, reason=input.reason
    )
    return RaiseClaimLimitSuccess(limit=money(row.limit_fen) or Decimal(0), set_at=row.set_at)
