"""GraphQL types of the back office: the adjuster, the queue, and a claim's full view.

A claim keeps the global id of the member side (`Claim:<id>`), so ids pass between the
two; the adjuster's view is a type of its own because it shows more (the insured
person's full name, duplicates, amounts to decide) and is reachable only with an
adjuster's session, never through `node`.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import strawberry
from sqlalchemy.orm import Session
from strawberry import relay

from schema.claims.common import (
    ClaimChannel,
    ClaimDeduction,
    ClaimDocumentFile,
    ClaimStatus,
    ClaimTimelineEvent,
    DocumentCategory,
    DuplicateFlag,
    IncidentType,
    SupplementInfo,
    categories,
    document_file,
    money,
    supplement_info,
    timeline,
)
from schema.paging import PageInfo, offset_cursor
from schema.policies.types import Relation
from server.claims import deadlines, models, payments
from server.claims.core import ClaimContext
from server.claims.review import ClaimView, QueuePage
from server.claims.supplements import supplement_documents
from server.crypto import Vault, mask_name


def claim_global_id(claim_id: int) -> strawberry.ID:
    return strawberry.ID(relay.to_base64("Claim", claim_id))


@strawberry.type(name="Adjuster", description="A claims adjuster (理赔审核员).")
class AdjusterType:
    id: strawberry.ID = strawberry.field(description="Global id of the adjuster.")
    username: str = strawberry.field(description="Log-in name.")
    display_name: str = strawberry.field(description="Name shown to colleagues.")


def adjuster_type(a: models.Adjuster, vault: Vault) -> AdjusterType:
    return AdjusterType(
        id=strawberry.ID(relay.to_base64("Adjuster", a.id)),
        username=a.username,
        display_name=vault.decrypt(a.display_name_enc),
    )


@strawberry.type(description="A claim in the adjuster's queue.")
class AdjusterQueueItem:
    id: strawberry.ID = strawberry.field(description="Global id of the claim (as `Claim.id`).")
    claim_no: str | None = strawberry.field(description="Claim number, e.g. VSHH26030200001.")
    status: ClaimStatus = strawberry.field(description="Current status.")  # type: ignore[valid-type]
    channel: ClaimChannel = strawberry.field(description="Where the claim was made.")  # type: ignore[valid-type]
    plan_rules: str = strawberry.field(description="Code of the plan rules the claim is under.")
    claim_type: str | None = strawberry.field(description="Claim type code of the plan rules.")
    claim_type_name: str | None = strawberry.field(description="Claim type, Chinese.")
    insured_name: str = strawberry.field(description="The insured person, masked (张*).")
    amount_claimed: Decimal | None = strawberry.field(description="Invoice total, yuan.")
    submitted_at: datetime.datetime | None = strawberry.field(description="When sent (UTC).")
    waiting_since: datetime.datetime | None = strawberry.field(
        description="Since when the claim waits for the insurer: submission or the last supplement."
    )
    duplicate_suspected: bool = strawberry.field(
        description="An invoice image or number is also in another claim."
    )
    has_unseen_supplement: bool = strawberry.field(
        description="The claimant sent a supplement no adjuster has opened yet (shown first)."
    )
    settle_by: datetime.date | None = strawberry.field(
        description="Settlement due date (China date): 10 working days after the documents were complete; null while documents are owed, or when the calendar of that year is not published yet."
    )
    overdue: bool = strawberry.field(
        description="Past its settlement due date (or, settled, past its last payment day): "
        "listed before everything else."
    )
    pay_by: datetime.date | None = strawberry.field(
        default=None,
        description="A settled or paid claim's last payment day (China date): 3 working days "
        "after settling (结案后 2-3 个工作日).",
    )


@strawberry.type(description="One claim of a queue page.")
class AdjusterQueueEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this row.")
    node: AdjusterQueueItem = strawberry.field(description="The claim.")


@strawberry.type(description="A page of the adjuster's queue.")
class AdjusterQueueConnection:
    edges: list[AdjusterQueueEdge] = strawberry.field(description="The rows of this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="How many claims match, over all pages.")


def queue_connection(
    cx: ClaimContext, page: QueuePage, today: datetime.date
) -> AdjusterQueueConnection:
    edges = []
    for i, row in enumerate(page.rows):
        c = row.claim
        due = deadlines.dates(c)
        rules = cx.rules.get(c.plan_rules)
        claim_type = rules.claim_type(c.claim_type) if c.claim_type else None
        edges.append(
            AdjusterQueueEdge(
                cursor=offset_cursor(page.offset + i),
                node=AdjusterQueueItem(
                    id=claim_global_id(c.id),
                    claim_no=c.claim_no,
                    status=c.status,
                    channel=c.channel,
                    plan_rules=c.plan_rules,
                    claim_type=c.claim_type,
                    claim_type_name=claim_type.name if claim_type else None,
                    insured_name=mask_name(cx.vault.decrypt(c.insured.name_enc)),
                    amount_claimed=money(c.invoice_total_fen),
                    submitted_at=c.submitted_at,
                    waiting_since=c.waiting_since,
                    duplicate_suspected=c.duplicate_suspected,
                    has_unseen_supplement=row.unseen_supplement,
                    settle_by=due.settle_by,
                    overdue=due.overdue(today) or due.payment_overdue(today),
                    pay_by=due.pay_by,
                ),
            )
        )
    return AdjusterQueueConnection(
        edges=edges,
        page_info=PageInfo.of(edges, has_next=page.has_next),
        total_count=page.total,
    )


@strawberry.type(description="Where the claim is paid, masked (only the last 4 digits shown).")
class AdjusterClaimPayee:
    bank_name: str = strawberry.field(description="开户行.")
    holder_name: str = strawberry.field(description="Account holder, masked.")
    account_no: str = strawberry.field(description="Account number, masked but the last 4.")


@strawberry.type(description="The payment of a settled claim, as the office recorded it.")
class ClaimPaymentRecord:
    amount: Decimal = strawberry.field(description="Paid, yuan.")
    paid_on: datetime.date = strawberry.field(description="The day the bank paid (China date).")
    bank_reference: str = strawberry.field(description="The bank's reference of the transfer.")
    payee: str = strawberry.field(description="The payee account, masked (bank, last 4 digits).")
    on_time: bool | None = strawberry.field(
        description="Paid by the last payment day (3 working days after settling); null when "
        "that day is not known."
    )
    recorded_at: datetime.datetime = strawberry.field(description="When recorded (UTC).")


@strawberry.type(description="A supplement request (补材) with what the claimant sent for it.")
class AdjusterSupplement:
    request: SupplementInfo = strawberry.field(description="What was asked, and the answer.")
    fulfilled_via: ClaimChannel | None = strawberry.field(  # type: ignore[valid-type]
        description="APP or H5, once answered."
    )
    documents: list[ClaimDocumentFile] = strawberry.field(description="The files sent for it.")


@strawberry.type(
    name="AdjusterClaim",
    description="Everything an adjuster needs to decide a claim. The insured person's name "
    "is shown in full, to be matched against the documents; other personal data is masked.",
)
class AdjusterClaimView:
    id: strawberry.ID = strawberry.field(description="Global id of the claim (as `Claim.id`).")
    claim_no: str | None = strawberry.field(description="Claim number.")
    status: ClaimStatus = strawberry.field(description="Current status.")  # type: ignore[valid-type]
    channel: ClaimChannel = strawberry.field(description="Where the claim was made.")  # type: ignore[valid-type]
    plan_rules: str = strawberry.field(description="Code of the plan rules.")
    plan_rules_name: str = strawberry.field(description="Name of the plan rules, Chinese.")
    policy_no: str = strawberry.field(description="The policy claimed under.")
    claim_type: str | None = strawberry.field(description="Claim type code.")
    claim_type_name: str | None = strawberry.field(description="Claim type, Chinese.")
    document_categories: list[DocumentCategory] = strawberry.field(
        description="The categories of this claim type: the choices for a supplement request."
    )
    required_categories: list[str] = strawberry.field(
        description="Codes of the categories the claim type requires."
    )
    insured_name: str = strawberry.field(description="The insured person's full name.")
    insured_id_type: str = strawberry.field(description="Kind of identity document (IdType).")
    insured_id_number: str = strawberry.field(description="Identity document number, masked.")
    relation: Relation = strawberry.field(  # type: ignore[valid-type]
        description="The insured person's relation to the applicant's main insured."
    )
    applicant_name: str = strawberry.field(description="The applicant (申请人), masked.")
    applicant_phone: str = strawberry.field(description="The applicant's mobile, masked.")
    contact_email: str | None = strawberry.field(description="Contact e-mail, masked.")
    incident_type: IncidentType | None = strawberry.field(description="Disease or accident.")  # type: ignore[valid-type]
    incident_date: datetime.date | None = strawberry.field(description="When it happened.")
    facility_name: str | None = strawberry.field(description="Hospital visited.")
    province: str | None = strawberry.field(description="Province, where the policy needs it.")
    city: str | None = strawberry.field(description="City, where the policy needs it.")
    amount_claimed: Decimal | None = strawberry.field(description="Invoice total, yuan.")
    other_compensation: Decimal | None = strawberry.field(
        description="Already compensated by another payer, yuan (cannot be paid again)."
    )
    online_limit: Decimal | None = strawberry.field(
        description="The online claim limit applied when the claim was sent, yuan."
    )
    limit_override: Decimal | None = strawberry.field(
        description="The raised limit now set for the insured person, yuan."
    )
    payee: AdjusterClaimPayee | None = strawberry.field(description="Where it is paid.")
    documents: list[ClaimDocumentFile] = strawberry.field(description="Every file of the claim.")
    timeline: list[ClaimTimelineEvent] = strawberry.field(description="Every step, oldest first.")
    supplements: list[AdjusterSupplement] = strawberry.field(
        description="Supplement requests, oldest first."
    )
    new_supplement_arrival: bool = strawberry.field(
        description="A supplement had arrived unseen; opening the claim marked it seen."
    )
    duplicate_suspected: bool = strawberry.field(description="Suspected duplicate (see flags).")
    duplicates: list[DuplicateFlag] = strawberry.field(
        description="Invoice images or numbers also in other claims, with their numbers."
    )
    deductions: list[ClaimDeduction] = strawberry.field(description="Of the settlement.")
    approved_amount: Decimal | None = strawberry.field(description="Approved, yuan (settled).")
    paid_amount: Decimal | None = strawberry.field(description="Paid, yuan (settled).")
    decision_reason: str | None = strawberry.field(
        description="The rejection reason, or the settlement's note."
    )
    decided_at: datetime.datetime | None = strawberry.field(description="When decided (UTC).")
    decided_by: str | None = strawberry.field(description="The deciding adjuster's name.")
    submitted_at: datetime.datetime | None = strawberry.field(description="When sent (UTC).")
    waiting_since: datetime.datetime | None = strawberry.field(
        description="Since when the claim waits for the insurer."
    )
    facility_id: str | None = strawberry.field(
        default=None,
        description="The directory facility chosen, where the plan names its hospitals by id.",
    )
    entered_by_office: bool = strawberry.field(
        default=False, description="A paper claim the claims office entered (channel OFFICE)."
    )
    pay_by: datetime.date | None = strawberry.field(
        default=None, description="Settled: the last payment day (China date)."
    )
    payment: ClaimPaymentRecord | None = strawberry.field(
        default=None, description="The payment, once recorded (status PAID)."
    )


def payment_record(db: Session, cx: ClaimContext, claim: models.Claim) -> ClaimPaymentRecord | None:
    found = payments.view(db, cx, claim)
    if found is None:
        return None
    p = found.payment
    return ClaimPaymentRecord(
        amount=money(p.amount_fen) or Decimal(0),
        paid_on=p.paid_on,
        bank_reference=p.bank_reference,
        payee=found.payee,
        on_time=found.met,
        recorded_at=p.recorded_at,
    )


def claim_view_type(
    db: Session, cx: ClaimContext, view: ClaimView, session_id: int
) -> AdjusterClaimView:
    """The claim as the adjuster signed in with `session_id` sees it (its links are bound
    to that session)."""
    c = view.claim
    rules = view.rules
    ct = view.claim_type
    docs = [document_file(cx, d, session_id) for d in view.documents]
    supplements = [
        AdjusterSupplement(
            request=supplement_info(rules, s),
            fulfilled_via=s.fulfilled_via,
            documents=[document_file(cx, d, session_id) for d in supplement_documents(db, s)],
        )
        for s in view.supplements
    ]
    return AdjusterClaimView(
        id=claim_global_id(c.id),
        claim_no=c.claim_no,
        status=c.status,
        channel=c.channel,
        plan_rules=c.plan_rules,
        plan_rules_name=rules.name,
        policy_no=view.policy_no,
        claim_type=c.claim_type,
        claim_type_name=ct.name if ct else None,
        document_categories=categories(rules, ct.categories if ct else ()),
        required_categories=list(ct.required) if ct else [],
        insured_name=view.insured_name,
        insured_id_type=view.insured_id_type,
        insured_id_number=view.insured_id_number,
        relation=c.relation,
        applicant_name=view.applicant_name,
        applicant_phone=view.applicant_phone,
        contact_email=view.contact_email,
        incident_type=c.incident_type,
        incident_date=c.incident_date,
        facility_name=c.facility_name,
        province=c.province,
        city=c.city,
        amount_claimed=money(c.invoice_total_fen),
        other_compensation=money(c.other_compensation_fen),
        online_limit=money(c.limit_fen),
        limit_override=money(view.limit_override_fen),
        payee=(
            AdjusterClaimPayee(
                bank_name=view.payee.bank_name,
                holder_name=view.payee.holder_name,
                account_no=view.payee.account_no,
            )
            if view.payee
            else None
        ),
        documents=docs,
        timeline=timeline(c),
        supplements=supplements,
        new_supplement_arrival=view.unseen_supplement_was,
        duplicate_suspected=c.duplicate_suspected,
        duplicates=[
            DuplicateFlag(
                basis=d.basis,
                other_claim_no=other_no,
                invoice_no=d.detail if d.basis == "INVOICE_NO" else None,
            )
            for d, other_no in view.duplicates
        ],
        deductions=[
            ClaimDeduction(amount=money(d.amount_fen) or Decimal(0), reason=d.reason)
            for d in c.deductions
        ],
        approved_amount=money(c.approved_fen),
        paid_amount=money(c.paid_fen),
        decision_reason=c.decision_reason,
        decided_at=c.decided_at,
        decided_by=view.decided_by,
        submitted_at=c.submitted_at,
        waiting_since=c.waiting_since,
        facility_id=c.facility_id,
        entered_by_office=c.entered_by is not None,
        pay_by=deadlines.dates(c).pay_by,
        payment=payment_record(db, cx, c),
    )
