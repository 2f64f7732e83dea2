"""What the claim mutations share: finding the claim named in the input."""

from __future__ import annotations

from sqlalchemy.orm import Session

from schema.ids import database_id
from server.claims import review
from server.claims.errors import ClaimNotFound
from server.claims.models import Claim


def find_claim(db: Session, claim_id: str) -> Claim:
    """The sent claim of a global id (or plain id); ClaimNotFound for anything else."""
    pk = database_id(claim_id, "Claim")
    if pk is None:
        raise ClaimNotFound("No such claim.", field="claimId")
    return review.adjuster_claim(db, pk)
