from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import RealNameRequiredError, ValidationError
from schema.claims.auth import claim_env, claim_pk, payee_pk
from schema.claims.errors import (
    ClaimNotFoundError,
    ClaimRuleError,
    ClaimStateError,
    PayeeNotFoundError,
)
from schema.claims.inputs import UpdateClaimAmountInput
from schema.claims.types import ClaimNode, claim_node
from schema.context import Info
from schema.results import ResultUnion
from server.claims import drafts


@strawberry.type(description="The amount is saved; continue with the documents.")
class UpdateClaimAmountSuccess:
    claim: ClaimNode = strawberry.field(description="The draft.")


UpdateClaimAmountPayload = ResultUnion(
    "UpdateClaimAmountPayload",
    UpdateClaimAmountSuccess,
    ValidationError,
    ClaimRuleError,
    ClaimNotFoundError,
    ClaimStateError,
    RealNameRequiredError,
    PayeeNotFoundError,
    description="Result of updateClaimAmount (ClaimRuleError: AMOUNT_OVER_LIMIT, "
    "AMOUNT_OUTSIDE_BAND, PAYEE_REQUIRED).",
)


@UpdateClaimAmountPayload.resolver
def update_claim_amount(
    info: Info,
    input: Annotated[UpdateClaimAmountInput, strawberry.argument(description="理赔金额.")],
) -> UpdateClaimAmountSuccess:
    cx, db, account = claim_env(info)
    claim = drafts.update_amount(
        db,
        cx,
        account,
        claim_pk(input.claim_id),
        invoice_total=input.invoice_total,
        invoice_numbers=input.invoice_numbers,
        province=input.province,
        city=input.city,
        other_compensation=input.other_compensation,
        payee_bank=input.payee.bank_name if input.payee else None,
        payee_account_no=input.payee.account_no if input.payee else None,
        payee_id=payee_pk(input.payee_id) if input.payee_id is not None else None,
    )
    return UpdateClaimAmountSuccess(claim=claim_node(claim))
