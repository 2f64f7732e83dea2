from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import ValidationError
from schema.billing.auth import current_coordinator, reissue_pk
from schema.billing.errors import AppointmentStateError, ReissueNotFoundError
from schema.billing.inputs import MarkCardReissuePostedInput
from schema.billing.types import CardReissueNode, reissue_node
from schema.context import Info
from schema.results import ResultUnion
from server.billing import reissue


@strawberry.type(description="The card is marked posted.")
class MarkCardReissuePostedSuccess:
    reissue: CardReissueNode = strawberry.field(description="The request.")


MarkCardReissuePostedPayload = ResultUnion(
    "MarkCardReissuePostedPayload",
    MarkCardReissuePostedSuccess,
    ValidationError,
    ReissueNotFoundError,
    AppointmentStateError,
    description="Result of markCardReissuePosted.",
)


@MarkCardReissuePostedPayload.resolver
def mark_card_reissue_posted(
    info: Info,
    input: Annotated[MarkCardReissuePostedInput, strawberry.argument(description="The request.")],
) -> MarkCardReissuePostedSuccess:
    cx, db, coordinator = current_coordinator(info)
    row = reissue.mark_posted(
        db, cx, coordinator, reissue_pk(input.reissue_id), tracking_no=input.tracking_no
    )
    return MarkCardReissuePostedSuccess(reissue=reissue_node(db, cx, row))
