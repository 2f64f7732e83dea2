from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import members
from schema.accounts.errors import SmsCodeInvalidError, ValidationError
from schema.accounts.inputs import ResetPasswordInput
from schema.context import Info
from schema.results import ResultUnion
from schema.threads import cpu_bound


@strawberry.type(description="The password is changed; every session has ended, log in again.")
class ResetPasswordSuccess:
    ok: bool = strawberry.field(description="Always true.")


ResetPasswordPayload = ResultUnion(
    "ResetPasswordPayload",
    ResetPasswordSuccess,
    ValidationError,
    SmsCodeInvalidError,
    description="Result of resetPassword.",
)


@ResetPasswordPayload.resolver
async def reset_password(
    info: Info,
    input: Annotated[
        ResetPasswordInput, strawberry.argument(description="Mobile, new password, code.")
    ],
) -> ResetPasswordSuccess:
    m, db = members(info)
    # argon2 hashing: off the event loop
    await cpu_bound(
        m.accounts.reset_password,
        db,
        mobile=input.mobile,
        new_password=input.new_password,
        sms_code=input.sms_code,
    )
    return ResetPasswordSuccess(ok=True)
