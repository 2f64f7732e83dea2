"""The back office's view of changes of personal details (客户信息变更)."""

from __future__ import annotations

import datetime

import strawberry

from schema.accounts.inputs import IdType
from schema.claims.member_admin_types import ServiceRequestStatus
from schema.paging import offset_cursor
from server.claims import details_change, links
from server.claims.core import ClaimContext
from server.ids import global_id


@strawberry.type(description="A photo or the signature of a change of personal details.")
class PersonalDetailsFile:
    category: str = strawberry.field(description="ID_FRONT, ID_BACK, ID_HANDHELD or SIGNATURE.")
    url: str = strawberry.field(
        description="Signed link to the image, good for this adjuster session for a short while."
    )


@strawberry.type(
    description="A change of personal details to decide: the names in full (to match the photos), "
    "the new document number and mobile masked."
)
class PersonalDetailsChangeReview:
    id: strawberry.ID = strawberry.field(description="`ServiceRequest.id`.")
    status: ServiceRequestStatus = strawberry.field(description="Where it stands.")
    submitted_at: datetime.datetime | None = strawberry.field(description="When it was sent.")
    current_name: str = strawberry.field(description="The insured person's name now.")
    new_name: str = strawberry.field(description="The name asked for.")
    new_id_type: IdType = strawberry.field(description="The document type asked for.")  # type: ignore[valid-type]
    new_id_number: str = strawberry.field(description="The document number asked for, masked.")
    new_mobile: str = strawberry.field(description="The mobile asked for, masked.")
    changes: list[str] = strawberry.field(
        description="What differs from now: NAME, ID_TYPE, ID_NUMBER, MOBILE."
    )
    files: list[PersonalDetailsFile] = strawberry.field(
        description="The photos and the signature, by category."
    )
    reject_reason: str | None = strawberry.field(description="The reason, once rejected.")


def review_type(
    cx: ClaimContext, v: details_change.OfficeView, session_id: int
) -> PersonalDetailsChangeReview:
    s = cx.settings
    return PersonalDetailsChangeReview(
        id=strawberry.ID(global_id("ServiceRequest", v.request_id)),
        status=ServiceRequestStatus(v.status.value),
        submitted_at=v.submitted_at,
        current_name=v.current_name,
        new_name=v.new_name,
        new_id_type=v.new_id_type,
        new_id_number=v.new_id_number,
        new_mobile=v.new_mobile,
        changes=v.changes,
        files=[
            PersonalDetailsFile(
                category=category,
                url=links.url(
                    s.base_url,
                    s.secret_key,
                    links.Link("details-file", file_id, session_id),
                    cx.now(),
                ),
            )
            for category, file_id in v.files
        ],
        reject_reason=v.reject_reason,
    )


@strawberry.type(description="Submitted changes of personal details, the oldest first.")
class PersonalDetailsChangeQueue:
    items: list[PersonalDetailsChangeReview] = strawberry.field(description="This page.")
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` for the next page; null when this page is the last."
    )


def queue_type(
    cx: ClaimContext,
    items: list[details_change.OfficeView],
    session_id: int,
    *,
    offset: int,
    first: int,
    more: bool,
) -> PersonalDetailsChangeQueue:
    return PersonalDetailsChangeQueue(
        items=[review_type(cx, v, session_id) for v in items[:first]],
        end_cursor=offset_cursor(offset + first - 1) if more else None,
    )
