from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import RealNameRequiredError, ValidationError
from schema.claims.auth import claim_env, claim_pk
from schema.claims.errors import ClaimNotFoundError, ClaimStateError, claim_error_payload
from schema.claims.inputs import WithdrawClaimInput
from schema.claims.types import ClaimNode, claim_node
from schema.context import Info
from server.claims import claimant_actions
from server.errors import DomainError


@strawberry.type(description="The claim is withdrawn (已撤案); it gets no decision notice.")
class WithdrawClaimSuccess:
    claim: ClaimNode = strawberry.field(description="The claim, now WITHDRAWN.")


WithdrawClaimPayload = Annotated[
    WithdrawClaimSuccess
    | ValidationError
    | ClaimNotFoundError
    | ClaimStateError
    | RealNameRequiredError,
    strawberry.union("WithdrawClaimPayload", description="Result of withdrawClaim."),
]
_ERRORS = (ValidationError, ClaimNotFoundError, ClaimStateError, RealNameRequiredError)


def withdraw_claim(
    info: Info,
    input: Annotated[WithdrawClaimInput, strawberry.argument(description="Claim and reason.")],
) -> WithdrawClaimPayload:
    cx, db, account = claim_env(info)
    try:
        claim = claimant_actions.withdraw(
            db, cx, account, claim_pk(input.claim_id), reason=input.reason
        )
    except DomainError as e:
        return claim_error_payload(e, _ERRORS)  # type: ignore[return-value]
    return WithdrawClaimSuccess(claim=claim_node(claim))
