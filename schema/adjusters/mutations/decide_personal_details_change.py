"""The back office's decision on a change of personal details: approve (applied at once) or
reject with the reason the member sees."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import ValidationError
from schema.adjusters.auth import claims, current_adjuster, current_adjuster_session
from schema.adjusters.details_change_types import PersonalDetailsChangeReview, review_type
from schema.claims.errors import (
    IdentityUnavailableError,
    MobileInUseError,
    ServiceRequestNotFoundError,
    ServiceRequestStateError,
)
from schema.claims.member_admin_types import request_pk
from schema.context import Info
from schema.results import ResultUnion
from server.claims import details_change


@strawberry.input(description="Approve a submitted change of personal details.")
class ApprovePersonalDetailsChangeInput:
    request_id: strawberry.ID = strawberry.field(description="`ServiceRequest.id`.")


@strawberry.input(description="Reject a submitted change of personal details.")
class RejectPersonalDetailsChangeInput:
    request_id: strawberry.ID = strawberry.field(description="`ServiceRequest.id`.")
    reason: str = strawberry.field(description="Why, for the member (up to 500 characters).")


@strawberry.type(
    description="The decision is recorded (and an approval applied); the member is told."
)
class DecidePersonalDetailsChangeSuccess:
    change: PersonalDetailsChangeReview = strawberry.field(description="The request, decided.")


DecidePersonalDetailsChangePayload = ResultUnion(
    "DecidePersonalDetailsChangePayload",
    DecidePersonalDetailsChangeSuccess,
    ValidationError,
    ServiceRequestNotFoundError,
    ServiceRequestStateError,
    MobileInUseError,
    IdentityUnavailableError,
    description="Result of approvePersonalDetailsChange and rejectPersonalDetailsChange. An "
    "approval finds the new mobile or document taken meanwhile (MobileInUseError, "
    "IdentityUnavailableError): reject it then.",
)


@DecidePersonalDetailsChangePayload.resolver
def approve_personal_details_change(
    info: Info,
    input: Annotated[
        ApprovePersonalDetailsChangeInput, strawberry.argument(description="Decision.")
    ],
) -> DecidePersonalDetailsChangeSuccess:
    adjuster = current_adjuster(info)
    cx, db = claims(info)
    row = details_change.approve(db, cx, adjuster, request_pk(input.request_id))
    return _decided(info, row.id)


@DecidePersonalDetailsChangePayload.resolver
def reject_personal_details_change(
    info: Info,
    input: Annotated[
        RejectPersonalDetailsChangeInput, strawberry.argument(description="Decision.")
    ],
) -> DecidePersonalDetailsChangeSuccess:
    adjuster = current_adjuster(info)
    cx, db = claims(info)
    row = details_change.reject(db, cx, adjuster, request_pk(input.request_id), reason=input.reason)
    return _decided(info, row.id)


def _decided(info: Info, request_id: int) -> DecidePersonalDetailsChangeSuccess:
    cx, db = claims(info)
    view = details_change.office_view(db, cx, *details_change.find_for_office(db, request_id))
    return DecidePersonalDetailsChangeSuccess(
        change=review_type(cx, view, current_adjuster_session(info).id)
    )
