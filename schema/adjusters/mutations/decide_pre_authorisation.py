"""The claims office's decisions on pre-authorisations: approve, decline, ask for more."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from schema.accounts.errors import ValidationError
from schema.adjusters.auth import claims, current_adjuster
from schema.claims.errors import PreAuthNotFoundError, PreAuthStateError
from schema.claims.preauth_types import PreAuthType, preauth_pk, preauth_type
from schema.context import Info
from schema.results import ResultUnion
from server.claims import preauth


@strawberry.input(description="Approve a submitted pre-authorisation.")
class ApprovePreAuthorisationInput:
    pre_auth_id: strawberry.ID = strawberry.field(description="`PreAuthorisation.id`.")
    items: str = strawberry.field(description="The approved items.")
    amount: Decimal = strawberry.field(description="The approved amount, yuan.")
    valid_from: datetime.date = strawberry.field(description="Valid from (inclusive).")
    valid_to: datetime.date = strawberry.field(description="Valid to (inclusive).")


@strawberry.input(description="Decline a submitted pre-authorisation.")
class DeclinePreAuthorisationInput:
    pre_auth_id: strawberry.ID = strawberry.field(description="`PreAuthorisation.id`.")
    reason: str = strawberry.field(description="Why, for the member (up to 500 characters).")


@strawberry.input(
    description="Ask the member for more files: SMS and e-mail with the H5 upload link, "
    "and in the app."
)
class RequestPreAuthorisationMoreInput:
    pre_auth_id: strawberry.ID = strawberry.field(description="`PreAuthorisation.id`.")
    instructions: str = strawberry.field(description="What is needed, for the member.")
    categories: list[str] | None = strawberry.field(
        default=None,
        description="Document categories asked for: APPLICATION_FORM, MEDICAL_RECORD, "
        "EXAMINATION_REPORT, COST_ESTIMATE, OTHER (default MEDICAL_RECORD).",
    )
    working_days: int | None = strawberry.field(
        default=None, description="The deadline in working days, 1 to 10 (default 2)."
    )


@strawberry.type(description="The decision is recorded; the member is told.")
class DecidePreAuthorisationSuccess:
    pre_authorisation: PreAuthType = strawberry.field(description="The request, decided.")


DecidePreAuthorisationPayload = ResultUnion(
    "DecidePreAuthorisationPayload",
    DecidePreAuthorisationSuccess,
    ValidationError,
    PreAuthNotFoundError,
    PreAuthStateError,
    description="Result of approvePreAuthorisation, declinePreAuthorisation and "
    "requestPreAuthorisationMore.",
)


@DecidePreAuthorisationPayload.resolver
def approve_pre_authorisation(
    info: Info,
    input: Annotated[ApprovePreAuthorisationInput, strawberry.argument(description="Decision.")],
) -> DecidePreAuthorisationSuccess:
    adjuster = current_adjuster(info)
    cx, db = claims(info)
    row = preauth.approve(
        db,
        cx,
        adjuster,
        preauth_pk(input.pre_auth_id),
        items=input.items,
        amount=input.amount,
        valid_from=input.valid_from,
        valid_to=input.valid_to,
    )
    return DecidePreAuthorisationSuccess(pre_authorisation=preauth_type(row))


@DecidePreAuthorisationPayload.resolver
def decline_pre_authorisation(
    info: Info,
    input: Annotated[DeclinePreAuthorisationInput, strawberry.argument(description="Decision.")],
) -> DecidePreAuthorisationSuccess:
    adjuster = current_adjuster(info)
    cx, db = claims(info)
    row = preauth.decline(db, cx, adjuster, preauth_pk(input.pre_auth_id), reason=input.reason)
    return DecidePreAuthorisationSuccess(pre_authorisation=preauth_type(row))


@DecidePreAuthorisationPayload.resolver
def request_pre_authorisation_more(
    info: Info,
    input: Annotated[RequestPreAuthorisationMoreInput, strawberry.argument(description="What.")],
) -> DecidePreAuthorisationSuccess:
    adjuster = current_adjuster(info)
    cx, db = claims(info)
    row, _ = preauth.request_more(
        db,
        cx,
        adjuster,
        preauth_pk(input.pre_auth_id),
        instructions=input.instructions,
        categories=input.categories,
        working_days=input.working_days or preauth.MORE_WITHIN_WORKDAYS,
    )
    return DecidePreAuthorisationSuccess(pre_authorisation=preauth_type(row))
