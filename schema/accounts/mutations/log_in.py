from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import bearer_token, members
from schema.accounts.errors import LoginFailedError, RetryLaterError, ValidationError, error_payload
from schema.accounts.inputs import LogInInput
from schema.accounts.types import SignInSuccess, Viewer
from schema.context import Info
from server.errors import DomainError

LogInPayload = Annotated[
    SignInSuccess | ValidationError | LoginFailedError | RetryLaterError,
    strawberry.union("LogInPayload", description="Result of logIn."),
]


def log_in(
    info: Info,
    input: Annotated[LogInInput, strawberry.argument(description="Mobile and password.")],
) -> LogInPayload:
    m, db = members(info)
    try:
        signed = m.accounts.login(
            db, mobile=input.mobile, password=input.password, previous_token=bearer_token(info)
        )
    except DomainError as e:
        return error_payload(e, (ValidationError, LoginFailedError, RetryLaterError))  # type: ignore[return-value]
    info.context.account = signed.account
    return SignInSuccess(
        token=signed.token, expires_at=signed.expires_at, viewer=Viewer(account=signed.account)
    )
