from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import RealNameRequiredError, RetryLaterError, SmsDeliveryFailedError
from schema.claims.auth import claim_env, claim_pk
from schema.claims.errors import ClaimNotFoundError, ClaimRuleError, ClaimStateError
from schema.claims.inputs import ClaimIdInput
from schema.context import Info
from schema.results import ResultUnion
from server.claims import drafts


@strawberry.type(description="The code is on its way to the account's own mobile.")
class SendClaimConfirmationCodeSuccess:
    mobile: str = strawberry.field(description="Where it went, masked (138****0001).")
    resend_after_seconds: int = strawberry.field(description="Seconds before another code.")
    expires_in_seconds: int = strawberry.field(description="Seconds the code stays valid (300).")


SendClaimConfirmationCodePayload = ResultUnion(
    "SendClaimConfirmationCodePayload",
    SendClaimConfirmationCodeSuccess,
    ClaimRuleError,
    ClaimNotFoundError,
    ClaimStateError,
    RetryLaterError,
    SmsDeliveryFailedError,
    RealNameRequiredError,
    description="Result of sendClaimConfirmationCode (ClaimRuleError: the first rule the "
    "draft does not meet yet; see `claimConfirmation.problems`).",
)


@SendClaimConfirmationCodePayload.resolver
def send_claim_confirmation_code(
    info: Info,
    input: Annotated[ClaimIdInput, strawberry.argument(description="The complete draft.")],
) -> SendClaimConfirmationCodeSuccess:
    cx, db, account = claim_env(info)
    # no savepoint: the draft's checks only read, and a code that could not be delivered
    # is taken back by SmsCodes.issue itself (its budgets refunded, so no 120 s wait)
    sent = drafts.send_confirmation_code(db, cx, account, claim_pk(input.claim_id))
    return SendClaimConfirmationCodeSuccess(
        mobile=sent.mobile_masked,
        resend_after_seconds=sent.sent.resend_after_seconds,
        expires_in_seconds=sent.sent.expires_in_seconds,
    )
