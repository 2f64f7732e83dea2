from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import RealNameRequiredError
from schema.billing.auth import appointment_pk, billing_env
from schema.billing.errors import (
    AppointmentNotFoundError,
    AppointmentRuleError,
    AppointmentStateError,
)
from schema.billing.inputs import AppointmentIdInput
from schema.billing.types import AppointmentNode, appointment_node
from schema.context import Info
from schema.results import ResultUnion
from server.billing import appointments as booking


@strawberry.type(description="The appointment is cancelled.")
class CancelAppointmentSuccess:
    appointment: AppointmentNode = strawberry.field(description="The appointment, CANCELLED.")


CancelAppointmentPayload = ResultUnion(
    "CancelAppointmentPayload",
    CancelAppointmentSuccess,
    AppointmentNotFoundError,
    AppointmentStateError,
    AppointmentRuleError,
    RealNameRequiredError,
    description="Result of cancelAppointment.",
)


@CancelAppointmentPayload.resolver
def cancel_appointment(
    info: Info,
    input: Annotated[AppointmentIdInput, strawberry.argument(description="The appointment.")],
) -> CancelAppointmentSuccess:
    cx, db, account = billing_env(info)
    a = booking.cancel(db, cx, account, appointment_pk(input.appointment_id))
    return CancelAppointmentSuccess(appointment=appointment_node(db, cx, a))
