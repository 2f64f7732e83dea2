"""Pre-authorisation (预先授权, seed 000 §8): high-end policies only.

The member ticks 《申请提示》, chooses the policy, says who applies (themselves, or another
person with name, relation to the insured, mobile, e-mail, ID and address), the facility
(from the directory, by id), visit date and items; uploads the application form and the
original medical records; confirms with a CONFIRM_PRE_AUTH SMS code and submits. The
claims office approves (items, amount, validity dates), declines (reason), or asks for more
through server/service_supplements (categories, instructions, a deadline in working days;
SMS and e-mail with the H5 upload link; the app uploads and answers too). Each change is on
the request's timeline; decisions reach the member by SMS, e-mail (zh/en) and in the app.

Other policies get PRE_AUTH_NOT_AVAILABLE with the seed's offline route: the application
form and records by e-mail to the address below.
"""

from __future__ import annotations

import datetime
import functools
import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import service_supplements
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
from server.claims.announcements import BRAND, tell
from server.claims.claimant_rules import china_today, member_policy, require_verified
from server.claims.core import ClaimContext
from server.claims.errors import (
    PreAuthLimited,
    PreAuthNotAvailable,
    PreAuthNotFound,
    WrongPreAuthState,
)
from server.claims.models import Adjuster
from server.claims.preauth_models import (
    PreAuthDocument,
    PreAuthEvent,
    PreAuthorisation,
    PreAuthStatus,
)
from server.errors import FieldProblem, ValidationFailed
from server.limits import Policy, key_of
from server.policies.models import IdType, PolicyStatus, Relation
from server.service_supplements import kinds
from server.service_supplements.models import ServiceSupplement, ServiceSupplementDocument
from server.storage.uploads import StoredUpload

OFFLINE_EMAIL = "VIPClaim@cpic.com.cn"
OFFLINE_ROUTE = (
    "Pre-authorisation online is for high-end policies only. For this policy, e-mail the "
    f"pre-authorisation application form and the medical records to {OFFLINE_EMAIL} "
    f"(仅支持高端保单客户使用，请发送预授权申请表及相关病历资料至 {OFFLINE_EMAIL})."
)
NOTICE_FILE = Path(__file__).resolve().parent / "preauth_notice.toml"
CATEGORIES = {"APPLICATION_FORM": "预先授权申请表", "MEDICAL_RECORD": "原始病历资料"}
FILES_PER_CATEGORY = 10
VISIT_WITHIN = datetime.timedelta(days=180)
ITEMS_MAX = 500
S = PreAuthStatus

# per member: requests started a day (drafts included: each holds files and a row)
STARTS = Policy("pre-auth-start", window=datetime.timedelta(days=1), limit=10)

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


@dataclass(frozen=True, slots=True)
class Notice:
    """《申请提示》: the text the member ticks (preauth_notice.toml)."""

    version: str
    text: str
    text_en: str


@functools.cache
def notice() -> Notice:
    raw = tomllib.loads(NOTICE_FILE.read_text(encoding="utf-8"))
    return Notice(version=raw["version"], text=raw["text"], text_en=raw["text_en"])


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
    notice_version: str | None = None,
) -> PreAuthorisation:
    """Steps 2-4: notice, policy, applicant, facility, visit date and items: a draft.

    `notice_version`, when given, is the version of 《申请提示》 the member read: an older one
    is refused (NOTICE_OUTDATED). The draft's first step records the version ticked."""
    person_id = require_verified(account)
    policy = member_policy(db, person_id, policy_id)
    if not policy.high_end:
        raise PreAuthNotAvailable(OFFLINE_ROUTE, field="policyId")
    problems = check.Problems()
    if not notice_accepted:
        problems.add("noticeAccepted", "Tick 《申请提示》 first.", "NOTICE_NOT_ACCEPTED")
    elif notice_version is not None and notice_version != notice().version:
        problems.add(
            "noticeVersion",
            "《申请提示》 has changed since you read it: read and tick it again.",
            "NOTICE_OUTDATED",
        )
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
    decision = cx.limiter.hit(db, STARTS, key_of(cx.vault, STARTS.name, str(account.id)))
    if not decision.allowed:
        wait = decision.retry_after_seconds
        raise PreAuthLimited(
            f"Too many pre-authorisations started today; try again in {wait} seconds.", wait
        )
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
    _event(db, row, S.DRAFT, now, note=f"《申请提示》 {notice().version}")
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


def _attach_more(
    db: Session, cx: ClaimContext, row: PreAuthorisation, category: str, stored: StoredUpload
) -> ServiceSupplementDocument:
    ask = service_supplements.latest(db, KIND, row.id)
    if ask is None:
        raise WrongPreAuthState("Nothing was asked for on this request.")
    return service_supplements.attach(db, cx, ask.id, category, stored, channel="app")


def attach(
    db: Session,
    cx: ClaimContext,
    account: Account,
    pre_auth_id: int,
    category: str,
    stored: StoredUpload,
) -> PreAuthDocument | ServiceSupplementDocument:
    """Step 5: one stored file (server/storage) of a category, to a draft; while the office
    asks for more, to its request for documents."""
    row = _draft(db, account, pre_auth_id, more=True)
    if row.status == S.MORE_REQUESTED.value:
        return _attach_more(db, cx, row, category, stored)
    if category not in CATEGORIES:
        raise _problem("category", "APPLICATION_FORM or MEDICAL_RECORD.", "CATEGORY_NOT_ALLOWED")
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
    _announce(db, cx, row, S.SUBMITTED, now)  # the receipt, by SMS and e-mail too
    return row


def send_more(
    db: Session, cx: ClaimContext, account: Account, pre_auth_id: int, remark: str = ""
) -> PreAuthorisation:
    """补充资料 in the app: a file for each category the office asked for is uploaded; the
    request goes back to it (server/service_supplements.fulfil, as the H5 page does)."""
    row = _draft(db, account, pre_auth_id, more=True)
    ask = service_supplements.latest(db, KIND, row.id)
    if row.status != S.MORE_REQUESTED.value or ask is None:
        raise WrongPreAuthState("Nothing was asked for on this request.")
    try:
        service_supplements.fulfil(db, cx, ask.id, remark=remark, channel="app")
    except service_supplements.SupplementDocumentsMissing as e:
        missing = " and ".join(KIND.categories.get(c, (c, c))[0] for c in e.missing)
        raise _problem("documents", f"Upload {missing} first.", "DOCUMENTS_MISSING") from None
    except service_supplements.SupplementClosed:
        raise WrongPreAuthState("The deadline for these documents has passed.") from None
    return row


# --- the claims office ---------------------------------------------------------------------


def request_more(
    db: Session,
    cx: ClaimContext,
    adjuster: Adjuster,
    pre_auth_id: int,
    *,
    instructions: str,
    categories: list[str] | None = None,
    working_days: int = MORE_WITHIN_WORKDAYS,
) -> tuple[PreAuthorisation, str]:
    """Ask the member for more files (by default the medical records), due in
    `working_days` working days: SMS and e-mail with the H5 link, and in the app. Returns
    the request and the link's token."""
    row = _open(db, pre_auth_id)
    _, token = service_supplements.ask(
        db,
        cx,
        KIND,
        row,
        row.id,
        adjuster,
        categories=categories or ["MEDICAL_RECORD"],
        instructions=instructions,
        working_days=working_days,
    )
    return row, token


class PreAuthKind:
    """Pre-authorisation as a subject of server/service_supplements."""

    code = "pre_authorisation"
    names = MappingProxyType({"zh": "预先授权", "en": "pre-authorisation"})
    asked_message = "pre_auth.more_requested"
    categories = MappingProxyType(
        {
            "APPLICATION_FORM": ("预先授权申请表", "Pre-authorisation application form"),
            "MEDICAL_RECORD": ("原始病历资料", "Original medical records"),
            "EXAMINATION_REPORT": ("检查检验报告", "Examination and test reports"),
            "COST_ESTIMATE": ("费用预估单", "Cost estimate"),
            "OTHER": ("其他资料", "Other documents"),
        }
    )

    def reference(self, subject_id: int) -> str:
        return f"PA{subject_id:08d}"

    def load(self, db: Session, subject_id: int, *, lock: bool = False) -> PreAuthorisation | None:
        q = select(PreAuthorisation).where(PreAuthorisation.id == subject_id)
        if lock:
            q = q.with_for_update().execution_options(populate_existing=True)
        return db.scalar(q)

    def account_id(self, subject: PreAuthorisation) -> int:
        return subject.account_id

    def waiting(self, subject: PreAuthorisation) -> bool:
        return subject.status == S.MORE_REQUESTED.value

    def can_ask(self, subject: PreAuthorisation) -> bool:
        return subject.status == S.SUBMITTED.value

    def asked(
        self,
        db: Session,
        cx: ClaimContext,
        subject: PreAuthorisation,
        request: ServiceSupplement,
        now: datetime.datetime,
    ) -> None:
        subject.status = S.MORE_REQUESTED.value
        subject.more_instructions = request.instructions
        subject.more_requested_at = now
        subject.more_due = request.deadline
        _event(db, subject, S.MORE_REQUESTED, now, request.instructions)

    def answered(
        self,
        db: Session,
        cx: ClaimContext,
        subject: PreAuthorisation,
        request: ServiceSupplement,
        now: datetime.datetime,
    ) -> None:
        subject.status = S.SUBMITTED.value
        note = "补充资料 supplement" + (f": {request.remark}" if request.remark else "")
        _event(db, subject, S.SUBMITTED, now, note)
        _announce(db, cx, subject, S.SUBMITTED, now, by_sms_and_email=False)


KIND = kinds.register(PreAuthKind())


def _open(db: Session, pre_auth_id: int, *, asked_too: bool = False) -> PreAuthorisation:
    """The submitted request, locked (with `asked_too`, also while more is asked: a
    decision then closes the link)."""
    row = db.scalar(
        select(PreAuthorisation)
        .where(PreAuthorisation.id == pre_auth_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None or row.status == S.DRAFT.value:
        raise PreAuthNotFound("No such pre-authorisation submitted.")
    if row.status != S.SUBMITTED.value and not (asked_too and row.status == S.MORE_REQUESTED.value):
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
    row = _open(db, pre_auth_id, asked_too=True)
    now = cx.now()
    service_supplements.close_open(db, KIND, row.id, now)
    row.status = S.APPROVED.value
    row.approved_items, row.approved_fen = what, fen
    row.valid_from, row.valid_to = valid_from, valid_to
    row.decided_at, row.decided_by = now, adjuster.id
    _event(db, row, S.APPROVED, now)
    _announce(db, cx, row, S.APPROVED, now)
    return row


def decline(
    db: Session, cx: ClaimContext, adjuster: Adjuster, pre_auth_id: int, *, reason: str
) -> PreAuthorisation:
    problems = check.Problems()
    why = check.text(problems, "reason", reason, max_len=check.REASON_MAX, required=True)
    problems.raise_any()
    row = _open(db, pre_auth_id, asked_too=True)
    now = cx.now()
    service_supplements.close_open(db, KIND, row.id, now)
    row.status = S.DECLINED.value
    row.decline_reason = why
    row.decided_at, row.decided_by = now, adjuster.id
    _event(db, row, S.DECLINED, now, why or "")
    _announce(db, cx, row, S.DECLINED, now)
    return row


def _event(
    db: Session, row: PreAuthorisation, status: PreAuthStatus, at: datetime.datetime, note: str = ""
) -> None:
    db.add(PreAuthEvent(pre_auth_id=row.id, status=status.value, at=at, note=note))
    db.flush()


def check_upload(
    db: Session, cx: ClaimContext, account: Account, pre_auth_id: int, category: str
) -> None:
    """Before any byte is stored: the draft is the member's and takes this category (while
    more is asked, one the office asked for)."""
    row = _draft(db, account, pre_auth_id, more=True)
    ask = service_supplements.latest(db, KIND, row.id)
    if row.status == S.MORE_REQUESTED.value and ask is not None:
        try:
            service_supplements.check_upload(db, cx, KIND, row, ask, category)
        except service_supplements.SupplementClosed:
            raise WrongPreAuthState("The deadline for these documents has passed.") from None
    elif category not in CATEGORIES:
        raise _problem("category", "APPLICATION_FORM or MEDICAL_RECORD.", "CATEGORY_NOT_ALLOWED")
    db.rollback()  # the row lock is not held while the body streams in


def attach_all(
    db: Session,
    cx: ClaimContext,
    account: Account,
    pre_auth_id: int,
    category: str,
    stored: list[StoredUpload],
) -> list[PreAuthDocument | ServiceSupplementDocument]:
    """The files of one upload request, all or none, committed."""
    docs = [attach(db, cx, account, pre_auth_id, category, s) for s in stored]
    db.commit()
    return docs


# --- the decision by SMS and e-mail ------------------------------------------------------------

# (SMS, e-mail subject, e-mail body) per decision and language
_NOTICES = {
    (S.SUBMITTED, "zh"): (
        "[{brand}]尊敬的{name}，您的预先授权申请（编号{reference}）已提交，审核结果将以短信通知您。"
        "如非本人操作，请致电10108686。回0000退订短信",
        "【{brand}】预先授权申请已提交（{reference}）",
        "尊敬的{name}先生/女士：\n\n您的预先授权申请（{reference}）已提交。\n\n"
        "就诊机构：{facility}\n\n审核结果将以短信及邮件通知您，也可在 APP 的预先授权进度中查看。"
        "如非本人操作，请致电10108686。\n\n本邮件为系统邮件，请勿回复。\n\n{brand}\n",
    ),
    (S.SUBMITTED, "en"): (
        "[{brand}] Dear {name}, your pre-authorisation request {reference} is submitted; we "
        "will tell you the outcome by SMS. Not you? Call 1010-8686.",
        "[{brand}] Pre-authorisation submitted ({reference})",
        "Dear {name},\n\nYour pre-authorisation request ({reference}) is submitted.\n\n"
        "Facility: {facility}\n\nWe will tell you the outcome by SMS and e-mail; you can "
        "also follow it in the app. Not you? Call 1010-8686.\n\n"
        "This is an automatic message; please do not reply.\n\n{brand}\n",
    ),
    (S.APPROVED, "zh"): (
        "[{brand}]尊敬的{name}，您的预先授权申请（编号{reference}）已批准：{items}，授权金额{amount}元，"
        "有效期{valid_from}至{valid_to}。可在APP中查看并打印授权确认书。如有疑问，请致电10108686。回0000退订短信",
        "【{brand}】预先授权已批准（{reference}）",
        "尊敬的{name}先生/女士：\n\n您的预先授权申请（{reference}）已批准。\n\n就诊机构：{facility}\n"
        "授权项目：{items}\n授权金额：{amount} 元\n有效期：{valid_from} 至 {valid_to}\n\n"
        "您可在 APP 的预先授权进度中查看并下载授权确认书（网页或 PDF）。\n\n"
        "如有疑问，请咨询我司客服热线10108686。\n\n本邮件为系统邮件，请勿回复。\n\n{brand}\n",
    ),
    (S.APPROVED, "en"): (
        "[{brand}] Dear {name}, your pre-authorisation {reference} is approved: {items}, up to "
        "CNY {amount}, valid {valid_from} to {valid_to}. See and print it in the app. "
        "Questions: 1010-8686.",
        "[{brand}] Pre-authorisation approved ({reference})",
        "Dear {name},\n\nYour pre-authorisation request ({reference}) is approved.\n\n"
        "Facility: {facility}\nItems: {items}\nAmount: CNY {amount}\n"
        "Valid: {valid_from} to {valid_to}\n\nThe approval can be opened and downloaded "
        "(page or PDF) from your pre-authorisations in the app.\n\n"
        "Questions: call our hotline 1010-8686.\n\n"
        "This is an automatic message; please do not reply.\n\n{brand}\n",
    ),
    (S.DECLINED, "zh"): (
        "[{brand}]尊敬的{name}，您的预先授权申请（编号{reference}）未获批准，原因：{short_reason}。"
        "如有疑问，请致电10108686。回0000退订短信",
        "【{brand}】预先授权未获批准（{reference}）",
        "尊敬的{name}先生/女士：\n\n您的预先授权申请（{reference}）未获批准。\n\n"
        "就诊机构：{facility}\n原因：{reason}\n\n如有疑问，请咨询我司客服热线10108686。\n\n"
        "本邮件为系统邮件，请勿回复。\n\n{brand}\n",
    ),
    (S.DECLINED, "en"): (
        "[{brand}] Dear {name}, your pre-authorisation {reference} was declined. Reason: "
        "{short_reason}. Questions: 1010-8686.",
        "[{brand}] Pre-authorisation declined ({reference})",
        "Dear {name},\n\nYour pre-authorisation request ({reference}) was declined.\n\n"
        "Facility: {facility}\nReason: {reason}\n\nQuestions: call our hotline 1010-8686."
        "\n\nThis is an automatic message; please do not reply.\n\n{brand}\n",
    ),
}


def _announce(
    db: Session,
    cx: ClaimContext,
    row: PreAuthorisation,
    status: PreAuthStatus,
    now: datetime.datetime,
    *,
    by_sms_and_email: bool = True,
) -> None:
    """Tell the member of one step: the in-app message (it names no one), and the SMS and
    e-mail of the receipt and of each decision (announcements.tell)."""
    account = db.get(Account, row.account_id)
    if account is None:
        return
    lang = "en" if account.preferred_language == "en" else "zh"
    zh, en = _TEXT[status]
    title = en if lang == "en" else zh
    message = f"{title}: {row.facility_name}, {row.visit_date.isoformat()}."
    if status is S.DECLINED and row.decline_reason:
        message += f" {row.decline_reason}"
    sms = subject = body = ""
    if by_sms_and_email:
        sms, subject, body = _NOTICES[(status, lang)]
    reason = row.decline_reason or ""
    values = {
        "brand": BRAND[lang],
        "name": cx.vault.decrypt(account.person.name_enc).strip() if account.person else "",
        "reference": KIND.reference(row.id),
        "facility": row.facility_name,
        "items": " ".join((row.approved_items or "").split())[:60],
        "amount": f"{(Decimal(row.approved_fen or 0) / 100).quantize(Decimal('0.01')):,}",
        "valid_from": row.valid_from.isoformat() if row.valid_from else "",
        "valid_to": row.valid_to.isoformat() if row.valid_to else "",
        "reason": reason,
        "short_reason": " ".join(reason.split())[:60],
    }
    # one message per step: a request is submitted again once more files were sent
    step = db.scalar(select(func.max(PreAuthEvent.id)).where(PreAuthEvent.pre_auth_id == row.id))
    tell(
        db,
        cx,
        account,
        mobile=cx.vault.decrypt(account.phone_enc),
        kind=f"pre_auth.{status.value}",
        subject_type="pre_authorisation",
        subject_id=row.id,
        lang=lang,
        title=title,
        message=message,
        sms=sms.format_map(values),
        email_subject=subject.format_map(values),
        email_body=body.format_map(values),
        dedupe=f"pre_auth:{row.id}:{status.value}",
        app_dedupe=f"pre_auth:{row.id}:{status.value}:{step}",
        now=now,
    )
