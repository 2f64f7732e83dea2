from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import (
    RealNameRequiredError,
    RetryLaterError,
    SmsCodeInvalidError,
    ValidationError,
)
from schema.claims.auth import claim_env
from schema.claims.errors import PayeeDuplicateError
from schema.claims.inputs import AddPayeeInput, PayeeDetailsInput
from schema.claims.payee_types import PayeeNode, payee_node
from schema.context import Info
from schema.results import ResultUnion
from server.claims import payees


@strawberry.type(description="The payee is saved (encrypted); claims can pick it.")
class AddPayeeSuccess:
    payee: PayeeNode = strawberry.field(description="The payee, masked.")


AddPayeePayload = ResultUnion(
    "AddPayeePayload",
    AddPayeeSuccess,
    ValidationError,
    SmsCodeInvalidError,
    PayeeDuplicateError,
    RealNameRequiredError,
    RetryLaterError,
    description="Result of addPayee (ValidationError codes: INVALID_NAME, INVALID_ID_NUMBER, "
    "UNKNOWN_REGION, UNKNOWN_BANK, INVALID_BANK_ACCOUNT, BANK_ACCOUNT_CHECK_DIGIT, "
    "INVALID_INSURANCE_NO, and the SMS code's form).",
)


def details(d: PayeeDetailsInput) -> payees.PayeeDetails:
    return payees.PayeeDetails(
        relationship=d.relationship,
        holder_name=d.holder_name,
        id_type=d.id_type,
        id_number=d.id_number,
        province_code=d.province_code,
        city_code=d.city_code,
        bank_code=d.bank_code,
        account_no=d.account_no,
        insurance_no=d.insurance_no,
    )


@AddPayeePayload.resolver
def add_payee(
    info: Info,
    input: Annotated[AddPayeeInput, strawberry.argument(description="收款人 and SMS code.")],
) -> AddPayeeSuccess:
    cx, db, account = claim_env(info)
    view = payees.add_payee(db, cx, account, details(input.payee), input.sms_code)
    return AddPayeeSuccess(payee=payee_node(view))
