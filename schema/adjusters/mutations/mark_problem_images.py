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
from schema.adjusters.inputs import MarkProblemImagesInput
from schema.adjusters.mutations.common import find_claim
from schema.adjusters.types import AdjusterClaimView, claim_view_type
from schema.context import Info
from schema.ids import database_id
from server.claims import review
from server.errors import DomainError


@strawberry.type(description="The files are marked; the claimant sees the reasons.")
class MarkProblemImagesSuccess:
    claim: AdjusterClaimView = strawberry.field(description="The claim with the marks.")


MarkProblemImagesPayload = Annotated[
    MarkProblemImagesSuccess
    | ValidationError
    | AdjusterClaimNotFoundError
    | AdjusterClaimStateError,
    strawberry.union("MarkProblemImagesPayload", description="Result of markProblemImages."),
]
_ERRORS = (ValidationError, AdjusterClaimNotFoundError, AdjusterClaimStateError)


def mark_problem_images(
    info: Info,
    input: Annotated[
        MarkProblemImagesInput, strawberry.argument(description="The claim and the files.")
    ],
) -> MarkProblemImagesPayload:
    adjuster = current_adjuster(info)
    cx, db = claims(info)
    marks = [
        # an id of another type or garbage is no file of the claim: 0 matches none
        review.ProblemMark(
            document_id=database_id(m.document_id, "ClaimDocument") or 0, reason=m.reason
        )
        for m in input.images
    ]
    try:
        claim = find_claim(db, input.claim_id)
        review.mark_problem_images(db, cx, adjuster, claim, marks)
    except DomainError as e:
        return claim_error_payload(e, _ERRORS)  # type: ignore[return-value]
    return MarkProblemImagesSuccess(
        claim=claim_view_type(
            db, cx, review.claim_view(db, cx, claim), current_adjuster_session(info).id
        )
    )
