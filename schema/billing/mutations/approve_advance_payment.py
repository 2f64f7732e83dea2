from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import ValidationError
from schema.billing.auth import advance_pk, current_coordinator
from schema.billing.errors import AdvanceNotFoundError, AppointmentStateError
from schema.billing.inputs import ApproveAdvancePaymentInput
from schema.billing.types import AdvancePaymentNode, advance_node
from schema.context import Info
from schema.results import ResultUnion
from server.billing import advance


@strawberry.type(
    description="Approved with the amount and the hospital to be paid; the member is told."
)
class ApproveAdvancePaymentSuccess:
    advance_payment: AdvancePaymentNode = strawberry.field(description="The request.")


ApproveAdvancePaymentPayload = ResultUnion(
    "ApproveAdvancePaymentPayload",
    ApproveAdvancePaymentSuccess,
    ValidationError,
    AdvanceNotFoundError,
    AppointmentStateError,
    description="Result of approveAdvancePayment.",
)


@ApproveAdvancePaymentPayload.resolver
def approve_advance_payment(
    info: Info,
    input: Annotated[ApproveAdvancePaymentInput, strawberry.argument(description="The decision.")],
) -> ApproveAdvancePaymentSuccess:
    cx, db, coordinator = current_coordinator(info)
    a = advance.approve(
        db, cx, coordinator, advance_pk(input.advance_id), amount=input.amount, pay_to=input.pay_to
    )
    return ApproveAdvancePaymentSuccess(advance_payment=advance_node(db, cx, a))
