from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import current_account, members
from schema.accounts.errors import ValidationError
from schema.context import Info
from schema.results import ResultUnion
from server.db import utcnow
from server.errors import FieldProblem, ValidationFailed
from server.ids import database_id
from server.messages import service


@strawberry.input(description="Which messages to mark read: some by id, or all.")
class MarkMessagesReadInput:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="`MemberMessage.id`s, at most 100; ids not yours are ignored."
    )
    all: bool = strawberry.field(default=False, description="Mark every message read.")


@strawberry.type(description="The messages are marked read.")
class MarkMessagesReadSuccess:
    marked: int = strawberry.field(description="How many were unread and are read now.")
    unread_count: int = strawberry.field(description="How many stay unread.")


MarkMessagesReadPayload = ResultUnion(
    "MarkMessagesReadPayload",
    MarkMessagesReadSuccess,
    ValidationError,
    description="Result of markMessagesRead.",
)


@MarkMessagesReadPayload.resolver
def mark_messages_read(
    info: Info,
    input: Annotated[MarkMessagesReadInput, strawberry.argument(description="Which ones.")],
) -> MarkMessagesReadSuccess:
    _, db = members(info)
    account = current_account(info)
    if input.all == (input.ids is not None):
        raise ValidationFailed(
            [FieldProblem("ids", "Give either `ids` or `all: true`.", "ONE_OF_IDS_OR_ALL")]
        )
    ids = None
    if input.ids is not None:
        if len(input.ids) > service.MARK_MAX:
            raise ValidationFailed(
                [FieldProblem("ids", f"At most {service.MARK_MAX} at once.", "TOO_MANY")]
            )
        ids = [pk for raw in input.ids if (pk := database_id(raw, "MemberMessage")) is not None]
    cx = info.context.services.claims  # its clock is the one the messages were written with
    marked = service.mark_read(db, account.id, ids, cx.now() if cx else utcnow())
    return MarkMessagesReadSuccess(marked=marked, unread_count=service.unread_count(db, account.id))
