"""Typed errors of the direct-billing services; they implement the shared `Error` interface."""

from __future__ import annotations

from typing import Self

import strawberry

from schema.results import Error
from server.billing.errors import (
    AdvanceNotFound,
    AppointmentNotFound,
    AppointmentRuleBroken,
    AppointmentStateConflict,
    HighEndRequired,
    ReissueNotFound,
)
from server.errors import DomainError


@strawberry.type(
    description="The service is for high-end policy holders only (仅支持高端保单客户使用; "
    "HIGH_END_REQUIRED). `bookingLine` is the offline route: book by phone."
)
class HighEndRequiredError(Error):
    booking_line: str = strawberry.field(description="The booking line, 1010-8686.")

    represents = (HighEndRequired,)

    @classmethod
    def from_domain(cls, exc: DomainError) -> Self:
        assert isinstance(exc, HighEndRequired)
        return cls(message=exc.message, code=exc.code, booking_line=exc.booking_line)


@strawberry.type(
    description="No such appointment among the member's; another member's answers the same "
    "(APPOINTMENT_NOT_FOUND)."
)
class AppointmentNotFoundError(Error):
    represents = (AppointmentNotFound,)


@strawberry.type(
    description="A booking rule refuses the step; `code` says which: POLICY_NOT_DIRECT_BILLING, "
    "DATE_TOO_SOON (2 working days ahead), DATE_TOO_FAR, DATE_OUTSIDE_COVER, "
    "LIABILITY_NOT_COVERED, FACILITY_NOT_FOUND, FACILITY_NOT_IN_NETWORK, FACILITY_MISMATCH, "
    "DEPARTMENT_NOT_AT_FACILITY, DUPLICATE_APPOINTMENT, TOO_MANY_OPEN, TOO_LATE_TO_CANCEL, "
    "PROPOSAL_EXPIRED, DUPLICATE_REISSUE, "
    "VISIT_NOT_YET."
)
class AppointmentRuleError(Error):
    field: str | None = strawberry.field(description="The input field at fault, if one is.")

    represents = (AppointmentRuleBroken,)

    @classmethod
    def from_domain(cls, exc: DomainError) -> Self:
        return cls(message=exc.message, code=exc.code, field=exc.field)


@strawberry.type(
    description="The appointment's status does not allow this step, e.g. cancelling a declined "
    "one or confirming one twice (APPOINTMENT_STATE_CONFLICT)."
)
class AppointmentStateError(Error):
    represents = (AppointmentStateConflict,)


@strawberry.type(description="No card reissue has this id (REISSUE_NOT_FOUND).")
class ReissueNotFoundError(Error):
    represents = (ReissueNotFound,)


@strawberry.type(
    description="No such advance payment request (among the member's) (ADVANCE_PAYMENT_NOT_FOUND)."
)
class AdvanceNotFoundError(Error):
    represents = (AdvanceNotFound,)
