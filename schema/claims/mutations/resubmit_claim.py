from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import PolicyNotFoundError, RealNameRequiredError
from schema.claims.auth import claim_env, claim_pk
from schema.claims.errors import (
    ClaimNotFoundError,
    ClaimRuleError,
    ClaimStateError,
    claim_error_payload,
)
from schema.claims.inputs import ResubmitClaimInput
from schema.claims.types import ClaimNode, claim_node
from schema.context import Info
from server.claims import claimant_actions
from server.errors import DomainError


@strawberry.type(
    description="A new draft filled in from the old claim (problem images left out); complete, "
    "sign and submit it like any draft."
)
class ResubmitClaimSuccess:
    claim: ClaimNode = strawberry.field(description="The new draft (`resubmissionOf` is set).")


ResubmitClaimPayload = Annotated[
    ResubmitClaimSuccess
    | ClaimRuleError
    | ClaimNotFoundError
    | ClaimStateError
    | PolicyNotFoundError
    | RealNameRequiredError,
    strawberry.union("ResubmitClaimPayload", description="Result of resubmitClaim."),
]
_ERRORS = (
    ClaimRuleError,
    ClaimNotFoundError,
    ClaimStateError,
    PolicyNotFoundError,
    RealNameRequiredError,
)


def resubmit_claim(
    info: Info,
    input: Annotated[ResubmitClaimInput, strawberry.argument(description="The old claim.")],
) -> ResubmitClaimPayload:
    cx, db, account = claim_env(info)
    try:
        claim = claimant_actions.resubmit(
            db, cx, account, claim_pk(input.claim_id), notice_accepted=input.notice_accepted
        )
    except DomainError as e:
        return claim_error_payload(e, _ERRORS)  # type: ignore[return-value]
    return ResubmitClaimSuccess(claim=claim_node(claim))
