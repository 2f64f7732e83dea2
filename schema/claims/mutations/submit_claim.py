from __future__ import annotations

from enum import Enum
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
from server.claims.office import OFFICE


@strawberry.enum(description="Another service the success page offers (我要其他服务).")
class OtherService(Enum):
    NEW_CLAIM = "new_claim"
    CLAIM_PROGRESS = "claim_progress"
    DIRECTORY = "directory"
    FAQ = "faq"


@strawberry.type(
    description="理赔提交成功: the claim is submitted; keep its number (a screenshot helps). "
    "The office's address, postcode and hotline are shown with it, as on the insurer's page."
)
class SubmitClaimSuccess:
    claim: ClaimNode = strawberry.field(description="The claim, now SUBMITTED.")
    claim_no: str = strawberry.field(description="赔案号, e.g. VSHH26030200001.")
    office_address_zh: str = strawberry.field(description="The claims office, in Chinese.")
    office_address_en: str = strawberry.field(description="The claims office, in English.")
    postcode: str = strawberry.field(description="The office's postcode (邮编).")
    hotline: str = strawberry.field(description="The claims hotline (联系电话).")
    other_services: list[OtherService] = strawberry.field(
        description="What the member can do next (我要其他服务)."
    )


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
        declaration_version=input.declaration_version,
    )
    assert claim.claim_no is not None
    return SubmitClaimSuccess(
        claim=claim_node(claim),
        claim_no=claim.claim_no,
        office_address_zh=OFFICE.address_zh,
        office_address_en=OFFICE.address_en,
        postcode=OFFICE.postcode,
        hotline=OFFICE.hotline,
        other_services=list(OtherService),
    )
