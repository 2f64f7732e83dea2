"""Typed errors of the claimant's operations; they implement the shared `Error` interface."""

from __future__ import annotations

import strawberry

from schema.accounts.errors import Error, error_payload
from server.claims.errors import ClaimNotFound, ClaimRuleBroken, WrongClaimState
from server.errors import DomainError


@strawberry.type(
    description="A claim rule refuses the step; `code` says which: ADULT_DEPENDANT, "
    "NOT_INSURED_PERSON, POLICY_NOT_IN_FORCE, INCIDENT_OUTSIDE_COVER, CLAIM_TYPE_UNKNOWN, "
    "OFFICE_ONLY (message: the plan's reason), FACILITY_EXCLUDED, AMOUNT_OVER_LIMIT, "
    "AMOUNT_OUTSIDE_BAND, DOCUMENTS_MISSING, CATEGORY_NOT_ALLOWED, NOTICE_NOT_ACCEPTED, "
    "CONTACT_REQUIRED, PAYEE_REQUIRED, SIGNATURE_REQUIRED, STEP_INCOMPLETE."
)
class ClaimRuleError(Error):
    field: str | None = strawberry.field(
        description="The input field or step at fault (e.g. invoiceTotal, basics, documents)."
    )


@strawberry.type(
    description="No such claim among the member's; another member's claim answers the same "
    "(CLAIM_NOT_FOUND)."
)
class ClaimNotFoundError(Error):
    pass


@strawberry.type(
    description="The claim's status does not allow this step, e.g. editing a submitted claim "
    "or withdrawing a settled one (CLAIM_STATE_CONFLICT)."
)
class ClaimStateError(Error):
    pass


def rule_error(exc: ClaimRuleBroken) -> ClaimRuleError:
    return ClaimRuleError(message=exc.message, code=exc.code, field=exc.field)


def claim_error_payload(exc: DomainError, allowed: tuple[type, ...]) -> object:
    """The typed error for a domain error; anything the payload cannot carry is re-raised."""
    out: object
    if isinstance(exc, ClaimRuleBroken):
        out = rule_error(exc)
    elif isinstance(exc, ClaimNotFound):
        out = ClaimNotFoundError(message=exc.message, code=exc.code)
    elif isinstance(exc, WrongClaimState):
        out = ClaimStateError(message=exc.message, code=exc.code)
    else:
        return error_payload(exc, allowed)
    if not isinstance(out, allowed):
        raise exc
    return out
