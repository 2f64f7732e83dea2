"""Documents asked for on a service request (补材 beyond claims): inpatient advance payment,
pre-authorisation, and any later kind that implements server/service_supplements/kinds.py.

Staff ask with categories, instructions and a deadline in working days (server/workdays.py);
the subject moves to its "documents asked" state with a timeline event (the kind's
`asked`), and the member's SMS and e-mail (zh/en by the preferred language, through the
outbox, in the same transaction) and in-app message carry a link with a random token (only
its hash is kept). The link opens the H5 page (h5/supplement/requests.py) after the
member's name and a captcha, under the claims portal's throttles; the app answers with
the same functions. Answering needs at least one file per requested category, puts the
subject back to review (the kind's `answered`) and e-mails the staff member who asked.
The link dies at the end of the deadline day (China time), once answered, or when the
subject is decided (`close_open`).
"""

from __future__ import annotations

import datetime
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.claims.adjusters import email_of
from server.claims.announcements import BRAND, language_of, tell
from server.claims.core import ClaimContext
from server.claims.errors import SupplementLinkInvalid
from server.claims.models import Adjuster
from server.crypto import token_hash
from server.errors import FieldProblem, ValidationFailed
from server.notify import outbox
from server.notify.templates import HOTLINE, HOTLINE_EN, EmailContent
from server.service_supplements import kinds
from server.service_supplements.errors import (
    SupplementClosed,
    SupplementDocumentsMissing,
    SupplementNotFound,
)
from server.service_supplements.kinds import Kind
from server.service_supplements.models import ServiceSupplement, ServiceSupplementDocument
from server.storage.uploads import StoredUpload
from server.workdays import CHINA_TZ, add_working_days

INSTRUCTIONS_MAX = 500
REMARK_MAX = 500
MAX_CATEGORIES = 10
FILES_PER_CATEGORY = 10
DEFAULT_WORKING_DAYS = 2
MAX_WORKING_DAYS = 10
SMS_INSTRUCTIONS_MAX = 60
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,200}$")

__all__ = [
    "Kind",
    "SupplementClosed",
    "SupplementDocumentsMissing",
    "SupplementNotFound",
    "ask",
    "close_open",
    "fulfil",
]


def categories_of(request: ServiceSupplement) -> list[str]:
    return [str(c) for c in json.loads(request.categories)]


def category_name(kind: Kind, code: str, lang: str) -> str:
    names = kind.categories.get(code)
    return code if names is None else names[1 if lang == "en" else 0]


def link_expiry(deadline: datetime.date) -> datetime.datetime:
    """The end of the deadline day in China, as a UTC instant (the link works before it)."""
    end = datetime.datetime.combine(deadline + datetime.timedelta(days=1), datetime.time.min)
    return end.replace(tzinfo=CHINA_TZ).astimezone(datetime.UTC)


def link(base_url: str, token: str, lang: str = "zh") -> str:
    """The H5 page of a request for documents; an English speaker's opens in English."""
    url = f"{base_url.rstrip('/')}/h5/supplement/r/{token}"
    return f"{url}?lang=en" if lang == "en" else url


def kind_of(request: ServiceSupplement) -> Kind:
    kind = kinds.get(request.subject_kind)
    if kind is None:  # a kind is registered where it is defined, imported by the app
        raise SupplementNotFound("This kind of request is not served here.")
    return kind


# --- asking ----------------------------------------------------------------------------------


def _check(
    kind: Kind, categories: Sequence[str], instructions: str, working_days: int
) -> list[str]:
    codes = list(dict.fromkeys((c or "").strip() for c in categories))
    problems: list[FieldProblem] = []
    if not codes or any(not c for c in codes):
        problems.append(
            FieldProblem("categories", "Choose the missing document categories.", "REQUIRED")
        )
    elif len(codes) > MAX_CATEGORIES:
        problems.append(
            FieldProblem("categories", f"At most {MAX_CATEGORIES} categories.", "TOO_MANY")
        )
    elif any(c not in kind.categories for c in codes):
        wrong = ", ".join(c for c in codes if c not in kind.categories)
        problems.append(
            FieldProblem(
                "categories", f"Not a document category here: {wrong}.", "CATEGORY_NOT_ALLOWED"
            )
        )
    if not instructions:
        problems.append(FieldProblem("instructions", "Say what is missing or wrong.", "REQUIRED"))
    elif len(instructions) > INSTRUCTIONS_MAX:
        problems.append(
            FieldProblem("instructions", f"At most {INSTRUCTIONS_MAX} characters.", "TOO_LONG")
        )
    if not 1 <= working_days <= MAX_WORKING_DAYS:
        problems.append(
            FieldProblem(
                "workingDays",
                f"A deadline of 1 to {MAX_WORKING_DAYS} working days.",
                "OUT_OF_RANGE",
            )
        )
    if problems:
        raise ValidationFailed(problems)
    return codes


def ask(
    db: Session,
    cx: ClaimContext,
    kind: Kind,
    subject: Any,
    subject_id: int,
    staff: Adjuster,
    *,
    categories: Sequence[str],
    instructions: str,
    working_days: int = DEFAULT_WORKING_DAYS,
) -> tuple[ServiceSupplement, str]:
    """Ask the member for documents on `subject` (its row locked by the caller, in a state
    that allows it: `kind.can_ask`); returns the request and the link's token (sent in the
    SMS and e-mail, stored as a hash; returned for tests)."""
    text = (instructions or "").strip()
    codes = _check(kind, categories, text, working_days)
    now = cx.now()
    deadline = add_working_days(now, working_days)
    token = secrets.token_urlsafe(32)
    request = ServiceSupplement(
        subject_kind=kind.code,
        subject_id=subject_id,
        account_id=kind.account_id(subject),
        requested_by=staff.id,
        requested_at=now,
        categories=json.dumps(codes),
        instructions=text,
        working_days=working_days,
        deadline=deadline,
        token_hash=token_hash(token),
        expires_at=link_expiry(deadline),
        remark="",
    )
    with db.begin_nested():
        db.add(request)
        db.flush()
        kind.asked(db, cx, subject, request, now)
        _notify_member(db, cx, kind, request, token, now)
    return request, token


# --- the member's messages -------------------------------------------------------------------


def _date(day: datetime.date, lang: str) -> str:
    return (
        f"{day.day} {day:%B} {day.year}"
        if lang == "en"
        else f"{day.year}年{day.month}月{day.day}日"
    )


def _one_line(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


@dataclass(frozen=True, slots=True)
class Notice:
    name: str
    service: str
    reference: str
    missing: str
    instructions: str
    deadline: str
    working_days: int
    link: str


def sms_text(n: Notice, lang: str) -> str:
    if lang == "en":
        return (
            f"[{BRAND['en']}] Dear {n.name}, for your {n.service} request {n.reference} we need: "
            f"{n.missing}. Please upload by {n.deadline} at {n.link} . "
            f"Questions: hotline {HOTLINE_EN}."
        )
    return (
        f"[{BRAND['zh']}]尊敬的{n.name}，您的{n.service}申请（编号{n.reference}）经核实需补充以下资料："
        f"{n.missing}。请您于{n.working_days}个工作日内（截至{n.deadline}）"
        f"通过网页（网页地址：{n.link} ）进行相关资料的影像补充上传。"
        f"若有疑问，请咨询我司客服热线{HOTLINE}。回0000退订短信"
    )


def email_text(n: Notice, lang: str) -> EmailContent:
    if lang == "en":
        return EmailContent(
            subject=f"[{BRAND['en']}] Documents needed for your {n.service} request {n.reference}",
            body=(
                f"Dear {n.name},\n\n"
                f"Your {n.service} request ({n.reference}) is being reviewed. We need:\n\n"
                f"{n.missing}\n\n{n.instructions}\n\n"
                f"Please upload them by {n.deadline} ({n.working_days} working days) at:\n\n"
                f"{n.link}\n\n"
                "Open the link, type your name as registered and the characters shown. "
                "The link works until the end of that day.\n\n"
                f"Questions: call our hotline {HOTLINE_EN}.\n\n"
                f"This is an automatic message; please do not reply.\n\n{BRAND['en']}\n"
            ),
        )
    return EmailContent(
        subject=f"【{BRAND['zh']}】您的{n.service}申请（{n.reference}）需补充资料",
        body=(
            f"尊敬的{n.name}先生/女士：\n\n您好！\n\n"
            f"您的{n.service}申请（{n.reference}）正在审核中，需要您补充以下资料：\n\n"
            f"{n.missing}\n\n{n.instructions}\n\n"
            f"请您在{n.working_days}个工作日内（截至{n.deadline}）登录以下网址在线上传：\n\n"
            f"{n.link}\n\n"
            "打开链接后，请输入您的姓名及图片中的字符。链接在截止日当天结束前有效。\n\n"
            f"如有疑问，请咨询我司客服热线{HOTLINE}。\n\n"
            f"本邮件为系统邮件，请勿回复。\n\n{BRAND['zh']}\n"
        ),
    )


def _notify_member(
    db: Session,
    cx: ClaimContext,
    kind: Kind,
    request: ServiceSupplement,
    token: str,
    now: datetime.datetime,
) -> None:
    account = db.get(Account, request.account_id)
    if account is None:
        return
    lang = language_of(account)
    name = cx.vault.decrypt(account.person.name_enc).strip() if account.person else ""
    sep = "; " if lang == "en" else "、"
    missing = sep.join(category_name(kind, c, lang) for c in categories_of(request))
    notice = Notice(
        name=name,
        service=kind.names[lang],
        reference=kind.reference(request.subject_id),
        missing=missing,
        instructions=request.instructions,
        deadline=_date(request.deadline, lang),
        working_days=request.working_days,
        link=link(cx.settings.base_url, token, lang),
    )
    title = (
        f"{kind.names['en'].capitalize()}: documents needed"
        if lang == "en"
        else f"{kind.names['zh']}需补充资料"
    )
    body = (
        f"{notice.reference}: {missing}. {_one_line(request.instructions, 200)} "
        f"Due {notice.deadline}."
        if lang == "en"
        else f"{notice.reference}：{missing}。{_one_line(request.instructions, 200)}"
        f"请于{notice.deadline}前上传。"
    )
    mail = email_text(notice, lang)
    tell(
        db,
        cx,
        account,
        mobile=cx.vault.decrypt(account.phone_enc),
        kind=kind.asked_message,
        subject_type=kind.code,
        subject_id=request.subject_id,
        lang=lang,
        title=title,
        message=body,
        sms=sms_text(notice, lang),
        email_subject=mail.subject,
        email_body=mail.body,
        dedupe=f"service_supplement:{request.id}",
        now=now,
    )


# --- the link, the open request --------------------------------------------------------------


def for_token(db: Session, cx: ClaimContext, token: str) -> tuple[Kind, Any, ServiceSupplement]:
    """The kind, subject and open request a link's token stands for, or
    SupplementLinkInvalid with its reason (UNKNOWN, ANSWERED, CLOSED, EXPIRED)."""
    request = (
        db.scalar(
            select(ServiceSupplement).where(ServiceSupplement.token_hash == token_hash(token))
        )
        if isinstance(token, str) and _TOKEN.match(token)
        else None
    )
    kind = kinds.get(request.subject_kind) if request is not None else None
    subject = kind.load(db, request.subject_id) if kind and request else None
    if request is None or kind is None or subject is None:
        raise SupplementLinkInvalid("This link is not valid.", reason=SupplementLinkInvalid.UNKNOWN)
    reason = not_open_reason(cx, kind, subject, request)
    if reason is not None:
        raise SupplementLinkInvalid("This link no longer works.", reason=reason)
    return kind, subject, request


def not_open_reason(
    cx: ClaimContext, kind: Kind, subject: Any, request: ServiceSupplement
) -> str | None:
    """Why the request takes no more files (ANSWERED, CLOSED, EXPIRED), or None while open."""
    if request.fulfilled_at is not None:
        return SupplementLinkInvalid.ANSWERED
    if request.closed_at is not None or not kind.waiting(subject):
        return SupplementLinkInvalid.CLOSED
    if cx.now() >= request.expires_at:
        return SupplementLinkInvalid.EXPIRED
    return None


def latest(
    db: Session, kind: Kind, subject_id: int, *, lock: bool = False
) -> ServiceSupplement | None:
    q = (
        select(ServiceSupplement)
        .where(
            ServiceSupplement.subject_kind == kind.code,
            ServiceSupplement.subject_id == subject_id,
        )
        .order_by(ServiceSupplement.id.desc())
        .limit(1)
    )
    if lock:
        q = q.with_for_update().execution_options(populate_existing=True)
    return db.scalar(q)


def of_subjects(db: Session, kind: Kind, subject_ids: Sequence[int]) -> list[ServiceSupplement]:
    """Every request for documents on these subjects, oldest first."""
    if not subject_ids:
        return []
    return list(
        db.scalars(
            select(ServiceSupplement)
            .where(
                ServiceSupplement.subject_kind == kind.code,
                ServiceSupplement.subject_id.in_(list(subject_ids)),
            )
            .order_by(ServiceSupplement.id)
        )
    )


def own(db: Session, account: Account, request_id: int) -> tuple[Kind, Any, ServiceSupplement]:
    """A request for documents on one of the member's service requests."""
    request = db.get(ServiceSupplement, request_id)
    if request is None or request.account_id != account.id:
        raise SupplementNotFound("No such request for documents among yours.")
    kind = kind_of(request)
    subject = kind.load(db, request.subject_id)
    if subject is None or kind.account_id(subject) != account.id:
        raise SupplementNotFound("No such request for documents among yours.")
    return kind, subject, request


def close_open(db: Session, kind: Kind, subject_id: int, now: datetime.datetime) -> None:
    """The subject is decided: its open request for documents (if any) takes nothing more."""
    request = latest(db, kind, subject_id)
    if request is not None and request.fulfilled_at is None and request.closed_at is None:
        request.closed_at = now


# --- files -----------------------------------------------------------------------------------


def documents(db: Session, request: ServiceSupplement) -> list[ServiceSupplementDocument]:
    """The files sent for this request (removed ones left out)."""
    return list(
        db.scalars(
            select(ServiceSupplementDocument)
            .where(
                ServiceSupplementDocument.supplement_id == request.id,
                ServiceSupplementDocument.removed_at.is_(None),
            )
            .order_by(ServiceSupplementDocument.id)
        )
    )


def check_upload(
    db: Session,
    cx: ClaimContext,
    kind: Kind,
    subject: Any,
    request: ServiceSupplement,
    category: str,
) -> None:
    """Before any byte is stored: the request is open and asks for this category."""
    if not_open_reason(cx, kind, subject, request) is not None:
        raise SupplementClosed("This request for documents takes no more files.")
    if category not in categories_of(request):
        raise ValidationFailed(
            [
                FieldProblem(
                    "category", "The request does not ask for these files.", "CATEGORY_NOT_ALLOWED"
                )
            ]
        )
    count = sum(1 for d in documents(db, request) if d.category == category)
    if count >= FILES_PER_CATEGORY:
        raise ValidationFailed(
            [
                FieldProblem(
                    "category", f"At most {FILES_PER_CATEGORY} files of one kind.", "TOO_MANY_FILES"
                )
            ]
        )


def attach(
    db: Session,
    cx: ClaimContext,
    request_id: int,
    category: str,
    stored: StoredUpload,
    *,
    channel: str,
) -> ServiceSupplementDocument:
    """Record one stored file on an open request (its subject's row locked)."""
    request = db.get(ServiceSupplement, request_id)
    if request is None:
        raise SupplementNotFound("No such request for documents.")
    kind = kind_of(request)
    subject = kind.load(db, request.subject_id, lock=True)
    db.refresh(request)
    check_upload(db, cx, kind, subject, request, category)
    doc = ServiceSupplementDocument(
        supplement_id=request.id,
        category=category,
        storage_key=stored.key,
        thumbnail_key=stored.thumbnail_key,
        content_type=stored.content_type,
        size=stored.size,
        display_name=stored.display_name[:200],
        channel=channel,
        uploaded_at=cx.now(),
    )
    db.add(doc)
    db.flush()
    return doc


def remove(
    db: Session, cx: ClaimContext, request: ServiceSupplement, document_id: int
) -> ServiceSupplementDocument | None:
    """Take back a file of this open request; None when there is no such file here."""
    doc = db.get(ServiceSupplementDocument, document_id)
    kind = kind_of(request)
    subject = kind.load(db, request.subject_id, lock=True)
    if (
        doc is None
        or subject is None
        or doc.supplement_id != request.id
        or doc.removed_at is not None
        or not_open_reason(cx, kind, subject, request) is not None
    ):
        return None
    doc.removed_at = cx.now()
    return doc


# --- answering -------------------------------------------------------------------------------


def fulfil(
    db: Session, cx: ClaimContext, request_id: int, *, remark: str, channel: str
) -> ServiceSupplement:
    """Send the documents: the subject goes back to review and the staff member is told.

    Idempotent: a request answered already is returned unchanged."""
    text = (remark or "").strip()
    if len(text) > REMARK_MAX:
        raise ValidationFailed(
            [FieldProblem("remark", f"At most {REMARK_MAX} characters.", "TOO_LONG")]
        )
    found = db.get(ServiceSupplement, request_id)
    if found is None:
        raise SupplementNotFound("No such request for documents.")
    kind = kind_of(found)
    subject = kind.load(db, found.subject_id, lock=True)
    request = latest(db, kind, found.subject_id, lock=True)
    if request is None or request.id != found.id or subject is None:
        raise SupplementClosed("This request for documents was replaced or closed.")
    if request.fulfilled_at is not None:
        return request
    if not_open_reason(cx, kind, subject, request) is not None:
        raise SupplementClosed("This request for documents takes nothing more.")
    have = {d.category for d in documents(db, request)}
    missing = [c for c in categories_of(request) if c not in have]
    if missing:
        raise SupplementDocumentsMissing(missing)
    now = cx.now()
    with db.begin_nested():
        request.fulfilled_at = now
        request.fulfilled_via = channel
        request.remark = text
        kind.answered(db, cx, subject, request, now)
        _notify_staff(db, cx, kind, request, now)
    return request


def _notify_staff(
    db: Session, cx: ClaimContext, kind: Kind, request: ServiceSupplement, now: datetime.datetime
) -> None:
    staff = db.get(Adjuster, request.requested_by)
    address = email_of(cx.vault, staff) if staff is not None and staff.active else None
    if not address:
        return  # the desk's list shows the request back under review
    reference = kind.reference(request.subject_id)
    local = now.astimezone(CHINA_TZ)
    outbox.enqueue(
        db,
        outbox.Channel.EMAIL,
        address,
        f"补充资料已到 / Documents received: {reference}",
        (
            f"{kind.names['zh']}申请 {reference} 的补充资料已于 {local:%Y-%m-%d %H:%M}（北京时间）"
            "收到，请登录系统继续审核。\n\n"
            f"The documents asked for on {kind.names['en']} request {reference} arrived at "
            f"{local:%Y-%m-%d %H:%M} (Beijing time); please continue the review.\n"
        ),
        f"service_supplement:{request.id}:arrived",
        vault=cx.vault,
        now=now,
    )
