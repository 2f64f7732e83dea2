"""The texts of the supplement notices (seed §5.2) and the adjuster's arrival notice.

The SMS and e-mail greet the claimant by name, as the templates require; the rendered
text therefore goes only into the encrypted outbox, never into a log. The link carries an
opaque token and nothing personal.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from server.errors import InvalidInput
from server.workdays import CHINA_TZ, add_working_days

HOTLINE = "10108686"
BRAND = "太平洋保险"
BRAND_EN = "CPIC"
HOTLINE_EN = "1010-8686"
SUPPLEMENT_WORKING_DAYS = 2
# a long instruction is cut in the SMS (the e-mail and the H5 page carry it in full)
SMS_INSTRUCTIONS_MAX = 60

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,200}$")
_CLAIM_NO = re.compile(r"^[A-Z0-9]{4,40}$")


@dataclass(frozen=True, slots=True)
class EmailContent:
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class SupplementNotice:
    claimant_name: str
    claim_no: str
    instructions: str  # what is missing, as the adjuster wrote it
    deadline: datetime.date
    link: str
    claim_type: str = ""  # e.g. 门诊; the e-mail names it when given


def supplement_deadline(requested_at: datetime.datetime | datetime.date) -> datetime.date:
    """Two working days on the mainland calendar after the day of the request."""
    return add_working_days(requested_at, SUPPLEMENT_WORKING_DAYS)


def supplement_link(base_url: str, token: str, lang: str = "zh") -> str:
    """The portal link; an English-speaking claimant's opens the English page."""
    if not _TOKEN.match(token):
        raise InvalidInput("The supplement token is not a valid link token.", field="token")
    link = f"{base_url.rstrip('/')}/h5/supplement/{token}"
    return f"{link}?lang=en" if lang == "en" else link


def _check(notice: SupplementNotice) -> None:
    if not notice.claimant_name.strip():
        raise InvalidInput("The claimant's name is required.", field="claimant_name")
    if not _CLAIM_NO.match(notice.claim_no):
        raise InvalidInput("The claim number is not valid.", field="claim_no")
    if not notice.instructions.strip():
        raise InvalidInput("Say what is missing.", field="instructions")


def _date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _missing(notice: SupplementNotice) -> str:
    missing = _one_line(notice.instructions).rstrip("。；;，,.")
    if len(missing) > SMS_INSTRUCTIONS_MAX:
        missing = missing[: SMS_INSTRUCTIONS_MAX - 1] + "…"
    return missing


def _date_en(day: datetime.date) -> str:
    return f"{day.day} {day:%B} {day.year}"


def supplement_sms(notice: SupplementNotice, *, brand: str = BRAND, lang: str = "zh") -> str:
    _check(notice)
    missing = _missing(notice)
    if lang == "en":
        return (
            f"[{BRAND_EN}] Dear {notice.claimant_name.strip()}, for your claim {notice.claim_no} "
            f"we need: {missing}. Please upload within {SUPPLEMENT_WORKING_DAYS} working days "
            f"(by {_date_en(notice.deadline)}) at {notice.link} . "
            f"Questions: hotline {HOTLINE_EN}."
        )
    return (
        f"[{brand}]尊敬的{notice.claimant_name.strip()}，您递交的赔案号为{notice.claim_no}的保险理赔，"
        f"经核实以下理赔资料缺失或存在问题：{missing}。"
        f"请您于{SUPPLEMENT_WORKING_DAYS}个工作日内（截至{_date(notice.deadline)}）"
        f"通过网页（网页地址：{notice.link} ）进行相关资料的影像补充上传。"
        f"若有疑问，请咨询我司客服热线{HOTLINE}。回0000退订短信"
    )


def supplement_email(
    notice: SupplementNotice, *, brand: str = BRAND, lang: str = "zh"
) -> EmailContent:
    _check(notice)
    if lang == "en":
        return _supplement_email_en(notice)
    what = f"{notice.claim_type}" if notice.claim_type.strip() else ""
    body = (
        f"尊敬的{notice.claimant_name.strip()}先生/女士：\n"
        "\n"
        "您好！\n"
        "\n"
        f"您递交的{what}理赔申请（{notice.claim_no}）已在我司理赔审理中。"
        "但由于存在以下情况，需要您尽快处理：\n"
        "\n"
        f"{notice.instructions.strip()}\n"
        "\n"
        f"为避免理赔审核超期，建议您在{SUPPLEMENT_WORKING_DAYS}个工作日内"
        f"（截至{_date(notice.deadline)}）登录以下网址在线处理：\n"
        "\n"
        f"{notice.link}\n"
        "\n"
        f"如有疑问，请致电{HOTLINE}。\n"
        "\n"
        "本邮件为系统邮件，请勿回复。\n"
        "\n"
        f"{brand}\n"
    )
    subject = f"【{brand}】理赔补充材料通知（赔案号：{notice.claim_no}）"
    return EmailContent(subject=subject, body=body)


def _supplement_email_en(notice: SupplementNotice) -> EmailContent:
    body = (
        f"Dear {notice.claimant_name.strip()},\n"
        "\n"
        f"We are reviewing your claim {notice.claim_no}, and we need the following from you:\n"
        "\n"
        f"{notice.instructions.strip()}\n"
        "\n"
        f"To avoid a delay, please send it within {SUPPLEMENT_WORKING_DAYS} working days "
        f"(by {_date_en(notice.deadline)}) on this page, where you can take photos or "
        "choose files:\n"
        "\n"
        f"{notice.link}\n"
        "\n"
        f"Questions: call {HOTLINE_EN}.\n"
        "\n"
        "This is an automatic message; please do not reply.\n"
        "\n"
        f"{BRAND_EN}\n"
    )
    subject = f"[{BRAND_EN}] Documents needed for claim {notice.claim_no}"
    return EmailContent(subject=subject, body=body)


def adjuster_supplement_arrived_email(
    claim_no: str, *, received_at: datetime.datetime, link: str = "", brand: str = BRAND
) -> EmailContent:
    """To the adjuster: the claimant has sent the supplement. Only the claim number identifies it."""
    if not _CLAIM_NO.match(claim_no):
        raise InvalidInput("The claim number is not valid.", field="claim_no")
    at = received_at.astimezone(CHINA_TZ) if received_at.tzinfo else received_at
    lines = [
        "您好：",
        "",
        f"赔案 {claim_no} 的补充材料已于 {at:%Y-%m-%d %H:%M}（北京时间）提交，请及时继续审核。",
    ]
    if link:
        lines += ["", f"查看赔案：{link}"]
    lines += ["", "本邮件为系统邮件，请勿回复。", "", f"{brand}理赔系统", ""]
    return EmailContent(subject=f"赔案 {claim_no} 已收到补充材料", body="\n".join(lines))
