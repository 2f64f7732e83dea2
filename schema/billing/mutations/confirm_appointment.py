from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import ValidationError
from schema.billing.auth import appointment_pk, current_coordinator
from schema.billing.errors import (
    AppointmentNotFoundError,
    AppointmentRuleError,
    AppointmentStateError,
)
from schema.billing.inputs import ConfirmAppointmentInput
from schema.billing.types import AppointmentNode, appointment_node
from schema.context import Info
from schema.results import ResultUnion
from server.billing import desk


@strawberry.type(description="Confirmed: the member is told by SMS, e-mail and in the app.")
class ConfirmAppointmentSuccess:
    appointment: AppointmentNode = strawberry.field(description="The appointment, CONFIRMED.")


ConfirmAppointmentPayload = ResultUnion(
    "ConfirmAppointmentPayload",
    ConfirmAppointmentSuccess,
    ValidationError,
    AppointmentNotFoundError,
    AppointmentStateError,
    AppointmentRuleError,
    description="Result of confirmAppointment.",
)


@ConfirmAppointmentPayload.resolver
def confirm_appointment(
    info: Info,
    input: Annotated[
        ConfirmAppointmentInput, strawberry.argument(description="The time and doctor.")
    ],
) -> ConfirmAppointmentSuccess:
    cx, db, coordinator = current_coordinator(info)
    a = desk.confirm(
        db,
        cx,
        coordinator,
        appointment_pk(input.appointment_id),
        time=input.time,
        doctor=input.doctor,
    )
    return ConfirmAppointmentSuccess(appointment=appointment_node(db, cx, a))
