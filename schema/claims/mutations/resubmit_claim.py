from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import PolicyNotFoundError, RealNameRequiredError
from schema.claims.auth import claim_env, claim_pk
from schema.claims.errors import ClaimNotFoundError, ClaimRuleError, ClaimStateError
from schema.claims.inputs import ResubmitClaimInput
from schema.claims.types import ClaimNode, claim_node
from schema.context import Info
from schema.results import ResultUnion
from server.claims import claimant_actions


@strawberry.type(
    description="A new draft filled in from the old claim (problem images left out); complete, "
    "sign and submit it like any draft."
)
class ResubmitClaimSuccess:
    claim: ClaimNode = strawberry.field(description="The new draft (`resubmissionOf` is set).")


ResubmitClaimPayload = ResultUnion(
    "ResubmitClaimPayload",
    ResubmitClaimSuccess,
    ClaimRuleError,
    ClaimNotFoundError,
    ClaimStateError,
    PolicyNotFoundError,
    RealNameRequiredError,
    description="Result of resubmitClaim.",
)


@ResubmitClaimPayload.resolver
def resubmit_claim(
    info: Info,
    input: Annotated[ResubmitClaimInput, strawberry.argument(description="The old claim.")],
) -> ResubmitClaimSuccess:
    cx, db, account = claim_env(info)
    claim = claimant_actions.resubmit(
        db, cx, account, claim_pk(input.claim_id), notice_accepted=input.notice_accepted
    )
    return ResubmitClaimSuccess(claim=claim_node(claim))
