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
from schema.billing.inputs import RecordAppointmentOutcomeInput
from schema.billing.types import AppointmentNode, appointment_node
from schema.context import Info
from schema.results import ResultUnion
from server.billing import desk


@strawberry.type(description="The visit's outcome is recorded.")
class RecordAppointmentOutcomeSuccess:
    appointment: AppointmentNode = strawberry.field(
        description="The appointment, ATTENDED or NO_SHOW."
    )


RecordAppointmentOutcomePayload = ResultUnion(
    "RecordAppointmentOutcomePayload",
    RecordAppointmentOutcomeSuccess,
    ValidationError,
    AppointmentNotFoundError,
    AppointmentStateError,
    AppointmentRuleError,
    description="Result of recordAppointmentOutcome.",
)


@RecordAppointmentOutcomePayload.resolver
def record_appointment_outcome(
    info: Info,
    input: Annotated[
        RecordAppointmentOutcomeInput, strawberry.argument(description="Attended or not.")
    ],
) -> RecordAppointmentOutcomeSuccess:
    cx, db, coordinator = current_coordinator(info)
    a = desk.record_outcome(
        db,
        cx,
        coordinator,
        appointment_pk(input.appointment_id),
        attended=input.attended,
    )
    return RecordAppointmentOutcomeSuccess(appointment=appointment_node(db, cx, a))
