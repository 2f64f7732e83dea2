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
from schema.adjusters.inputs import SettleClaimInput, to_fen
from schema.adjusters.mutations.common import find_claim
from schema.adjusters.types import AdjusterClaimView, claim_view_type
from schema.context import Info
from schema.results import ResultUnion
from server.claims import review
from server.errors import FieldProblem, ValidationFailed


@strawberry.type(description="The claim is settled; the settlement notice is available.")
class SettleClaimSuccess:
    claim: AdjusterClaimView = strawberry.field(description="The claim, now SETTLED.")


SettleClaimPayload = ResultUnion(
    "SettleClaimPayload",
    SettleClaimSuccess,
    ValidationError,
    AdjusterClaimNotFoundError,
    AdjusterClaimStateError,
    AdjusterClaimRuleError,
    description="Result of settleClaim.",
)


def _amounts(input: SettleClaimInput) -> tuple[int, int, list[review.Deduction]]:
    problems: list[FieldProblem] = []
    approved, p1 = to_fen(input.approved_amount, "approvedAmount")
    paid, p2 = to_fen(input.paid_amount, "paidAmount")
    problems += [p for p in (p1, p2) if p]
    deductions = []
    for i, d in enumerate(input.deductions):
        fen, p = to_fen(d.amount, f"deductions[{i}].amount")
        if p:
            problems.append(p)
        deductions.append(review.Deduction(amount_fen=fen or 0, reason=d.reason))
    if problems:
        raise ValidationFailed(problems)
    assert approved is not None and paid is not None
    return approved, paid, deductions


@SettleClaimPayload.resolver
def settle_claim(
    info: Info,
    input: Annotated[SettleClaimInput, strawberry.argument(description="The claim and amounts.")],
) -> SettleClaimSuccess:
    adjuster = current_adjuster(info)
    cx, db = claims(info)
    approved, paid, deductions = _amounts(input)
    claim = review.settle(
        db,
        cx,
        adjuster,
        find_claim(db, input.claim_id),
        approved_fen=approved,
        paid_fen=paid,
        deductions=deductions,
        note=input.note,
    )
    return SettleClaimSuccess(
        claim=claim_view_type(
            db, cx, review.claim_view(db, cx, claim), current_adjuster_session(info).id
        )
    )
