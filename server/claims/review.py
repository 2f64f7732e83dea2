"""The adjuster's work on claims: the queue, the full view, and the decisions.

Adjusters see every sent claim (never a member's unsent draft). Personal data in the
view is masked except the insured person's name: an adjuster must match it against the
name on every invoice and medical record, which is the core of the check. ID numbers,
phone, e-mail and the payee's name and account (last 4 digits kept) stay masked.

Amounts are fen. A settlement explains every fen not paid: the approved amount is the
amount claimed less the deductions, each with its reason, and is what is paid (entered
twice, approved and paid, as a check against typing errors). What the claimant already
received from another payer cannot be paid again.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, case, exists, false, func, or_, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from server.claims import announcements, core, deadlines
from server.claims.core import OPEN_STATUSES, ClaimContext
from server.claims.errors import ClaimNotFound, ClaimRuleBroken, WrongClaimState
from server.claims.models import (
    Actor,
    Adjuster,
    Claim,
    ClaimDeduction,
    ClaimDocument,
    ClaimDuplicate,
    ClaimLimitOverride,
    ClaimStatus,
    SupplementRequest,
)
from server.claims.rules import ClaimType, PlanRules
from server.crypto import mask_account, mask_email, mask_id, mask_name, mask_phone
from server.errors import FieldProblem, ValidationFailed
from server.policies.models import Policy
from server.workdays import CHINA_TZ

MAX_PAGE = 100
REASON_MAX = 500
PROBLEM_REASON_MAX = 200
DEDUCTION_REASON_MAX = 200
MAX_DEDUCTIONS = 50
MAX_PROBLEM_MARKS = 50
# an override above this is a typing error, not a decision (1,000,000 yuan)
LIMIT_MAX_FEN = 1_000_000_00
# the queue's default: claims waiting for an adjuster, not for the claimant
WAITING_FOR_US = (ClaimStatus.SUBMITTED, ClaimStatus.UNDER_REVIEW)


# --- finding and locking ---------------------------------------------------------------------


def adjuster_claim(db: Session, claim_id: int) -> Claim:
    """A sent claim by id; a draft answers as missing (adjusters never see unsent drafts)."""
    claim = db.get(Claim, claim_id)
    if claim is None or claim.status is ClaimStatus.DRAFT:
        raise ClaimNotFound("No such claim.")
    return claim


def mark_supplement_seen(db: Session, claim: Claim, now: datetime.datetime) -> int:
    """The adjuster has the claim in front of them: answered supplements are no longer news."""
    result = db.execute(
        update(SupplementRequest)
        .where(
            SupplementRequest.claim_id == claim.id,
            SupplementRequest.fulfilled_at.is_not(None),
            SupplementRequest.seen_at.is_(None),
        )
        .values(seen_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- the queue -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueFilter:
    # empty: the claims waiting for an adjuster (submitted, under review); those waiting
    # for the claimant's documents are asked for by status
    statuses: tuple[ClaimStatus, ...] = ()
    claim_type: str | None = None
    plan_rules: str | None = None
    duplicate_suspected: bool | None = None
    unseen_supplement: bool | None = None
    submitted_from: datetime.date | None = None  # China dates, both ends included
    submitted_to: datetime.date | None = None
    # settled and not yet paid (结案未支付): the payment desk's list, payment overdue first
    awaiting_payment: bool = False


@dataclass(frozen=True, slots=True)
class QueueRow:
    claim: Claim
    unseen_supplement: bool


@dataclass(frozen=True, slots=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    offset: int
    has_next: bool


def _unseen():  # type: ignore[no-untyped-def]
    return (
        exists()
        .where(
            SupplementRequest.claim_id == Claim.id,
            SupplementRequest.fulfilled_at.is_not(None),
            SupplementRequest.seen_at.is_(None),
        )
        .correlate(Claim)
    )


def _china_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=CHINA_TZ).astimezone(
        datetime.UTC
    )


def queue(
    db: Session,
    f: QueueFilter | None = None,
    *,
    offset: int = 0,
    limit: int = 20,
    today: datetime.date | None = None,
) -> QueuePage:
    """Claims to work on: overdue ones first (past their settlement date, 10 working days
    after the documents were complete; given `today`), then a supplement that arrived and is
    unseen, then the oldest waiting."""
    f = f or QueueFilter()
    problems: list[FieldProblem] = []
    if not 1 <= limit <= MAX_PAGE:
        problems.append(FieldProblem("first", f"Page size is 1 to {MAX_PAGE}.", "OUT_OF_RANGE"))
    if ClaimStatus.DRAFT in f.statuses:
        problems.append(
            FieldProblem("statuses", "Drafts are not sent; they are not in the queue.", "INVALID")
        )
    if f.submitted_from and f.submitted_to and f.submitted_from > f.submitted_to:
        problems.append(
            FieldProblem("submittedFrom", "The range starts after it ends.", "INVALID_RANGE")
        )
    if problems:
        raise ValidationFailed(problems)
    if f.awaiting_payment and f.statuses and ClaimStatus.SETTLED not in f.statuses:
        raise ValidationFailed(
            [FieldProblem("statuses", "Claims awaiting payment are SETTLED.", "INVALID")]
        )
    unseen = _unseen()
    conditions: list[ColumnElement[bool]] = [
        Claim.status == ClaimStatus.SETTLED
        if f.awaiting_payment
        else Claim.status.in_(f.statuses or WAITING_FOR_US)
    ]
    if f.claim_type:
        conditions.append(Claim.claim_type == f.claim_type)
    if f.plan_rules:
        conditions.append(Claim.plan_rules == f.plan_rules)
    if f.duplicate_suspected is not None:
        conditions.append(Claim.duplicate_suspected.is_(f.duplicate_suspected))
    if f.unseen_supplement is not None:
        conditions.append(unseen if f.unseen_supplement else ~unseen)
    if f.submitted_from:
        conditions.append(Claim.submitted_at >= _china_midnight(f.submitted_from))
    if f.submitted_to:
        end = _china_midnight(f.submitted_to + datetime.timedelta(days=1))
        conditions.append(Claim.submitted_at < end)
    total = db.scalar(select(func.count()).select_from(Claim).where(*conditions)) or 0
    waiting: ColumnElement[datetime.datetime] = func.coalesce(
        Claim.waiting_since, Claim.submitted_at, Claim.created_at
    )
    boundary = deadlines.overdue_if_waiting_before(today) if today else None
    overdue: ColumnElement[bool] = (
        and_(Claim.status.in_(deadlines.DUE_FOR_US), waiting < _china_midnight(boundary))
        if boundary
        else false()
    )
    pay_boundary = (
        deadlines.overdue_if_waiting_before(today, deadlines.PAYMENT_WORKING_DAYS[1])
        if today
        else None
    )
    if pay_boundary:
        overdue = or_(
            overdue,
            and_(
                Claim.status == ClaimStatus.SETTLED,
                Claim.decided_at < _china_midnight(pay_boundary),
            ),
        )
    # a settled claim waits for its payment since the decision
    waiting = case((Claim.status == ClaimStatus.SETTLED, Claim.decided_at), else_=waiting)
    rows = db.execute(
        select(Claim, unseen.label("unseen"))
        .where(*conditions)
        .options(selectinload(Claim.insured))
        .order_by(case((overdue, 0), else_=1), case((unseen, 0), else_=1), waiting, Claim.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return QueuePage(
        rows=[QueueRow(claim=c, unseen_supplement=bool(u)) for c, u in rows],
        total=int(total),
        offset=offset,
        has_next=offset + len(rows) < total,
    )


# --- the full view ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Payee:
    bank_name: str
    holder_name: str  # masked
    account_no: str  # masked, last 4 digits kept


@dataclass(frozen=True, slots=True)
class ClaimView:
    """Everything an adjuster needs to decide a claim, with personal data masked as above."""

    claim: Claim
    rules: PlanRules
    claim_type: ClaimType | None
    insured_name: str  # in full: matched against the names on the documents
    insured_id_type: str
    insured_id_number: str  # masked
    applicant_name: str  # masked
    applicant_phone: str  # masked
    contact_email: str | None  # masked
    policy_no: str
    payee: Payee | None
    documents: list[ClaimDocument]
    duplicates: list[tuple[ClaimDuplicate, str | None]]
    supplements: list[SupplementRequest]
    limit_override_fen: int | None
    decided_by: str | None  # the adjuster's display name
    unseen_supplement_was: bool = False  # an arrival this opening marked seen


def claim_view(db: Session, cx: ClaimContext, claim: Claim) -> ClaimView:
    """The full view of a claim; opening it marks any supplement arrival seen."""
    vault = cx.vault
    db.flush()
    # events and files are added by id, not through these collections: read them afresh
    db.expire(claim, ["events", "documents", "supplements", "deductions"])
    rules = cx.rules.get(claim.plan_rules)
    insured, applicant = claim.insured, claim.applicant
    to = announcements.recipient(db, cx, claim)  # a paper claim has its own contact
    policy = db.get(Policy, claim.policy_id)
    payee = None
    if claim.payee is not None:
        payee = Payee(
            bank_name=claim.payee.bank_name,
            holder_name=mask_name(vault.decrypt(claim.payee.holder_name_enc)),
            account_no=mask_account(vault.decrypt(claim.payee.account_no_enc)),
        )
    override = db.scalar(
        select(ClaimLimitOverride.limit_fen).where(ClaimLimitOverride.person_id == claim.insured_id)
    )
    decided_by = None
    if claim.decided_by is not None:
        who = db.get(Adjuster, claim.decided_by)
        decided_by = vault.decrypt(who.display_name_enc) if who else None
    seen = mark_supplement_seen(db, claim, cx.now())
    return ClaimView(
        claim=claim,
        rules=rules,
        claim_type=rules.claim_type(claim.claim_type) if claim.claim_type else None,
        insured_name=vault.decrypt(insured.name_enc),
        insured_id_type=insured.id_type.name,
        insured_id_number=mask_id(vault.decrypt(insured.id_number_enc)),
        applicant_name=mask_name(vault.decrypt(applicant.name_enc)),
        applicant_phone=mask_phone(to.phone) if to.phone else "",
        contact_email=mask_email(to.email) if to.email else None,
        policy_no=policy.policy_no if policy else "",
        payee=payee,
        documents=core.active_documents(claim),
        duplicates=core.duplicates_of(db, claim),
        supplements=list(claim.supplements),
        limit_override_fen=override,
        decided_by=decided_by,
        unseen_supplement_was=seen > 0,
    )


# --- decisions -------------------------------------------------------------------------------


def start_review(db: Session, cx: ClaimContext, adjuster: Adjuster, claim: Claim) -> Claim:
    """Take a submitted claim into review (审核中)."""
    core.lock_claim(db, claim)
    now = cx.now()
    core.transition(
        db,
        claim,
        ClaimStatus.UNDER_REVIEW,
        "REVIEW_STARTED",
        actor=Actor.ADJUSTER,
        actor_id=adjuster.id,
        now=now,
    )
    mark_supplement_seen(db, claim, now)
    db.flush()
    return claim


@dataclass(frozen=True, slots=True)
class ProblemMark:
    document_id: int
    reason: str


def mark_problem_images(
    db: Session,
    cx: ClaimContext,
    adjuster: Adjuster,
    claim: Claim,
    marks: Sequence[ProblemMark],
) -> list[ClaimDocument]:
    """Mark files as problem images (问题影像), each with the reason the claimant will see."""
    core.lock_claim(db, claim)
    if claim.status not in OPEN_STATUSES:
        raise WrongClaimState("Problem images can be marked on an open claim only.")
    problems: list[FieldProblem] = []
    if not marks:
        problems.append(FieldProblem("images", "Name at least one file.", "REQUIRED"))
    elif len(marks) > MAX_PROBLEM_MARKS:
        problems.append(
            FieldProblem("images", f"At most {MAX_PROBLEM_MARKS} files at once.", "TOO_MANY")
        )
    ids = [m.document_id for m in marks]
    if len(set(ids)) != len(ids):
        problems.append(FieldProblem("images", "A file is named twice.", "DUPLICATE"))
    for i, m in enumerate(marks):
        reason = m.reason.strip()
        if not reason:
            problems.append(
                FieldProblem(f"images[{i}].reason", "Say what is wrong with it.", "REQUIRED")
            )
        elif len(reason) > PROBLEM_REASON_MAX:
            problems.append(
                FieldProblem(
                    f"images[{i}].reason", f"At most {PROBLEM_REASON_MAX} characters.", "TOO_LONG"
                )
            )
    if problems:
        raise ValidationFailed(problems)
    by_id = {d.id: d for d in core.active_documents(claim)}
    unknown = [i for i, m in enumerate(marks) if m.document_id not in by_id]
    if unknown:
        raise ValidationFailed(
            [
                FieldProblem(f"images[{i}].documentId", "No such file on this claim.", "NOT_FOUND")
                for i in unknown
            ]
        )
    now = cx.now()
    docs = []
    for m in marks:
        doc = by_id[m.document_id]
        doc.problem_reason = m.reason.strip()
        doc.problem_marked_at = now
        doc.problem_marked_by = adjuster.id
        docs.append(doc)
    reasons = list(dict.fromkeys(m.reason.strip() for m in marks))
    core.record(
        db,
        claim,
        "PROBLEM_IMAGES_MARKED",
        actor=Actor.ADJUSTER,
        actor_id=adjuster.id,
        now=now,
        note=f"{len(docs)} 份影像：" + "；".join(reasons),
    )
    mark_supplement_seen(db, claim, now)
    db.flush()
    return docs


@dataclass(frozen=True, slots=True)
class Deduction:
    amount_fen: int
    reason: str


def _yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


def check_settlement(
    claim: Claim, approved_fen: int, paid_fen: int, deductions: Sequence[Deduction]
) -> None:
    """The settlement's amounts add up; raises ValidationFailed or AMOUNTS_INCONSISTENT.

    - every deduction is positive and has a reason;
    - approved = claimed - sum of deductions (every fen not approved is explained);
    - paid = approved (the same figure typed twice);
    - approved + compensation already received elsewhere <= claimed;
    - something is paid (a claim paying nothing is rejected, with its reason).
    """
    problems: list[FieldProblem] = []
    if len(deductions) > MAX_DEDUCTIONS:
        problems.append(FieldProblem("deductions", f"At most {MAX_DEDUCTIONS} lines.", "TOO_MANY"))
    for i, d in enumerate(deductions):
        if d.amount_fen <= 0:
            problems.append(
                FieldProblem(f"deductions[{i}].amount", "A deduction is above 0.", "OUT_OF_RANGE")
            )
        reason = d.reason.strip()
        if not reason:
            problems.append(
                FieldProblem(f"deductions[{i}].reason", "Say why it is deducted.", "REQUIRED")
            )
        elif len(reason) > DEDUCTION_REASON_MAX:
            problems.append(
                FieldProblem(
                    f"deductions[{i}].reason",
                    f"At most {DEDUCTION_REASON_MAX} characters.",
                    "TOO_LONG",
                )
            )
    if approved_fen <= 0:
        problems.append(
            FieldProblem(
                "approvedAmount",
                "The approved amount is above 0; reject a claim that pays nothing.",
                "OUT_OF_RANGE",
            )
        )
    if paid_fen <= 0:
        problems.append(FieldProblem("paidAmount", "The paid amount is above 0.", "OUT_OF_RANGE"))
    if problems:
        raise ValidationFailed(problems)
    claimed = claim.invoice_total_fen
    if claimed is None or claimed <= 0:
        raise ClaimRuleBroken(
            "AMOUNTS_INCONSISTENT", "The claim states no amount claimed.", field="approvedAmount"
        )
    deducted = sum(d.amount_fen for d in deductions)
    if approved_fen > claimed:
        raise ClaimRuleBroken(
            "AMOUNTS_INCONSISTENT",
            f"The approved amount ({_yuan(approved_fen)}) is above the amount claimed ({_yuan(claimed)}).",
            field="approvedAmount",
        )
    if approved_fen + deducted != claimed:
        raise ClaimRuleBroken(
            "AMOUNTS_INCONSISTENT",
            f"Approved ({_yuan(approved_fen)}) plus deductions ({_yuan(deducted)}) must equal "
            f"the amount claimed ({_yuan(claimed)}).",
            field="deductions",
        )
    if paid_fen != approved_fen:
        raise ClaimRuleBroken(
            "AMOUNTS_INCONSISTENT",
            f"The paid amount ({_yuan(paid_fen)}) must equal the approved amount ({_yuan(approved_fen)}).",
            field="paidAmount",
        )
    other = claim.other_compensation_fen or 0
    if approved_fen + other > claimed:
        raise ClaimRuleBroken(
            "AMOUNTS_INCONSISTENT",
            f"{_yuan(other)} was already compensated elsewhere; deduct it "
            f"(at most {_yuan(claimed - other)} can be approved).",
            field="approvedAmount",
        )


def settle(
    db: Session,
    cx: ClaimContext,
    adjuster: Adjuster,
    claim: Claim,
    *,
    approved_fen: int,
    paid_fen: int,
    deductions: Sequence[Deduction],
    note: str = "",
) -> Claim:
    """Settle (结案) with the amounts of the settlement notice."""
    core.lock_claim(db, claim)
    if claim.status not in (ClaimStatus.SUBMITTED, ClaimStatus.UNDER_REVIEW):
        raise WrongClaimState(
            "Only a submitted claim or one under review can be settled "
            f"(this one is {claim.status.value.replace('_', ' ')})."
        )
    text = note.strip()
    if len(text) > REASON_MAX:
        raise ValidationFailed(
            [FieldProblem("note", f"At most {REASON_MAX} characters.", "TOO_LONG")]
        )
    check_settlement(claim, approved_fen, paid_fen, deductions)
    now = cx.now()
    claim.deductions.clear()
    for d in deductions:
        claim.deductions.append(ClaimDeduction(amount_fen=d.amount_fen, reason=d.reason.strip()))
    claim.approved_fen = approved_fen
    claim.paid_fen = paid_fen
    claim.decision_reason = text or None
    claim.decided_by = adjuster.id
    claim.decided_at = now
    summary = f"核定 {_yuan(approved_fen)} 元，赔付 {_yuan(paid_fen)} 元"
    core.transition(
        db,
        claim,
        ClaimStatus.SETTLED,
        "SETTLED",
        actor=Actor.ADJUSTER,
        actor_id=adjuster.id,
        now=now,
        note=f"{summary}。{text}" if text else summary,
    )
    mark_supplement_seen(db, claim, now)
    db.flush()
    announcements.announce(db, cx, claim, announcements.Event.SETTLED, now, key="decision")
    return claim


def reject(
    db: Session, cx: ClaimContext, adjuster: Adjuster, claim: Claim, *, reason: str
) -> Claim:
    """Refuse the claim (拒赔); the reason is shown to the claimant."""
    core.lock_claim(db, claim)
    text = reason.strip()
    if not text:
        raise ValidationFailed([FieldProblem("reason", "Give the reason.", "REQUIRED")])
    if len(text) > REASON_MAX:
        raise ValidationFailed(
            [FieldProblem("reason", f"At most {REASON_MAX} characters.", "TOO_LONG")]
        )
    if claim.status not in OPEN_STATUSES:
        raise WrongClaimState(
            f"A claim that is {claim.status.value.replace('_', ' ')} cannot be rejected."
        )
    now = cx.now()
    claim.decision_reason = text
    claim.decided_by = adjuster.id
    claim.decided_at = now
    core.transition(
        db,
        claim,
        ClaimStatus.REJECTED,
        "REJECTED",
        actor=Actor.ADJUSTER,
        actor_id=adjuster.id,
        now=now,
        note=text,
    )
    mark_supplement_seen(db, claim, now)
    db.flush()
    announcements.announce(db, cx, claim, announcements.Event.REJECTED, now, key="decision")
    return claim


# --- limits ----------------------------------------------------------------------------------


def person_for_policy_no(db: Session, policy_no: str) -> int | None:
    """The insured person of a policy number (what a member reads out on the phone)."""
    return db.scalar(select(Policy.insured_id).where(Policy.policy_no == policy_no.strip()))


def raise_limit(
    db: Session,
    cx: ClaimContext,
    adjuster: Adjuster,
    person_id: int,
    *,
    limit_fen: int,
    reason: str,
) -> ClaimLimitOverride:
    """Set the online claim limit of one insured person; who and when are kept on the row."""
    text = reason.strip()
    problems: list[FieldProblem] = []
    if not 0 < limit_fen <= LIMIT_MAX_FEN:
        problems.append(
            FieldProblem(
                "limit", f"The limit is above 0 and at most {_yuan(LIMIT_MAX_FEN)}.", "OUT_OF_RANGE"
            )
        )
    if not text:
        problems.append(FieldProblem("reason", "Give the reason.", "REQUIRED"))
    elif len(text) > REASON_MAX:
        problems.append(FieldProblem("reason", f"At most {REASON_MAX} characters.", "TOO_LONG"))
    if problems:
        raise ValidationFailed(problems)
    now = cx.now()
    row = db.scalar(
        select(ClaimLimitOverride)
        .where(ClaimLimitOverride.person_id == person_id)
        .with_for_update()
    )
    if row is None:
        row = ClaimLimitOverride(person_id=person_id)
        db.add(row)
    row.limit_fen = limit_fen
    row.reason = text
    row.set_by = adjuster.id
    row.set_at = now
    db.flush()
    return row
