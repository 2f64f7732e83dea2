from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import ValidationError
from schema.billing.auth import advance_pk, current_coordinator
from schema.billing.errors import AdvanceNotFoundError, AppointmentStateError
from schema.billing.inputs import DeclineAdvancePaymentInput
from schema.billing.types import AdvancePaymentNode, advance_node
from schema.context import Info
from schema.results import ResultUnion
from server.billing import advance


@strawberry.type(description="Declined with a reason; the member is told.")
class DeclineAdvancePaymentSuccess:
    advance_payment: AdvancePaymentNode = strawberry.field(description="The request.")


DeclineAdvancePaymentPayload = ResultUnion(
    "DeclineAdvancePaymentPayload",
    DeclineAdvancePaymentSuccess,
    ValidationError,
    AdvanceNotFoundError,
    AppointmentStateError,
    description="Result of declineAdvancePayment.",
)


@DeclineAdvancePaymentPayload.resolver
def decline_advance_payment(
    info: Info,
    input: Annotated[DeclineAdvancePaymentInput, strawberry.argument(description="The decision.")],
) -> DeclineAdvancePaymentSuccess:
    cx, db, coordinator = current_coordinator(info)
    a = advance.decline(db, cx, coordinator, advance_pk(input.advance_id), reason=input.reason)
    return DeclineAdvancePaymentSuccess(advance_payment=advance_node(db, cx, a))
