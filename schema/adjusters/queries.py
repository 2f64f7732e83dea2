"""The back office's reads: the signed-in adjuster, the queue, one claim in full."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.adjusters.auth import claims, current_adjuster, current_adjuster_session
from schema.adjusters.details_change_types import PersonalDetailsChangeQueue, queue_type
from schema.adjusters.inputs import AdjusterQueueFilter
from schema.adjusters.types import (
    AdjusterClaimView,
    AdjusterQueueConnection,
    AdjusterType,
    adjuster_type,
    claim_view_type,
    queue_connection,
)
from schema.context import Info
from schema.ids import database_id
from schema.paging import cursor_offset
from server.claims import details_change, review
from server.claims.errors import ClaimNotFound
from server.errors import InvalidInput, ValidationFailed
from server.workdays import china_date


@strawberry.type
class AdjusterQuery:
    @strawberry.field(
        description="The signed-in adjuster (adjuster session token; UNAUTHENTICATED otherwise)."
    )
    def adjuster_me(self, info: Info) -> AdjusterType:
        cx, _ = claims(info)
        return adjuster_type(current_adjuster(info), cx.vault)

    @strawberry.field(
        description="Claims to work on: supplements that arrived unseen first, then the oldest "
        "waiting (submission or last supplement). Adjusters only."
    )
    def adjuster_queue(
        self,
        info: Info,
        filter: Annotated[
            AdjusterQueueFilter | None, strawberry.argument(description="Narrow the queue.")
        ] = None,
        first: Annotated[int, strawberry.argument(description="Page size, 1 to 100.")] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="Continue after this cursor (`pageInfo.endCursor`)."),
        ] = None,
    ) -> AdjusterQueueConnection:
        current_adjuster(info)
        cx, db = claims(info)
        f = filter or AdjusterQueueFilter()
        try:
            page = review.queue(
                db,
                review.QueueFilter(
                    statuses=tuple(f.statuses or ()),
                    claim_type=f.claim_type or None,
                    plan_rules=f.plan_rules or None,
                    duplicate_suspected=f.duplicate_suspected,
                    unseen_supplement=f.has_unseen_supplement,
                    submitted_from=f.submitted_from,
                    submitted_to=f.submitted_to,
                    awaiting_payment=bool(f.awaiting_payment),
                ),
                offset=cursor_offset(after),
                limit=first,
                today=china_date(cx.now()),
            )
        except ValidationFailed as e:
            p = e.problems[0]
            raise InvalidInput(p.message, field=p.field) from None
        return queue_connection(cx, page, china_date(cx.now()))

    @strawberry.field(
        description="One sent claim in full, or null when there is none. Opening it marks a "
        "supplement that arrived as seen. Adjusters only."
    )
    def adjuster_claim(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the claim.")],
    ) -> AdjusterClaimView | None:
        session = current_adjuster_session(info)
        cx, db = claims(info)
        claim_id = database_id(id, "Claim")
        if claim_id is None:
            return None
        try:
            claim = review.adjuster_claim(db, claim_id)
        except ClaimNotFound:
            return None
        return claim_view_type(db, cx, review.claim_view(db, cx, claim), session.id)

    @strawberry.field(
        description="客户信息变更 to decide: submitted changes of personal details, the oldest "
        "first. Adjusters only."
    )
    def adjuster_personal_details_changes(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="Page size, 1 to 100.")] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="Continue after this cursor (`endCursor`)."),
        ] = None,
    ) -> PersonalDetailsChangeQueue:
        session = current_adjuster_session(info)
        cx, db = claims(info)
        if not 1 <= first <= details_change.QUEUE_MAX:
            raise InvalidInput("`first` is 1 to 100.", field="first")
        offset = cursor_offset(after)
        rows = details_change.queue(db, cx, offset=offset, limit=first + 1)
        return queue_type(cx, rows, session.id, offset=offset, first=first, more=len(rows) > first)
