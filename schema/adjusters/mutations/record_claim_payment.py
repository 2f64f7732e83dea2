from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import ValidationError
from schema.adjusters.auth import claims, current_adjuster, current_adjuster_session
from schema.adjusters.errors import (
    AdjusterClaimNotFoundError,
    AdjusterClaimRuleError,
    AdjusterClaimStateError,
)
from schema.adjusters.inputs import RecordClaimPaymentInput, to_fen
from schema.adjusters.mutations.common import find_claim
from schema.adjusters.types import AdjusterClaimView, claim_view_type
from schema.context import Info
from schema.results import ResultUnion
from server.claims import payments, review
from server.errors import ValidationFailed


@strawberry.type(
    description="The payment is recorded; the claimant is told by SMS, e-mail and app."
)
class RecordClaimPaymentSuccess:
    claim: AdjusterClaimView = strawberry.field(description="The claim, now PAID.")


RecordClaimPaymentPayload = ResultUnion(
    "RecordClaimPaymentPayload",
    RecordClaimPaymentSuccess,
    ValidationError,
    AdjusterClaimNotFoundError,
    AdjusterClaimStateError,
    AdjusterClaimRuleError,
    description="Result of recordClaimPayment (AMOUNTS_INCONSISTENT: not the settled paid "
    "amount; CLAIM_STATE_CONFLICT: not settled, or paid with another reference).",
)


@RecordClaimPaymentPayload.resolver
def record_claim_payment(
    info: Info,
    input: Annotated[RecordClaimPaymentInput, strawberry.argument(description="The payment.")],
) -> RecordClaimPaymentSuccess:
    adjuster = current_adjuster(info)
    cx, db = claims(info)
    fen, problem = to_fen(input.amount, "amount")
    if problem is not None:
        raise ValidationFailed([problem])
    assert fen is not None
    claim = find_claim(db, input.claim_id)
    payments.record_payment(
        db,
        cx,
        adjuster,
        claim,
        amount_fen=fen,
        paid_on=input.paid_on,
        bank_reference=input.bank_reference,
    )
    view = review.claim_view(db, cx, claim)
    return RecordClaimPaymentSuccess(
        claim=claim_view_type(db, cx, view, current_adjuster_session(info).id)
    )
