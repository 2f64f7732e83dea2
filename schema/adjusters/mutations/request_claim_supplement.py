from __future__ import annotations

import datetime
from typing import Annotated

import strawberry

from schema.accounts.errors import ValidationError
from schema.adjusters.auth import claims, current_adjuster, current_adjuster_session
from schema.adjusters.errors import (
    AdjusterClaimNotFoundError,
    AdjusterClaimRuleError,
    AdjusterClaimStateError,
)
from schema.adjusters.inputs import RequestClaimSupplementInput
from schema.adjusters.mutations.common import find_claim
from schema.adjusters.types import AdjusterClaimView, claim_view_type
from schema.context import Info
from schema.results import ResultUnion
from server.claims import review, supplements


@strawberry.type(description="The claim waits for documents; the SMS and e-mail are queued.")
class RequestClaimSupplementSuccess:
    claim: AdjusterClaimView = strawberry.field(description="The claim, now PENDING_SUPPLEMENT.")
    deadline: datetime.date = strawberry.field(
        description="Last day to answer: 2 working days on the mainland calendar."
    )


RequestClaimSupplementPayload = ResultUnion(
    "RequestClaimSupplementPayload",
    RequestClaimSupplementSuccess,
    ValidationError,
    AdjusterClaimNotFoundError,
    AdjusterClaimStateError,
    AdjusterClaimRuleError,
    description="Result of requestClaimSupplement.",
)


@RequestClaimSupplementPayload.resolver
def request_claim_supplement(
    info: Info,
    input: Annotated[
        RequestClaimSupplementInput,
        strawberry.argument(description="The claim, the missing categories, the instructions."),
    ],
) -> RequestClaimSupplementSuccess:
    adjuster = current_adjuster(info)
    cx, db = claims(info)
    claim = find_claim(db, input.claim_id)
    request, _token = supplements.request_supplement(
        db, cx, adjuster, claim, input.categories, input.instructions
    )
    return RequestClaimSupplementSuccess(
        claim=claim_view_type(
            db, cx, review.claim_view(db, cx, claim), current_adjuster_session(info).id
        ),
        deadline=request.deadline,
    )
