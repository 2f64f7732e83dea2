from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import members
from schema.accounts.errors import SmsCodeInvalidError, ValidationError, error_payload
from schema.accounts.inputs import ResetPasswordInput
from schema.context import Info
from server.errors import DomainError


@strawberry.type(description="The password is changed; every session has ended, log in again.")
class ResetPasswordSuccess:
    ok: bool = strawberry.field(description="Always true.")


ResetPasswordPayload = Annotated[
    ResetPasswordSuccess | ValidationError | SmsCodeInvalidError,
    strawberry.union("ResetPasswordPayload", description="Result of resetPassword."),
]


def reset_password(
    info: Info,
    input: Annotated[
        ResetPasswordInput, strawberry.argument(description="Mobile, new password, code.")
    ],
) -> ResetPasswordPayload:
    m, db = members(info)
    try:
        m.accounts.reset_password(
            db, mobile=input.mobile, new_password=input.new_password, sms_code=input.sms_code
        )
    except DomainError as e:
        return error_payload(e, (ValidationError, SmsCodeInvalidError))  # type: ignore[return-value]
    return ResetPasswordSuccess(ok=True)
