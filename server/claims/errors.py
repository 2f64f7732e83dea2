"""Domain errors of claims, each with a stable code the API and pages show."""

from __future__ import annotations

from server.errors import DomainError, RetryLater


class ClaimNotFound(DomainError):
    """No such claim for this caller; another member's claim answers exactly the same."""

    code = "CLAIM_NOT_FOUND"


class ClaimRuleBroken(DomainError):
    """A plan rule refuses the claim as it stands; `code` says which rule.

    Codes: ADULT_DEPENDANT, NOT_INSURED_PERSON, POLICY_NOT_IN_FORCE, INCIDENT_OUTSIDE_COVER,
    CLAIM_TYPE_UNKNOWN, OFFICE_ONLY, FACILITY_EXCLUDED, AMOUNT_OVER_LIMIT,
    AMOUNT_OUTSIDE_BAND, DOCUMENTS_MISSING, CATEGORY_NOT_ALLOWED, NOTICE_NOT_ACCEPTED,
    CONTACT_REQUIRED, PAYEE_REQUIRED, SIGNATURE_REQUIRED, STEP_INCOMPLETE; and, at
    submission, the codes of a step's input rules (DATE_IN_FUTURE, REQUIRED): the same
    draft gets the same code at its step and at submission (claimant_rules.py).
    """

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.code = code


class WrongClaimState(DomainError):
    """The claim's status does not allow this step (e.g. editing a submitted claim)."""

    code = "CLAIM_STATE_CONFLICT"


class AdjusterUnauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class SupplementLinkInvalid(DomainError):
    """The link's token is unknown, answered or expired; the page says what to do instead.

    `reason` tells the page which: UNKNOWN (no such link), ANSWERED (the documents were
    sent), EXPIRED (the deadline passed), CLOSED (the claim was decided or withdrawn
    meanwhile).
    """

    code = "SUPPLEMENT_LINK_INVALID"
    UNKNOWN = "UNKNOWN"
    ANSWERED = "ANSWERED"
    EXPIRED = "EXPIRED"
    CLOSED = "CLOSED"

    def __init__(self, message: str, *, reason: str = "UNKNOWN", field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.reason = reason


class PayeeNotFound(DomainError):
    """No such payee among the member's (another member's answers the same; removed ones too)."""

    code = "PAYEE_NOT_FOUND"


class PayeeInUse(DomainError):
    """The payee is on a claim still in progress (a draft, or submitted and not decided)."""

    code = "PAYEE_IN_USE"


class PayeeDuplicate(DomainError):
    """The member already has a payee with this account number."""

    code = "PAYEE_DUPLICATE"


class PreAuthNotAvailable(DomainError):
    """Pre-authorisation is for high-end policies; the message gives the offline route."""

    code = "PRE_AUTH_NOT_AVAILABLE"


class ContactChangeLimited(RetryLater):
    """Too many contact changes by this member lately; wait `retry_after`."""

    code = "CONTACT_CHANGE_RATE_LIMITED"


class PayeeLimited(RetryLater):
    """Too many payee changes (add, edit, remove) by this member lately; wait `retry_after`."""

    code = "PAYEE_RATE_LIMITED"


class PreAuthLimited(RetryLater):
    """Too many pre-authorisations started by this member lately; wait `retry_after`."""

    code = "PRE_AUTH_RATE_LIMITED"


class PreAuthNotFound(DomainError):
    """No such pre-authorisation among the member's (another member's answers the same)."""

    code = "PRE_AUTH_NOT_FOUND"


class WrongPreAuthState(DomainError):
    """The request's status does not allow this step (e.g. a file after submission)."""

    code = "PRE_AUTH_STATE_CONFLICT"


class UxiangNotAvailable(DomainError):
    """U享赔 is for group policies with medical cover; the message gives the usual route."""

    code = "UXIANG_NOT_AVAILABLE"


class UxiangAuthorisationRequired(DomainError):
    """No live U享赔 authorisation (ticked, signed, of the current text): nothing is fetched."""

    code = "UXIANG_AUTHORISATION_REQUIRED"


class UxiangAuthorisationNotFound(DomainError):
    """No such authorisation among the member's (another member's answers the same)."""

    code = "UXIANG_AUTHORISATION_NOT_FOUND"


class UxiangRecordNotFound(DomainError):
    """No such visit record among the member's (another member's answers the same)."""

    code = "UXIANG_RECORD_NOT_FOUND"


class UxiangRecordClaimed(DomainError):
    """A claim was made from this visit record already: one claim per record."""

    code = "UXIANG_RECORD_CLAIMED"


class UxiangRateLimited(RetryLater):
    """Too many record look-ups from this member or this address; wait `retry_after`."""

    code = "UXIANG_RATE_LIMITED"


class ServiceRequestNotFound(DomainError):
    """No such 自助保全 request for this caller; another member's answers the same."""

    code = "SERVICE_REQUEST_NOT_FOUND"


class WrongServiceRequestState(DomainError):
    """The request's status does not allow this step (a change after submission, a second
    decision)."""

    code = "SERVICE_REQUEST_STATE_CONFLICT"


class ServiceRequestOpen(DomainError):
    """The member has a change of personal details open already (a draft or under review)."""

    code = "SERVICE_REQUEST_OPEN"


class MobileInUse(DomainError):
    """The new mobile number is another account's log-in."""

    code = "MOBILE_IN_USE"


class IdentityUnavailable(DomainError):
    """The new document cannot be taken online: another member's or insured person's. The
    message says no more than that."""

    code = "IDENTITY_UNAVAILABLE"


class DetailsChangeLimited(RetryLater):
    """Too many changes of personal details started or submitted by this member lately."""

    code = "DETAILS_CHANGE_RATE_LIMITED"
