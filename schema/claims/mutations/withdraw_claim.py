from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import RealNameRequiredError, ValidationError
from schema.claims.auth import claim_env, claim_pk
from schema.claims.errors import ClaimNotFoundError, ClaimStateError
from schema.claims.inputs import WithdrawClaimInput
from schema.claims.types import ClaimNode, claim_node
from schema.context import Info
from schema.results import ResultUnion
from server.claims import claimant_actions


@strawberry.type(description="The claim is withdrawn (已撤案); it gets no decision notice.")
class WithdrawClaimSuccess:
    claim: ClaimNode = strawberry.field(description="The claim, now WITHDRAWN.")


WithdrawClaimPayload = ResultUnion(
    "WithdrawClaimPayload",
    WithdrawClaimSuccess,
    ValidationError,
    ClaimNotFoundError,
    ClaimStateError,
    RealNameRequiredError,
    description="Result of withdrawClaim.",
)


@WithdrawClaimPayload.resolver
def withdraw_claim(
    info: Info,
    input: Annotated[WithdrawClaimInput, strawberry.argument(description="Claim and reason.")],
) -> WithdrawClaimSuccess:
    cx, db, account = claim_env(info)
    claim = claimant_actions.withdraw(
        db, cx, account, claim_pk(input.claim_id), reason=input.reason
    )
    return WithdrawClaimSuccess(claim=claim_node(claim))
