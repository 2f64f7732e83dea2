"""The member answers a request for documents in the app (the files go to
`DocumentRequest.uploadPath`, api/request_uploads.py)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import current_account
from schema.accounts.errors import ValidationError
from schema.context import Info
from schema.results import ResultUnion
from schema.service_supplements.types import (
    DocumentRequestClosedError,
    DocumentRequestNotFoundError,
    DocumentRequestType,
    DocumentsMissingError,
    document_request,
    request_pk,
    viewer_session_id,
)
from server import service_supplements as ss
from server.accounts.errors import Unauthenticated


@strawberry.input(description="Send the documents asked for.")
class AnswerDocumentRequestInput:
    request_id: strawberry.ID = strawberry.field(description="`DocumentRequest.id`.")
    remark: str = strawberry.field(default="", description="Optional, up to 500 characters.")


@strawberry.type(description="Sent: the request goes back to review and staff are told.")
class AnswerDocumentRequestSuccess:
    document_request: DocumentRequestType = strawberry.field(description="The request, answered.")


AnswerDocumentRequestPayload = ResultUnion(
    "AnswerDocumentRequestPayload",
    AnswerDocumentRequestSuccess,
    ValidationError,
    DocumentRequestNotFoundError,
    DocumentRequestClosedError,
    DocumentsMissingError,
    description="Result of answerDocumentRequest.",
)


@AnswerDocumentRequestPayload.resolver
def answer_document_request(
    info: Info,
    input: Annotated[AnswerDocumentRequestInput, strawberry.argument(description="The answer.")],
) -> AnswerDocumentRequestSuccess:
    account = current_account(info)
    cx, db = info.context.services.claims, info.context.db
    if cx is None or db is None:
        raise Unauthenticated("Not available on this server.")
    kind, subject, ask = ss.own(db, account, request_pk(input.request_id))
    ss.fulfil(db, cx, ask.id, remark=input.remark, channel="app")
    kind, subject, ask = ss.own(db, account, ask.id)
    return AnswerDocumentRequestSuccess(
        document_request=document_request(db, cx, kind, subject, ask, viewer_session_id(info))
    )


@strawberry.type
class DocumentRequestMutation:
    answer_document_request = strawberry.mutation(
        resolver=answer_document_request,
        description="Send the documents asked for on a service request (advance payment, "
        "pre-authorisation) once a file of each category is uploaded; as the SMS/e-mail "
        "link's page does.",
    )
