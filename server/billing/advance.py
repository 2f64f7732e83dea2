"""Inpatient advance payment (住院垫付, seed §10 screenshot), for high-end policies.

The member chooses the insured person's policy, the hospital (from the directory by id,
or typed when it is not listed), the admission date and a description; the applicant's
name, sex, ID number (masked in every answer) and mobile come from the record; an SMS
code sent to that mobile (resend after 120 s, as everywhere) confirms the request. The
coordinator desk approves it with the amount and the hospital to be paid, or declines it
with a reason; the member is told by SMS and in the app, and follows a timeline.

Asking for documents (the claims' supplement machinery) is not wired here: that machinery
is bound to claims (its requests, portal sessions and uploads name a claim).
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server.accounts.models import Account
from server.accounts.sms_codes import Purpose, SentCode
from server.billing.appointments import own_policy, require_person
from server.billing.errors import AdvanceNotFound, AppointmentRuleBroken, AppointmentStateConflict
from server.billing.models import AdvancePayment, AdvancePaymentEvent, AdvanceStatus
from server.claims.announcements import BRAND, language_of
from server.claims.core import ClaimContext
from server.claims.models import Adjuster
from server.directory.directory import Directory
from server.errors import FieldProblem, ValidationFailed
from server.messages import service as messages
from server.notify import outbox
from server.policies.models import Policy
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


def _get(db: Session, advance_id: int) -> AdvancePayment:
    a = db.scalar(select(AdvancePayment).where(AdvancePayment.id == advance_id).with_for_update())
    if a is None:
        raise AdvanceNotFound("No advance payment request has this id.")
    if a.status != S.SUBMITTED.value:
        raise AppointmentStateConflict(f"The request is {a.status} already.")
    return a


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
    db.flush()
    _announce(db, cx, a, now)
    return a


def yuan(fen: int | None) -> str:
    return "" if fen is None else f"{fen // 100:,}.{fen % 100:02d}"


_TEXTS = {
    ("approved", "zh"): (
        "住院垫付已批准",
        "您的住院垫付申请已批准：{amount} 元，将直接支付给{hospital}。",
        "[{brand}]您的住院垫付申请已批准，垫付金额{amount}元，将直接支付给{hospital}。"
        "如有疑问，请致电1010-8686。回0000退订短信",
    ),
    ("approved", "en"): (
        "Advance payment approved",
        "Your inpatient advance payment is approved: CNY {amount}, paid to {hospital}.",
        "[{brand}] Your inpatient advance payment is approved: CNY {amount}, paid to "
        "{hospital}. Questions: 1010-8686.",
    ),
    ("declined", "zh"): (
        "住院垫付未批准",
        "您的住院垫付申请未获批准。原因：{reason}",
        "[{brand}]您的住院垫付申请未获批准，原因：{reason}。如有疑问，请致电1010-8686。回0000退订短信",
    ),
    ("declined", "en"): (
        "Advance payment declined",
        "Your inpatient advance payment was declined. Reason: {reason}",
        "[{brand}] Your inpatient advance payment was declined. Reason: {reason}. "
        "Questions: 1010-8686.",
    ),
}


def _announce(db: Session, cx: ClaimContext, a: AdvancePayment, now: datetime.datetime) -> None:
    account = db.get(Account, a.account_id)
    if account is None:
        return
    lang = language_of(account)
    title, body, sms = _TEXTS[(a.status, lang)]
    values = {
        "brand": BRAND[lang],
        "amount": yuan(a.approved_fen),
        "hospital": a.pay_to,
        "reason": " ".join(a.decision_reason.split())[:60],
    }
    key = f"advance_payment.{a.status}:{a.id}"
    outbox.enqueue(
        db,
        outbox.Channel.SMS,
        cx.vault.decrypt(a.applicant_mobile_enc),
        "",
        sms.format_map(values),
        f"{key}:sms",
        vault=cx.vault,
        now=now,
    )
    messages.post(
        db,
        account_id=account.id,
        kind=f"advance_payment.{a.status}",
        subject_type="advance_payment",
        subject_id=a.id,
        language=lang,
        title=title,
        body=body.format_map({**values, "reason": a.decision_reason}),
        dedupe_key=f"{key}:app",
        now=now,
    )
