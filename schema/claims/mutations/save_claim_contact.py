from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import RealNameRequiredError, ValidationError
from schema.claims.auth import claim_env
from schema.claims.inputs import SaveClaimContactInput
from schema.claims.types import ClaimantProfile, profile_type
from schema.context import Info
from schema.results import ResultUnion
from server.claims import drafts


@strawberry.type(description="The contact details are saved (encrypted).")
class SaveClaimContactSuccess:
    profile: ClaimantProfile = strawberry.field(description="What is on file now, masked.")


SaveClaimContactPayload = ResultUnion(
    "SaveClaimContactPayload",
    SaveClaimContactSuccess,
    ValidationError,
    RealNameRequiredError,
    description="Result of saveClaimContact.",
)


@SaveClaimContactPayload.resolver
def save_claim_contact(
    info: Info,
    input: Annotated[SaveClaimContactInput, strawberry.argument(description="Address and e-mail.")],
) -> SaveClaimContactSuccess:
    cx, db, account = claim_env(info)
    drafts.save_contact(db, cx, account, address=input.address, email=input.email)
    contact = drafts.claimant_contact(db, cx, account)
    profile = profile_type(contact, lambda: drafts.payee_on_file(db, cx, account))
    return SaveClaimContactSuccess(profile=profile)
