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
from schema.billing.inputs import ProposeAppointmentTimeInput
from schema.billing.types import AppointmentNode, appointment_node
from schema.context import Info
from schema.results import ResultUnion
from server.billing import desk


@strawberry.type(
    description="Another time is proposed; the member is told and accepts or declines it."
)
class ProposeAppointmentTimeSuccess:
    appointment: AppointmentNode = strawberry.field(description="The appointment, TIME_PROPOSED.")


ProposeAppointmentTimePayload = ResultUnion(
    "ProposeAppointmentTimePayload",
    ProposeAppointmentTimeSuccess,
    ValidationError,
    AppointmentNotFoundError,
    AppointmentStateError,
    AppointmentRuleError,
    description="Result of proposeAppointmentTime.",
)


@ProposeAppointmentTimePayload.resolver
def propose_appointment_time(
    info: Info,
    input: Annotated[
        ProposeAppointmentTimeInput, strawberry.argument(description="The day and time.")
    ],
) -> ProposeAppointmentTimeSuccess:
    cx, db, coordinator = current_coordinator(info)
    a = desk.propose(
        db,
        cx,
        coordinator,
        appointment_pk(input.appointment_id),
        day=input.date,
        time=input.time,
        note=input.note,
    )
    return ProposeAppointmentTimeSuccess(appointment=appointment_node(db, cx, a))
