from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import RealNameRequiredError
from schema.claims.auth import claim_env, document_pk
from schema.claims.errors import ClaimNotFoundError, ClaimStateError, claim_error_payload
from schema.claims.inputs import RemoveClaimDocumentInput
from schema.claims.types import ClaimNode, claim_node
from schema.context import Info
from server.claims import drafts
from server.errors import DomainError


@strawberry.type(description="The file is out of the claim (removing twice is no error).")
class RemoveClaimDocumentSuccess:
    claim: ClaimNode = strawberry.field(description="The claim, with its materials.")


RemoveClaimDocumentPayload = Annotated[
    RemoveClaimDocumentSuccess | ClaimNotFoundError | ClaimStateError | RealNameRequiredError,
    strawberry.union("RemoveClaimDocumentPayload", description="Result of removeClaimDocument."),
]
_ERRORS = (ClaimNotFoundError, ClaimStateError, RealNameRequiredError)


def remove_claim_document(
    info: Info,
    input: Annotated[RemoveClaimDocumentInput, strawberry.argument(description="The file.")],
) -> RemoveClaimDocumentPayload:
    cx, db, account = claim_env(info)
    try:
        claim = drafts.remove_document(db, cx, account, document_pk(input.document_id))
    except DomainError as e:
        return claim_error_payload(e, _ERRORS)  # type: ignore[return-value]
    return RemoveClaimDocumentSuccess(claim=claim_node(claim))
