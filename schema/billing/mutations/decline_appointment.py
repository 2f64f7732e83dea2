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
from schema.billing.inputs import DeclineAppointmentInput
from schema.billing.types import AppointmentNode, appointment_node
from schema.context import Info
from schema.results import ResultUnion
from server.billing import desk


@strawberry.type(description="Declined: the member is told with the reason.")
class DeclineAppointmentSuccess:
    appointment: AppointmentNode = strawberry.field(description="The appointment, DECLINED.")


DeclineAppointmentPayload = ResultUnion(
    "DeclineAppointmentPayload",
    DeclineAppointmentSuccess,
    ValidationError,
    AppointmentNotFoundError,
    AppointmentStateError,
    AppointmentRuleError,
    description="Result of declineAppointment.",
)


@DeclineAppointmentPayload.resolver
def decline_appointment(
    info: Info,
    input: Annotated[DeclineAppointmentInput, strawberry.argument(description="The reason.")],
) -> DeclineAppointmentSuccess:
    cx, db, coordinator = current_coordinator(info)
    a = desk.decline(
        db,
        cx,
        coordinator,
        appointment_pk(input.appointment_id),
        reason=input.reason,
    )
    return DeclineAppointmentSuccess(appointment=appointment_node(db, cx, a))
