"""客户信息变更 (self-service change of personal details): start, the SMS codes, submit.

The photos and signature go through POST /api/service-requests/{requestId}/files; the back
office decides (schema/adjusters/mutations/decide_personal_details_change.py).
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import client_address
from schema.accounts.errors import (
    RealNameLockedError,
    RealNameRequiredError,
    RetryLaterError,
    SmsCodeInvalidError,
    SmsDeliveryFailedError,
    ValidationError,
)
from schema.claims.auth import claim_env
from schema.claims.errors import (
    IdentityUnavailableError,
    MobileInUseError,
    ServiceRequestNotFoundError,
    ServiceRequestOpenError,
    ServiceRequestStateError,
)
from schema.claims.inputs import (
    ServiceRequestIdInput,
    StartPersonalDetailsChangeInput,
    SubmitPersonalDetailsChangeInput,
)
from schema.claims.member_admin_types import ServiceRequest, request_pk, request_type
from schema.context import Info
from schema.results import ResultUnion
from server.accounts.errors import SmsDeliveryFailed
from server.claims import details_change, member_admin
from server.errors import DomainError


@strawberry.type(description="A draft: upload the photos and the signature next.")
class StartPersonalDetailsChangeSuccess:
    request: ServiceRequest = strawberry.field(description="The request, DRAFT.")


StartPersonalDetailsChangePayload = ResultUnion(
    "StartPersonalDetailsChangePayload",
    StartPersonalDetailsChangeSuccess,
    ValidationError,
    ServiceRequestOpenError,
    MobileInUseError,
    IdentityUnavailableError,
    RetryLaterError,
    RealNameLockedError,
    RealNameRequiredError,
    description="Result of startPersonalDetailsChange (ValidationError codes: INVALID_NAME, "
    "INVALID_ID_NUMBER and the other document rules, INVALID_MOBILE, BIRTH_DATE_MISMATCH, "
    "NOTHING_CHANGED). A new document counts a real-name try (RealNameLockedError). A new "
    "mobile is not looked up here: MobileInUseError comes at submission, once its code is "
    "confirmed (it stays in this union for older clients).",
)


@StartPersonalDetailsChangePayload.resolver
def start_personal_details_change(
    info: Info,
    input: Annotated[
        StartPersonalDetailsChangeInput, strawberry.argument(description="The new details.")
    ],
) -> StartPersonalDetailsChangeSuccess:
    cx, db, account = claim_env(info)
    row = details_change.start(
        db,
        cx,
        account,
        name=input.name,
        id_type=input.id_type,
        id_number=input.id_number,
        mobile=input.mobile,
        client=client_address(info),
    )
    return StartPersonalDetailsChangeSuccess(request=request_type(member_admin.view(db, cx, row)))


@strawberry.type(description="The codes are sent (5 minutes); submit with them.")
class SendPersonalDetailsCodesSuccess:
    mobiles: list[str] = strawberry.field(
        description="Where, masked: the current mobile, then the new one when it changes."
    )
    resend_after_seconds: int = strawberry.field(description="Seconds before a new code.")
    expires_in_seconds: int = strawberry.field(description="Seconds the codes stay valid.")


SendPersonalDetailsCodesPayload = ResultUnion(
    "SendPersonalDetailsCodesPayload",
    SendPersonalDetailsCodesSuccess,
    ValidationError,
    ServiceRequestNotFoundError,
    ServiceRequestStateError,
    RetryLaterError,
    SmsDeliveryFailedError,
    RealNameRequiredError,
    description="Result of sendPersonalDetailsCodes (ValidationError DOCUMENTS_MISSING: upload "
    "the photos and the signature first).",
)


@SendPersonalDetailsCodesPayload.resolver
def send_personal_details_codes(
    info: Info,
    input: Annotated[ServiceRequestIdInput, strawberry.argument(description="The draft.")],
) -> SendPersonalDetailsCodesSuccess:
    cx, db, account = claim_env(info)
    savepoint = db.begin_nested()
    try:
        sent = details_change.send_codes(db, cx, account, request_pk(input.request_id))
    except SmsDeliveryFailed:
        savepoint.rollback()  # an undelivered code must not start the 120 s wait
        raise
    except DomainError:
        savepoint.commit()  # the rate limits count what was sent
        raise
    savepoint.commit()
    return SendPersonalDetailsCodesSuccess(
        mobiles=sent.mobiles,
        resend_after_seconds=sent.sent.resend_after_seconds,
        expires_in_seconds=sent.sent.expires_in_seconds,
    )


@strawberry.type(
    description="The request is with the back office; the decision comes as a message."
)
class SubmitPersonalDetailsChangeSuccess:
    request: ServiceRequest = strawberry.field(description="The request, SUBMITTED.")


SubmitPersonalDetailsChangePayload = ResultUnion(
    "SubmitPersonalDetailsChangePayload",
    SubmitPersonalDetailsChangeSuccess,
    ValidationError,
    SmsCodeInvalidError,
    ServiceRequestNotFoundError,
    ServiceRequestStateError,
    MobileInUseError,
    IdentityUnavailableError,
    RetryLaterError,
    RealNameRequiredError,
    description="Result of submitPersonalDetailsChange.",
)


@SubmitPersonalDetailsChangePayload.resolver
def submit_personal_details_change(
    info: Info,
    input: Annotated[
        SubmitPersonalDetailsChangeInput, strawberry.argument(description="Id and codes.")
    ],
) -> SubmitPersonalDetailsChangeSuccess:
    cx, db, account = claim_env(info)
    row = details_change.submit(
        db,
        cx,
        account,
        request_pk(input.request_id),
        sms_code=input.sms_code,
        new_mobile_sms_code=input.new_mobile_sms_code,
    )
    return SubmitPersonalDetailsChangeSuccess(request=request_type(member_admin.view(db, cx, row)))


@strawberry.type(description="The draft and its files are deleted; another change may start.")
class DiscardPersonalDetailsChangeSuccess:
    request_id: strawberry.ID = strawberry.field(description="The id the draft had.")


DiscardPersonalDetailsChangePayload = ResultUnion(
    "DiscardPersonalDetailsChangePayload",
    DiscardPersonalDetailsChangeSuccess,
    ServiceRequestNotFoundError,
    ServiceRequestStateError,
    RealNameRequiredError,
    description="Result of discardPersonalDetailsChange (a sent request cannot be discarded).",
)


@DiscardPersonalDetailsChangePayload.resolver
def discard_personal_details_change(
    info: Info,
    input: Annotated[ServiceRequestIdInput, strawberry.argument(description="The draft.")],
) -> DiscardPersonalDetailsChangeSuccess:
    cx, db, account = claim_env(info)
    details_change.discard(db, cx, account, request_pk(input.request_id))
    return DiscardPersonalDetailsChangeSuccess(request_id=input.request_id)
