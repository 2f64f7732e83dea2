from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import bearer_token, members
from schema.accounts.errors import LoginFailedError, RetryLaterError, ValidationError
from schema.accounts.inputs import LogInInput
from schema.accounts.types import SignInSuccess, Viewer
from schema.context import Info
from schema.results import ResultUnion
from schema.threads import cpu_bound

LogInPayload = ResultUnion(
    "LogInPayload",
    SignInSuccess,
    ValidationError,
    LoginFailedError,
    RetryLaterError,
    description="Result of logIn.",
)


@LogInPayload.resolver
async def log_in(
    info: Info,
    input: Annotated[LogInInput, strawberry.argument(description="Mobile and password.")],
) -> SignInSuccess:
    m, db = members(info)
    # argon2 verification: off the event loop
    signed = await cpu_bound(
        m.accounts.login,
        db,
        mobile=input.mobile,
        password=input.password,
        previous_token=bearer_token(info),
    )
    info.context.account = signed.account
    return SignInSuccess(
        token=signed.token, expires_at=signed.expires_at, viewer=Viewer(account=signed.account)
    )
