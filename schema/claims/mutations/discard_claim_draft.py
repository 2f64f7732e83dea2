from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import RealNameRequiredError
from schema.claims.auth import claim_env, claim_pk
from schema.claims.errors import ClaimNotFoundError, ClaimStateError, claim_error_payload
from schema.claims.inputs import ClaimIdInput
from schema.context import Info
from server.claims import drafts
from server.errors import DomainError


@strawberry.type(description="The draft and its files are deleted.")
class DiscardClaimDraftSuccess:
    claim_id: strawberry.ID = strawberry.field(description="The id the draft had.")


DiscardClaimDraftPayload = Annotated[
    DiscardClaimDraftSuccess | ClaimNotFoundError | ClaimStateError | RealNameRequiredError,
    strawberry.union("DiscardClaimDraftPayload", description="Result of discardClaimDraft."),
]
_ERRORS = (ClaimNotFoundError, ClaimStateError, RealNameRequiredError)


def discard_claim_draft(
    info: Info,
    input: Annotated[ClaimIdInput, strawberry.argument(description="The draft.")],
) -> DiscardClaimDraftPayload:
    cx, db, account = claim_env(info)
    try:
        drafts.discard_draft(db, cx, account, claim_pk(input.claim_id))
    except DomainError as e:
        return claim_error_payload(e, _ERRORS)  # type: ignore[return-value]
    return DiscardClaimDraftSuccess(claim_id=input.claim_id)
