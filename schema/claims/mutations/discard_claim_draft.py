from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import RealNameRequiredError
from schema.claims.auth import claim_env, claim_pk
from schema.claims.errors import ClaimNotFoundError, ClaimStateError
from schema.claims.inputs import ClaimIdInput
from schema.context import Info
from schema.results import ResultUnion
from server.claims import drafts


@strawberry.type(description="The draft and its files are deleted.")
class DiscardClaimDraftSuccess:
    claim_id: strawberry.ID = strawberry.field(description="The id the draft had.")


DiscardClaimDraftPayload = ResultUnion(
    "DiscardClaimDraftPayload",
    DiscardClaimDraftSuccess,
    ClaimNotFoundError,
    ClaimStateError,
    RealNameRequiredError,
    description="Result of discardClaimDraft.",
)


@DiscardClaimDraftPayload.resolver
def discard_claim_draft(
    info: Info,
    input: Annotated[ClaimIdInput, strawberry.argument(description="The draft.")],
) -> DiscardClaimDraftSuccess:
    cx, db, account = claim_env(info)
    drafts.discard_draft(db, cx, account, claim_pk(input.claim_id))
    return DiscardClaimDraftSuccess(claim_id=input.claim_id)
