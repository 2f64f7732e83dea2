from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import RealNameRequiredError, SmsCodeInvalidError, ValidationError
from schema.claims.auth import claim_env, claim_pk
from schema.claims.errors import ClaimNotFoundError, ClaimRuleError, ClaimStateError
from schema.claims.inputs import SubmitClaimInput
from schema.claims.types import ClaimNode, claim_node
from schema.context import Info
from schema.results import ResultUnion
from server.claims import drafts


@strawberry.type(description="理赔提交成功: the claim is submitted; keep its number.")
class SubmitClaimSuccess:
    claim: ClaimNode = strawberry.field(description="The claim, now SUBMITTED.")
    claim_no: str = strawberry.field(description="赔案号, e.g. VSHH26030200001.")


SubmitClaimPayload = ResultUnion(
    "SubmitClaimPayload",
    SubmitClaimSuccess,
    ValidationError,
    SmsCodeInvalidError,
    ClaimRuleError,
    ClaimNotFoundError,
    ClaimStateError,
    RealNameRequiredError,
    description="Result of submitClaim. Every rule is checked again (ClaimRuleError); "
    "ValidationError covers a malformed code or key, and CLIENT_KEY_REUSED.",
)


@SubmitClaimPayload.resolver
def submit_claim(
    info: Info,
    input: Annotated[SubmitClaimInput, strawberry.argument(description="Draft, code, key.")],
) -> SubmitClaimSuccess:
    cx, db, account = claim_env(info)
    claim = drafts.submit(
        db,
        cx,
        account,
        claim_pk(input.claim_id),
        sms_code=input.sms_code,
        client_key=input.client_key,
    )
    assert claim.claim_no is not None
    return SubmitClaimSuccess(claim=claim_node(claim), claim_no=claim.claim_no)
