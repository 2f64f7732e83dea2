from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import ValidationError
from schema.adjusters.auth import claims, current_adjuster, current_adjuster_session
from schema.adjusters.errors import (
    AdjusterClaimNotFoundError,
    AdjusterClaimStateError,
    claim_error_payload,
)
from schema.adjusters.inputs import RejectClaimInput
from schema.adjusters.mutations.common import find_claim
from schema.adjusters.types import AdjusterClaimView, claim_view_type
from schema.context import Info
from server.claims import review
from server.errors import DomainError


@strawberry.type(description="The claim is rejected; the claimant sees the reason.")
class RejectClaimSuccess:
    claim: AdjusterClaimView = strawberry.field(description="The claim, now REJECTED.")


RejectClaimPayload = Annotated[
    RejectClaimSuccess | ValidationError | AdjusterClaimNotFoundError | AdjusterClaimStateError,
    strawberry.union("RejectClaimPayload", description="Result of rejectClaim."),
]
_ERRORS = (ValidationError, AdjusterClaimNotFoundError, AdjusterClaimStateError)


def reject_claim(
    info: Info,
    input: Annotated[RejectClaimInput, strawberry.argument(description="The claim and reason.")],
) -> RejectClaimPayload:
    adjuster = current_adjuster(info)
    cx, db = claims(info)
    try:
        claim = review.reject(db, cx, adjuster, find_claim(db, input.claim_id), reason=input.reason)
    except DomainError as e:
        return claim_error_payload(e, _ERRORS)  # type: ignore[return-value]
    return RejectClaimSuccess(
        claim=claim_view_type(
            db, cx, review.claim_view(db, cx, claim), current_adjuster_session(info).id
        )
    )
