from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import ValidationError
from schema.adjusters.auth import claims, current_adjuster, current_adjuster_session
from schema.adjusters.errors import AdjusterClaimNotFoundError, AdjusterClaimStateError
from schema.adjusters.inputs import MarkProblemImagesInput
from schema.adjusters.mutations.common import find_claim
from schema.adjusters.types import AdjusterClaimView, claim_view_type
from schema.context import Info
from schema.ids import database_id
from schema.results import ResultUnion
from server.claims import review


@strawberry.type(description="The files are marked; the claimant sees the reasons.")
class MarkProblemImagesSuccess:
    claim: AdjusterClaimView = strawberry.field(description="The claim with the marks.")


MarkProblemImagesPayload = ResultUnion(
    "MarkProblemImagesPayload",
    MarkProblemImagesSuccess,
    ValidationError,
    AdjusterClaimNotFoundError,
    AdjusterClaimStateError,
    description="Result of markProblemImages.",
)


@MarkProblemImagesPayload.resolver
def mark_problem_images(
    info: Info,
    input: Annotated[
        MarkProblemImagesInput, strawberry.argument(description="The claim and the files.")
    ],
) -> MarkProblemImagesSuccess:
    adjuster = current_adjuster(info)
    cx, db = claims(info)
    marks = [
        # an id of another type or garbage is no file of the claim: 0 matches none
        review.ProblemMark(
            document_id=database_id(m.document_id, "ClaimDocument") or 0, reason=m.reason
        )
        for m in input.images
    ]
    claim = find_claim(db, input.claim_id)
    review.mark_problem_images(db, cx, adjuster, claim, marks)
    return MarkProblemImagesSuccess(
        claim=claim_view_type(
            db, cx, review.claim_view(db, cx, claim), current_adjuster_session(info).id
        )
    )
