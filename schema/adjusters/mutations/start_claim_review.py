from __future__ import annotations

from typing import Annotated

import strawberry

from schema.adjusters.auth import claims, current_adjuster, current_adjuster_session
from schema.adjusters.errors import (
    AdjusterClaimNotFoundError,
    AdjusterClaimStateError,
    claim_error_payload,
)
from schema.adjusters.inputs import StartClaimReviewInput
from schema.adjusters.mutations.common import find_claim
from schema.adjusters.types import AdjusterClaimView, claim_view_type
from schema.context import Info
from server.claims import review
from server.errors import DomainError


@strawberry.type(description="The claim is under review.")
class StartClaimReviewSuccess:
    claim: AdjusterClaimView = strawberry.field(description="The claim, now UNDER_REVIEW.")


StartClaimReviewPayload = Annotated[
    StartClaimReviewSuccess | AdjusterClaimNotFoundError | AdjusterClaimStateError,
    strawberry.union("StartClaimReviewPayload", description="Result of startClaimReview."),
]
_ERRORS = (AdjusterClaimNotFoundError, AdjusterClaimStateError)


def start_claim_review(
    info: Info,
    input: Annotated[StartClaimReviewInput, strawberry.argument(description="The claim.")],
) -> StartClaimReviewPayload:
    adjuster = current_adjuster(info)
    cx, db = claims(info)
    try:
        claim = review.start_review(db, cx, adjuster, find_claim(db, input.claim_id))
    except DomainError as e:
        return claim_error_payload(e, _ERRORS)  # type: ignore[return-value]
    return StartClaimReviewSuccess(
        claim=claim_view_type(
            db, cx, review.claim_view(db, cx, claim), current_adjuster_session(info).id
        )
    )
