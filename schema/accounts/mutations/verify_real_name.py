from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import client_address, current_account, members
from schema.accounts.errors import (
    AlreadyVerifiedError,
    IdentityNotInsuredError,
    IdentityTakenError,
    NoMobileOnRecordError,
    RealNameLockedError,
    RetryLaterError,
    SecondFactorRequiredError,
    SmsCodeInvalidError,
    SmsDeliveryFailedError,
    ValidationError,
)
from schema.accounts.inputs import VerifyRealNameInput
from schema.accounts.types import Viewer
from schema.context import Info
from schema.results import ResultUnion


@strawberry.type(description="Verified: insurance features are open.")
class VerifyRealNameSuccess:
    viewer: Viewer = strawberry.field(description="The member, now verified.")


VerifyRealNamePayload = ResultUnion(
    "VerifyRealNamePayload",
    VerifyRealNameSuccess,
    ValidationError,
    RealNameLockedError,
    SecondFactorRequiredError,
    SmsCodeInvalidError,
    RetryLaterError,
    SmsDeliveryFailedError,
    IdentityNotInsuredError,
    IdentityTakenError,
    NoMobileOnRecordError,
    AlreadyVerifiedError,
    description="Result of verifyRealName.",
)


@VerifyRealNamePayload.resolver
def verify_real_name(
    info: Info,
    input: Annotated[
        VerifyRealNameInput,
        strawberry.argument(description="The identity document, and the SMS code once asked for."),
    ],
) -> VerifyRealNameSuccess:
    m, db = members(info)
    account = current_account(info)
    m.identity.verify_real_name(
        db,
        account,
        id_type=input.id_type,
        name=input.name,
        id_number=input.id_number,
        valid_from=input.valid_from,
        valid_to=input.valid_to,
        sms_code=input.sms_code,
        client=client_address(info),
    )
    db.refresh(account)
    return VerifyRealNameSuccess(viewer=Viewer(account=account))
