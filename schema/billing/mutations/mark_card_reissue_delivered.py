from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import ValidationError
from schema.billing.auth import current_coordinator, reissue_pk
from schema.billing.errors import AppointmentStateError, ReissueNotFoundError
from schema.billing.inputs import MarkCardReissueDeliveredInput
from schema.billing.types import CardReissueNode, reissue_node
from schema.context import Info
from schema.results import ResultUnion
from server.billing import reissue


@strawberry.type(description="The card is marked delivered.")
class MarkCardReissueDeliveredSuccess:
    reissue: CardReissueNode = strawberry.field(description="The request.")


MarkCardReissueDeliveredPayload = ResultUnion(
    "MarkCardReissueDeliveredPayload",
    MarkCardReissueDeliveredSuccess,
    ValidationError,
    ReissueNotFoundError,
    AppointmentStateError,
    description="Result of markCardReissueDelivered.",
)


@MarkCardReissueDeliveredPayload.resolver
def mark_card_reissue_delivered(
    info: Info,
    input: Annotated[
        MarkCardReissueDeliveredInput, strawberry.argument(description="The request.")
    ],
) -> MarkCardReissueDeliveredSuccess:
    cx, db, coordinator = current_coordinator(info)
    row = reissue.mark_delivered(db, cx, coordinator, reissue_pk(input.reissue_id))
    return MarkCardReissueDeliveredSuccess(reissue=reissue_node(db, cx, row))
