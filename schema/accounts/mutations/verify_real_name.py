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
    error_payload,
)
from schema.accounts.inputs import VerifyRealNameInput
from schema.accounts.types import Viewer
from schema.context import Info
from server.errors import DomainError


@strawberry.type(description="Verified: insurance features are open.")
class VerifyRealNameSuccess:
    viewer: Viewer = strawberry.field(description="The member, now verified.")


VerifyRealNamePayload = Annotated[
    VerifyRealNameSuccess
    | ValidationError
    | RealNameLockedError
    | SecondFactorRequiredError
    | SmsCodeInvalidError
    | RetryLaterError
    | SmsDeliveryFailedError
    | IdentityNotInsuredError
    | IdentityTakenError
    | NoMobileOnRecordError
    | AlreadyVerifiedError,
    strawberry.union("VerifyRealNamePayload", description="Result of verifyRealName."),
]
_ERRORS = (
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
)


def verify_real_name(
    info: Info,
    input: Annotated[
        VerifyRealNameInput,
        strawberry.argument(description="The identity document, and the SMS code once asked for."),
    ],
) -> VerifyRealNamePayload:
    m, db = members(info)
    account = current_account(info)
    try:
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
    except DomainError as e:
        return error_payload(e, _ERRORS)  # type: ignore[return-value]
    db.refresh(account)
    return VerifyRealNameSuccess(viewer=Viewer(account=account))
