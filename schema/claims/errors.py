"""Typed errors of the claimant's operations; they implement the shared `Error` interface."""

from __future__ import annotations

from typing import Self

import strawberry

from schema.results import Error
from server.claims.errors import (
    ClaimNotFound,
    ClaimRuleBroken,
    IdentityUnavailable,
    MobileInUse,
    PayeeDuplicate,
    PayeeInUse,
    PayeeNotFound,
    PreAuthNotAvailable,
    PreAuthNotFound,
    ServiceRequestNotFound,
    ServiceRequestOpen,
    UxiangAuthorisationNotFound,
    UxiangAuthorisationRequired,
    UxiangNotAvailable,
    UxiangRecordClaimed,
    UxiangRecordNotFound,
    WrongClaimState,
    WrongPreAuthState,
    WrongServiceRequestState,
)
from server.errors import DomainError
from server.hospital_records import HospitalRecordsUnavailable


@strawberry.type(
    description="A claim rule refuses the step; `code` says which: ADULT_DEPENDANT, "
    "NOT_INSURED_PERSON, POLICY_NOT_IN_FORCE, INCIDENT_OUTSIDE_COVER, CLAIM_TYPE_UNKNOWN, "
    "OFFICE_ONLY (message: the plan's reason), FACILITY_EXCLUDED, AMOUNT_OVER_LIMIT, "
    "AMOUNT_OUTSIDE_BAND, DOCUMENTS_MISSING, CATEGORY_NOT_ALLOWED, NOTICE_NOT_ACCEPTED, "
    "CONTACT_REQUIRED, PAYEE_REQUIRED, SIGNATURE_REQUIRED, STEP_INCOMPLETE. Submission checks "
    "the steps' inputs again with the codes the steps give: DATE_IN_FUTURE (incidentDate), "
    "REQUIRED (facilityName, province, city)."
)
class ClaimRuleError(Error):
    field: str | None = strawberry.field(
        description="The input field or step at fault (e.g. invoiceTotal, basics, documents)."
    )

    represents = (ClaimRuleBroken,)

    @classmethod
    def from_domain(cls, exc: DomainError) -> Self:
        return cls(message=exc.message, code=exc.code, field=exc.field)


@strawberry.type(
    description="No such claim among the member's; another member's claim answers the same "
    "(CLAIM_NOT_FOUND)."
)
class ClaimNotFoundError(Error):
    represents = (ClaimNotFound,)


@strawberry.type(
    description="The claim's status does not allow this step, e.g. editing a submitted claim "
    "or withdrawing a settled one (CLAIM_STATE_CONFLICT)."
)
class ClaimStateError(Error):
    represents = (WrongClaimState,)


@strawberry.type(
    description="No such payee among the member's (PAYEE_NOT_FOUND): another member's, a removed "
    "one or an unknown id answer the same."
)
class PayeeNotFoundError(Error):
    represents = (PayeeNotFound,)


@strawberry.type(
    description="The payee is on a claim in progress (a draft, or sent and not decided yet): "
    "choose another payee on that claim or wait for its decision (PAYEE_IN_USE)."
)
class PayeeInUseError(Error):
    represents = (PayeeInUse,)


@strawberry.type(
    description="This account is already among the member's payees, or the list is full "
    "(PAYEE_DUPLICATE)."
)
class PayeeDuplicateError(Error):
    represents = (PayeeDuplicate,)


@strawberry.type(
    description="Pre-authorisation online is for high-end policies only (PRE_AUTH_NOT_AVAILABLE); "
    "`message` gives the offline route: the application form and medical records by e-mail."
)
class PreAuthNotAvailableError(Error):
    represents = (PreAuthNotAvailable,)


@strawberry.type(
    description="No such pre-authorisation among the caller's (PRE_AUTH_NOT_FOUND); another "
    "member's answers the same."
)
class PreAuthNotFoundError(Error):
    represents = (PreAuthNotFound,)


@strawberry.type(
    description="The request's status does not allow this step, e.g. a change after submission "
    "or a second decision (PRE_AUTH_STATE_CONFLICT)."
)
class PreAuthStateError(Error):
    represents = (WrongPreAuthState,)


@strawberry.type(
    description="U享赔 is for the member's own in-force group policies with medical cover "
    "(UXIANG_NOT_AVAILABLE); `message` says why and gives the usual route, 自助理赔."
)
class UxiangNotAvailableError(Error):
    represents = (UxiangNotAvailable,)


@strawberry.type(
    description="No live U享赔 authorisation: tick and sign the current U享赔客户授权书 first "
    "(UXIANG_AUTHORISATION_REQUIRED); nothing was fetched."
)
class UxiangAuthorisationRequiredError(Error):
    represents = (UxiangAuthorisationRequired,)


@strawberry.type(
    description="No such visit record among the member's (UXIANG_RECORD_NOT_FOUND); another "
    "member's answers the same."
)
class UxiangRecordNotFoundError(Error):
    represents = (UxiangRecordNotFound,)


@strawberry.type(
    description="A claim was made from this visit record already (UXIANG_RECORD_CLAIMED): one "
    "claim per record."
)
class UxiangRecordClaimedError(Error):
    represents = (UxiangRecordClaimed,)


@strawberry.type(
    description="The hospital records service did not answer or answered something unreadable "
    "(HOSPITAL_RECORDS_UNAVAILABLE); try again later."
)
class HospitalRecordsUnavailableError(Error):
    represents = (HospitalRecordsUnavailable,)


@strawberry.type(
    description="No such U享赔 authorisation among the member's (UXIANG_AUTHORISATION_NOT_FOUND); "
    "another member's answers the same."
)
class UxiangAuthorisationNotFoundError(Error):
    represents = (UxiangAuthorisationNotFound,)


@strawberry.type(
    description="No such 自助保全 request among the caller's (SERVICE_REQUEST_NOT_FOUND); another "
    "member's answers the same."
)
class ServiceRequestNotFoundError(Error):
    represents = (ServiceRequestNotFound,)


@strawberry.type(
    description="The request's status does not allow this step, e.g. a change after it was sent "
    "or a second decision (SERVICE_REQUEST_STATE_CONFLICT)."
)
class ServiceRequestStateError(Error):
    represents = (WrongServiceRequestState,)


@strawberry.type(
    description="A change of personal details is open already, a draft or under review: finish "
    "or wait for it (SERVICE_REQUEST_OPEN)."
)
class ServiceRequestOpenError(Error):
    represents = (ServiceRequestOpen,)


@strawberry.type(
    description="The new mobile number is another account's log-in (MOBILE_IN_USE); `field` is "
    "`mobile`. Told at submission, once the code sent to that mobile is confirmed, and at "
    "approval; never when the change is started."
)
class MobileInUseError(Error):
    field: str | None = strawberry.field(description="The input field at fault.")

    represents = (MobileInUse,)

    @classmethod
    def from_domain(cls, exc: DomainError) -> Self:
        return cls(message=exc.message, code=exc.code, field=exc.field)


@strawberry.type(
    description="The new document cannot be taken online (IDENTITY_UNAVAILABLE): it is another "
    "member's or another insured person's; the message says no more and gives the hotline."
)
class IdentityUnavailableError(Error):
    field: str | None = strawberry.field(description="The input field at fault.")

    represents = (IdentityUnavailable,)

    @classmethod
    def from_domain(cls, exc: DomainError) -> Self:
        return cls(message=exc.message, code=exc.code, field=exc.field)
