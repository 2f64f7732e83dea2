"""Tell the member of each change of an appointment: SMS, e-mail, in-app.

The member's own steps (booked, cancelled) are acknowledged; each coordinator decision
(confirmed, another time proposed, declined) is announced.

Written in the same transaction as the decision (the outbox delivers the SMS and e-mail
afterwards), in the member's language (zh by default, en), in the insurer's SMS style.
The SMS and e-mail greet the applicant by name and so go only into the encrypted
outbox; the in-app message names no one.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from enum import StrEnum

from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.billing.models import Appointment
from server.claims.announcements import BRAND, language_of, tell
from server.claims.core import ClaimContext

BOOKING_LINE = "1010-8686"
SMS_REASON_MAX = 60


class Event(StrEnum):
    SUBMITTED = "appointment.submitted"
    CANCELLED = "appointment.cancelled"
    CONFIRMED = "appointment.confirmed"
    TIME_PROPOSED = "appointment.time_proposed"
    DECLINED = "appointment.declined"


_TIME = {
    "zh": {"morning": "上午", "afternoon": "下午"},
    "en": {"morning": "morning", "afternoon": "afternoon"},
}

# (title, in-app body, SMS, e-mail body) per event and language
TEXTS: Mapping[Event, Mapping[str, tuple[str, str, str, str]]] = {
    Event.SUBMITTED: {
        "zh": (
            "直付就诊预约已提交",
            "您的直付就诊预约已提交：{date} {time}，{hospital}{department}。"
            "我们将与医院确认后通知您结果。",
            "[{brand}]尊敬的{name}，您的直付就诊预约已提交：{date} {time}，{hospital}"
            "{department}。我们将与医院确认后以短信通知您。如有疑问，请致电{line}。回0000退订短信",
            "尊敬的{name}先生/女士：\n\n您的直付就诊预约已提交，我们将与医院确认后通知您结果。"
            "\n\n就诊日期：{date}\n就诊时间：{time}\n就诊医院：{hospital}\n就诊科室：{department}"
            "\n\n如有疑问，请致电{line}。\n\n本邮件为系统邮件，请勿回复。\n\n{brand}\n",
        ),
        "en": (
            "Appointment request received",
            "Your direct-billing appointment request is received: {date} {time}, {hospital}, "
            "{department}. We will tell you once the hospital confirms it.",
            "[{brand}] Dear {name}, your appointment request for {date} {time} at {hospital}, "
            "{department} is received. We will text you once the hospital confirms it. "
            "Questions: {line}.",
            "Dear {name},\n\nYour direct-billing appointment request is received; we will "
            "tell you once the hospital confirms it.\n\nDate: {date}\nTime: {time}\n"
            "Hospital: {hospital}\nDepartment: {department}\n\nQuestions: call {line}.\n\n"
            "This is an automatic message; please do not reply.\n\n{brand}\n",
        ),
    },
    Event.CANCELLED: {
        "zh": (
            "直付就诊预约已取消",
            "您已取消{date}在{hospital}的直付就诊预约。",
            "[{brand}]尊敬的{name}，您已取消{date}在{hospital}的直付就诊预约。"
            "如非本人操作，请致电{line}。回0000退订短信",
            "尊敬的{name}先生/女士：\n\n您已取消{date}在{hospital}{department}的直付就诊预约。"
            "\n\n如非本人操作，请致电{line}。\n\n本邮件为系统邮件，请勿回复。\n\n{brand}\n",
        ),
        "en": (
            "Appointment cancelled",
            "You cancelled your direct-billing appointment on {date} at {hospital}.",
            "[{brand}] Dear {name}, you cancelled your appointment on {date} at {hospital}. "
            "If this was not you, call {line}.",
            "Dear {name},\n\nYou cancelled your direct-billing appointment on {date} at "
            "{hospital} ({department}).\n\nIf this was not you, call {line}.\n\n"
            "This is an automatic message; please do not reply.\n\n{brand}\n",
        ),
    },
    Event.CONFIRMED: {
        "zh": (
            "直付就诊预约成功",
            "您的直付就诊预约已确认：{date} {time}，{hospital}{department}{doctor}。"
            "请携带直付卡实体卡及有效身份证件按时就诊。",
            "[{brand}]尊敬的{name}，您的直付就诊预约已确认：{date} {time}，{hospital}"
            "{department}{doctor}。请携带直付卡实体卡及有效身份证件按时就诊。"
            "如需取消请于就诊前一日前操作或致电{line}。回0000退订短信",
            "尊敬的{name}先生/女士：\n\n您的直付就诊预约已确认。\n\n就诊日期：{date}\n"
            "就诊时间：{time}\n就诊医院：{hospital}\n就诊科室：{department}\n医生：{doctor}\n\n"
            "请携带直付卡实体卡及有效身份证件按时就诊。如需取消，请于就诊前一日前在 APP 中操作"
            "或致电{line}。\n\n本邮件为系统邮件，请勿回复。\n\n{brand}\n",
        ),
        "en": (
            "Appointment confirmed",
            "Your direct-billing appointment is confirmed: {date} {time}, {hospital}, "
            "{department}{doctor}. Bring your direct-billing card and a valid ID.",
            "[{brand}] Dear {name}, your direct-billing appointment is confirmed: {date} {time}, "
            "{hospital}, {department}{doctor}. Bring your direct-billing card and a valid ID. "
            "To cancel, do so by the day before or call {line}.",
            "Dear {name},\n\nYour direct-billing appointment is confirmed.\n\nDate: {date}\n"
            "Time: {time}\nHospital: {hospital}\nDepartment: {department}\nDoctor: {doctor}\n\n"
            "Bring your direct-billing card and a valid ID. To cancel, do so in the app by the "
            "day before the visit or call {line}.\n\n"
            "This is an automatic message; please do not reply.\n\n{brand}\n",
        ),
    },
    Event.TIME_PROPOSED: {
        "zh": (
            "医院建议另约时间",
            "您预约的{hospital}建议改为 {date} {time} 就诊，请在 APP 中确认或拒绝。",
            "[{brand}]尊敬的{name}，您预约的{hospital}建议改为{date} {time}就诊，"
            "请在APP直付就诊预约进度中确认或拒绝。若有疑问，请致电{line}。回0000退订短信",
            "尊敬的{name}先生/女士：\n\n您预约的{hospital}{department}无法在原定时间安排就诊，"
            "建议改为：{date} {time}。{reason}\n\n请在 APP 的直付就诊预约进度中确认或拒绝。\n\n"
            "如有疑问，请致电{line}。\n\n本邮件为系统邮件，请勿回复。\n\n{brand}\n",
        ),
        "en": (
            "Another time proposed",
            "{hospital} proposes {date} {time} instead; please accept or decline it in the app.",
            "[{brand}] Dear {name}, {hospital} proposes {date} {time} for your appointment. "
            "Please accept or decline it in the app. Questions: {line}.",
            "Dear {name},\n\n{hospital} ({department}) cannot see you at the time asked and "
            "proposes {date} {time} instead. {reason}\n\nPlease accept or decline it in the "
            "app under your appointments.\n\nQuestions: call {line}.\n\n"
            "This is an automatic message; please do not reply.\n\n{brand}\n",
        ),
    },
    Event.DECLINED: {
        "zh": (
            "直付就诊预约未成功",
            "您在{hospital}的直付就诊预约未成功。原因：{reason}",
            "[{brand}]尊敬的{name}，您在{hospital}的直付就诊预约未成功，原因：{reason}。"
            "如需帮助，请致电{line}。回0000退订短信",
            "尊敬的{name}先生/女士：\n\n您在{hospital}的直付就诊预约未成功。\n\n原因：{reason}\n\n"
            "如需帮助，请致电{line}。\n\n本邮件为系统邮件，请勿回复。\n\n{brand}\n",
        ),
        "en": (
            "Appointment not possible",
            "Your direct-billing appointment at {hospital} could not be made. Reason: {reason}",
            "[{brand}] Dear {name}, your direct-billing appointment at {hospital} could not be "
            "made. Reason: {reason}. For help call {line}.",
            "Dear {name},\n\nYour direct-billing appointment at {hospital} could not be made."
            "\n\nReason: {reason}\n\nFor help call {line}.\n\n"
            "This is an automatic message; please do not reply.\n\n{brand}\n",
        ),
    },
}
SUBJECTS = {"zh": "【{brand}】{title}", "en": "[{brand}] {title}"}


def _date(day: datetime.date, lang: str) -> str:
    return (
        f"{day.year}年{day.month}月{day.day}日"
        if lang == "zh"
        else f"{day.day} {day:%B} {day.year}"
    )


def _cut(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def values(cx: ClaimContext, a: Appointment, lang: str) -> dict[str, str]:
    proposed = a.proposed_date is not None and a.status == "time_proposed"
    day = a.proposed_date if proposed and a.proposed_date else a.visit_date
    time = (a.proposed_time if proposed else a.confirmed_time) or _TIME[lang][a.visit_time]
    doctor = a.confirmed_doctor or a.doctor_name
    return {
        "brand": BRAND[lang],
        "line": BOOKING_LINE,
        "name": cx.vault.decrypt(a.applicant_name_enc).strip(),
        "date": _date(day, lang),
        "time": time,
        "hospital": a.facility_name_en if lang == "en" and a.facility_name_en else a.facility_name,
        "department": a.department,
        "doctor": (f" {doctor}" if lang == "en" else f" {doctor}医生") if doctor else "",
        "reason": a.decision_reason.strip(),
    }


def announce(
    db: Session,
    cx: ClaimContext,
    a: Appointment,
    event: Event,
    now: datetime.datetime,
    *,
    key: str,
) -> None:
    """Queue the SMS and e-mail and post the in-app message for one decision on `a`."""
    account = db.get(Account, a.account_id)
    if account is None:
        return
    lang = language_of(account)
    title, message, sms, email = TEXTS[event][lang]
    v = values(cx, a, lang)
    sms_values = {**v, "reason": _cut(v["reason"], SMS_REASON_MAX)}
    tell(
        db,
        cx,
        account,
        mobile=cx.vault.decrypt(a.applicant_mobile_enc),
        kind=event.value,
        subject_type="appointment",
        subject_id=a.id,
        lang=lang,
        title=title,
        message=message.format_map({**v, "name": ""}),
        sms=sms.format_map(sms_values),
        email_subject=SUBJECTS[lang].format(brand=BRAND[lang], title=title),
        email_body=email.format_map(v),
        dedupe=f"{event.value}:{a.id}:{key}",
        now=now,
    )
