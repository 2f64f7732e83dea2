from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import (
    RealNameRequiredError,
    RetryLaterError,
    SmsCodeInvalidError,
    ValidationError,
)
from schema.claims.auth import claim_env
from schema.claims.inputs import ChangeContactDetailsInput
from schema.claims.member_admin_types import ServiceRequest, request_type
from schema.claims.types import ClaimantProfile, profile_type
from schema.context import Info
from schema.results import ResultUnion
from server.claims import drafts, member_admin


@strawberry.type(description="The contact details are changed; claims use them at once.")
class ChangeContactDetailsSuccess:
    request: ServiceRequest = strawberry.field(description="The request, on the progress list.")
    profile: ClaimantProfile = strawberry.field(description="What claims use now, masked.")


ChangeContactDetailsPayload = ResultUnion(
    "ChangeContactDetailsPayload",
    ChangeContactDetailsSuccess,
    ValidationError,
    SmsCodeInvalidError,
    RealNameRequiredError,
    RetryLaterError,
    description="Result of changeContactDetails (ValidationError codes: UNKNOWN_REGION, "
    "REQUIRED, TOO_LONG, INVALID_CHARACTERS, INVALID_EMAIL, and the SMS code's form).",
)


@ChangeContactDetailsPayload.resolver
def change_contact_details(
    info: Info,
    input: Annotated[
        ChangeContactDetailsInput, strawberry.argument(description="The new contact details.")
    ],
) -> ChangeContactDetailsSuccess:
    cx, db, account = claim_env(info)
    view = member_admin.change_contact(
        db,
        cx,
        account,
        province_code=input.province_code,
        city_code=input.city_code,
        district_code=input.district_code,
        address=input.address,
        email=input.email,
        sms_code=input.sms_code,
    )
    contact = drafts.claimant_contact(db, cx, account)
    profile = profile_type(contact, lambda: drafts.payee_on_file(db, cx, account))
    return ChangeContactDetailsSuccess(request=request_type(view), profile=profile)
