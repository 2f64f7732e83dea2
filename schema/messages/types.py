"""Message centre types: a member's in-app messages, newest first."""

from __future__ import annotations

import datetime
from enum import Enum

import strawberry

from schema.paging import PageInfo
from server.ids import global_id
from server.messages.models import MemberMessage


@strawberry.enum(description="A language the member reads SMS, e-mail, messages and H5 links in.")
class Language(Enum):
    ZH = "zh"
    EN = "en"


@strawberry.enum(description="What a message is about; its id is `targetId`.")
class MessageTarget(Enum):
    CLAIM = "claim"
    APPOINTMENT = "appointment"
    CARD_REISSUE = "card_reissue"
    ADVANCE_PAYMENT = "advance_payment"
    SERVICE_REQUEST = "service_request"  # 自助保全: `viewer.serviceRequests`
    PRE_AUTHORISATION = "pre_authorisation"  # 预先授权: `viewer.preAuthorisations`


@strawberry.type(name="MemberMessage", description="One in-app message of the message centre.")
class MemberMessageNode:
    id: strawberry.ID = strawberry.field(description="Global id, for markMessagesRead.")
    kind: str = strawberry.field(
        description="What happened: claim.submitted, claim.supplement_requested, claim.supplement_received, claim.settled, claim.paid, claim.rejected, claim.withdrawn, appointment.submitted, appointment.confirmed, appointment.time_proposed, appointment.declined, appointment.cancelled, card_reissue.submitted, card_reissue.posted, card_reissue.delivered, advance_payment.submitted, advance_payment.approved, advance_payment.declined, advance_payment.documents_asked, service_request.applied, pre_auth.submitted, pre_auth.more_requested, pre_auth.approved or pre_auth.declined."
    )
    title: str = strawberry.field(description="A short title, in `language`.")
    body: str = strawberry.field(description="The message, in `language`; it names no person.")
    language: Language = strawberry.field(description="The language it was written in.")
    created_at: datetime.datetime = strawberry.field(description="When it was sent (UTC).")
    read: bool = strawberry.field(description="Marked read by the member.")
    target: MessageTarget = strawberry.field(description="What the message is about.")
    target_id: strawberry.ID = strawberry.field(
        description="Global id of that object (a Claim id for `claim(id:)`, an Appointment id for `appointment(id:)`): the deep link."
    )


# the GraphQL type a message's target id names
_TARGET_TYPE = {
    "claim": "Claim",
    "appointment": "Appointment",
    "card_reissue": "CardReissue",
    "advance_payment": "AdvancePayment",
    "service_request": "ServiceRequest",
    "pre_authorisation": "PreAuthorisation",
}


def message_node(m: MemberMessage) -> MemberMessageNode:
    return MemberMessageNode(
        id=strawberry.ID(global_id("MemberMessage", m.id)),
        kind=m.kind,
        title=m.title,
        body=m.body,
        language=Language(m.language),
        created_at=m.created_at,
        read=m.read_at is not None,
        target=MessageTarget(m.subject_type),
        target_id=strawberry.ID(global_id(_TARGET_TYPE[m.subject_type], m.subject_id)),
    )


@strawberry.type(description="One row of the message centre.")
class MemberMessageEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this row.")
    node: MemberMessageNode = strawberry.field(description="The message.")


@strawberry.type(description="A page of the member's messages, newest first.")
class MemberMessageConnection:
    edges: list[MemberMessageEdge] = strawberry.field(description="The rows of this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="How many messages match, over all pages.")
    unread_count: int = strawberry.field(description="How many of the member's are unread.")
