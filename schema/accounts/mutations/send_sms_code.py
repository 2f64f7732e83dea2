from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import bearer_token, client_address, current_account, members
from schema.accounts.errors import RetryLaterError, SmsDeliveryFailedError, ValidationError
from schema.accounts.inputs import SendSmsCodeInput
from schema.context import Info
from schema.results import ResultUnion
from server.accounts.errors import SmsDeliveryFailed
from server.accounts.sms_codes import ACCOUNT_BOUND
from server.errors import DomainError


@strawberry.type(description="The code is on its way.")
class SendSmsCodeSuccess:
    resend_after_seconds: int = strawberry.field(
        description="Seconds before another code can be sent."
    )
    expires_in_seconds: int = strawberry.field(description="Seconds the code stays valid.")


SendSmsCodePayload = ResultUnion(
    "SendSmsCodePayload",
    SendSmsCodeSuccess,
    ValidationError,
    RetryLaterError,
    SmsDeliveryFailedError,
    description="Result of sendSmsCode.",
)


@SendSmsCodePayload.resolver
def send_sms_code(
    info: Info,
    input: Annotated[SendSmsCodeInput, strawberry.argument(description="Mobile and purpose.")],
) -> SendSmsCodeSuccess:
    m, db = members(info)
    # only codes bound to an account need one; others are sent signed in or not
    bound = input.purpose in ACCOUNT_BOUND and bearer_token(info) is not None
    account = current_account(info) if bound else None
    savepoint = db.begin_nested()
    try:
        sent = m.accounts.send_code(
            db, input.mobile, input.purpose, client=client_address(info), account=account
        )
    except SmsDeliveryFailed:
        savepoint.rollback()  # an undelivered code must not start the 120 s wait
        raise
    except DomainError:
        savepoint.commit()
        raise
    savepoint.commit()
    return SendSmsCodeSuccess(
        resend_after_seconds=sent.resend_after_seconds, expires_in_seconds=sent.expires_in_seconds
    )
