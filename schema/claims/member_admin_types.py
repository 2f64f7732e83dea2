"""GraphQL types of 自助保全 (self-service policy administration) requests."""

from __future__ import annotations

import datetime
from enum import Enum

import strawberry

from schema.accounts.errors import RealNameRequiredError
from schema.claims.auth import claim_env
from schema.context import Info
from schema.results import ResultUnion
from server.claims import member_admin
from server.claims.errors import ServiceRequestNotFound
from server.ids import database_id, global_id


@strawberry.enum(description="What a 自助保全 request changes.")
class ServiceRequestKind(Enum):
    CHANGE_CONTACT = strawberry.enum_value("change_contact", description="客户联系信息变更.")
    CHANGE_DETAILS = strawberry.enum_value(
        "change_details", description="客户信息变更: name, ID type and number, mobile."
    )


@strawberry.enum(description="Where a 自助保全 request stands.")
class ServiceRequestStatus(Enum):
    DRAFT = strawberry.enum_value("draft", description="Being filled in (photos, codes).")
    SUBMITTED = strawberry.enum_value("submitted", description="审核中: with the back office.")
    APPLIED = strawberry.enum_value("applied", description="已生效.")
    REJECTED = strawberry.enum_value("rejected", description="未通过, with the reason.")


@strawberry.type(description="One step of a request's timeline.")
class ServiceRequestStep:
    status: str = strawberry.field(
        description="DRAFT, SUBMITTED, then APPLIED or REJECTED (a contact change: SUBMITTED, "
        "APPLIED)."
    )
    at: datetime.datetime = strawberry.field(description="When (UTC).")
    note: str = strawberry.field(description="A rejection's reason; empty otherwise.")


@strawberry.type(description="A 自助保全 request on the progress list (保全进度查询), masked.")
class ServiceRequest:
    id: strawberry.ID = strawberry.field(description="Global id (`MemberMessage.targetId`).")
    kind: ServiceRequestKind = strawberry.field(description="What it changes.")
    status: ServiceRequestStatus = strawberry.field(description="Where it stands.")
    summary: str = strawberry.field(description="The new values, masked.")
    created_at: datetime.datetime = strawberry.field(description="When it was sent.")
    decided_at: datetime.datetime | None = strawberry.field(
        description="When it took effect or was rejected."
    )
    timeline: list[ServiceRequestStep] = strawberry.field(description="Its steps, oldest first.")
    reject_reason: str | None = strawberry.field(description="Why the office rejected it.")
    files: list[str] = strawberry.field(
        description="A details change's uploaded files by category (ID_FRONT, ID_BACK, "
        "ID_HANDHELD, SIGNATURE), through POST /api/service-requests/{id}/files."
    )


def request_type(v: member_admin.RequestView) -> ServiceRequest:
    return ServiceRequest(
        id=strawberry.ID(global_id("ServiceRequest", v.id)),
        kind=ServiceRequestKind(v.kind.value),
        status=ServiceRequestStatus(v.status.value),
        summary=v.summary,
        created_at=v.created_at,
        decided_at=v.decided_at,
        timeline=[ServiceRequestStep(status=s.status, at=s.at, note=s.note) for s in v.timeline],
        reject_reason=v.reject_reason,
        files=list(v.files),
    )


def request_pk(raw: str) -> int:
    pk = database_id(raw, "ServiceRequest")
    if pk is None:
        raise ServiceRequestNotFound("No such request among yours.")
    return pk


@strawberry.type(description="The member's 自助保全 requests, newest first (the last 50).")
class ServiceRequestList:
    requests: list[ServiceRequest] = strawberry.field(description="Newest first.")


ServiceRequestsResult = ResultUnion(
    "ServiceRequestsResult",
    ServiceRequestList,
    RealNameRequiredError,
    description="The requests, or why they cannot be shown.",
)


def request_list(info: Info) -> ServiceRequestList:
    cx, db, account = claim_env(info)
    return ServiceRequestList(
        requests=[request_type(v) for v in member_admin.requests(db, cx, account)]
    )
