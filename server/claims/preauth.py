"""Pre-authorisation (预先授权, seed 000 §8): high-end policies only.

The member ticks 《申请提示》, chooses the policy, says who applies (themselves, or another
person with name, relation to the insured, mobile, e-mail, ID and address), the facility
(from the directory, by id), visit date and items; uploads the application form and the
original medical records; confirms with a CONFIRM_PRE_AUTH SMS code and submits. The
claims office approves (items, amount, validity dates) or declines (reason); each change
is on the request's timeline and told to the member in the message centre.

Other policies get PRE_AUTH_NOT_AVAILABLE with the seed's offline route: the application
form and records by e-mail to the address below.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.accounts.sms_codes import Purpose, SentCode
from server.accounts.validation import (
    id_number_problem,
    mobile_problem,
    name_problem,
    normalise_id_number,
    normalise_mobile,
    sms_code_problem,
)
from server.claims import claimant_input as check
from server.claims.claimant_rules import china_today, member_policy, require_verified
from server.claims.core import ClaimContext
from server.claims.errors import PreAuthNotAvailable, PreAuthNotFound, WrongPreAuthState
from server.claims.models import Adjuster
from server.claims.preauth_models import (
    PreAuthDocument,
    PreAuthEvent,
    PreAuthorisation,
    PreAuthStatus,
)
from server.errors import FieldProblem, ValidationFailed
from server.messages import service as messages
from server.policies.models import IdType, PolicyStatus, Relation
from server.storage.uploads import StoredUpload
from server.workdays import add_working_days

OFFLINE_EMAIL = "VIPClaim@cpic.com.cn"
OFFLINE_ROUTE = (
    "Pre-authorisation online is for high-end policies only. For this policy, e-mail the "
    f"pre-authorisation application form and the medical records to {OFFLINE_EMAIL} "
    f"(仅支持高端保单客户使用，请发送预授权申请表及相关病历资料至 {OFFLINE_EMAIL})."
)
CATEGORIES = {"APPLICATION_FORM": "预先授权申请表", "MEDICAL_RECORD": "原始病历资料"}
FILES_PER_CATEGORY = 10
VISIT_WITHIN = datetime.timedelta(days=180)
ITEMS_MAX = 500
S = PreAuthStatus

MORE_WITHIN_WORKDAYS = 2  # the deadline for more files, as for claims' supplements
_TEXT = {
    S.SUBMITTED: ("预先授权申请已提交", "Pre-authorisation submitted"),
    S.MORE_REQUESTED: ("预先授权需补充资料", "Pre-authorisation: more documents needed"),
    S.APPROVED: ("预先授权已批准", "Pre-authorisation approved"),
    S.DECLINED: ("预先授权未获批准", "Pre-authorisation declined"),
}


@dataclass(frozen=True, slots=True)
class Applicant:
    """申请人 when it is not the insured person."""

    name: str
    relation: Relation  # to the insured
    mobile: str
    email: str
    id_type: IdType
    id_number: str
    address: str


def _problem(field: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed([FieldProblem(field, message, code)])


def _applicant(problems: check.Problems, a: Applicant) -> dict[str, str]:
    name = " ".join(a.name.split())
    mobile = normalise_mobile(a.mobile)
    number = normalise_id_number(a.id_number)
    problems.include(
        name_problem(name, "applicant.name"),
        mobile_problem(mobile, "applicant.mobile"),
        id_number_problem(a.id_type, number, "applicant.idNumber"),
    )
    if a.relation is Relation.SELF:
        problems.add(
            "applicant.relation",
            "Another applicant is not the insured: choose the relation.",
            "INVALID_RELATION",
        )
    mail = check.email(problems, "applicant.email", a.email)
    address = check.text(
        problems, "applicant.address", a.address, max_len=check.ADDRESS_MAX, required=True
    )
    return {
        "name": name,
        "relation": a.relation.value,
        "mobile": mobile,
        "email": mail or "",
        "idType": a.id_type.value,
        "idNumber": number,
        "address": address or "",
    }


def start(
    db: Session,
    cx: ClaimContext,
    account: Account,
    *,
    policy_id: int,
    notice_accepted: bool,
    facility_id: str,
    facility_name_of: Callable[[str], str | None],
    visit_date: datetime.date,
    items: str,
    applicant: Applicant | None = None,
) -> PreAuthorisation:
    """Steps 2-4: notice, policy, applicant, facility, visit date and items: a draft."""
    person_id = require_verified(account)
    policy = member_policy(db, person_id, policy_id)
    if not policy.high_end:
        raise PreAuthNotAvailable(OFFLINE_ROUTE, field="policyId")
    problems = check.Problems()
    if not notice_accepted:
        problems.add("noticeAccepted", "Tick 《申请提示》 first.", "NOTICE_NOT_ACCEPTED")
    today = china_today(cx)
    if policy.status is not PolicyStatus.IN_FORCE or not (
        policy.start_date <= today <= policy.end_date
    ):
        problems.add("policyId", "Only a policy in force can be used.", "POLICY_NOT_IN_FORCE")
    name = facility_name_of(facility_id)
    if name is None:
        problems.add("facilityId", "Choose a facility from the directory.", "UNKNOWN_FACILITY")
    if not today <= visit_date <= today + VISIT_WITHIN:
        problems.add(
            "visitDate",
            "A pre-authorisation is asked before the visit: today or within 180 days.",
            "VISIT_DATE_OUT_OF_RANGE",
        )
    what = check.text(problems, "items", items, max_len=ITEMS_MAX, required=True)
    other = _applicant(problems, applicant) if applicant is not None else None
    problems.raise_any()
    assert name is not None and what is not None
    now = cx.now()
    row = PreAuthorisation(
        account_id=account.id,
        policy_id=policy.id,
        status=S.DRAFT.value,
        notice_accepted_at=now,
        applicant_relation=other["relation"] if other else Relation.SELF.value,
        applicant_enc=cx.vault.encrypt(json.dumps(other, ensure_ascii=False)) if other else None,
        facility_id=facility_id,
        facility_name=name,
        visit_date=visit_date,
        items=what,
        created_at=now,
    )
    db.add(row)
    db.flush()
    _event(db, row, S.DRAFT, now)
    return row


def own(db: Session, account: Account, pre_auth_id: int, *, lock: bool = False) -> PreAuthorisation:
    query = select(PreAuthorisation).where(PreAuthorisation.id == pre_auth_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = db.scalar(query)
    if row is None or row.account_id != account.id:
        raise PreAuthNotFound("No such pre-authorisation among yours.")
    return row


def mine(db: Session, account: Account) -> list[PreAuthorisation]:
    require_verified(account)
    return list(
        db.scalars(
            select(PreAuthorisation)
            .where(PreAuthorisation.account_id == account.id)
            .order_by(PreAuthorisation.id.desc())
            .limit(50)
        )
    )


def _draft(
    db: Session, account: Account, pre_auth_id: int, *, more: bool = False
) -> PreAuthorisation:
    """The member's request, locked, in a state that takes files (a draft; with `more`, a
    request the office asked more for as well)."""
    require_verified(account)
    row = own(db, account, pre_auth_id, lock=True)
    allowed = {S.DRAFT.value, S.MORE_REQUESTED.value} if more else {S.DRAFT.value}
    if row.status not in allowed:
        raise WrongPreAuthState("This request has been submitted; it can no longer be changed.")
    return row


def attach(
    db: Session,
    cx: ClaimContext,
    account: Account,
    pre_auth_id: int,
    category: str,
    stored: StoredUpload,
) -> PreAuthDocument:
    """Step 5: one stored file (server/storage) of a category, to a draft."""
    if category not in CATEGORIES:
        raise _problem("category", "APPLICATION_FORM or MEDICAL_RECORD.", "CATEGORY_NOT_ALLOWED")
    row = _draft(db, account, pre_auth_id, more=True)
    count = db.scalar(
        select(func.count())
        .select_from(PreAuthDocument)
        .where(PreAuthDocument.pre_auth_id == row.id, PreAuthDocument.category == category)
    )
    if (count or 0) >= FILES_PER_CATEGORY:
        raise _problem(
            "category", f"At most {FILES_PER_CATEGORY} files of one kind.", "TOO_MANY_FILES"
        )
    doc = PreAuthDocument(
        pre_auth_id=row.id,
        category=category,
        storage_key=stored.key,
        content_type=stored.content_type,
        size=stored.size,
        uploaded_at=cx.now(),
    )
    db.add(doc)
    db.flush()
    return doc


def _check_files(db: Session, row: PreAuthorisation) -> None:
    have = set(
        db.scalars(select(PreAuthDocument.category).where(PreAuthDocument.pre_auth_id == row.id))
    )
    missing = [c for c in CATEGORIES if c not in have]
    if missing:
        raise _problem(
            "documents",
            "Upload " + " and ".join(CATEGORIES[c] for c in missing) + " first.",
            "DOCUMENTS_MISSING",
        )


def send_code(db: Session, cx: ClaimContext, account: Account, pre_auth_id: int) -> SentCode:
    """Step 6: the code to the member's own mobile, once the files are there."""
    row = _draft(db, account, pre_auth_id)
    _check_files(db, row)
    return cx.codes.issue(db, cx.vault.decrypt(account.phone_enc), Purpose.CONFIRM_PRE_AUTH)


def submit(
    db: Session, cx: ClaimContext, account: Account, pre_auth_id: int, sms_code: str
) -> PreAuthorisation:
    found = sms_code_problem(sms_code)
    if found is not None:
        raise ValidationFailed([found])
    row = _draft(db, account, pre_auth_id)
    _check_files(db, row)
    cx.codes.consume(db, cx.vault.decrypt(account.phone_enc), Purpose.CONFIRM_PRE_AUTH, sms_code)
    now = cx.now()
    row.status = S.SUBMITTED.value
    row.submitted_at = now
    _event(db, row, S.SUBMITTED, now)
    _tell(db, account, row, S.SUBMITTED, now)
    return row


def send_more(
    db: Session, cx: ClaimContext, account: Account, pre_auth_id: int
) -> PreAuthorisation:
    """补充资料: the files the office asked for are uploaded; the request goes back to it."""
    row = _draft(db, account, pre_auth_id, more=True)
    if row.status != S.MORE_REQUESTED.value:
        raise WrongPreAuthState("Nothing was asked for on this request.")
    since = row.more_requested_at
    new_files = db.scalar(
        select(func.count())
        .select_from(PreAuthDocument)
        .where(PreAuthDocument.pre_auth_id == row.id, PreAuthDocument.uploaded_at >= since)
    )
    if not new_files:
        raise _problem(
            "documents", "Upload what the claims office asked for first.", "DOCUMENTS_MISSING"
        )
    now = cx.now()
    row.status = S.SUBMITTED.value
    _event(db, row, S.SUBMITTED, now, "补充资料 supplement")
    _tell(db, account, row, S.SUBMITTED, now)
    return row


# --- the claims office ---------------------------------------------------------------------


def request_more(
    db: Session, cx: ClaimContext, adjuster: Adjuster, pre_auth_id: int, *, instructions: str
) -> PreAuthorisation:
    """Ask the member for more files, due in MORE_WITHIN_WORKDAYS working days."""
    problems = check.Problems()
    what = check.text(
        problems, "instructions", instructions, max_len=check.REASON_MAX, required=True
    )
    problems.raise_any()
    row = _open(db, pre_auth_id)
    now = cx.now()
    row.status = S.MORE_REQUESTED.value
    row.more_instructions = what
    row.more_requested_at = now
    row.more_due = add_working_days(now, MORE_WITHIN_WORKDAYS)
    _event(db, row, S.MORE_REQUESTED, now, what or "")
    _tell(db, db.get(Account, row.account_id), row, S.MORE_REQUESTED, now)
    return row


def _open(db: Session, pre_auth_id: int) -> PreAuthorisation:
    row = db.scalar(
        select(PreAuthorisation)
        .where(PreAuthorisation.id == pre_auth_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None or row.status == S.DRAFT.value:
        raise PreAuthNotFound("No such pre-authorisation submitted.")
    if row.status != S.SUBMITTED.value:
        raise WrongPreAuthState("This request is decided already.")
    return row


def approve(
    db: Session,
    cx: ClaimContext,
    adjuster: Adjuster,
    pre_auth_id: int,
    *,
    items: str,
    amount: Decimal,
    valid_from: datetime.date,
    valid_to: datetime.date,
) -> PreAuthorisation:
    problems = check.Problems()
    what = check.text(problems, "items", items, max_len=ITEMS_MAX, required=True)
    fen = check.amount_fen(problems, "amount", amount, allow_zero=False)
    if valid_to < valid_from:
        problems.add("validTo", "The validity ends before it starts.", "INVALID_PERIOD")
    problems.raise_any()
    row = _open(db, pre_auth_id)
    now = cx.now()
    row.status = S.APPROVED.value
    row.approved_items, row.approved_fen = what, fen
    row.valid_from, row.valid_to = valid_from, valid_to
    row.decided_at, row.decided_by = now, adjuster.id
    _event(db, row, S.APPROVED, now)
    _tell(db, db.get(Account, row.account_id), row, S.APPROVED, now)
    return row


def decline(
    db: Session, cx: ClaimContext, adjuster: Adjuster, pre_auth_id: int, *, reason: str
) -> PreAuthorisation:
    problems = check.Problems()
    why = check.text(problems, "reason", reason, max_len=check.REASON_MAX, required=True)
    problems.raise_any()
    row = _open(db, pre_auth_id)
    now = cx.now()
    row.status = S.DECLINED.value
    row.decline_reason = why
    row.decided_at, row.decided_by = now, adjuster.id
    _event(db, row, S.DECLINED, now, why or "")
    _tell(db, db.get(Account, row.account_id), row, S.DECLINED, now)
    return row


def _event(
    db: Session, row: PreAuthorisation, status: PreAuthStatus, at: datetime.datetime, note: str = ""
) -> None:
    db.add(PreAuthEvent(pre_auth_id=row.id, status=status.value, at=at, note=note))
    db.flush()


def _tell(
    db: Session,
    account: Account | None,
    row: PreAuthorisation,
    status: PreAuthStatus,
    now: datetime.datetime,
) -> None:
    if account is None:
        return
    zh, en = _TEXT[status]
    # one message per step: a request may be sent again after more files were asked for
    step = db.scalar(select(func.max(PreAuthEvent.id)).where(PreAuthEvent.pre_auth_id == row.id))
    language = "en" if account.preferred_language == "en" else "zh"
    title = en if language == "en" else zh
    body = f"{title}: {row.facility_name}, {row.visit_date.isoformat()}."
    if status is S.DECLINED and row.decline_reason:
        body += f" {row.decline_reason}"
    if status is S.MORE_REQUESTED and row.more_instructions:
        body += f" {row.more_instructions} ({row.more_due})"
    messages.post(
        db,
        account_id=account.id,
        kind=f"pre_auth.{status.value}",
        subject_type="pre_authorisation",
        subject_id=row.id,
        language=language,
        title=title,
        body=body,
        dedupe_key=f"pre_auth:{row.id}:{status.value}:{step}",
        now=now,
    )


def check_upload(db: Session, account: Account, pre_auth_id: int, category: str) -> None:
    """Before any byte is stored: the draft is the member's and takes this category."""
    if category not in CATEGORIES:
        raise _problem("category", "APPLICATION_FORM or MEDICAL_RECORD.", "CATEGORY_NOT_ALLOWED")
    _draft(db, account, pre_auth_id, more=True)
    db.rollback()  # the row lock is not held while the body streams in


def attach_all(
    db: Session,
    cx: ClaimContext,
    account: Account,
    pre_auth_id: int,
    category: str,
    stored: list[StoredUpload],
) -> list[PreAuthDocument]:
    """The files of one upload request, all or none, committed."""
    docs = [attach(db, cx, account, pre_auth_id, category, s) for s in stored]
    db.commit()
    return docs
