from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import bearer_token, members
from schema.accounts.errors import AccountExistsError, SmsCodeInvalidError, ValidationError
from schema.accounts.inputs import RegisterInput
from schema.accounts.types import SignInSuccess, Viewer
from schema.context import Info
from schema.results import ResultUnion
from schema.threads import cpu_bound

RegisterPayload = ResultUnion(
    "RegisterPayload",
    SignInSuccess,
    ValidationError,
    SmsCodeInvalidError,
    AccountExistsError,
    description="Result of register.",
)


@RegisterPayload.resolver
async def register_account(
    info: Info,
    input: Annotated[
        RegisterInput, strawberry.argument(description="Mobile, password, code, terms.")
    ],
) -> SignInSuccess:
    m, db = members(info)
    # argon2 hashing: off the event loop
    signed = await cpu_bound(
        m.accounts.register,
        db,
        mobile=input.mobile,
        password=input.password,
        sms_code=input.sms_code,
        accept_terms=input.accept_terms,
        previous_token=bearer_token(info),
    )
    info.context.account = signed.account
    return SignInSuccess(
        token=signed.token, expires_at=signed.expires_at, viewer=Viewer(account=signed.account)
    )
