from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import RealNameRequiredError
from schema.claims.auth import claim_env, document_pk
from schema.claims.errors import ClaimNotFoundError, ClaimStateError
from schema.claims.inputs import RemoveClaimDocumentInput
from schema.claims.types import ClaimNode, claim_node
from schema.context import Info
from schema.results import ResultUnion
from server.claims import drafts


@strawberry.type(description="The file is out of the claim (removing twice is no error).")
class RemoveClaimDocumentSuccess:
    claim: ClaimNode = strawberry.field(description="The claim, with its materials.")


RemoveClaimDocumentPayload = ResultUnion(
    "RemoveClaimDocumentPayload",
    RemoveClaimDocumentSuccess,
    ClaimNotFoundError,
    ClaimStateError,
    RealNameRequiredError,
    description="Result of removeClaimDocument.",
)


@RemoveClaimDocumentPayload.resolver
def remove_claim_document(
    info: Info,
    input: Annotated[RemoveClaimDocumentInput, strawberry.argument(description="The file.")],
) -> RemoveClaimDocumentSuccess:
    cx, db, account = claim_env(info)
    claim = drafts.remove_document(db, cx, account, document_pk(input.document_id))
    return RemoveClaimDocumentSuccess(claim=claim_node(claim))
