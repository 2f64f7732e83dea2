"""Paper claims (线下申请, seed 000 §5.2 1)): the claims office enters a claim it received on
paper, for an insured person found by policy number and ID number, who may have no app
account.

The claim has no account: its claimant is the policy's insured person, and whom to tell is
a contact on the claim (the mobile on the policy record, or a mobile and e-mail the staff
type from the form). It is built as an office draft (channel OFFICE, `entered_by`), takes
its documents through the same upload pipeline as a member's (api/office_uploads.py), and
is sent into the review queue with a VSHH number. From then on it is a claim like any
other: supplement requests reach the contact by SMS and e-mail, and the H5 portal's log-in
(claim number, insured person's name, captcha) needs no account. The online claim limit
does not apply: paper is how claims above it arrive.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from server.accounts.validation import mobile_problem, normalise_id_number, normalise_mobile
from server.claims import announcements, core, designated
from server.claims import claimant_input as check
from server.claims.claimant_rules import rules_for
from server.claims.claimant_uploads import check_upload_category
from server.claims.core import ClaimContext
from server.claims.errors import ClaimNotFound, ClaimRuleBroken, WrongClaimState
from server.claims.files import DocumentFile, document_file
from server.claims.models import (
    Actor,
    Adjuster,
    Channel,
    Claim,
    ClaimStatus,
    IncidentType,
    PayeeAccount,
)
from server.db import write_first
from server.policies.models import Person, Policy, Relation
from server.storage.errors import QuotaExceeded
from server.storage.uploads import StoredUpload
from server.workdays import china_date

log = logging.getLogger("claims.offline")

LANGUAGES = ("zh", "en")


class PolicyPersonNotFound(ClaimNotFound):
    """No policy with this number whose insured person has this ID number."""

    code = "POLICY_NOT_FOUND"


@dataclass(frozen=True, slots=True)
class PaperClaim:
    """What the paper claim form says, as the staff type it."""

    policy_no: str
    insured_id_number: str  # checks that the policy is the person's on the form
    claim_type: str
    incident_type: IncidentType
    incident_date: datetime.date
    invoice_total: Decimal  # yuan
    payee_name: str
    bank_name: str
    account_no: str
    other_compensation: Decimal = Decimal(0)
    facility_name: str | None = None
    facility_id: str | None = None  # where the plan names its hospitals by id
    contact_mobile: str | None = None  # default: the mobile on the policy record
    contact_email: str | None = None
    language: str = "zh"


def find_policy(db: Session, cx: ClaimContext, policy_no: str, id_number: str) -> Policy:
    """The policy of this number whose insured person has this ID number."""
    number = "".join((policy_no or "").split())
    policy = db.scalar(
        select(Policy).where(Policy.policy_no == number).options(joinedload(Policy.plan))
    )
    digest = cx.vault.lookup(normalise_id_number(id_number), kind="id")
    person = db.get(Person, policy.insured_id) if policy is not None else None
    if policy is None or person is None or person.id_number_hash != digest:
        raise PolicyPersonNotFound(
            "No policy of this number insures a person with this ID number.", field="policyNo"
        )
    return policy


def start(db: Session, cx: ClaimContext, adjuster: Adjuster, form: PaperClaim) -> Claim:
    """Enter a paper claim as an office draft; documents are uploaded next, then `send`."""
    policy = find_policy(db, cx, form.policy_no, form.insured_id_number)
    rules = rules_for(cx, policy)
    problems = check.Problems()
    ctype = rules.claim_type((form.claim_type or "").strip())
    if ctype is None:
        problems.add("claimType", "Not a claim type of this plan.", "CLAIM_TYPE_UNKNOWN")
    today = china_date(cx.now())
    if form.incident_date > today:
        problems.add("incidentDate", "The incident date is in the future.", "OUT_OF_RANGE")
    total = check.amount_fen(problems, "invoiceTotal", form.invoice_total, allow_zero=False)
    other = check.amount_fen(
        problems, "otherCompensation", form.other_compensation, allow_zero=True
    )
    if total is not None and other is not None and other > total:
        problems.add(
            "otherCompensation", "More than the invoices' total was compensated.", "OUT_OF_RANGE"
        )
    facility = check.text(
        problems, "facilityName", form.facility_name, max_len=check.FACILITY_MAX, required=False
    )
    holder = check.text(problems, "payeeName", form.payee_name, max_len=60, required=True)
    bank = check.text(
        problems, "bankName", form.bank_name, max_len=check.BANK_NAME_MAX, required=True
    )
    account_no = check.bank_account(problems, "accountNo", form.account_no)
    mobile = normalise_mobile(form.contact_mobile or "")
    if mobile:
        problems.include(mobile_problem(mobile, "contactMobile"))
    email = (form.contact_email or "").strip()
    if email:
        email = check.email(problems, "contactEmail", email) or ""
    if form.language not in LANGUAGES:
        problems.add("language", "zh or en.", "INVALID")
    problems.raise_any()
    assert ctype is not None and total is not None and other is not None
    assert holder is not None and bank is not None and account_no is not None
    insured = db.get(Person, policy.insured_id)
    assert insured is not None
    if not mobile and insured.phone_enc:
        mobile = cx.vault.decrypt(insured.phone_enc)  # the policy record's
    if not mobile and not email:
        raise ClaimRuleBroken(
            "CONTACT_REQUIRED",
            "The policy record has no mobile: type the claimant's mobile or e-mail.",
            field="contactMobile",
        )
    chosen = designated.check_choice(rules, ctype.code, form.facility_id, facility)
    now = cx.now()
    payee = PayeeAccount(
        account_id=None,
        holder_name_enc=cx.vault.encrypt(holder),
        bank_name=bank,
        account_no_enc=cx.vault.encrypt(account_no),
        account_no_hash=cx.vault.lookup(account_no, kind="bank-account"),
        account_no_last4=account_no[-4:],
        created_at=now,
    )
    db.add(payee)
    db.flush()
    claim = Claim(
        account_id=None,
        applicant_id=policy.insured_id,
        policy_id=policy.id,
        insured_id=policy.insured_id,
        relation=Relation.SELF,
        plan_rules=rules.code,
        status=ClaimStatus.DRAFT,
        channel=Channel.OFFICE,
        incident_type=form.incident_type,
        incident_date=form.incident_date,
        claim_type=ctype.code,
        facility_name=chosen.name if chosen else facility,
        facility_id=chosen.facility_id if chosen else None,
        invoice_total_fen=total,
        other_compensation_fen=other,
        payee_id=payee.id,
        entered_by=adjuster.id,
        contact_phone_enc=cx.vault.encrypt(mobile) if mobile else None,
        contact_email_enc=cx.vault.encrypt(email) if email else None,
        contact_language=form.language,
        created_at=now,
        updated_at=now,
    )
    db.add(claim)
    db.flush()
    core.record(
        db,
        claim,
        "CREATED",
        actor=Actor.ADJUSTER,
        actor_id=adjuster.id,
        now=now,
        channel=Channel.OFFICE,
        note="纸质申请录入",
    )
    db.flush()
    return claim


def office_draft(db: Session, claim_id: int, *, lock: bool = False) -> Claim:
    """A paper claim not yet sent; anything else answers as missing."""
    claim = db.get(Claim, claim_id, with_for_update=lock, populate_existing=lock)
    if claim is None or claim.entered_by is None or claim.status is not ClaimStatus.DRAFT:
        raise ClaimNotFound("No such paper claim being entered.")
    return claim


# --- documents (api/office_uploads.py) -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class UploadTarget:
    adjuster_id: int
    claim_id: int
    used_bytes: int
    session_id: int  # the adjuster's sign-in session: the links returned are bound to it


def documents_target(
    db: Session, cx: ClaimContext, adjuster: Adjuster, session_id: int, claim_id: int, category: str
) -> UploadTarget:
    """A paper claim being entered that takes files of `category`; ends the transaction
    before the body streams in (as claimant_uploads.documents_target does)."""
    claim = office_draft(db, claim_id)
    check_upload_category(db, cx, claim, category)
    used = core.used_bytes(db, claim)
    if used >= cx.claim_cap_bytes:
        raise QuotaExceeded(used, 0, cx.claim_cap_bytes)
    target = UploadTarget(adjuster.id, claim.id, used, session_id)
    db.commit()
    return target


def attach_documents(
    db: Session, cx: ClaimContext, target: UploadTarget, category: str, stored: list[StoredUpload]
) -> list[DocumentFile]:
    """Record the staff's scans on the claim (its row locked) and commit."""
    write_first(db)
    claim = office_draft(db, target.claim_id, lock=True)
    check_upload_category(db, cx, claim, category)
    docs = [
        core.attach_document(db, cx, claim, category, s, channel=Channel.OFFICE) for s in stored
    ]
    out = [document_file(cx, d, target.session_id) for d in docs]
    db.commit()
    return out


# --- sending -------------------------------------------------------------------------------


def send(db: Session, cx: ClaimContext, adjuster: Adjuster, claim_id: int) -> Claim:
    """Give the paper claim its VSHH number and put it in the review queue; the contact is
    told by SMS and e-mail (and in the app when the insured person has an account).
    Sending twice returns the claim as sent."""
    write_first(db)
    claim = db.get(Claim, claim_id, with_for_update=True, populate_existing=True)
    if claim is None or claim.entered_by is None:
        raise ClaimNotFound("No such paper claim being entered.")
    if claim.status is not ClaimStatus.DRAFT:
        return claim  # sent already (a double click)
    rules = cx.rules.get(claim.plan_rules)
    ctype = rules.claim_type(claim.claim_type) if claim.claim_type else None
    if ctype is None:
        raise WrongClaimState("The paper claim has no claim type.")
    have = {d.category for d in core.active_documents(claim)}
    missing = [c for c in ctype.required if c not in have]
    if missing:
        raise ClaimRuleBroken(
            "DOCUMENTS_MISSING",
            "Upload at least one file of each required category: " + ", ".join(missing) + ".",
            field="documents",
        )
    now = cx.now()
    claim.claim_no = core.next_claim_no(db, now)
    claim.submitted_at = now
    claim.waiting_since = now
    core.transition(
        db,
        claim,
        ClaimStatus.SUBMITTED,
        "SUBMITTED",
        actor=Actor.ADJUSTER,
        actor_id=adjuster.id,
        now=now,
        channel=Channel.OFFICE,
    )
    flags = core.find_duplicates(db, claim, now)
    if flags:
        core.record(
            db,
            claim,
            "DUPLICATE_SUSPECTED",
            actor=Actor.SYSTEM,
            actor_id=None,
            now=now,
            note=", ".join(sorted({f.basis for f in flags})),
        )
    db.flush()
    announcements.announce(db, cx, claim, announcements.Event.SUBMITTED, now, key="submit")
    db.flush()
    log.info("paper claim %s sent (claim id %s)", claim.claim_no, claim.id)
    return claim
