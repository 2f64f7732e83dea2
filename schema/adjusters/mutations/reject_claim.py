from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import ValidationError
from schema.adjusters.auth import claims, current_adjuster, current_adjuster_session
from schema.adjusters.errors import AdjusterClaimNotFoundError, AdjusterClaimStateError
from schema.adjusters.inputs import RejectClaimInput
from schema.adjusters.mutations.common import find_claim
from schema.adjusters.types import AdjusterClaimView, claim_view_type
from schema.context import Info
from schema.results import ResultUnion
from server.claims import review


@strawberry.type(description="The claim is rejected; the claimant sees the reason.")
class RejectClaimSuccess:
    claim: AdjusterClaimView = strawberry.field(description="The claim, now REJECTED.")


RejectClaimPayload = ResultUnion(
    "RejectClaimPayload",
    RejectClaimSuccess,
    ValidationError,
    AdjusterClaimNotFoundError,
    AdjusterClaimStateError,
    description="Result of rejectClaim.",
)


@RejectClaimPayload.resolver
def reject_claim(
    info: Info,
    input: Annotated[RejectClaimInput, strawberry.argument(description="The claim and reason.")],
) -> RejectClaimSuccess:
    adjuster = current_adjuster(info)
    cx, db = claims(info)
    claim = review.reject(db, cx, adjuster, find_claim(db, input.claim_id), reason=input.reason)
    return RejectClaimSuccess(
        claim=claim_view_type(
            db, cx, review.claim_view(db, cx, claim), current_adjuster_session(info).id
        )
    )
