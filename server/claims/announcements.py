"""Tell the claimant what happened to a claim: SMS, e-mail and the in-app message centre.

Every status change of a claim (submitted, documents asked for, documents received,
settled with its amounts, paid, rejected with its reason, withdrawn) is written here, in the same
transaction as the change: the outbox delivers the SMS and e-mail afterwards, the message
centre shows the in-app message at once. The texts follow the insurer's SMS style (seed
§5.2) in the language the member chose (zh by default, en), and name the insured person,
so they go only into the encrypted outbox; the in-app message names no one.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.claims.core import ClaimContext, contact_of
from server.claims.models import Claim
from server.crypto import mask_account
from server.messages import service as messages
from server.notify import outbox
from server.notify.templates import HOTLINE

BRAND = {"zh": "太平洋保险", "en": "CPIC"}
HOTLINE_SHOWN = {"zh": HOTLINE, "en": "1010-8686"}
PAYMENT_WORKING_DAYS = "2-3"  # seed §12 Q7: payment 2-3 working days after settlement


class Event(StrEnum):
    SUBMITTED = "claim.submitted"
    SUPPLEMENT_REQUESTED = "claim.supplement_requested"
    SUPPLEMENT_RECEIVED = "claim.supplement_received"
    SETTLED = "claim.settled"
    PAID = "claim.paid"
    REJECTED = "claim.rejected"
    WITHDRAWN = "claim.withdrawn"


@dataclass(frozen=True, slots=True)
class Facts:
    """What a text may say; filled from the claim by `announce`."""

    name: str  # the insured person: SMS and e-mail only
    claim_no: str
    approved: str = ""  # yuan, e.g. 1,234.50
    paid: str = ""
    deductions: str = ""  # one line per deduction, e-mail only
    reason: str = ""
    link: str = ""  # the supplement link
    deadline: str = ""
    paid_on: str = ""  # the day the bank paid
    payee: str = ""  # masked: the bank and the account's last 4 digits


# (title, in-app body, SMS, e-mail body) per event and language; {brand} and {hotline} are
# filled in for every text, the rest from Facts.
TEXTS: Mapping[Event, Mapping[str, tuple[str, str, str, str]]] = {
    Event.SUBMITTED: {
        "zh": (
            "理赔申请已提交",
            "您的理赔申请已提交，赔案号 {claim_no}。审核结果将通过短信通知您。",
            "[{brand}]尊敬的{name}，您的理赔申请已提交，赔案号{claim_no}。"
            "审核结果将通过短信通知您。若有疑问，请咨询我司客服热线{hotline}。回0000退订短信",
            "尊敬的{name}先生/女士：\n\n您的理赔申请已提交，赔案号 {claim_no}。"
            "资料齐全的案件在提交后 10 个工作日内结案，审核结果将通过短信通知您。\n\n"
            "如有疑问，请致电{hotline}。\n\n本邮件为系统邮件，请勿回复。\n\n{brand}\n",
        ),
        "en": (
            "Claim submitted",
            "Your claim is submitted: claim number {claim_no}. We will tell you the outcome by SMS.",
            "[{brand}] Dear {name}, your claim is submitted: claim number {claim_no}. "
            "We will tell you the outcome by SMS. Questions: hotline {hotline}.",
            "Dear {name},\n\nYour claim is submitted: claim number {claim_no}. A claim with "
            "complete documents is settled within 10 working days of submission; we will "
            "tell you the outcome by SMS.\n\nQuestions: call {hotline}.\n\n"
            "This is an automatic message; please do not reply.\n\n{brand}\n",
        ),
    },
    Event.SUPPLEMENT_REQUESTED: {
        "zh": (
            "请补充理赔资料",
            "赔案 {claim_no} 需要补充资料，请于 {deadline} 前上传。",
            "",  # the seed's own SMS and e-mail are sent by server/claims/supplements.py
            "",
        ),
        "en": (
            "Please send more documents",
            "Claim {claim_no} needs more documents. Please upload them by {deadline}.",
            "",
            "",
        ),
    },
    Event.SUPPLEMENT_RECEIVED: {
        "zh": (
            "已收到补充资料",
            "已收到赔案 {claim_no} 的补充资料，我们将尽快继续审核。",
            "[{brand}]尊敬的{name}，我们已收到您为赔案{claim_no}补充的资料，将尽快继续审核。"
            "若有疑问，请咨询我司客服热线{hotline}。回0000退订短信",
            "尊敬的{name}先生/女士：\n\n我们已收到您为赔案 {claim_no} 补充的资料，"
            "将在收到之日起 10 个工作日内结案。\n\n如有疑问，请致电{hotline}。\n\n"
            "本邮件为系统邮件，请勿回复。\n\n{brand}\n",
        ),
        "en": (
            "Documents received",
            "We have the documents you sent for claim {claim_no} and are reviewing it again.",
            "[{brand}] Dear {name}, we have the documents you sent for claim {claim_no} and "
            "are reviewing it again. Questions: hotline {hotline}.",
            "Dear {name},\n\nWe have the documents you sent for claim {claim_no}. The claim "
            "is settled within 10 working days of receiving them.\n\nQuestions: call "
            "{hotline}.\n\nThis is an automatic message; please do not reply.\n\n{brand}\n",
        ),
    },
    Event.SETTLED: {
        "zh": (
            "理赔已结案",
            "赔案 {claim_no} 已结案：核定 {approved} 元，赔付 {paid} 元，"
            "理赔款将于结案后 " + PAYMENT_WORKING_DAYS + " 个工作日内支付。",
            "[{brand}]尊敬的{name}，您的赔案{claim_no}已结案，核定金额{approved}元，"
            "赔付金额{paid}元，理赔款将于" + PAYMENT_WORKING_DAYS + "个工作日内支付。"
            "若有疑问，请咨询我司客服热线{hotline}。回0000退订短信",
            "尊敬的{name}先生/女士：\n\n您的赔案 {claim_no} 已结案。\n\n"
            "核定金额：{approved} 元\n赔付金额：{paid} 元\n{deductions}\n"
            "理赔款将于结案后 " + PAYMENT_WORKING_DAYS + " 个工作日内支付到您的收款账户；"
            "理赔结果通知书可在 APP 的理赔进度中查看。\n\n如有疑问，请致电{hotline}。\n\n"
            "本邮件为系统邮件，请勿回复。\n\n{brand}\n",
        ),
        "en": (
            "Claim settled",
            "Claim {claim_no} is settled: CNY {approved} approved, CNY {paid} to be paid "
            "within " + PAYMENT_WORKING_DAYS + " working days.",
            "[{brand}] Dear {name}, claim {claim_no} is settled: approved CNY {approved}, "
            "paid CNY {paid}, within " + PAYMENT_WORKING_DAYS + " working days. "
            "Questions: hotline {hotline}.",
            "Dear {name},\n\nClaim {claim_no} is settled.\n\nApproved: CNY {approved}\n"
            "Paid: CNY {paid}\n{deductions}\nThe payment reaches your payee account within "
            + PAYMENT_WORKING_DAYS
            + " working days of settlement; the settlement notice is in the app under your "
            "claims.\n\nQuestions: call {hotline}.\n\n"
            "This is an automatic message; please do not reply.\n\n{brand}\n",
        ),
    },
    Event.PAID: {
        "zh": (
            "理赔款已支付",
            "赔案 {claim_no} 的理赔款 {paid} 元已于 {paid_on} 支付至 {payee}。",
            "[{brand}]尊敬的{name}，您的赔案{claim_no}理赔款{paid}元已于{paid_on}支付至{payee}，"
            "请注意查收。若有疑问，请咨询我司客服热线{hotline}。回0000退订短信",
            "尊敬的{name}先生/女士：\n\n您的赔案 {claim_no} 的理赔款已支付。\n\n"
            "支付金额：{paid} 元\n支付日期：{paid_on}\n收款账户：{payee}\n\n"
            "请注意查收。如有疑问，请致电{hotline}。\n\n本邮件为系统邮件，请勿回复。\n\n{brand}\n",
        ),
        "en": (
            "Claim paid",
            "CNY {paid} for claim {claim_no} was paid on {paid_on} to {payee}.",
            "[{brand}] Dear {name}, CNY {paid} for claim {claim_no} was paid on {paid_on} "
            "to {payee}. Questions: hotline {hotline}.",
            "Dear {name},\n\nThe payment for claim {claim_no} has been made.\n\n"
            "Amount: CNY {paid}\nDate: {paid_on}\nPayee account: {payee}\n\n"
            "Questions: call {hotline}.\n\nThis is an automatic message; please do not "
            "reply.\n\n{brand}\n",
        ),
    },
    Event.REJECTED: {
        "zh": (
            "理赔未予赔付",
            "赔案 {claim_no} 经审核不予赔付。原因：{reason}",
            "[{brand}]尊敬的{name}，您的赔案{claim_no}经审核不予赔付，原因：{reason}。"
            "若有疑问，请咨询我司客服热线{hotline}。回0000退订短信",
            "尊敬的{name}先生/女士：\n\n您的赔案 {claim_no} 经审核不予赔付。\n\n"
            "原因：{reason}\n\n如有疑问，请致电{hotline}。\n\n本邮件为系统邮件，请勿回复。\n\n"
            "{brand}\n",
        ),
        "en": (
            "Claim not paid",
            "Claim {claim_no} cannot be paid. Reason: {reason}",
            "[{brand}] Dear {name}, claim {claim_no} cannot be paid. Reason: {reason}. "
            "Questions: hotline {hotline}.",
            "Dear {name},\n\nClaim {claim_no} cannot be paid.\n\nReason: {reason}\n\n"
            "Questions: call {hotline}.\n\nThis is an automatic message; please do not "
            "reply.\n\n{brand}\n",
        ),
    },
    Event.WITHDRAWN: {
        "zh": (
            "理赔申请已撤案",
            "赔案 {claim_no} 已按您的申请撤案，不再审核。",
            "[{brand}]尊敬的{name}，您的赔案{claim_no}已按您的申请撤案。如非本人操作，"
            "请立即致电我司客服热线{hotline}。回0000退订短信",
            "尊敬的{name}先生/女士：\n\n您的赔案 {claim_no} 已按您的申请撤案，不再审核。"
            "如需理赔，可重新申请。\n\n如非本人操作，请立即致电{hotline}。\n\n"
            "本邮件为系统邮件，请勿回复。\n\n{brand}\n",
        ),
        "en": (
            "Claim withdrawn",
            "Claim {claim_no} is withdrawn at your request and will not be reviewed.",
            "[{brand}] Dear {name}, claim {claim_no} is withdrawn at your request. "
            "Not you? Call our hotline {hotline} now.",
            "Dear {name},\n\nClaim {claim_no} is withdrawn at your request and will not be "
            "reviewed. You may claim again.\n\nNot you? Call {hotline} now.\n\n"
            "This is an automatic message; please do not reply.\n\n{brand}\n",
        ),
    },
}

SUBJECTS = {
    "zh": "【{brand}】{title}（赔案号：{claim_no}）",
    "en": "[{brand}] {title} ({claim_no})",
}
# the reason as the SMS carries it (the e-mail and the app carry it whole)
SMS_REASON_MAX = 60


@dataclass(frozen=True, slots=True)
class Rendered:
    title: str
    message: str
    sms: str
    email_subject: str
    email_body: str


def render(event: Event, lang: str, facts: Facts) -> Rendered:
    title, message, sms, email = TEXTS[event][lang]
    values = {
        "brand": BRAND[lang],
        "hotline": HOTLINE_SHOWN[lang],
        "name": facts.name,
        "claim_no": facts.claim_no,
        "approved": facts.approved,
        "paid": facts.paid,
        "deductions": facts.deductions,
        "reason": facts.reason,
        "link": facts.link,
        "deadline": facts.deadline,
        "paid_on": facts.paid_on,
        "payee": facts.payee,
    }
    sms_values = {**values, "reason": _cut(" ".join(facts.reason.split()), SMS_REASON_MAX)}
    return Rendered(
        title=title,
        message=message.format_map(values),
        sms=sms.format_map(sms_values) if sms else "",
        email_subject=SUBJECTS[lang].format(brand=BRAND[lang], title=title, claim_no=facts.claim_no)
        if email
        else "",
        email_body=email.format_map(values) if email else "",
    )


def language_of(account: Account | None) -> str:
    lang = getattr(account, "preferred_language", None)
    return lang if lang in messages.LANGUAGES else "zh"


@dataclass(frozen=True, slots=True)
class Recipient:
    """Whom a claim's texts go to: the in-app message to `account` (none for a paper claim
    of a person without the app), SMS and e-mail to the claim's contact."""

    account: Account | None
    phone: str
    email: str
    language: str


def recipient(db: Session, cx: ClaimContext, claim: Claim) -> Recipient:
    """A member's claim: their account, mobile and contact e-mail. A paper claim the office
    entered (no account on it): the contact typed on it, and for the in-app message the
    insured person's own account, or, for a dependant without one, the main insured's."""
    vault = cx.vault
    account = db.get(Account, claim.account_id) if claim.account_id is not None else None
    if account is None and claim.account_id is None:
        account = db.scalar(select(Account).where(Account.person_id == claim.insured_id).limit(1))
        main = claim.policy.main_insured_id
        if account is None and main is not None and main != claim.insured_id:
            # a dependant without the app (a child): the main insured, who sees the
            # dependants' policies in the app (seed 000 §3 2)①) and claims for minor
            # children (§4 注1), gets the in-app message
            account = db.scalar(select(Account).where(Account.person_id == main).limit(1))
    phone = vault.decrypt(claim.contact_phone_enc).strip() if claim.contact_phone_enc else ""
    email = vault.decrypt(claim.contact_email_enc).strip() if claim.contact_email_enc else ""
    if account is not None and not phone:
        phone = vault.decrypt(account.phone_enc)
    if account is not None and not email and claim.account_id is not None:
        contact = contact_of(db, account.id)  # read once per request
        email = vault.decrypt(contact.email_enc).strip() if contact is not None else ""
    if account is not None:
        lang = language_of(account)
    else:
        lang = claim.contact_language if claim.contact_language in messages.LANGUAGES else "zh"
    return Recipient(account=account, phone=phone, email=email, language=lang)


def announce(
    db: Session,
    cx: ClaimContext,
    claim: Claim,
    event: Event,
    now: datetime.datetime,
    *,
    key: str,
    deadline: datetime.date | None = None,
    paid_on: datetime.date | None = None,
) -> None:
    """Queue the SMS and e-mail and post the in-app message for one change of `claim`.

    `key` tells one change from another of the same kind (an event id): the same key twice
    (a retried request) writes nothing more.
    """
    if claim.claim_no is None:
        return  # a draft has no claimant-facing life yet
    to = recipient(db, cx, claim)
    lang = to.language
    facts = Facts(
        name=cx.vault.decrypt(claim.insured.name_enc).strip(),
        claim_no=claim.claim_no,
        approved=_yuan(claim.approved_fen),
        paid=_yuan(claim.paid_fen),
        deductions=_deductions(claim, lang) if event is Event.SETTLED else "",  # e-mail of SETTLED
        reason=(claim.decision_reason or "").strip(),
        deadline=_date(deadline, lang) if deadline else "",
        paid_on=_date(paid_on, lang) if paid_on else "",
        payee=masked_payee(cx, claim, lang) if paid_on else "",
    )
    text = render(event, lang, facts)
    tell(
        db,
        cx,
        to.account,
        mobile=to.phone,
        email=to.email,
        kind=event.value,
        subject_type="claim",
        subject_id=claim.id,
        lang=lang,
        title=text.title,
        message=text.message,
        sms=text.sms,
        email_subject=text.email_subject,
        email_body=text.email_body,
        dedupe=f"{event.value}:{claim.id}:{key}",
        now=now,
    )


def tell(
    db: Session,
    cx: ClaimContext,
    account: Account | None,
    *,
    mobile: str,
    email: str | None = None,
    kind: str,
    subject_type: str,
    subject_id: int,
    lang: str,
    title: str,
    message: str,
    sms: str = "",
    email_subject: str = "",
    email_body: str = "",
    dedupe: str,
    app_dedupe: str | None = None,
    now: datetime.datetime,
) -> None:
    """Tell someone one thing on every channel: the SMS to `mobile`, the e-mail to `email`
    (None: the address of the account's contact record, when they gave one), the in-app
    message to `account` (None: a paper claim's claimant without the app).

    Used for claims and for every service request (direct billing, pre-authorisation,
    self-service administration). `dedupe` names the change: the same one twice (a
    retried request) writes nothing more (`app_dedupe`, when given, names the in-app
    message apart: one per step where the SMS is one per kind). Empty `sms` or
    `email_body` skip that channel.
    The SMS and e-mail may name the person (they live only in the encrypted outbox); the
    in-app `message` must not.
    """
    queued: list[tuple[outbox.Channel | str, str, str, str, str]] = []
    if sms and mobile:
        queued.append((outbox.Channel.SMS, mobile, "", sms, f"{dedupe}:sms"))
    if email is None and account is not None:
        contact = contact_of(db, account.id)
        email = cx.vault.decrypt(contact.email_enc).strip() if contact is not None else ""
    if email_body and email:
        queued.append((outbox.Channel.EMAIL, email, email_subject, email_body, f"{dedupe}:email"))
    if account is None:
        outbox.enqueue_all(db, queued, vault=cx.vault, now=now)  # one statement for both
        return  # no app account: SMS and e-mail only
    in_app: dict[str, Any] = {
        "account_id": account.id,
        "kind": kind,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "language": lang,
        "title": title,
        "body": message,
        "dedupe_key": app_dedupe or f"{dedupe}:app",
        "now": now,
    }
    if db.get_bind().dialect.name == "postgresql":
        # one statement: the in-app message's INSERT, the SMS and e-mail rows a CTE of it
        queue = outbox.queue_statement(db, queued, vault=cx.vault, now=now)
        post = messages.POST if queue is None else messages.POST.add_cte(queue.cte("queued"))
        db.execute(post, messages.post_values(**in_app))
        return
    outbox.enqueue_all(db, queued, vault=cx.vault, now=now)  # one statement for both
    messages.post(db, **in_app)


def _yuan(fen: int | None) -> str:
    return "" if fen is None else f"{fen // 100:,}.{fen % 100:02d}"


def masked_payee(cx: ClaimContext, claim: Claim, lang: str) -> str:
    """The payee masked: the bank and the account's last 4 digits."""
    payee = claim.payee
    if payee is None:
        return "您的收款账户" if lang == "zh" else "your payee account"
    number = mask_account(cx.vault.decrypt(payee.account_no_enc))
    return f"{payee.bank_name}（{number}）" if lang == "zh" else f"{payee.bank_name} ({number})"


def _deductions(claim: Claim, lang: str) -> str:
    if not claim.deductions:
        return ""
    head = "扣除：" if lang == "zh" else "Deducted:"
    unit = " 元" if lang == "zh" else ""
    cur = "" if lang == "zh" else "CNY "
    lines = [f"  {cur}{_yuan(d.amount_fen)}{unit} {d.reason}" for d in claim.deductions]
    return "\n".join([head, *lines]) + "\n"


def _date(day: datetime.date, lang: str) -> str:
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {day:%B} {day.year}"


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
