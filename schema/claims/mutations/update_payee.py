from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import (
    RealNameRequiredError,
    RetryLaterError,
    SmsCodeInvalidError,
    ValidationError,
)
from schema.claims.auth import claim_env, payee_pk
from schema.claims.errors import PayeeDuplicateError, PayeeNotFoundError
from schema.claims.inputs import UpdatePayeeInput
from schema.claims.mutations.add_payee import details
from schema.claims.payee_types import PayeeNode, payee_node
from schema.context import Info
from schema.results import ResultUnion
from server.claims import payees


@strawberry.type(
    description="The payee is changed. When a claim was already sent to it, that claim keeps "
    "the old account and the change is a new payee: use the id returned."
)
class UpdatePayeeSuccess:
    payee: PayeeNode = strawberry.field(description="The payee as it is now, masked.")


UpdatePayeePayload = ResultUnion(
    "UpdatePayeePayload",
    UpdatePayeeSuccess,
    ValidationError,
    SmsCodeInvalidError,
    PayeeNotFoundError,
    PayeeDuplicateError,
    RealNameRequiredError,
    RetryLaterError,
    description="Result of updatePayee (ValidationError codes as for addPayee).",
)


@UpdatePayeePayload.resolver
def update_payee(
    info: Info,
    input: Annotated[UpdatePayeeInput, strawberry.argument(description="The change.")],
) -> UpdatePayeeSuccess:
    cx, db, account = claim_env(info)
    view = payees.update_payee(
        db, cx, account, payee_pk(input.payee_id), details(input.payee), input.sms_code
    )
    return UpdatePayeeSuccess(payee=payee_node(view))
