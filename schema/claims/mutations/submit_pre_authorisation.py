from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import RealNameRequiredError, SmsCodeInvalidError, ValidationError
from schema.claims.auth import claim_env
from schema.claims.errors import PreAuthNotFoundError, PreAuthStateError
from schema.claims.inputs import SubmitPreAuthorisationInput
from schema.claims.preauth_types import PreAuthType, preauth_pk, preauth_type
from schema.context import Info
from schema.results import ResultUnion
from server.claims import preauth


@strawberry.type(description="The request is with the claims office; decisions come as messages.")
class SubmitPreAuthorisationSuccess:
    pre_authorisation: PreAuthType = strawberry.field(description="The request, SUBMITTED.")


SubmitPreAuthorisationPayload = ResultUnion(
    "SubmitPreAuthorisationPayload",
    SubmitPreAuthorisationSuccess,
    ValidationError,
    SmsCodeInvalidError,
    PreAuthNotFoundError,
    PreAuthStateError,
    RealNameRequiredError,
    description="Result of submitPreAuthorisation.",
)


@SubmitPreAuthorisationPayload.resolver
def submit_pre_authorisation(
    info: Info,
    input: Annotated[SubmitPreAuthorisationInput, strawberry.argument(description="Id and code.")],
) -> SubmitPreAuthorisationSuccess:
    cx, db, account = claim_env(info)
    row = preauth.submit(db, cx, account, preauth_pk(input.pre_auth_id), input.sms_code)
    return SubmitPreAuthorisationSuccess(pre_authorisation=preauth_type(row))
