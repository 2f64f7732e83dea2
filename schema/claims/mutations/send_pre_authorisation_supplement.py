from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import RealNameRequiredError, ValidationError
from schema.claims.auth import claim_env
from schema.claims.errors import PreAuthNotFoundError, PreAuthStateError
from schema.claims.inputs import PreAuthIdInput
from schema.claims.preauth_types import PreAuthType, preauth_pk, preauth_type
from schema.context import Info
from schema.results import ResultUnion
from server.claims import preauth


@strawberry.type(description="The files asked for are sent; the request is with the office again.")
class SendPreAuthorisationSupplementSuccess:
    pre_authorisation: PreAuthType = strawberry.field(description="The request, SUBMITTED.")


SendPreAuthorisationSupplementPayload = ResultUnion(
    "SendPreAuthorisationSupplementPayload",
    SendPreAuthorisationSupplementSuccess,
    ValidationError,
    PreAuthNotFoundError,
    PreAuthStateError,
    RealNameRequiredError,
    description="Result of sendPreAuthorisationSupplement (DOCUMENTS_MISSING until a file is "
    "uploaded after the request).",
)


@SendPreAuthorisationSupplementPayload.resolver
def send_pre_authorisation_supplement(
    info: Info,
    input: Annotated[PreAuthIdInput, strawberry.argument(description="The request.")],
) -> SendPreAuthorisationSupplementSuccess:
    cx, db, account = claim_env(info)
    row = preauth.send_more(db, cx, account, preauth_pk(input.pre_auth_id))
    return SendPreAuthorisationSupplementSuccess(pre_authorisation=preauth_type(row))
