"""Paper claims (线下申请): the office enters one, uploads its scans
(POST /api/office/claims/<id>/documents), then sends it into the queue."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import ValidationError
from schema.adjusters.auth import claims, current_adjuster, current_adjuster_session
from schema.adjusters.errors import (
    AdjusterClaimNotFoundError,
    AdjusterClaimRuleError,
    AdjusterClaimStateError,
)
from schema.adjusters.inputs import EnterPaperClaimInput, SendPaperClaimInput
from schema.adjusters.types import AdjusterClaimView, claim_global_id, claim_view_type
from schema.context import Info
from schema.ids import database_id
from schema.results import ResultUnion
from server.claims import offline, review
from server.claims.errors import ClaimNotFound


@strawberry.type(description="The paper claim is entered; upload its documents, then send it.")
class EnterPaperClaimSuccess:
    claim_id: strawberry.ID = strawberry.field(
        description="Global id of the paper claim, for the uploads and sendPaperClaim."
    )
    upload_url: str = strawberry.field(
        description="Where its documents are uploaded (POST, multipart, `?category=CODE`)."
    )


EnterPaperClaimPayload = ResultUnion(
    "EnterPaperClaimPayload",
    EnterPaperClaimSuccess,
    ValidationError,
    AdjusterClaimNotFoundError,
    AdjusterClaimRuleError,
    description="Result of enterPaperClaim. POLICY_NOT_FOUND (AdjusterClaimNotFoundError): no "
    "policy of that number insures a person with that ID number.",
)


@EnterPaperClaimPayload.resolver
def enter_paper_claim(
    info: Info,
    input: Annotated[EnterPaperClaimInput, strawberry.argument(description="The paper form.")],
) -> EnterPaperClaimSuccess:
    adjuster = current_adjuster(info)
    cx, db = claims(info)
    form = offline.PaperClaim(
        policy_no=input.policy_no,
        insured_id_number=input.insured_id_number,
        claim_type=input.claim_type,
        incident_type=input.incident_type,
        incident_date=input.incident_date,
        invoice_total=input.invoice_total,
        other_compensation=input.other_compensation,
        facility_name=input.facility_name,
        facility_id=input.facility_id,
        payee_name=input.payee_name,
        bank_name=input.bank_name,
        account_no=input.account_no,
        contact_mobile=input.contact_mobile,
        contact_email=input.contact_email,
        language=input.language,
    )
    claim = offline.start(db, cx, adjuster, form)
    gid = claim_global_id(claim.id)
    return EnterPaperClaimSuccess(
        claim_id=gid, upload_url=f"{cx.settings.base_url}/api/office/claims/{gid}/documents"
    )


@strawberry.type(description="The paper claim is sent: it has its number and is in the queue.")
class SendPaperClaimSuccess:
    claim: AdjusterClaimView = strawberry.field(description="The claim, now SUBMITTED.")


SendPaperClaimPayload = ResultUnion(
    "SendPaperClaimPayload",
    SendPaperClaimSuccess,
    AdjusterClaimNotFoundError,
    AdjusterClaimStateError,
    AdjusterClaimRuleError,
    description="Result of sendPaperClaim (DOCUMENTS_MISSING while a required category has "
    "no file).",
)


@SendPaperClaimPayload.resolver
def send_paper_claim(
    info: Info,
    input: Annotated[SendPaperClaimInput, strawberry.argument(description="The paper claim.")],
) -> SendPaperClaimSuccess:
    adjuster = current_adjuster(info)
    cx, db = claims(info)
    pk = database_id(input.claim_id, "Claim")
    if pk is None:
        raise ClaimNotFound("No such paper claim being entered.", field="claimId")
    claim = offline.send(db, cx, adjuster, pk)
    view = review.claim_view(db, cx, claim)
    return SendPaperClaimSuccess(
        claim=claim_view_type(db, cx, view, current_adjuster_session(info).id)
    )
