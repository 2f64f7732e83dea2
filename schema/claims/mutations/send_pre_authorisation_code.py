from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import (
    RealNameRequiredError,
    RetryLaterError,
    SmsDeliveryFailedError,
    ValidationError,
)
from schema.claims.auth import claim_env
from schema.claims.errors import PreAuthNotFoundError, PreAuthStateError
from schema.claims.inputs import PreAuthIdInput
from schema.claims.preauth_types import preauth_pk
from schema.context import Info
from schema.results import ResultUnion
from server.claims import preauth
from server.crypto import mask_phone


@strawberry.type(description="The code is on its way to the member's own mobile.")
class SendPreAuthorisationCodeSuccess:
    mobile: str = strawberry.field(description="Where it went, masked.")
    resend_after_seconds: int = strawberry.field(description="Wait before asking again.")
    expires_in_seconds: int = strawberry.field(description="How long the code works.")


SendPreAuthorisationCodePayload = ResultUnion(
    "SendPreAuthorisationCodePayload",
    SendPreAuthorisationCodeSuccess,
    ValidationError,
    RetryLaterError,
    SmsDeliveryFailedError,
    PreAuthNotFoundError,
    PreAuthStateError,
    RealNameRequiredError,
    description="Result of sendPreAuthorisationCode (ValidationError DOCUMENTS_MISSING until "
    "both kinds of file are uploaded).",
)


@SendPreAuthorisationCodePayload.resolver
def send_pre_authorisation_code(
    info: Info,
    input: Annotated[PreAuthIdInput, strawberry.argument(description="The draft.")],
) -> SendPreAuthorisationCodeSuccess:
    cx, db, account = claim_env(info)
    sent = preauth.send_code(db, cx, account, preauth_pk(input.pre_auth_id))
    return SendPreAuthorisationCodeSuccess(
        mobile=mask_phone(cx.vault.decrypt(account.phone_enc)),
        resend_after_seconds=sent.resend_after_seconds,
        expires_in_seconds=sent.expires_in_seconds,
    )
