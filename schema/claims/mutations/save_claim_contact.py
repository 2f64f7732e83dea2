from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import RealNameRequiredError, ValidationError
from schema.claims.auth import claim_env
from schema.claims.errors import claim_error_payload
from schema.claims.inputs import SaveClaimContactInput
from schema.claims.types import ClaimantProfile, profile_type
from schema.context import Info
from server.claims import drafts
from server.errors import DomainError


@strawberry.type(description="The contact details are saved (encrypted).")
class SaveClaimContactSuccess:
    profile: ClaimantProfile = strawberry.field(description="What is on file now, masked.")


SaveClaimContactPayload = Annotated[
    SaveClaimContactSuccess | ValidationError | RealNameRequiredError,
    strawberry.union("SaveClaimContactPayload", description="Result of saveClaimContact."),
]
_ERRORS = (ValidationError, RealNameRequiredError)


def save_claim_contact(
    info: Info,
    input: Annotated[SaveClaimContactInput, strawberry.argument(description="Address and e-mail.")],
) -> SaveClaimContactPayload:
    cx, db, account = claim_env(info)
    try:
        drafts.save_contact(db, cx, account, address=input.address, email=input.email)
        profile = drafts.claimant_profile(db, cx, account)
    except DomainError as e:
        return claim_error_payload(e, _ERRORS)  # type: ignore[return-value]
    return SaveClaimContactSuccess(profile=profile_type(*profile))
