from __future__ import annotations

from typing import Annotated

import strawberry

from schema.adjusters.auth import claims, current_adjuster, current_adjuster_session
from schema.adjusters.errors import AdjusterClaimNotFoundError, AdjusterClaimStateError
from schema.adjusters.inputs import StartClaimReviewInput
from schema.adjusters.mutations.common import find_claim
from schema.adjusters.types import AdjusterClaimView, claim_view_type
from schema.context import Info
from schema.results import ResultUnion
from server.claims import review


@strawberry.type(description="The claim is under review.")
class StartClaimReviewSuccess:
    claim: AdjusterClaimView = strawberry.field(description="The claim, now UNDER_REVIEW.")


StartClaimReviewPayload = ResultUnion(
    "StartClaimReviewPayload",
    StartClaimReviewSuccess,
    AdjusterClaimNotFoundError,
    AdjusterClaimStateError,
    description="Result of startClaimReview.",
)


@StartClaimReviewPayload.resolver
def start_claim_review(
    info: Info,
    input: Annotated[StartClaimReviewInput, strawberry.argument(description="The claim.")],
) -> StartClaimReviewSuccess:
    adjuster = current_adjuster(info)
    cx, db = claims(info)
    claim = review.start_review(db, cx, adjuster, find_claim(db, input.claim_id))
    return StartClaimReviewSuccess(
        claim=claim_view_type(
            db, cx, review.claim_view(db, cx, claim), current_adjuster_session(info).id
        )
    )
