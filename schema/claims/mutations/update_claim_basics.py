from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import RealNameRequiredError, ValidationError
from schema.claims.auth import claim_env, claim_pk
from schema.claims.errors import ClaimNotFoundError, ClaimRuleError, ClaimStateError
from schema.claims.inputs import UpdateClaimBasicsInput
from schema.claims.types import ClaimNode, claim_node
from schema.context import Info
from schema.results import ResultUnion
from server.claims import drafts


@strawberry.type(description="The basic information is saved; continue with updateClaimAmount.")
class UpdateClaimBasicsSuccess:
    claim: ClaimNode = strawberry.field(description="The draft.")


UpdateClaimBasicsPayload = ResultUnion(
    "UpdateClaimBasicsPayload",
    UpdateClaimBasicsSuccess,
    ValidationError,
    ClaimRuleError,
    ClaimNotFoundError,
    ClaimStateError,
    RealNameRequiredError,
    description="Result of updateClaimBasics (ClaimRuleError: CLAIM_TYPE_UNKNOWN, "
    "OFFICE_ONLY with the plan's reason, FACILITY_EXCLUDED, INCIDENT_OUTSIDE_COVER).",
)


@UpdateClaimBasicsPayload.resolver
def update_claim_basics(
    info: Info,
    input: Annotated[UpdateClaimBasicsInput, strawberry.argument(description="基本信息.")],
) -> UpdateClaimBasicsSuccess:
    cx, db, account = claim_env(info)
    claim = drafts.update_basics(
        db,
        cx,
        account,
        claim_pk(input.claim_id),
        address=input.address,
        incident_type=input.incident_type,
        incident_date=input.incident_date,
        claim_type=input.claim_type,
        relationship=input.relationship,
        facility_name=input.facility_name,
        facility_id=input.facility_id,
    )
    return UpdateClaimBasicsSuccess(claim=claim_node(claim))
