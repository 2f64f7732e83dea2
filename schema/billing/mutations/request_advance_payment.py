from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import (
    PolicyNotFoundError,
    RealNameRequiredError,
    SmsCodeInvalidError,
    ValidationError,
)
from schema.billing.auth import billing_env, directory, policy_pk
from schema.billing.errors import AppointmentRuleError, HighEndRequiredError
from schema.billing.inputs import RequestAdvancePaymentInput
from schema.billing.types import AdvancePaymentNode, advance_node
from schema.context import Info
from schema.results import ResultUnion
from server.billing import advance


@strawberry.type(description="The advance payment request is submitted.")
class RequestAdvancePaymentSuccess:
    advance_payment: AdvancePaymentNode = strawberry.field(description="The request.")


RequestAdvancePaymentPayload = ResultUnion(
    "RequestAdvancePaymentPayload",
    RequestAdvancePaymentSuccess,
    ValidationError,
    SmsCodeInvalidError,
    HighEndRequiredError,
    AppointmentRuleError,
    PolicyNotFoundError,
    RealNameRequiredError,
    description="Result of requestAdvancePayment.",
)


@RequestAdvancePaymentPayload.resolver
def request_advance_payment(
    info: Info,
    input: Annotated[RequestAdvancePaymentInput, strawberry.argument(description="The request.")],
) -> RequestAdvancePaymentSuccess:
    cx, db, account = billing_env(info)
    a = advance.request(
        db,
        cx,
        directory(info),
        account,
        policy_id=policy_pk(input.policy_id),
        facility_id=input.facility_id,
        hospital_name=input.hospital_name,
        admission_date=input.admission_date,
        description=input.description,
        sms_code=input.sms_code,
    )
    return RequestAdvancePaymentSuccess(advance_payment=advance_node(db, cx, a))
