"""GraphQL types a member's and an adjuster's view of a claim share."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import strawberry

from server.claims import files, models
from server.claims.core import ClaimContext
from server.claims.rules import PlanRules

ClaimStatus = strawberry.enum(
    models.ClaimStatus,
    name="ClaimStatus",
    description=(
        "DRAFT 草稿, SUBMITTED 已提交, UNDER_REVIEW 审核中, PENDING_SUPPLEMENT 待补充资料, "
        "SETTLED 已结案, PAID 已支付 (the payment is recorded), REJECTED 拒赔, WITHDRAWN 已撤案."
    ),
)
IncidentType = strawberry.enum(
    models.IncidentType, name="IncidentType", description="出险类型: DISEASE 疾病, ACCIDENT 意外."
)
ClaimChannel = strawberry.enum(
    models.Channel,
    name="ClaimChannel",
    description="申报途径: APP, WECHAT (mini-program), H5 (supplement page), OFFICE.",
)
ClaimActor = strawberry.enum(
    models.Actor, name="ClaimActor", description="Who made a timeline entry."
)


def money(fen: int | None) -> Decimal | None:
    """Fen to yuan with two decimals (Decimal is a string in JSON: exact)."""
    return None if fen is None else (Decimal(fen) / 100).quantize(Decimal("0.01"))


@strawberry.type(description="A kind of document a claim type asks for (上传材料的分类).")
class DocumentCategory:
    code: str = strawberry.field(description="Stable code, e.g. INVOICE, MEDICAL_RECORD.")
    name: str = strawberry.field(description="Chinese name, as the plan's notice says it.")
    name_en: str = strawberry.field(description="English name.")
    hint: str = strawberry.field(description="What to upload here, Chinese.")
    hint_en: str = strawberry.field(description="What to upload here, English.")


def categories(rules: PlanRules, codes: list[str] | tuple[str, ...]) -> list[DocumentCategory]:
    out = []
    for code in codes:
        c = rules.category(code)
        if c is not None:
            out.append(
                DocumentCategory(
                    code=c.code, name=c.name, name_en=c.name_en, hint=c.hint, hint_en=c.hint_en
                )
            )
    return out


@strawberry.type(description="One line of a claim's timeline: a status change or another step.")
class ClaimTimelineEvent:
    at: datetime.datetime = strawberry.field(description="When (UTC).")
    kind: str = strawberry.field(
        description="CREATED, SUBMITTED, REVIEW_STARTED, SUPPLEMENT_REQUESTED, SUPPLEMENT_RECEIVED, "
        "PROBLEM_IMAGES_MARKED, SETTLED, REJECTED, WITHDRAWN, RESUBMITTED, UXIANG_RECORD (made "
        "from a U享赔 visit record) ..."
    )
    status_from: ClaimStatus | None = strawberry.field(description="Status before, if it changed.")  # type: ignore[valid-type]
    status_to: ClaimStatus | None = strawberry.field(description="Status after, if it changed.")  # type: ignore[valid-type]
    actor: ClaimActor = strawberry.field(description="Claimant, adjuster or system.")  # type: ignore[valid-type]
    channel: ClaimChannel | None = strawberry.field(description="Where the claimant acted.")  # type: ignore[valid-type]
    note: str = strawberry.field(
        description="The remark, instructions or reason written at this step."
    )


def timeline(claim: models.Claim) -> list[ClaimTimelineEvent]:
    return [
        ClaimTimelineEvent(
            at=e.at,
            kind=e.kind,
            status_from=e.status_from,
            status_to=e.status_to,
            actor=e.actor,
            channel=e.channel,
            note=e.note,
        )
        for e in claim.events
    ]


@strawberry.type(description="An uploaded file of a claim; links expire after 30 minutes.")
class ClaimDocumentFile:
    id: strawberry.ID = strawberry.field(description="Global id of the document.")
    category: str = strawberry.field(description="Category code (see DocumentCategory).")
    content_type: str = strawberry.field(
        description="image/jpeg, image/png or application/pdf (HEIC is stored as JPEG)."
    )
    size: int = strawberry.field(description="Bytes stored.")
    display_name: str = strawberry.field(description="The file name as uploaded, made harmless.")
    width: int | None = strawberry.field(description="Pixels, for images.")
    height: int | None = strawberry.field(description="Pixels, for images.")
    uploaded_at: datetime.datetime = strawberry.field(description="When it arrived (UTC).")
    channel: ClaimChannel = strawberry.field(description="App or H5 supplement page.")  # type: ignore[valid-type]
    in_supplement: bool = strawberry.field(description="Sent as part of a supplement (补材).")
    url: str = strawberry.field(description="Signed link to the file.")
    thumbnail_url: str | None = strawberry.field(description="Signed link to a small preview.")
    problem_reason: str | None = strawberry.field(
        description="Set when an adjuster marked it as a problem image (问题影像), with why."
    )


def document_file(
    cx: ClaimContext, doc: models.ClaimDocument, session_id: int
) -> ClaimDocumentFile:
    f = files.document_file(cx, doc, session_id)
    return ClaimDocumentFile(
        id=strawberry.ID(f.id),
        category=f.category,
        content_type=f.content_type,
        size=f.size,
        display_name=f.display_name,
        width=f.width,
        height=f.height,
        uploaded_at=f.uploaded_at,
        channel=f.channel,
        in_supplement=f.in_supplement,
        url=f.url,
        thumbnail_url=f.thumbnail_url,
        problem_reason=f.problem_reason,
    )


@strawberry.type(description="An amount not paid, and why (on the settlement notice).")
class ClaimDeduction:
    amount: Decimal = strawberry.field(description="Yuan.")
    reason: str = strawberry.field(description="Why it was deducted.")


@strawberry.type(
    description="A suspected duplicate: an invoice image or number already used in another claim."
)
class DuplicateFlag:
    basis: str = strawberry.field(description="IMAGE (same file) or INVOICE_NO (same number).")
    other_claim_no: str | None = strawberry.field(description="The other claim's number.")
    invoice_no: str | None = strawberry.field(description="The repeated invoice number.")


@strawberry.type(description="An adjuster's request for more documents (补充资料).")
class SupplementInfo:
    requested_at: datetime.datetime = strawberry.field(description="When it was asked (UTC).")
    categories: list[DocumentCategory] = strawberry.field(description="What is missing.")
    instructions: str = strawberry.field(description="The adjuster's words.")
    deadline: datetime.date = strawberry.field(
        description="Last day to answer: 2 working days on the mainland calendar."
    )
    fulfilled_at: datetime.datetime | None = strawberry.field(
        description="When the claimant sent it."
    )
    remark: str | None = strawberry.field(description="The claimant's remark with it.")


def supplement_info(rules: PlanRules, s: models.SupplementRequest) -> SupplementInfo:
    return SupplementInfo(
        requested_at=s.requested_at,
        categories=categories(rules, json.loads(s.categories)),
        instructions=s.instructions,
        deadline=s.deadline,
        fulfilled_at=s.fulfilled_at,
        remark=s.remark,
    )
