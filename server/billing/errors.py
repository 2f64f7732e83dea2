"""Domain errors of the direct-billing services."""

from __future__ import annotations

from server.errors import DomainError

BOOKING_LINE = "1010-8686"


class HighEndRequired(DomainError):
    """The service is for high-end policies only (仅支持高端保单客户使用); the offline route
    (the booking line) is what any other member can use instead."""

    code = "HIGH_END_REQUIRED"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.booking_line = BOOKING_LINE


class AppointmentNotFound(DomainError):
    """No such appointment among the member's; another member's answers the same."""

    code = "APPOINTMENT_NOT_FOUND"


class AppointmentRuleBroken(DomainError):
    """A booking rule refuses the appointment; `code` says which.

    Codes: POLICY_NOT_DIRECT_BILLING, DATE_TOO_SOON, DATE_OUTSIDE_COVER, DATE_TOO_FAR,
    LIABILITY_NOT_COVERED, FACILITY_NOT_FOUND, FACILITY_NOT_IN_NETWORK, FACILITY_MISMATCH,
    DEPARTMENT_NOT_AT_FACILITY, DUPLICATE_APPOINTMENT, TOO_MANY_OPEN, TOO_LATE_TO_CANCEL,
    DUPLICATE_REISSUE.
    """

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.code = code


class AppointmentStateConflict(DomainError):
    """The appointment's status does not allow this step."""

    code = "APPOINTMENT_STATE_CONFLICT"


class ReissueNotFound(DomainError):
    """No such card reissue request."""

    code = "REISSUE_NOT_FOUND"


class AdvanceNotFound(DomainError):
    """No such advance payment request (among the member's)."""

    code = "ADVANCE_PAYMENT_NOT_FOUND"
