from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import PolicyNotFoundError, RealNameRequiredError, ValidationError
from schema.billing.auth import billing_env, directory, policy_pk
from schema.billing.errors import AppointmentRuleError, HighEndRequiredError
from schema.billing.inputs import BookAppointmentInput
from schema.billing.types import AppointmentNode, appointment_node
from schema.context import Info
from schema.results import ResultUnion
from server.billing import appointments as booking
from server.billing import models as m


@strawberry.type(description="预约提交成功: the appointment, SUBMITTED, waits for the coordinator.")
class BookAppointmentSuccess:
    appointment: AppointmentNode = strawberry.field(description="The new appointment.")


BookAppointmentPayload = ResultUnion(
    "BookAppointmentPayload",
    BookAppointmentSuccess,
    ValidationError,
    HighEndRequiredError,
    AppointmentRuleError,
    PolicyNotFoundError,
    RealNameRequiredError,
    description="Result of bookAppointment.",
)


@BookAppointmentPayload.resolver
def book_appointment(
    info: Info,
    input: Annotated[
        BookAppointmentInput, strawberry.argument(description="Every step's choices.")
    ],
) -> BookAppointmentSuccess:
    cx, db, account = billing_env(info)
    a = booking.book(
        db,
        cx,
        directory(info),
        account,
        booking.Booking(
            policy_id=policy_pk(input.policy_id),
            visit_date=input.visit_date,
            liability=m.Liability(input.liability_type.value),
            province=input.province,
            city=input.city,
            nature=m.FacilityNature(input.facility_nature.value),
            facility_id=input.facility_id,
            visit_time=m.VisitTime(input.visit_time.value),
            department=input.department,
            description=input.description,
            applicant_mobile=input.applicant_mobile,
            department_type=input.department_type,
            doctor_name=input.doctor_name,
            doctor_level=input.doctor_level.value if input.doctor_level else "",
        ),
    )
    return BookAppointmentSuccess(appointment=appointment_node(db, cx, a))
