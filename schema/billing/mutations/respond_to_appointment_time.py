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
from schema.billing.inputs import RespondToAppointmentTimeInput
from schema.billing.types import AppointmentNode, appointment_node
from schema.context import Info
from schema.results import ResultUnion
from server.billing import appointments as booking


@strawberry.type(description="The proposed time is taken (CONFIRMED) or declined (CANCELLED).")
class RespondToAppointmentTimeSuccess:
    appointment: AppointmentNode = strawberry.field(description="The appointment.")


RespondToAppointmentTimePayload = ResultUnion(
    "RespondToAppointmentTimePayload",
    RespondToAppointmentTimeSuccess,
    AppointmentNotFoundError,
    AppointmentStateError,
    AppointmentRuleError,
    RealNameRequiredError,
    description="Result of respondToAppointmentTime.",
)


@RespondToAppointmentTimePayload.resolver
def respond_to_appointment_time(
    info: Info,
    input: Annotated[RespondToAppointmentTimeInput, strawberry.argument(description="The answer.")],
) -> RespondToAppointmentTimeSuccess:
    cx, db, account = billing_env(info)
    a = booking.respond(db, cx, account, appointment_pk(input.appointment_id), accept=input.accept)
    return RespondToAppointmentTimeSuccess(appointment=appointment_node(db, cx, a))
