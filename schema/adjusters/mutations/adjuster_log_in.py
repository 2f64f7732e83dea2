from __future__ import annotations

import datetime
from typing import Annotated

import strawberry

from schema.accounts.auth import bearer_token
from schema.accounts.errors import LoginFailedError, RetryLaterError
from schema.adjusters.auth import claims
from schema.adjusters.inputs import AdjusterLogInInput
from schema.adjusters.types import AdjusterType, adjuster_type
from schema.context import Info
from schema.results import ResultUnion
from schema.threads import cpu_bound
from server.claims import adjusters


@strawberry.type(description="Signed in: send the token as `Authorization: Bearer <token>`.")
class AdjusterSignInSuccess:
    token: str = strawberry.field(description="Session token; only for back-office operations.")
    expires_at: datetime.datetime = strawberry.field(
        description="Absolute end of the session (it also ends after 30 idle minutes)."
    )
    adjuster: AdjusterType = strawberry.field(description="Who signed in.")


AdjusterLogInPayload = ResultUnion(
    "AdjusterLogInPayload",
    AdjusterSignInSuccess,
    LoginFailedError,
    RetryLaterError,
    description="Result of adjusterLogIn.",
)


@AdjusterLogInPayload.resolver
async def adjuster_log_in(
    info: Info,
    input: Annotated[AdjusterLogInInput, strawberry.argument(description="Username and password.")],
) -> AdjusterSignInSuccess:
    cx, db = claims(info)
    # argon2 verification: off the event loop
    signed = await cpu_bound(
        adjusters.log_in,
        db,
        cx,
        username=input.username,
        password=input.password,
        previous_token=bearer_token(info),
    )
    info.context.request.state.adjuster = signed.adjuster
    return AdjusterSignInSuccess(
        token=signed.token,
        expires_at=signed.expires_at,
        adjuster=adjuster_type(signed.adjuster, cx.vault),
    )
