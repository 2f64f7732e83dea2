"""GraphQL of documents asked for on a service request (server/service_supplements): the
request as staff and member see it, its typed errors, the viewer's signed file links."""

from __future__ import annotations

import datetime
from typing import Any, Self

import strawberry
from sqlalchemy.orm import Session

from schema.context import Info
from schema.results import Error
from server import service_supplements as ss
from server.claims import links
from server.claims.core import ClaimContext
from server.errors import DomainError
from server.ids import database_id, global_id
from server.service_supplements.kinds import Kind
from server.service_supplements.models import ServiceSupplement, ServiceSupplementDocument

NODE = "DocumentRequest"


@strawberry.type(description="No such request for documents among yours (SUPPLEMENT_NOT_FOUND).")
class DocumentRequestNotFoundError(Error):
    represents = (ss.SupplementNotFound,)


@strawberry.type(
    description="The request for documents takes nothing more: answered, past its deadline, "
    "or the service request was decided (SUPPLEMENT_CLOSED)."
)
class DocumentRequestClosedError(Error):
    represents = (ss.SupplementClosed,)


@strawberry.type(
    description="A requested category has no file yet (DOCUMENTS_MISSING); `missing` lists "
    "their codes."
)
class DocumentsMissingError(Error):
    missing: list[str] = strawberry.field(description="The categories still without a file.")

    represents = (ss.SupplementDocumentsMissing,)

    @classmethod
    def from_domain(cls, exc: DomainError) -> Self:
        assert isinstance(exc, ss.SupplementDocumentsMissing)
        return cls(message=exc.message, code=exc.code, missing=exc.missing)


@strawberry.type(description="A file sent in answer.")
class DocumentRequestFile:
    id: strawberry.ID = strawberry.field(description="The file's id.")
    category: str = strawberry.field(description="Its category code.")
    name: str = strawberry.field(description="The name it was sent with.")
    content_type: str = strawberry.field(description="image/jpeg, image/png or application/pdf.")
    size: int = strawberry.field(description="Bytes.")
    uploaded_at: datetime.datetime = strawberry.field(description="When (UTC).")
    channel: str = strawberry.field(description="app or h5 (the SMS/e-mail link).")
    url: str | None = strawberry.field(
        description="A signed link to the file, good for 10 minutes and only while the "
        "caller's sign-in lasts."
    )


@strawberry.type(description="One category asked for, with the files sent for it.")
class DocumentRequestCategory:
    code: str = strawberry.field(description="e.g. MEDICAL_RECORD.")
    name: str = strawberry.field(description="Its Chinese name.")
    name_en: str = strawberry.field(description="Its English name.")
    files: list[DocumentRequestFile] = strawberry.field(description="Sent so far.")


@strawberry.type(
    name=NODE,
    description="Documents asked for on a service request (advance payment, "
    "pre-authorisation): the SMS/e-mail link opens the same request on the H5 page.",
)
class DocumentRequestType:
    id: strawberry.ID = strawberry.field(description="Global id (uploads, answer).")
    reference: str = strawberry.field(description="The request number the member is shown.")
    instructions: str = strawberry.field(description="What is needed, in staff's words.")
    categories: list[DocumentRequestCategory] = strawberry.field(description="Asked for.")
    working_days: int = strawberry.field(description="The deadline, in working days.")
    deadline: datetime.date = strawberry.field(
        description="The last day (China); the link stops at its end."
    )
    requested_at: datetime.datetime = strawberry.field(description="When asked (UTC).")
    open: bool = strawberry.field(description="Still takes files and an answer.")
    answered_at: datetime.datetime | None = strawberry.field(description="When answered.")
    answered_via: str | None = strawberry.field(description="app or h5.")
    remark: str = strawberry.field(description="The member's remark with the answer.")
    upload_path: str = strawberry.field(
        description="Where the app posts files: `POST <uploadPath>?category=CODE` "
        "(multipart, parts named `file`, the member's bearer token)."
    )


def request_pk(raw: str) -> int:
    pk = database_id(raw, NODE)
    if pk is None:
        raise ss.SupplementNotFound("No such request for documents among yours.")
    return pk


def viewer_session_id(info: Info) -> int | None:
    """The caller's sign-in session (the file links are bound to it), member or staff."""
    state = info.context.request.state
    for name in ("adjuster_session", "coordinator_session"):
        session = getattr(state, name, None)
        if session is not None:
            return int(session.id)
    member = info.context.session
    return member.id if member is not None else None


def _file(
    cx: ClaimContext, doc: ServiceSupplementDocument, session_id: int | None
) -> DocumentRequestFile:
    url = None
    if session_id is not None:
        link = links.Link("request-doc", doc.id, session_id)
        url = links.url(cx.settings.base_url, cx.settings.secret_key, link, cx.now())
    return DocumentRequestFile(
        id=strawberry.ID(str(doc.id)),
        category=doc.category,
        name=doc.display_name,
        content_type=doc.content_type,
        size=doc.size,
        uploaded_at=doc.uploaded_at,
        channel=doc.channel,
        url=url,
    )


def document_request(
    db: Session,
    cx: ClaimContext,
    kind: Kind,
    subject: Any,
    ask: ServiceSupplement,
    session_id: int | None,
) -> DocumentRequestType:
    files = ss.documents(db, ask)
    return DocumentRequestType(
        id=strawberry.ID(global_id(NODE, ask.id)),
        reference=kind.reference(ask.subject_id),
        instructions=ask.instructions,
        categories=[
            DocumentRequestCategory(
                code=code,
                name=ss.category_name(kind, code, "zh"),
                name_en=ss.category_name(kind, code, "en"),
                files=[_file(cx, d, session_id) for d in files if d.category == code],
            )
            for code in ss.categories_of(ask)
        ],
        working_days=ask.working_days,
        deadline=ask.deadline,
        requested_at=ask.requested_at,
        open=ss.not_open_reason(cx, kind, subject, ask) is None,
        answered_at=ask.fulfilled_at,
        answered_via=ask.fulfilled_via,
        remark=ask.remark or "",
        upload_path=f"/api/document-requests/{global_id(NODE, ask.id)}/documents",
    )


def document_requests(
    info: Info, kind: Kind, subject: Any, subject_id: int
) -> list[DocumentRequestType]:
    """Every request for documents on one service request, oldest first."""
    cx, db = info.context.services.claims, info.context.db
    if cx is None or db is None:
        return []
    session_id = viewer_session_id(info)
    return [
        document_request(db, cx, kind, subject, ask, session_id)
        for ask in ss.of_subjects(db, kind, [subject_id])
    ]
