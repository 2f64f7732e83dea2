"""What a claimant can do with a submitted claim: withdraw it, resubmit it, send a supplement.

Resubmission (重新申报, seed 002 二.2③) starts a new draft filled in from the old claim,
keeping the documents that were not marked as problem images; the old claim's timeline
says it was resubmitted, and duplicate checks do not flag the new claim against it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.claims import announcements
from server.claims import claimant_input as check
from server.claims.claimant_rules import (
    check_in_force,
    check_notice,
    china_today,
    claim_relation,
    require_verified,
    rules_for,
)
from server.claims.core import OPEN_STATUSES, ClaimContext, lock_claim, record, transition
from server.claims.drafts import documents_of, own_claim, require_contact
from server.claims.errors import WrongClaimState
from server.claims.models import (
    Actor,
    Channel,
    Claim,
    ClaimDocument,
    ClaimInvoice,
    ClaimStatus,
)

S = ClaimStatus


def withdraw(
    db: Session, cx: ClaimContext, account: Account, claim_id: int, *, reason: str = ""
) -> Claim:
    """撤案: an open claim is withdrawn at the claimant's request; it gets no decision notice,
    but the claimant is told it was withdrawn (SMS, e-mail, in-app: "not you? call")."""
    require_verified(account)
    claim = own_claim(db, account, claim_id)
    problems = check.Problems()
    note = check.text(problems, "reason", reason, max_len=check.REASON_MAX, required=False)
    problems.raise_any()
    claim = lock_claim(db, claim)  # a double tap withdraws (and tells) once
    if claim.status not in OPEN_STATUSES:
        raise WrongClaimState("Only a claim still being handled can be withdrawn.")
    transition(
        db,
        claim,
        S.WITHDRAWN,
        "WITHDRAWN",
        actor=Actor.CLAIMANT,
        actor_id=account.id,
        now=cx.now(),
        note=note or "",
        channel=Channel.APP,
    )
    db.flush()
    announcements.announce(db, cx, claim, announcements.Event.WITHDRAWN, cx.now(), key="withdraw")
    return claim


def problem_documents(db: Session, claim: Claim) -> list[ClaimDocument]:
    return [d for d in documents_of(db, claim) if d.problem_reason]


def can_resubmit(db: Session, claim: Claim) -> bool:
    """A rejected claim, or one still open whose images an adjuster marked as problems."""
    if claim.status is S.REJECTED:
        return True
    return claim.status in OPEN_STATUSES and bool(problem_documents(db, claim))


def resubmission_of(db: Session, claim: Claim) -> Claim | None:
    return db.scalar(
        select(Claim).where(Claim.resubmission_of_id == claim.id).order_by(Claim.id.desc()).limit(1)
    )


def resubmit(
    db: Session, cx: ClaimContext, account: Account, claim_id: int, *, notice_accepted: bool
) -> Claim:
    """A new draft pre-filled from a rejected claim or one with problem images.

    Asking again while that draft is unfinished returns the same draft.
    """
    person_id = require_verified(account)
    old = own_claim(db, account, claim_id)
    earlier = resubmission_of(db, old)
    if earlier is not None:
        if earlier.status is S.DRAFT:
            return earlier
        raise WrongClaimState(f"This claim has been resubmitted already as {earlier.claim_no}.")
    if not can_resubmit(db, old):
        raise WrongClaimState(
            "Only a rejected claim, or one with problem images, can be resubmitted."
        )
    check_notice(notice_accepted)
    rules = rules_for(cx, old.policy)
    today = china_today(cx)
    relation = claim_relation(old.policy, person_id, rules, today)
    check_in_force(old.policy, today)
    require_contact(db, account)
    now = cx.now()
    new = Claim(
        account_id=account.id,
        applicant_id=person_id,
        policy_id=old.policy_id,
        insured_id=old.insured_id,
        relation=relation,
        plan_rules=rules.code,
        status=S.DRAFT,
        channel=Channel.APP,
        notice_accepted_at=now,
        address_enc=old.address_enc,
        incident_type=old.incident_type,
        incident_date=old.incident_date,
        claim_type=old.claim_type,
        facility_name=old.facility_name,
        facility_id=old.facility_id,
        invoice_total_fen=old.invoice_total_fen,
        province=old.province,
        city=old.city,
        other_compensation_fen=old.other_compensation_fen,
        payee_id=old.payee_id,
        resubmission_of_id=old.id,
        created_at=now,
        updated_at=now,
    )
    new.invoices = [ClaimInvoice(invoice_no=i.invoice_no) for i in old.invoices]
    db.add(new)
    db.flush()
    for doc in documents_of(db, old):
        if doc.problem_reason:
            continue  # the reason it is resubmitted: a better image replaces it
        db.add(
            ClaimDocument(
                claim_id=new.id,
                category=doc.category,
                storage_key=doc.storage_key,
                thumbnail_key=doc.thumbnail_key,
                content_type=doc.content_type,
                size=doc.size,
                original_sha256=doc.original_sha256,
                display_name=doc.display_name,
                width=doc.width,
                height=doc.height,
                uploaded_at=doc.uploaded_at,
                channel=doc.channel,
            )
        )
    record(
        db,
        new,
        "CREATED",
        actor=Actor.CLAIMANT,
        actor_id=account.id,
        now=now,
        note=f"resubmission of {old.claim_no}",
        channel=Channel.APP,
    )
    record(
        db,
        old,
        "RESUBMITTED",
        actor=Actor.CLAIMANT,
        actor_id=account.id,
        now=now,
        channel=Channel.APP,
    )
    db.flush()
    db.refresh(new)
    return new


def submit_supplement(
    db: Session, cx: ClaimContext, account: Account, claim_id: int, *, remark: str = ""
) -> Claim:
    """补材 in the app: the files went up through the upload endpoint; this sends them.

    The supplement lifecycle decides (every requested category has a new file; a second
    call changes nothing).
    """
    from server.claims import supplements

    require_verified(account)
    claim = own_claim(db, account, claim_id)
    if claim.status is S.DRAFT:
        raise WrongClaimState("This claim has not been submitted yet.")
    supplements.fulfil(
        db,
        cx,
        claim,
        remark=remark,
        channel=Channel.APP,
        actor=Actor.CLAIMANT,
        actor_id=account.id,
    )
    db.flush()
    return claim
