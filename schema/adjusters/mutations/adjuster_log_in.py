from __future__ import annotations

import datetime
from typing import Annotated

import strawberry

from schema.accounts.auth import bearer_token
from schema.accounts.errors import LoginFailedError, RetryLaterError, error_payload
from schema.adjusters.auth import claims
from schema.adjusters.inputs import AdjusterLogInInput
from schema.adjusters.types import AdjusterType, adjuster_type
from schema.context import Info
from server.claims import adjusters
from server.errors import DomainError


@strawberry.type(description="Signed in: send the token as `Authorization: Bearer <token>`.")
class AdjusterSignInSuccess:
    token: str = strawberry.field(description="Session token; only for back-office operations.")
    expires_at: datetime.datetime = strawberry.field(
        description="Absolute end of the session (it also ends after 30 idle minutes)."
    )
    adjuster: AdjusterType = strawberry.field(description="Who signed in.")


AdjusterLogInPayload = Annotated[
    AdjusterSignInSuccess | LoginFailedError | RetryLaterError,
    strawberry.union("AdjusterLogInPayload", description="Result of adjusterLogIn."),
]


def adjuster_log_in(
    info: Info,
    input: Annotated[AdjusterLogInInput, strawberry.argument(description="Username and password.")],
) -> AdjusterLogInPayload:
    cx, db = claims(info)
    try:
        signed = adjusters.log_in(
            db,
            cx,
            username=input.username,
            password=input.password,
            previous_token=bearer_token(info),
        )
    except DomainError as e:
        return error_payload(e, (LoginFailedError, RetryLaterError))  # type: ignore[return-value]
    info.context.request.state.adjuster = signed.adjuster
    return AdjusterSignInSuccess(
        token=signed.token,
        expires_at=signed.expires_at,
        adjuster=adjuster_type(signed.adjuster, cx.vault),
    )
