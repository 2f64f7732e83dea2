from __future__ import annotations

import strawberry

from schema.accounts.errors import RealNameRequiredError, RetryLaterError, SmsDeliveryFailedError
from schema.billing.auth import billing_env
from schema.context import Info
from schema.results import ResultUnion
from server.billing import advance
from server.crypto import mask_phone


@strawberry.type(description="The code is on its way to the account's mobile.")
class SendAdvancePaymentCodeSuccess:
    mobile_masked: str = strawberry.field(description="Where it went, masked.")
    resend_after_seconds: int = strawberry.field(description="Wait this long before asking again.")


SendAdvancePaymentCodePayload = ResultUnion(
    "SendAdvancePaymentCodePayload",
    SendAdvancePaymentCodeSuccess,
    RetryLaterError,
    SmsDeliveryFailedError,
    RealNameRequiredError,
    description="Result of sendAdvancePaymentCode.",
)


@SendAdvancePaymentCodePayload.resolver
def send_advance_payment_code(info: Info) -> SendAdvancePaymentCodeSuccess:
    cx, db, account = billing_env(info)
    sent = advance.send_code(db, cx, account)
    return SendAdvancePaymentCodeSuccess(
        mobile_masked=mask_phone(cx.vault.decrypt(account.phone_enc)),
        resend_after_seconds=sent.resend_after_seconds,
    )
