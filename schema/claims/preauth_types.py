"""GraphQL types of pre-authorisation (预先授权) requests."""

from __future__ import annotations

import datetime
from decimal import Decimal
from enum import Enum

import strawberry

from schema.accounts.auth import current_session
from schema.accounts.errors import RealNameRequiredError
from schema.claims.auth import claim_env
from schema.context import Info
from schema.results import ResultUnion
from schema.service_supplements.types import DocumentRequestType, document_requests
from server.accounts.errors import Unauthenticated
from server.claims import preauth, preauth_letter
from server.claims.errors import PreAuthNotFound
from server.claims.preauth_models import PreAuthorisation as Row
from server.ids import database_id, global_id


@strawberry.enum(description="Where a pre-authorisation stands.")
class PreAuthStatus(Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    MORE_REQUESTED = "more_requested"
    APPROVED = "approved"
    DECLINED = "declined"


@strawberry.type(description="One step of a pre-authorisation's timeline.")
class PreAuthStep:
    status: PreAuthStatus = strawberry.field(description="The status it reached.")
    at: datetime.datetime = strawberry.field(description="When (UTC).")
    note: str = strawberry.field(description="The decline reason, where there is one.")


@strawberry.type(description="The files of one category.")
class PreAuthFiles:
    category: str = strawberry.field(description="APPLICATION_FORM or MEDICAL_RECORD.")
    name: str = strawberry.field(description="预先授权申请表 or 原始病历资料.")
    count: int = strawberry.field(description="How many files are uploaded.")


@strawberry.type(
    name="PreAuthorisation",
    description="A pre-authorisation request (预先授权), as its member sees it.",
)
class PreAuthType:
    id: strawberry.ID = strawberry.field(description="Global id (uploads, submit, messages).")
    status: PreAuthStatus = strawberry.field(description="Where it stands.")
    policy_id: strawberry.ID = strawberry.field(description="`Policy.id`.")
    applicant_relation: str = strawberry.field(
        description="申请人: self, or the other applicant's relation to the insured."
    )
    facility_id: str = strawberry.field(description="The directory facility's id.")
    facility_name: str = strawberry.field(description="医疗机构.")
    visit_date: datetime.date = strawberry.field(description="就诊时间.")
    items: str = strawberry.field(description="就诊项目.")
    files: list[PreAuthFiles] = strawberry.field(description="Uploads per category.")
    approved_items: str | None = strawberry.field(description="Approved items.")
    approved_amount: Decimal | None = strawberry.field(description="Approved amount, yuan.")
    valid_from: datetime.date | None = strawberry.field(description="Approval valid from.")
    valid_to: datetime.date | None = strawberry.field(description="Approval valid to.")
    decline_reason: str | None = strawberry.field(description="Why it was declined.")
    more_instructions: str | None = strawberry.field(
        description="What the claims office asked for (status MORE_REQUESTED)."
    )
    more_due: datetime.date | None = strawberry.field(
        description="By when (2 working days after the request)."
    )
    submitted_at: datetime.datetime | None = strawberry.field(description="When it was sent.")
    timeline: list[PreAuthStep] = strawberry.field(description="Its steps, oldest first.")
    row_id: strawberry.Private[int]
    approved: strawberry.Private[bool]

    @strawberry.field(
        description="Documents the claims office asked for, oldest first (the SMS/e-mail "
        "link opens the same request on the H5 page)."
    )
    def document_requests(self, info: Info) -> list[DocumentRequestType]:
        db = info.context.db
        subject = preauth.KIND.load(db, self.row_id) if db is not None else None
        if subject is None:
            return []
        return document_requests(info, preauth.KIND, subject, self.row_id)

    @strawberry.field(
        description="Once approved: the approval as a PDF (预先授权确认书), a signed link "
        "like approvalUrl; null before, and for adjusters."
    )
    def approval_pdf_url(self, info: Info) -> str | None:
        url = self.approval_url(info)
        return url[: -len(".html")] + ".pdf" if url else None

    @strawberry.field(
        description="Once approved: the approval to print (预先授权确认书), a signed link good "
        "for 10 minutes and only while the member's sign-in lasts; null before, and for "
        "adjusters."
    )
    def approval_url(self, info: Info) -> str | None:
        if not self.approved:
            return None
        try:
            cx, _, _ = claim_env(info)
            session = current_session(info)
        except Unauthenticated:  # an adjuster's answer: the link is the member's to open
            return None
        token = preauth_letter.sign_link(cx.settings.secret_key, self.row_id, session.id, cx.now())
        return f"{cx.settings.base_url.rstrip('/')}/pre-authorisations/{token}.html"


def preauth_type(row: Row) -> PreAuthType:
    counts = {c: 0 for c in preauth.CATEGORIES}
    for d in row.documents:
        counts[d.category] = counts.get(d.category, 0) + 1
    return PreAuthType(
        id=strawberry.ID(global_id("PreAuthorisation", row.id)),
        status=PreAuthStatus(row.status),
        policy_id=strawberry.ID(global_id("Policy", row.policy_id)),
        applicant_relation=row.applicant_relation,
        facility_id=row.facility_id,
        facility_name=row.facility_name,
        visit_date=row.visit_date,
        items=row.items,
        files=[
            PreAuthFiles(category=c, name=preauth.CATEGORIES[c], count=counts[c])
            for c in preauth.CATEGORIES
        ],
        approved_items=row.approved_items,
        approved_amount=(Decimal(row.approved_fen) / 100).quantize(Decimal("0.01"))
        if row.approved_fen is not None
        else None,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        decline_reason=row.decline_reason,
        more_instructions=row.more_instructions,
        more_due=row.more_due,
        submitted_at=row.submitted_at,
        row_id=row.id,
        approved=row.status == "approved",
        timeline=[
            PreAuthStep(status=PreAuthStatus(e.status), at=e.at, note=e.note) for e in row.events
        ],
    )


def preauth_pk(raw: str) -> int:
    pk = database_id(raw, "PreAuthorisation")
    if pk is None:
        raise PreAuthNotFound("No such pre-authorisation among yours.")
    return pk


@strawberry.type(description="《申请提示》: the notice the member reads and ticks before applying.")
class PreAuthNotice:
    version: str = strawberry.field(
        description="Send it back as startPreAuthorisation's noticeVersion; a new text has a "
        "new version."
    )
    text: str = strawberry.field(description="The notice, Chinese.")
    text_en: str = strawberry.field(description="The notice, English.")


@strawberry.type(description="The member's pre-authorisations, newest first (the last 50).")
class PreAuthList:
    requests: list[PreAuthType] = strawberry.field(description="Newest first.")

    @strawberry.field(description="《申请提示》, to read and tick before startPreAuthorisation.")
    def notice(self) -> PreAuthNotice:
        n = preauth.notice()
        return PreAuthNotice(version=n.version, text=n.text, text_en=n.text_en)


PreAuthsResult = ResultUnion(
    "PreAuthsResult",
    PreAuthList,
    RealNameRequiredError,
    description="The pre-authorisations, or why they cannot be shown.",
)


def preauth_list(info: Info) -> PreAuthList:
    _, db, account = claim_env(info)
    return PreAuthList(requests=[preauth_type(r) for r in preauth.mine(db, account)])
