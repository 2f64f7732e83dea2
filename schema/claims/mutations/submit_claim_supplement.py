from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import RealNameRequiredError, ValidationError
from schema.claims.auth import claim_env, claim_pk
from schema.claims.errors import ClaimNotFoundError, ClaimRuleError, ClaimStateError
from schema.claims.inputs import SubmitClaimSupplementInput
from schema.claims.types import ClaimNode, claim_node
from schema.context import Info
from schema.results import ResultUnion
from server.claims import claimant_actions


@strawberry.type(description="The supplement is sent; the claim is under review again.")
class SubmitClaimSupplementSuccess:
    claim: ClaimNode = strawberry.field(description="The claim, now UNDER_REVIEW.")


SubmitClaimSupplementPayload = ResultUnion(
    "SubmitClaimSupplementPayload",
    SubmitClaimSupplementSuccess,
    ValidationError,
    ClaimRuleError,
    ClaimNotFoundError,
    ClaimStateError,
    RealNameRequiredError,
    description="Result of submitClaimSupplement (ClaimRuleError DOCUMENTS_MISSING: a "
    "requested category has no new file). Sending twice changes nothing.",
)


@SubmitClaimSupplementPayload.resolver
def submit_claim_supplement(
    info: Info,
    input: Annotated[
        SubmitClaimSupplementInput, strawberry.argument(description="The claim and a remark.")
    ],
) -> SubmitClaimSupplementSuccess:
    cx, db, account = claim_env(info)
    claim = claimant_actions.submit_supplement(
        db, cx, account, claim_pk(input.claim_id), remark=input.remark
    )
    return SubmitClaimSupplementSuccess(claim=claim_node(claim))
