"""申请补卡 (seed §9.6): a new physical direct-billing card, for high-end policies only.

The member gives the mobile, the delivery address (province, city and district from the
administrative divisions, and the street), a 6-digit postcode and the reason (lost,
damaged, or other with a text); the coordinator desk posts the card with a tracking
number (the member is told by SMS, e-mail and in the app) and marks it delivered. One open
request per card.
"""

from __future__ import annotations

import datetime
import re

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.accounts.validation import mobile_problem, normalise_mobile
from server.billing.appointments import own_policy, require_person
from server.billing.errors import AppointmentRuleBroken, AppointmentStateConflict, ReissueNotFound
from server.billing.models import CardReissue, ReissueReason, ReissueStatus
from server.claims.announcements import BRAND, language_of, tell
from server.claims.core import ClaimContext
from server.claims.models import Adjuster
from server.divisions import divisions, normalise
from server.errors import FieldProblem, ValidationFailed
from server.policies.models import Policy
from server.workdays import china_date

S = ReissueStatus
_POSTCODE = re.compile(r"^\d{6}$")
_TRACKING = re.compile(r"^[A-Za-z0-9-]{6,40}$")
STREET_MAX = 120
REASON_TEXT_MAX = 200


def request(
    db: Session,
    cx: ClaimContext,
    account: Account,
    *,
    policy_id: int,
    mobile: str,
    province_code: str,
    city_code: str,
    district_code: str,
    street: str,
    postcode: str,
    reason: ReissueReason,
    reason_text: str = "",
) -> CardReissue:
    now = cx.now()
    problems: list[FieldProblem] = []
    number = normalise_mobile(mobile)
    if (p := mobile_problem(number, "mobile")) is not None:
        problems.append(p)
    wrong = divisions().address_problem(province_code, city_code, district_code)
    if wrong is not None:
        problems.append(
            FieldProblem(wrong, "Choose from the list of divisions.", "INVALID_DIVISION")
        )
    if not street.strip() or len(street.strip()) > STREET_MAX:
        problems.append(
            FieldProblem(
                "street", f"Give the street address (up to {STREET_MAX} characters).", "REQUIRED"
            )
        )
    if not _POSTCODE.match(postcode.strip()):
        problems.append(FieldProblem("postcode", "A postcode has 6 digits.", "INVALID_POSTCODE"))
    text = reason_text.strip()
    if reason is ReissueReason.OTHER and not text:
        problems.append(FieldProblem("reasonText", "Say why a new card is needed.", "REQUIRED"))
    if len(text) > REASON_TEXT_MAX:
        problems.append(
            FieldProblem("reasonText", f"At most {REASON_TEXT_MAX} characters.", "TOO_LONG")
        )
    if problems:
        raise ValidationFailed(problems)
    policy = own_policy(db, account, policy_id, china_date(now))
    key = str(policy.id)
    if db.scalar(select(CardReissue.id).where(CardReissue.open_key == key)) is not None:
        raise _duplicate()
    row = CardReissue(
        account_id=account.id,
        policy_id=policy.id,
        mobile_enc=cx.vault.encrypt(number),
        # stored in 6 digits (the 12-digit code's last six are zeros at these levels)
        province_code=_adcode(province_code),
        city_code=_adcode(city_code),
        district_code=_adcode(district_code),
        street_enc=cx.vault.encrypt(street.strip()),
        postcode=postcode.strip(),
        reason=reason.value,
        reason_text=text,
        status=S.SUBMITTED.value,
        open_key=key,
        created_at=now,
    )
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:
        raise _duplicate() from None
    _announce(db, cx, row, "submitted", now)  # the receipt: SMS, e-mail, in-app
    return row


def _duplicate() -> AppointmentRuleBroken:
    return AppointmentRuleBroken(
        "DUPLICATE_REISSUE", "A new card for this policy is already on its way.", field="policyId"
    )


def _visible(account: Account) -> list[ColumnElement[bool]]:
    person_id = require_person(account)
    return [
        CardReissue.policy_id == Policy.id,
        or_(Policy.insured_id == person_id, Policy.main_insured_id == person_id),
    ]


def reissues(db: Session, account: Account) -> list[CardReissue]:
    """The member's requests (and their dependants'), newest first."""
    return list(
        db.scalars(
            select(CardReissue)
            .join(Policy, CardReissue.policy_id == Policy.id)
            .where(*_visible(account))
            .order_by(CardReissue.id.desc())
            .limit(100)
        )
    )


def desk_list(db: Session, status: ReissueStatus, *, limit: int = 100) -> list[CardReissue]:
    """The coordinator's list: requests of one status, oldest first."""
    return list(
        db.scalars(
            select(CardReissue)
            .where(CardReissue.status == status.value)
            .order_by(CardReissue.created_at, CardReissue.id)
            .limit(limit)
        )
    )


def _get(db: Session, reissue_id: int) -> CardReissue:
    row = db.scalar(select(CardReissue).where(CardReissue.id == reissue_id).with_for_update())
    if row is None:
        raise ReissueNotFound("No card reissue has this id.")
    return row


def mark_posted(
    db: Session, cx: ClaimContext, coordinator: Adjuster, reissue_id: int, *, tracking_no: str
) -> CardReissue:
    row = _get(db, reissue_id)
    if row.status != S.SUBMITTED.value:
        raise AppointmentStateConflict(f"The request is {row.status}; it cannot be posted now.")
    tracking = tracking_no.strip()
    if not _TRACKING.match(tracking):
        raise ValidationFailed(
            [FieldProblem("trackingNo", "6 to 40 letters, digits or '-'.", "INVALID_TRACKING_NO")]
        )
    now = cx.now()
    row.status, row.tracking_no, row.posted_at = S.POSTED.value, tracking, now
    db.flush()
    _announce(db, cx, row, "posted", now)
    return row


def mark_delivered(
    db: Session, cx: ClaimContext, coordinator: Adjuster, reissue_id: int
) -> CardReissue:
    row = _get(db, reissue_id)
    if row.status != S.POSTED.value:
        raise AppointmentStateConflict(f"The request is {row.status}; post it first.")
    now = cx.now()
    row.status, row.delivered_at, row.open_key = S.DELIVERED.value, now, None
    db.flush()
    _announce(db, cx, row, "delivered", now)
    return row


# (title, in-app message, SMS, e-mail body) per event and language
_TEXTS = {
    "submitted": {
        "zh": (
            "直付卡补办申请已提交",
            "您的直付卡补办申请已提交，寄出后我们将告知快递单号。",
            "[{brand}]您的直付卡补办申请已提交，寄出后将以短信告知快递单号。"
            "如非本人操作，请致电{line}。回0000退订短信",
            "尊敬的客户：\n\n您的直付卡补办申请已提交，寄出后我们将以短信及邮件告知快递单号。"
            "\n\n如非本人操作，请致电{line}。\n\n本邮件为系统邮件，请勿回复。\n\n{brand}\n",
        ),
        "en": (
            "Card reissue requested",
            "Your request for a new direct-billing card is submitted; we will send the "
            "tracking number once it is posted.",
            "[{brand}] Your request for a new direct-billing card is submitted; we will text "
            "the tracking number once it is posted. Not you? Call {line}.",
            "Dear client,\n\nYour request for a new direct-billing card is submitted; we "
            "will send the tracking number by SMS and e-mail once it is posted.\n\n"
            "Not you? Call {line}.\n\nThis is an automatic message; please do not reply."
            "\n\n{brand}\n",
        ),
    },
    "posted": {
        "zh": (
            "直付卡已寄出",
            "您申请补办的直付卡已寄出，快递单号 {tracking}。",
            "[{brand}]您申请补办的直付卡已寄出，快递单号{tracking}，请注意查收。"
            "如有疑问，请致电{line}。回0000退订短信",
            "尊敬的客户：\n\n您申请补办的直付卡已寄出，快递单号：{tracking}，请注意查收。"
            "\n\n收到新卡后，原直付卡即停止使用。如有疑问，请致电{line}。"
            "\n\n本邮件为系统邮件，请勿回复。\n\n{brand}\n",
        ),
        "en": (
            "Card posted",
            "Your new direct-billing card is posted: tracking number {tracking}.",
            "[{brand}] Your new direct-billing card is posted: tracking number {tracking}. "
            "Questions: {line}.",
            "Dear client,\n\nYour new direct-billing card is posted: tracking number "
            "{tracking}.\n\nOnce it arrives, the old card is no longer valid. Questions: "
            "call {line}.\n\nThis is an automatic message; please do not reply.\n\n{brand}\n",
        ),
    },
    "delivered": {
        "zh": ("直付卡已送达", "您申请补办的直付卡已送达（快递单号 {tracking}）。", "", ""),
        "en": (
            "Card delivered",
            "Your new direct-billing card was delivered (tracking number {tracking}).",
            "",
            "",
        ),
    },
}
_SUBJECTS = {"zh": "【{brand}】{title}", "en": "[{brand}] {title}"}


def _announce(
    db: Session, cx: ClaimContext, row: CardReissue, event: str, now: datetime.datetime
) -> None:
    account = db.get(Account, row.account_id)
    if account is None:
        return
    lang = language_of(account)
    title, body, sms, email = _TEXTS[event][lang]
    values = {"brand": BRAND[lang], "tracking": row.tracking_no or "", "line": "1010-8686"}
    tell(
        db,
        cx,
        account,
        mobile=cx.vault.decrypt(row.mobile_enc),
        kind=f"card_reissue.{event}",
        subject_type="card_reissue",
        subject_id=row.id,
        lang=lang,
        title=title,
        message=body.format_map(values),
        sms=sms.format_map(values),
        email_subject=_SUBJECTS[lang].format(brand=BRAND[lang], title=title),
        email_body=email.format_map(values),
        dedupe=f"card_reissue.{event}:{row.id}",
        now=now,
    )


def _adcode(code: str) -> str:
    return normalise(code)[:6]
