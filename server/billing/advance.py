"""Inpatient advance payment (住院垫付, seed §10 screenshot), for high-end policies.

The member chooses the insured person's policy, the hospital (from the directory by id,
or typed when it is not listed), the admission date and a description; the applicant's
name, sex, ID number (masked in every answer) and mobile come from the record; an SMS
code sent to that mobile (resend after 120 s, as everywhere) confirms the request. The
coordinator desk approves it with the amount and the hospital to be paid, or declines it
with a reason, or asks for documents (server/service_supplements: categories, instructions,
a deadline in working days, an SMS and e-mail link to the H5 upload page; the answer puts
the request back to SUBMITTED). The member is told of each decision by SMS, e-mail and in
the app (zh/en), and follows a timeline.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server import service_supplements
from server.accounts.models import Account
from server.accounts.sms_codes import Purpose, SentCode
from server.billing.appointments import own_policy, require_person
from server.billing.errors import AdvanceNotFound, AppointmentRuleBroken, AppointmentStateConflict
from server.billing.models import AdvancePayment, AdvancePaymentEvent, AdvanceStatus
from server.claims.announcements import BRAND, language_of, tell
from server.claims.core import ClaimContext
from server.claims.models import Adjuster
from server.directory.directory import Directory
from server.errors import FieldProblem, ValidationFailed
from server.policies.models import Policy
from server.service_supplements import kinds
from server.service_supplements.models import ServiceSupplement
from server.workdays import china_date

S = AdvanceStatus
PAST_DAYS = 30  # an admission up to a month ago may still be advanced
AHEAD_DAYS = 90
DESCRIPTION_MAX = 500
HOSPITAL_MAX = 100
REASON_MAX = 500
AMOUNT_MAX_FEN = 100_000_000  # 1,000,000 yuan


def send_code(db: Session, cx: ClaimContext, account: Account) -> SentCode:
    """The confirmation code, to the account's own mobile."""
    require_person(account)
    phone = cx.vault.decrypt(account.phone_enc)
    return cx.codes.issue(db, phone, Purpose.CONFIRM_ADVANCE_PAYMENT, account_id=account.id)


def _event(
    a: AdvancePayment,
    kind: str,
    now: datetime.datetime,
    actor: str,
    actor_id: int | None,
    note: str = "",
) -> None:
    a.events.append(
        AdvancePaymentEvent(
            kind=kind, at=now, actor=actor, actor_id=actor_id, status_to=a.status, note=note
        )
    )
    a.updated_at = now


def request(
    db: Session,
    cx: ClaimContext,
    directory: Directory,
    account: Account,
    *,
    policy_id: int,
    facility_id: str | None,
    hospital_name: str | None,
    admission_date: datetime.date,
    description: str,
    sms_code: str,
) -> AdvancePayment:
    now = cx.now()
    today = china_date(now)
    problems: list[FieldProblem] = []
    facility = None
    if facility_id:
        facility = directory.get(facility_id.strip())
        if facility is None:
            problems.append(
                FieldProblem("facilityId", "No facility has this id.", "FACILITY_NOT_FOUND")
            )
    else:
        typed = (hospital_name or "").strip()
        if not typed or len(typed) > HOSPITAL_MAX:
            problems.append(
                FieldProblem("hospitalName", "Choose a hospital or type its name.", "REQUIRED")
            )
    text = description.strip()
    if not text or len(text) > DESCRIPTION_MAX:
        problems.append(
            FieldProblem(
                "description", f"Describe the stay (1 to {DESCRIPTION_MAX} characters).", "REQUIRED"
            )
        )
    if (
        not today - datetime.timedelta(days=PAST_DAYS)
        <= admission_date
        <= today + datetime.timedelta(days=AHEAD_DAYS)
    ):
        problems.append(
            FieldProblem(
                "admissionDate",
                f"An admission from {PAST_DAYS} days ago to {AHEAD_DAYS} days ahead.",
                "DATE_OUT_OF_RANGE",
            )
        )
    if problems:
        raise ValidationFailed(problems)
    policy = own_policy(db, account, policy_id, today)
    if not policy.start_date <= admission_date <= policy.end_date:
        raise AppointmentRuleBroken(
            "DATE_OUTSIDE_COVER",
            "The admission date is outside the policy's cover.",
            field="admissionDate",
        )
    applicant = account.person
    assert applicant is not None
    # the code last: a refused request does not spend it
    cx.codes.consume(
        db,
        cx.vault.decrypt(account.phone_enc),
        Purpose.CONFIRM_ADVANCE_PAYMENT,
        sms_code,
        account_id=account.id,
    )
    a = AdvancePayment(
        account_id=account.id,
        policy_id=policy.id,
        patient_id=policy.insured_id,
        facility_id=facility.id if facility else None,
        hospital_name=facility.name_zh if facility else (hospital_name or "").strip(),
        admission_date=admission_date,
        description_enc=cx.vault.encrypt(text),
        applicant_name_enc=applicant.name_enc,
        applicant_sex=applicant.gender,
        applicant_id_number_enc=applicant.id_number_enc,
        applicant_mobile_enc=account.phone_enc,
        status=S.SUBMITTED.value,
        pay_to="",
        decision_reason="",
        created_at=now,
        updated_at=now,
    )
    _event(a, "submitted", now, "member", account.id)
    db.add(a)
    db.flush()
    _announce(db, cx, a, now)  # the receipt: SMS, e-mail and in-app
    return a


def requests(db: Session, account: Account) -> list[AdvancePayment]:
    person_id = require_person(account)
    return list(
        db.scalars(
            select(AdvancePayment)
            .join(Policy, AdvancePayment.policy_id == Policy.id)
            .where((Policy.insured_id == person_id) | (Policy.main_insured_id == person_id))
            .options(selectinload(AdvancePayment.events))
            .order_by(AdvancePayment.id.desc())
            .limit(100)
        )
    )


def own(db: Session, account: Account, advance_id: int) -> AdvancePayment:
    for a in requests(db, account):
        if a.id == advance_id:
            return a
    raise AdvanceNotFound("No such advance payment request among yours.")


def desk_list(db: Session, status: AdvanceStatus) -> list[AdvancePayment]:
    return list(
        db.scalars(
            select(AdvancePayment)
            .where(AdvancePayment.status == status.value)
            .options(selectinload(AdvancePayment.events))
            .order_by(AdvancePayment.created_at, AdvancePayment.id)
            .limit(100)
        )
    )


def _get(db: Session, advance_id: int, *, asked_too: bool = True) -> AdvancePayment:
    """The request, locked, waiting for the desk (with `asked_too`, also while documents
    are asked: a decision then closes the link)."""
    a = db.scalar(
        select(AdvancePayment)
        .where(AdvancePayment.id == advance_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if a is None:
        raise AdvanceNotFound("No advance payment request has this id.")
    allowed = {S.SUBMITTED.value, S.DOCUMENTS_ASKED.value} if asked_too else {S.SUBMITTED.value}
    if a.status not in allowed:
        raise AppointmentStateConflict(f"The request is {a.status.replace('_', ' ')} already.")
    return a


# --- documents asked for (server/service_supplements) ----------------------------------------


class AdvanceKind:
    """Inpatient advance payment as a subject of server/service_supplements."""

    code = "advance_payment"
    names = MappingProxyType({"zh": "住院垫付", "en": "inpatient advance payment"})
    asked_message = "advance_payment.documents_asked"
    categories = MappingProxyType(
        {
            "ADMISSION_NOTICE": ("住院通知单或入院证明", "Admission notice or certificate"),
            "MEDICAL_RECORD": ("病历资料", "Medical records"),
            "ID_DOCUMENT": ("被保险人身份证件", "The insured person's ID document"),
            "COST_ESTIMATE": ("医院费用预估单", "The hospital's cost estimate"),
            "OTHER": ("其他资料", "Other documents"),
        }
    )

    def reference(self, subject_id: int) -> str:
        return f"AP{subject_id:08d}"

    def load(self, db: Session, subject_id: int, *, lock: bool = False) -> AdvancePayment | None:
        q = select(AdvancePayment).where(AdvancePayment.id == subject_id)
        if lock:
            q = q.with_for_update().execution_options(populate_existing=True)
        return db.scalar(q)

    def account_id(self, subject: AdvancePayment) -> int:
        return subject.account_id

    def waiting(self, subject: AdvancePayment) -> bool:
        return subject.status == S.DOCUMENTS_ASKED.value

    def can_ask(self, subject: AdvancePayment) -> bool:
        return subject.status == S.SUBMITTED.value

    def asked(
        self,
        db: Session,
        cx: ClaimContext,
        subject: AdvancePayment,
        request: ServiceSupplement,
        now: datetime.datetime,
    ) -> None:
        subject.status = S.DOCUMENTS_ASKED.value
        _event(
            subject,
            "documents_asked",
            now,
            "coordinator",
            request.requested_by,
            request.instructions,
        )

    def answered(
        self,
        db: Session,
        cx: ClaimContext,
        subject: AdvancePayment,
        request: ServiceSupplement,
        now: datetime.datetime,
    ) -> None:
        subject.status = S.SUBMITTED.value
        via = request.fulfilled_via or "app"
        _event(
            subject,
            "documents_received",
            now,
            "member",
            subject.account_id,
            (request.remark or "") + f" ({via})",
        )


KIND = kinds.register(AdvanceKind())


def ask_documents(
    db: Session,
    cx: ClaimContext,
    coordinator: Adjuster,
    advance_id: int,
    *,
    categories: list[str],
    instructions: str,
    working_days: int = service_supplements.DEFAULT_WORKING_DAYS,
) -> tuple[AdvancePayment, ServiceSupplement, str]:
    """The desk asks for documents; returns the request, the ask and the link's token."""
    a = _get(db, advance_id, asked_too=False)
    ask, token = service_supplements.ask(
        db,
        cx,
        KIND,
        a,
        a.id,
        coordinator,
        categories=categories,
        instructions=instructions,
        working_days=working_days,
    )
    db.flush()
    return a, ask, token


def parse_amount(value: str) -> int:
    try:
        amount = Decimal(value.strip())
    except (InvalidOperation, AttributeError):
        amount = Decimal(-1)
    fen = amount * 100
    if amount <= 0 or fen != fen.to_integral_value() or fen > AMOUNT_MAX_FEN:
        raise ValidationFailed(
            [
                FieldProblem(
                    "amount", "A positive amount in yuan with at most 2 decimals.", "INVALID_AMOUNT"
                )
            ]
        )
    return int(fen)


def approve(
    db: Session,
    cx: ClaimContext,
    coordinator: Adjuster,
    advance_id: int,
    *,
    amount: str,
    pay_to: str = "",
) -> AdvancePayment:
    a = _get(db, advance_id)
    fen = parse_amount(amount)
    hospital = pay_to.strip() or a.hospital_name
    if len(hospital) > 200:
        raise ValidationFailed([FieldProblem("payTo", "At most 200 characters.", "TOO_LONG")])
    now = cx.now()
    a.status, a.approved_fen, a.pay_to = S.APPROVED.value, fen, hospital
    _event(a, "approved", now, "coordinator", coordinator.id)
    service_supplements.close_open(db, KIND, a.id, now)
    db.flush()
    _announce(db, cx, a, now)
    return a


def decline(
    db: Session, cx: ClaimContext, coordinator: Adjuster, advance_id: int, *, reason: str
) -> AdvancePayment:
    a = _get(db, advance_id)
    text = reason.strip()
    if not text or len(text) > REASON_MAX:
        raise ValidationFailed([FieldProblem("reason", "Give a reason.", "REQUIRED")])
    now = cx.now()
    a.status, a.decision_reason = S.DECLINED.value, text
    _event(a, "declined", now, "coordinator", coordinator.id, text)
    service_supplements.close_open(db, KIND, a.id, now)
    db.flush()
    _announce(db, cx, a, now)
    return a


def yuan(fen: int | None) -> str:
    return "" if fen is None else f"{fen // 100:,}.{fen % 100:02d}"


# (title, in-app body, SMS, e-mail body) per decision and language
_TEXTS = {
    ("submitted", "zh"): (
        "住院垫付申请已提交",
        "您的住院垫付申请（{reference}）已提交：{admission} 入院，{hospital_name}。审核结果将通知您。",
        "[{brand}]您的住院垫付申请（编号{reference}）已提交，审核结果将以短信通知您。"
        "如非本人操作，请致电1010-8686。回0000退订短信",
        "尊敬的{name}先生/女士：\n\n您的住院垫付申请（{reference}）已提交。\n\n"
        "医院：{hospital_name}\n入院日期：{admission}\n\n审核结果将以短信及邮件通知您。"
        "如非本人操作，请致电1010-8686。\n\n本邮件为系统邮件，请勿回复。\n\n{brand}\n",
    ),
    ("submitted", "en"): (
        "Advance payment requested",
        "Your inpatient advance payment request ({reference}) is submitted: admission "
        "{admission}, {hospital_name}. We will tell you the outcome.",
        "[{brand}] Your inpatient advance payment request {reference} is submitted; we will "
        "tell you the outcome by SMS. Not you? Call 1010-8686.",
        "Dear {name},\n\nYour inpatient advance payment request ({reference}) is submitted."
        "\n\nHospital: {hospital_name}\nAdmission date: {admission}\n\nWe will tell you "
        "the outcome by SMS and e-mail. Not you? Call 1010-8686.\n\n"
        "This is an automatic message; please do not reply.\n\n{brand}\n",
    ),
    ("approved", "zh"): (
        "住院垫付已批准",
        "您的住院垫付申请已批准：{amount} 元，将直接支付给{hospital}。",
        "[{brand}]您的住院垫付申请已批准，垫付金额{amount}元，将直接支付给{hospital}。"
        "如有疑问，请致电1010-8686。回0000退订短信",
        "尊敬的{name}先生/女士：\n\n您的住院垫付申请（{reference}）已批准。\n\n"
        "垫付金额：{amount} 元\n支付对象：{hospital}\n入院日期：{admission}\n\n"
        "如有疑问，请致电1010-8686。\n\n本邮件为系统邮件，请勿回复。\n\n{brand}\n",
    ),
    ("approved", "en"): (
        "Advance payment approved",
        "Your inpatient advance payment is approved: CNY {amount}, paid to {hospital}.",
        "[{brand}] Your inpatient advance payment is approved: CNY {amount}, paid to "
        "{hospital}. Questions: 1010-8686.",
        "Dear {name},\n\nYour inpatient advance payment request ({reference}) is approved."
        "\n\nAmount: CNY {amount}\nPaid to: {hospital}\nAdmission date: {admission}\n\n"
        "Questions: call 1010-8686.\n\nThis is an automatic message; please do not reply."
        "\n\n{brand}\n",
    ),
    ("declined", "zh"): (
        "住院垫付未批准",
        "您的住院垫付申请未获批准。原因：{reason}",
        "[{brand}]您的住院垫付申请未获批准，原因：{reason}。如有疑问，请致电1010-8686。回0000退订短信",
        "尊敬的{name}先生/女士：\n\n您的住院垫付申请（{reference}）未获批准。\n\n原因：{full_reason}"
        "\n\n如有疑问，请致电1010-8686。\n\n本邮件为系统邮件，请勿回复。\n\n{brand}\n",
    ),
    ("declined", "en"): (
        "Advance payment declined",
        "Your inpatient advance payment was declined. Reason: {reason}",
        "[{brand}] Your inpatient advance payment was declined. Reason: {reason}. "
        "Questions: 1010-8686.",
        "Dear {name},\n\nYour inpatient advance payment request ({reference}) was declined."
        "\n\nReason: {full_reason}\n\nQuestions: call 1010-8686.\n\n"
        "This is an automatic message; please do not reply.\n\n{brand}\n",
    ),
}


def _announce(db: Session, cx: ClaimContext, a: AdvancePayment, now: datetime.datetime) -> None:
    account = db.get(Account, a.account_id)
    if account is None:
        return
    lang = language_of(account)
    title, body, sms, email = _TEXTS[(a.status, lang)]
    values = {
        "brand": BRAND[lang],
        "amount": yuan(a.approved_fen),
        "hospital": a.pay_to,
        "reason": " ".join(a.decision_reason.split())[:60],
        "full_reason": a.decision_reason,
        "name": cx.vault.decrypt(a.applicant_name_enc).strip(),
        "reference": KIND.reference(a.id),
        "admission": a.admission_date.isoformat(),
        "hospital_name": a.hospital_name,
    }
    tell(
        db,
        cx,
        account,
        mobile=cx.vault.decrypt(a.applicant_mobile_enc),
        kind=f"advance_payment.{a.status}",
        subject_type="advance_payment",
        subject_id=a.id,
        lang=lang,
        title=title,
        message=body.format_map({**values, "reason": a.decision_reason}),
        sms=sms.format_map(values),
        email_subject=f"【{BRAND['zh']}】{title}" if lang == "zh" else f"[{BRAND['en']}] {title}",
        email_body=email.format_map(values),
        dedupe=f"advance_payment.{a.status}:{a.id}",
        now=now,
    )
