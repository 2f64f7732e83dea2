from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import ValidationError
from schema.billing.auth import advance_pk, current_coordinator
from schema.billing.errors import AdvanceNotFoundError, AppointmentStateError
from schema.billing.types import AdvancePaymentNode, advance_node
from schema.context import Info
from schema.results import ResultUnion
from schema.service_supplements.types import (
    DocumentRequestType,
    document_request,
    viewer_session_id,
)
from server.billing import advance


@strawberry.input(
    description="Ask the member for documents: SMS and e-mail with the H5 upload link, and "
    "in the app."
)
class AskAdvancePaymentDocumentsInput:
    advance_id: strawberry.ID = strawberry.field(description="Global id of the request.")
    categories: list[str] = strawberry.field(
        description="ADMISSION_NOTICE, MEDICAL_RECORD, ID_DOCUMENT, COST_ESTIMATE, OTHER."
    )
    instructions: str = strawberry.field(description="What is needed (up to 500 characters).")
    working_days: int = strawberry.field(
        default=2, description="The deadline in working days, 1 to 10."
    )


@strawberry.type(description="Asked: the request waits for the documents; the member is told.")
class AskAdvancePaymentDocumentsSuccess:
    advance_payment: AdvancePaymentNode = strawberry.field(description="The request.")
    document_request: DocumentRequestType = strawberry.field(description="What was asked.")


AskAdvancePaymentDocumentsPayload = ResultUnion(
    "AskAdvancePaymentDocumentsPayload",
    AskAdvancePaymentDocumentsSuccess,
    ValidationError,
    AdvanceNotFoundError,
    AppointmentStateError,
    description="Result of askAdvancePaymentDocuments.",
)


@AskAdvancePaymentDocumentsPayload.resolver
def ask_advance_payment_documents(
    info: Info,
    input: Annotated[AskAdvancePaymentDocumentsInput, strawberry.argument(description="What.")],
) -> AskAdvancePaymentDocumentsSuccess:
    cx, db, coordinator = current_coordinator(info)
    a, ask, _ = advance.ask_documents(
        db,
        cx,
        coordinator,
        advance_pk(input.advance_id),
        categories=input.categories,
        instructions=input.instructions,
        working_days=input.working_days,
    )
    return AskAdvancePaymentDocumentsSuccess(
        advance_payment=advance_node(db, cx, a),
        document_request=document_request(db, cx, advance.KIND, a, ask, viewer_session_id(info)),
    )
